// SPDX-License-Identifier: GPL-2.0-or-later
#include "datapath/user_config.hpp"

#include "options.hpp"

namespace ilpd
{

UserConfig user_config(const Options &opts)
{
	UserConfig c;
	c.port = opts.port;
	c.master_keys = opts.master_keys;
	c.state_dir = opts.state_dir;
	for (const auto &p : opts.peers)
		c.peers.push_back({p.endpoint, p.spi, p.version, p.keyfile, p.direct, p.where});
	c.sn = opts.sn;
	c.cache_capacity = opts.cache_capacity;
	c.handler_threads = opts.handler_threads;
	return c;
}

} // namespace ilpd
