// SPDX-License-Identifier: GPL-2.0-or-later
#include "environment/service_abi.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include <ilp_wire.h>
#include <linux/ilp.h>

namespace ilpd
{

namespace
{

std::string hex16(std::uint16_t v)
{
	static const char digits[] = "0123456789abcdef";
	std::string s = "0x0000";
	for (int i = 0; i < 4; i++)
		s[5 - i] = digits[(v >> (4 * i)) & 0xf];
	return s;
}

// An address (4 or 16 bytes) and a port: ILP_TLV_SRC_HOST's and _DST_HOST's value.
bool host_value(const ilpw_tlv &t)
{
	return t.len == 4 + 2 || t.len == 16 + 2;
}

} // namespace

void check_service_tlvs(std::span<const std::uint8_t> tlvs, TlvUse use)
{
	if (tlvs.size() > ILP_DECISION_MAX_METADATA)
		throw std::invalid_argument(std::to_string(tlvs.size()) +
					    " bytes of TLVs, more than " +
					    std::to_string(ILP_DECISION_MAX_METADATA));
	if (tlvs.size() % 4)
		throw std::invalid_argument("TLVs of " + std::to_string(tlvs.size()) +
					    " bytes, not padded to 4");
	ilpw_tlv_iter it{tlvs.data(), static_cast<u32>(tlvs.size())};
	ilpw_tlv t;
	int rc;
	while ((rc = ilpw_tlv_next(&it, &t)) > 0) {
		const std::uint16_t base = t.type & ~ILP_TLV_CRITICAL;
		if (base == 0 || base > ILP_TLV_OWN_MAX)
			continue; // padding, or a service's or an application's own
		const bool host = t.type == ILP_TLV_SRC_HOST || t.type == ILP_TLV_DST_HOST;
		if (!host || use == TlvUse::send)
			throw TlvNotEntitled(
			    "TLV type " + hex16(t.type) + " is ILP's own, which a service may " +
			    (use == TlvUse::send ? "not set in a packet it sends"
						 : "not set (only SRC_HOST and DST_HOST)"));
		if (!host_value(t))
			throw std::invalid_argument("TLV type " + hex16(t.type) + " of " +
						    std::to_string(t.len) +
						    " bytes, not an address and a port");
	}
	if (rc < 0)
		throw std::invalid_argument("TLVs truncated: one runs past their end");
}

std::vector<std::uint8_t> rewrite_packet(std::span<const std::uint8_t> packet,
					 const ilp_decision &d)
{
	if (d.rewrite & ~static_cast<std::uint32_t>(ILP_REWRITE_METADATA | ILP_REWRITE_PAYLOAD))
		throw std::invalid_argument("unknown rewrite bits " + std::to_string(d.rewrite));
	ilpw_hdr hdr{};
	// The datapath has judged the critical TLVs already.
	auto any_tlv = [](u16, void *) { return true; };
	if (ilpw_hdr_parse(packet.data(), packet.size(), &hdr, any_tlv, nullptr) != ILPW_OK)
		throw std::invalid_argument("the packet's own ILP header is malformed");
	std::span<const std::uint8_t> tlvs(hdr.tlv, hdr.tlv_len);
	std::span<const std::uint8_t> payload = packet.subspan(hdr.hdr_len);
	if (d.rewrite & ILP_REWRITE_METADATA) {
		if (!d.metadata && d.metadata_len)
			throw std::invalid_argument("rewritten TLVs without a buffer");
		tlvs = {d.metadata, d.metadata_len};
		check_service_tlvs(tlvs, TlvUse::rewrite);
	}
	if (d.rewrite & ILP_REWRITE_PAYLOAD) {
		if (!d.payload && d.payload_len)
			throw std::invalid_argument("rewritten payload without a buffer");
		payload = {d.payload, d.payload_len};
	}
	std::vector<std::uint8_t> out(ILPW_HDR_LEN + tlvs.size() + payload.size());
	std::size_t hdr_len = 0;
	if (auto err = ilpw_hdr_build(out.data(), ILPW_HDR_LEN + tlvs.size(), hdr.flags,
				      hdr.service, hdr.conn, tlvs.data(), tlvs.size(), &hdr_len))
		throw std::invalid_argument(std::string("building the rewritten header: ") +
					    ilpw_strerror(err));
	std::copy(payload.begin(), payload.end(), out.begin() + static_cast<long>(hdr_len));
	out.resize(hdr_len + payload.size());
	return out;
}

ilp_packet_v1 to_v1(const ilp_packet &pkt)
{
	ilp_packet_v1 out{};
	out.flow = pkt.flow;
	out.metadata = pkt.metadata;
	out.metadata_len = pkt.metadata_len;
	out.payload = pkt.payload;
	out.payload_len = pkt.payload_len;
	return out;
}

ilp_decision from_v1(const ilp_decision_v1 &d)
{
	ilp_decision out{};
	out.size = sizeof(out);
	out.actions = d.actions;
	out.n_hops = d.n_hops;
	std::copy(std::begin(d.hops), std::end(d.hops), std::begin(out.hops));
	out.install = d.install;
	out.idle_timeout_ms = d.idle_timeout_ms;
	return out;
}

} // namespace ilpd
