// SPDX-License-Identifier: GPL-2.0-or-later
//
// upper - an example service module, built out of the ILP tree against
// the installed <ilp/service.hpp> (pkg-config ilp-service).
//
// It serves the service IDs 4200 to 4203: each packet goes back to the
// hop it came from, its payload in upper case.  That is a rewrite of the
// packet's copies, so the decision is never cached: every packet of a
// connection reaches the module.  Configuration:
//
//	prefix = TEXT		put before each payload (default: none)
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <span>
#include <string>

#include <ilp/service.hpp>

namespace
{

class Upper
{
public:
	Upper(const ilp::service::Context &ctx, std::span<const std::uint8_t>)
	{
		if (const char *p = ctx.ops->config_get(ctx.env, "prefix"))
			prefix_ = p;
	}

	int handle(const ilp_packet &pkt, ilp_decision &out)
	{
		// A decision from a newer ilpd may be larger, an older one's
		// smaller: write only what this ilpd reads.
		if (!ILP_HAS_MEMBER(ilp_decision, &out, payload_len))
			return -EOPNOTSUPP;
		text_ = prefix_;
		text_.append(reinterpret_cast<const char *>(pkt.payload), pkt.payload_len);
		std::transform(text_.begin(), text_.end(), text_.begin(),
			       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
		out.actions = ILP_ACTION_FORWARD;
		out.n_hops = 1;
		out.hops[0] = pkt.flow.prev;
		out.rewrite = ILP_REWRITE_PAYLOAD;
		// Ours, valid until the next call: ilpd copies it before.
		out.payload = reinterpret_cast<const std::uint8_t *>(text_.data());
		out.payload_len = text_.size();
		return 0;
	}

	int config_changed(const char *key, const char *value)
	{
		if (std::string(key) != "prefix")
			return -EINVAL;
		prefix_ = value ? value : "";
		return 0;
	}

private:
	std::string prefix_, text_;
};

} // namespace

ILP_SERVICE_MODULE(Upper, 4200, 4, "upper", "returns packets to their sender in upper case");
