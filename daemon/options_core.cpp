// SPDX-License-Identifier: GPL-2.0-or-later
//
// The "core" and "lookup" keys' values (options.hpp): which store holds
// the edomain's core, and the lookup service's.
#include <sstream>
#include <vector>

#include "options.hpp"

namespace ilpd
{

StoreConfig parse_store(const std::string &key, const std::string &text, const std::string &where,
			const std::filesystem::path &state_dir)
{
	std::istringstream in(text);
	std::vector<std::string> w;
	for (std::string word; in >> word;)
		w.push_back(word);
	StoreConfig c;
	c.where = where;
	auto bad = [&](const std::string &why) {
		throw ConfigError(where + ": '" + key + " " + text + "': " + why);
	};
	if (w.empty())
		bad("sqlite [FILE], etcd HOST:PORT[,HOST:PORT...] [prefix PREFIX] or ilp "
		    "ADDR[:PORT]");
	if (w[0] == "sqlite") {
		if (w.size() > 2)
			bad("sqlite takes one file");
		c.kind = StoreConfig::Kind::Sqlite;
		std::filesystem::path f = w.size() == 2 ? w[1] : key + ".db";
		c.file = f.is_absolute() ? f : state_dir / f;
		return c;
	}
	if (w[0] == "ilp") {
		// The SN at ADDR, over this node's association with it.
		if (w.size() != 2)
			bad("ilp takes the address of the SN that holds the store");
		c.kind = StoreConfig::Kind::Remote;
		try {
			c.node = ilp::Endpoint::parse(w[1]);
		} catch (const std::exception &e) {
			bad(e.what());
		}
		return c;
	}
	if (w[0] != "etcd")
		bad("'" + w[0] + "' is no store (sqlite, etcd or ilp)");
	if (w.size() != 2 && w.size() != 4)
		bad("etcd HOST:PORT[,HOST:PORT...] [prefix PREFIX]");
	c.kind = StoreConfig::Kind::Etcd;
	std::istringstream eps(w[1]);
	for (std::string ep; std::getline(eps, ep, ',');) {
		if (!names_port(ep))
			bad("'" + ep + "' is not HOST:PORT");
		c.endpoints.push_back(ep);
	}
	if (c.endpoints.empty())
		bad("no etcd member");
	if (w.size() == 4) {
		if (w[2] != "prefix")
			bad("unknown word '" + w[2] + "'");
		c.prefix = w[3];
		if (c.prefix.empty() || c.prefix.back() != '/')
			bad("the prefix must end in '/'");
	}
	return c;
}

} // namespace ilpd
