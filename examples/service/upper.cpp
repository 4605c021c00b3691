// SPDX-License-Identifier: GPL-2.0-or-later
//
// upper - an example service module, built out of the ILP tree against
// the installed <ilp/service.hpp> (pkg-config ilp-service).
//
// It serves the service IDs 4200 to 4203: each packet goes back to the
// hop it came from, its payload in upper case, answered on behalf of the
// host it was for: its source and destination host TLVs swapped (a
// rewrite of the host TLVs a service may make in a relayed packet's
// copies; without it, the sender's kernel would see a packet addressed to
// another host and not deliver it).  A rewrite is never cached: every
// packet of a connection reaches the module.  Configuration:
//
//	prefix = TEXT		put before each payload (default: none)
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

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
		swap_hosts(pkt);
		text_ = prefix_;
		text_.append(reinterpret_cast<const char *>(pkt.payload), pkt.payload_len);
		std::transform(text_.begin(), text_.end(), text_.begin(),
			       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
		out.actions = ILP_ACTION_FORWARD;
		out.n_hops = 1;
		out.hops[0] = pkt.flow.prev;
		out.rewrite = ILP_REWRITE_METADATA | ILP_REWRITE_PAYLOAD;
		out.metadata = tlvs_.data();
		out.metadata_len = tlvs_.size();
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
	// ILP's own TLVs (<linux/ilp.h>), whose types this module swaps.
	static constexpr std::uint16_t src_host = 0x0001, dst_host = 0x0002;

	// The packet's TLVs into tlvs_, SRC_HOST and DST_HOST swapped.  Each
	// TLV: type and value length (big-endian), the value, padding to 4.
	void swap_hosts(const ilp_packet &pkt)
	{
		tlvs_.assign(pkt.metadata, pkt.metadata + pkt.metadata_len);
		for (std::size_t off = 0; off + 4 <= tlvs_.size();) {
			std::uint16_t type =
			    static_cast<std::uint16_t>(tlvs_[off] << 8 | tlvs_[off + 1]);
			std::size_t len =
			    static_cast<std::size_t>(tlvs_[off + 2] << 8 | tlvs_[off + 3]);
			if (type == src_host || type == dst_host)
				tlvs_[off + 1] = static_cast<std::uint8_t>(
				    type == src_host ? dst_host : src_host);
			off += 4 + ((len + 3) & ~std::size_t(3));
		}
	}

	std::string prefix_, text_;
	std::vector<std::uint8_t> tlvs_;
};

} // namespace

ILP_SERVICE_MODULE(Upper, 4200, 4, "upper", "returns packets to their sender in upper case");
