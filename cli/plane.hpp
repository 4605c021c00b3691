// SPDX-License-Identifier: GPL-2.0-or-later
//
// Where ilpctl's object commands (instance, key, sa, peer, cache, stats)
// are carried out, as wg(8) works over the kernel and over a userspace
// implementation's socket alike:
//
//   - the kernel plane: ilp.ko's "ilp" generic netlink family, in the
//     network namespace ilpctl runs in (or -n's);
//   - the ilpd plane: ilpd's control socket, when ilpd runs its own
//     userspace datapath (docs/control-socket.md).
//
// open_plane() picks one: -S forces ilpd's plane (on that socket), -n the
// kernel's (a namespace is the kernel's notion); otherwise the kernel's
// when the module is loaded, else the local ilpd's.  Both return the
// structs of model.hpp; errors are ilp::Error with the errno and message
// the datapath gave.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "ilpctl.hpp"
#include "model.hpp"

namespace ilpctl
{

class Plane
{
public:
	virtual ~Plane() = default;

	virtual model::Plane describe() = 0;

	virtual model::Stats stats() = 0;
	virtual void reset_stats() = 0;

	virtual void instance_add(std::optional<std::uint16_t> port) = 0;
	virtual void instance_del() = 0;
	virtual std::optional<model::Instance> instance() = 0;
	virtual void instance_set_sn(const std::optional<ilp::Endpoint> &sn) = 0;

	// An imported key's SPIs are numbered from @first_spi (the next_spi
	// "key show" gave where the key was before).
	virtual void key_set(unsigned slot, const ilp::psp::MasterKey &key, bool make_active,
			     std::uint32_t first_spi) = 0;
	virtual void key_rotate(const ilp::psp::MasterKey &key, std::uint32_t first_spi) = 0;
	// The datapath makes the key, which never leaves it.
	virtual void key_generate(unsigned slot, bool make_active) = 0;
	virtual void key_rotate_generated() = 0;
	virtual model::Keys keys() = 0;

	virtual model::NewSa sa_alloc(ilp::psp::Version version,
				      const std::optional<ilp::Endpoint> &peer) = 0;
	virtual std::vector<model::Sa> sas() = 0;
	// ENOENT (ilp::Error) when no receive SA has @spi.
	virtual void sa_del(std::uint32_t spi) = 0;

	virtual void peer_add(const ilp::Endpoint &peer,
			      const std::optional<model::TxSaSpec> &tx) = 0;
	virtual void peer_set(const ilp::Endpoint &peer, const model::TxSaSpec &tx) = 0;
	virtual void peer_set_direct(const ilp::Endpoint &peer, bool direct) = 0;
	virtual void peer_del(const ilp::Endpoint &peer) = 0;
	virtual std::vector<model::Peer> peers() = 0;

	virtual std::vector<model::CacheEntry> cache() = 0;
	virtual void cache_add(const model::Flow &flow, const model::Actions &actions) = 0;
	virtual void cache_del(const model::Flow &flow) = 0;
	virtual void cache_flush() = 0;
	virtual void cache_set(const model::CacheSettings &settings) = 0;
};

std::unique_ptr<Plane> netlink_plane();
std::unique_ptr<Plane> daemon_plane(const std::string &socket);

// The plane @ctx's options and the system give (see above).  Throws
// ilp::Error when neither is there: "is ilp.ko loaded? ... is ilpd
// running? ...".
std::unique_ptr<Plane> open_plane(const Context &ctx);

} // namespace ilpctl
