// SPDX-License-Identifier: GPL-2.0-or-later
//
// StoreService: who may ask for what, then the StoreServer of the store
// asked for.
#include <cerrno>

#include <nlohmann/json.hpp>

#include "edomain/group_records.hpp"
#include "edomain/store_service.hpp"
#include "log.hpp"
#include "store/remote_protocol.hpp"

namespace ilpd
{

namespace
{

using store::remote::Op;

std::vector<std::uint8_t> bytes(const std::string &s)
{
	return {s.begin(), s.end()};
}

} // namespace

StoreService::StoreService(store::Store *core, store::Store *lookup, std::string edomain)
    : edomain_(std::move(edomain))
{
	if (core)
		core_ = std::make_unique<store::StoreServer>(*core);
	if (lookup)
		lookup_ = std::make_unique<store::StoreServer>(*lookup);
}

bool StoreService::serves(std::uint32_t service)
{
	return service == store::remote::kCoreService || service == store::remote::kLookupService;
}

void StoreService::answer(std::uint32_t service, const ControlFrom &from,
			  std::vector<std::uint8_t> request, ControlAnswer done)
{
	bool core = service == store::remote::kCoreService;
	auto *server = core ? core_.get() : lookup_.get();
	const char *what = core ? "edomain core" : "lookup service";
	if (!server)
		return done(-EOPNOTSUPP, bytes(std::string("this node holds no ") + what));
	if (!from.sn) {
		log::warn(what, ": a request from the host ", from.endpoint.to_string(),
			  " refused");
		return done(-EPERM, bytes(std::string("the ") + what + " answers SNs only"));
	}
	server->handle(
	    std::string(request.begin(), request.end()),
	    [this, service, from, what](const store::remote::Request &r) {
		    auto why = allowed(service, from, r);
		    if (why)
			    log::warn(what, ": ", from.endpoint.to_string(), " (edomain ",
				      from.edomain, "): ", *why);
		    return why;
	    },
	    [done = std::move(done)](int status, std::string body) { done(status, bytes(body)); });
}

std::optional<std::string> StoreService::allowed(std::uint32_t service, const ControlFrom &sn,
						 const store::remote::Request &r) const
{
	if (service == store::remote::kCoreService) {
		if (sn.edomain != edomain_)
			return "the core of edomain " + edomain_ + " serves its own SNs only";
		return std::nullopt;
	}
	// The lookup service: anyone reads; each SN writes its own host
	// records, host/HOST/SN with SN its own endpoint and the value's
	// edomain its own, so that no edomain speaks for another; its
	// edomain's group memberships; and statements their owners signed
	// (group_records.hpp), whoever carries them.
	switch (r.op) {
	case Op::Get:
	case Op::List:
	case Op::Watch:
	case Op::Rev:
		return std::nullopt;
	case Op::Compact:
		return "only the lookup service compacts its history";
	default:
		break;
	}
	if (r.key.rfind(groups::kPrefix, 0) == 0)
		return allowed_group(sn, r);
	const std::string own = "/" + sn.endpoint.to_string();
	bool own_key = r.key.rfind("host/", 0) == 0 && r.key.size() > own.size() &&
		       r.key.compare(r.key.size() - own.size(), own.size(), own) == 0;
	if (!own_key)
		return "a write of " + r.key + ", not a record of its own";
	if (r.op == Op::Del)
		return std::nullopt;
	auto v = nlohmann::json::parse(r.value, nullptr, false);
	if (!v.is_object() || !v.contains("edomain") || v["edomain"] != sn.edomain ||
	    !v.contains("sn") || v["sn"] != sn.endpoint.to_string())
		return "a record of " + r.key + " that does not name its own SN and edomain";
	return std::nullopt;
}

std::optional<std::string> StoreService::allowed_group(const ControlFrom &sn,
						       const store::remote::Request &r) const
{
	if (r.op == Op::Del) {
		// A membership its edomain withdraws; a statement stays (its
		// owner signs another to change what it says).
		auto rest = r.key.substr(std::string(groups::kPrefix).size());
		auto slash = rest.find('/');
		if (slash != std::string::npos && groups::parse_name(rest.substr(0, slash)) &&
		    rest.substr(slash + 1) == "member/" + sn.edomain)
			return std::nullopt;
		return "a delete of " + r.key + ", not a membership of its own edomain";
	}
	std::string why;
	auto rec = groups::parse(r.key, r.value, &why);
	if (!rec)
		return "a group record refused: " + why;
	if (auto *m = std::get_if<groups::Member>(&*rec); m && m->edomain != sn.edomain)
		return "a membership of edomain " + m->edomain + ", not its own";
	return std::nullopt;
}

} // namespace ilpd
