// SPDX-License-Identifier: GPL-2.0-or-later
#include "pcap_io.hpp"

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include <ilp/error.hpp>

namespace ilpctl::pcap
{

namespace
{

constexpr std::uint16_t ethertype_ipv4 = 0x0800;
constexpr std::uint16_t ethertype_ipv6 = 0x86dd;
constexpr std::uint16_t ethertype_vlan = 0x8100; // 802.1Q
constexpr std::uint16_t ethertype_qinq = 0x88a8; // 802.1ad, the outer tag
constexpr std::uint8_t ipproto_hopopts = 0;
constexpr std::uint8_t ipproto_udp = 17;
constexpr std::uint8_t ipproto_dstopts = 60;
constexpr std::size_t eth_hdr_len = 14;
constexpr std::size_t vlan_tag_len = 4;
constexpr std::size_t ipv4_min_hdr_len = 20;
constexpr std::size_t ipv6_hdr_len = 40;
constexpr std::size_t udp_hdr_len = 8;
// Extension headers walked before giving up on a packet; real packets
// have one or two.
constexpr int max_ext_hdrs = 8;

std::uint16_t get_be16(std::span<const std::uint8_t> b, std::size_t off)
{
	return static_cast<std::uint16_t>(b[off] << 8 | b[off + 1]);
}

void put_be16(std::span<std::uint8_t> b, std::size_t off, std::uint16_t v)
{
	b[off] = static_cast<std::uint8_t>(v >> 8);
	b[off + 1] = static_cast<std::uint8_t>(v);
}

// One's complement sum of @b as big-endian 16-bit words (an odd last byte
// padded with zero), added to @sum, not yet folded.
std::uint64_t sum16(std::span<const std::uint8_t> b, std::uint64_t sum = 0)
{
	std::size_t i = 0;
	for (; i + 1 < b.size(); i += 2)
		sum += get_be16(b, i);
	if (i < b.size())
		sum += static_cast<std::uint64_t>(b[i]) << 8;
	return sum;
}

std::uint16_t fold(std::uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return static_cast<std::uint16_t>(~sum & 0xffff);
}

// libpcap's message for a file often starts with the file name already.
std::string with_path(const std::string &path, const char *msg)
{
	std::string m = msg;
	if (m.starts_with(path + ": "))
		return m;
	return path + ": " + m;
}

// What precision the time stamps of the file at @path have.  libpcap
// converts them to the precision asked for when opening, and a writer
// uses one precision for the whole file, so we ask for what the file
// has: a nanosecond capture stays one, a microsecond capture is not
// turned into another format.  pcapng, standard input and unreadable
// files: micro.
int file_precision(const std::string &path)
{
	if (path == "-") // libpcap's standard input: cannot peek and rewind
		return PCAP_TSTAMP_PRECISION_MICRO;
	std::ifstream f(path, std::ios::binary);
	unsigned char m[4] = {};
	if (!f.read(reinterpret_cast<char *>(m), sizeof(m)))
		return PCAP_TSTAMP_PRECISION_MICRO;
	// 0xa1b23c4d in either byte order: the nanosecond pcap format.
	bool nano = (m[0] == 0xa1 && m[1] == 0xb2 && m[2] == 0x3c && m[3] == 0x4d) ||
		    (m[0] == 0x4d && m[1] == 0x3c && m[2] == 0xb2 && m[3] == 0xa1);
	return nano ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO;
}

} // namespace

Reader::Reader(const std::string &path) : path_(path), precision_(file_precision(path))
{
	char err[PCAP_ERRBUF_SIZE] = "";
	p_.reset(pcap_open_offline_with_tstamp_precision(path.c_str(),
							 static_cast<unsigned>(precision_), err));
	if (!p_)
		throw ilp::Error(EINVAL, "cannot read " + with_path(path, err));
	int dlt = pcap_datalink(p_.get());
	if (dlt != DLT_EN10MB) {
		const char *name = pcap_datalink_val_to_name(dlt);
		throw ilp::Error(EINVAL, path + ": link type " +
					     (name ? std::string(name) : std::to_string(dlt)) +
					     ", not Ethernet (EN10MB); only Ethernet captures "
					     "are supported");
	}
}

bool Reader::next(Packet &pkt)
{
	pcap_pkthdr *hdr = nullptr;
	const u_char *data = nullptr;
	int rc = pcap_next_ex(p_.get(), &hdr, &data);
	if (rc == PCAP_ERROR_BREAK)
		return false;
	if (rc != 1)
		throw ilp::Error(EIO, with_path(path_, pcap_geterr(p_.get())));
	pkt.hdr = *hdr;
	pkt.data = {data, hdr->caplen};
	return true;
}

int Reader::snaplen() const
{
	return pcap_snapshot(p_.get());
}

Writer::Writer(const std::string &path, int linktype, int snaplen, int precision)
    : path_(path), snaplen_(snaplen)
{
	dead_.reset(pcap_open_dead_with_tstamp_precision(linktype, snaplen,
							 static_cast<unsigned>(precision)));
	if (!dead_)
		throw ilp::Error(ENOMEM, "cannot write " + path + ": out of memory");
	dumper_.reset(pcap_dump_open(dead_.get(), path.c_str()));
	if (!dumper_)
		throw ilp::Error(EIO, "cannot write " + with_path(path, pcap_geterr(dead_.get())));
}

void Writer::write(const pcap_pkthdr &hdr, std::span<const std::uint8_t> data)
{
	pcap_pkthdr h = hdr;
	h.caplen = static_cast<bpf_u_int32>(data.size());
	pcap_dump(reinterpret_cast<u_char *>(dumper_.get()), &h, data.data());
}

void Writer::close()
{
	if (!dumper_)
		return;
	// pcap_dump() reports nothing; a full disk shows in the stream's
	// error flag, which the flush and ferror() check.
	if (pcap_dump_flush(dumper_.get()) != 0 || std::ferror(pcap_dump_file(dumper_.get())))
		throw ilp::Error(EIO, "cannot write " + path_ + ": write error");
	// fclose() can fail too (NFS reports errors late), but libpcap
	// swallows its result; the flush above is the check we have.
	dumper_.reset();
}

Located locate_udp(std::span<const std::uint8_t> f)
{
	Located r;
	if (f.size() < eth_hdr_len)
		return r;
	std::size_t off = eth_hdr_len;
	std::uint16_t type = get_be16(f, 12);
	for (int tags = 0; tags < 2 && (type == ethertype_vlan || type == ethertype_qinq); tags++) {
		if (f.size() < off + vlan_tag_len)
			return r;
		type = get_be16(f, off + 2);
		off += vlan_tag_len;
	}

	UdpView &u = r.udp;
	u.ip_off = off;
	if (type == ethertype_ipv4) {
		if (f.size() < off + ipv4_min_hdr_len || f[off] >> 4 != 4)
			return r;
		std::size_t ihl = (f[off] & 0x0fu) * 4u;
		std::size_t total = get_be16(f, off + 2);
		if (ihl < ipv4_min_hdr_len || total < ihl + udp_hdr_len)
			return r;
		// A fragment is not a whole datagram: MF set or an offset.
		if (get_be16(f, off + 6) & 0x3fff)
			return r;
		if (f[off + 9] != ipproto_udp)
			return r;
		u.ip_version = 4;
		u.udp_off = off + ihl;
		u.end = off + total;
	} else if (type == ethertype_ipv6) {
		if (f.size() < off + ipv6_hdr_len || f[off] >> 4 != 6)
			return r;
		std::size_t plen = get_be16(f, off + 4);
		if (plen == 0) // a jumbogram (RFC 2675)
			return r;
		u.end = off + ipv6_hdr_len + plen;
		std::uint8_t next = f[off + 6];
		std::size_t p = off + ipv6_hdr_len;
		// Only the options headers are walked; a routing header would
		// change the destination the UDP checksum covers, and other
		// headers (fragment, AH, ESP) mean it is not plain UDP.
		for (int n = 0; next != ipproto_udp; n++) {
			if (n == max_ext_hdrs ||
			    (next != ipproto_hopopts && next != ipproto_dstopts) ||
			    f.size() < p + 2 || u.end < p + 2)
				return r;
			next = f[p];
			p += (f[p + 1] + 1u) * 8u;
		}
		if (u.end < p + udp_hdr_len)
			return r;
		u.ip_version = 6;
		u.udp_off = p;
	} else {
		return r;
	}

	if (f.size() < u.udp_off + udp_hdr_len)
		return r; // no ports to tell whose it is
	u.src_port = get_be16(f, u.udp_off);
	u.dst_port = get_be16(f, u.udp_off + 2);
	if (f.size() < u.end)
		r.status = UdpStatus::Truncated;
	else if (get_be16(f, u.udp_off + 4) != u.end - u.udp_off)
		r.status = UdpStatus::BadLength;
	else
		r.status = UdpStatus::Ok;
	return r;
}

bool replace_udp_payload(std::span<const std::uint8_t> frame, const UdpView &u,
			 std::span<const std::uint8_t> payload, std::vector<std::uint8_t> &out)
{
	std::size_t udp_len = udp_hdr_len + payload.size();
	// What the IP length field counts: the header too for IPv4, only
	// what follows the fixed header for IPv6.
	std::size_t ip_len = u.udp_off - u.ip_off + udp_len;
	if (u.ip_version == 6)
		ip_len -= ipv6_hdr_len;
	if (udp_len > 0xffff || ip_len > 0xffff)
		return false;

	out.assign(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(u.payload_off()));
	out.insert(out.end(), payload.begin(), payload.end());
	out.insert(out.end(), frame.begin() + static_cast<std::ptrdiff_t>(u.end), frame.end());

	UdpView nu = u;
	nu.end = u.payload_off() + payload.size();
	std::span<std::uint8_t> o(out);
	put_be16(o, u.udp_off + 4, static_cast<std::uint16_t>(udp_len));
	put_be16(o, u.udp_off + 6, 0);
	if (u.ip_version == 4) {
		std::size_t ihl = (o[u.ip_off] & 0x0fu) * 4u;
		put_be16(o, u.ip_off + 2, static_cast<std::uint16_t>(ip_len));
		put_be16(o, u.ip_off + 10, 0);
		put_be16(o, u.ip_off + 10, ipv4_header_checksum(o.subspan(u.ip_off, ihl)));
	} else {
		put_be16(o, u.ip_off + 4, static_cast<std::uint16_t>(ip_len));
		put_be16(o, u.udp_off + 6, udp6_checksum(o, nu));
	}
	return true;
}

std::uint16_t ipv4_header_checksum(std::span<const std::uint8_t> hdr)
{
	return fold(sum16(hdr));
}

std::uint16_t udp6_checksum(std::span<const std::uint8_t> f, const UdpView &u)
{
	if (u.ip_version != 6 || u.end > f.size() || u.payload_off() > u.end)
		throw std::invalid_argument("udp6_checksum: not a whole IPv6 UDP datagram");
	// Pseudo-header: source and destination addresses, upper-layer
	// length, next header.
	std::uint64_t sum = sum16(f.subspan(u.ip_off + 8, 32));
	std::size_t len = u.end - u.udp_off;
	sum += (len >> 16) + (len & 0xffff) + ipproto_udp;
	sum = sum16(f.subspan(u.udp_off, 6), sum); // ports and length
	sum = sum16(f.subspan(u.payload_off(), u.payload_len()), sum);
	std::uint16_t c = fold(sum);
	return c == 0 ? 0xffff : c;
}

} // namespace ilpctl::pcap
