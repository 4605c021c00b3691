// SPDX-License-Identifier: GPL-2.0-or-later
//
// Capture files for "ilpctl pcap": reading and writing them with libpcap,
// and finding and replacing the UDP payload of an Ethernet frame.
//
// Frames come from files anyone may hand us, so every offset is checked
// against the captured length before it is read, and a frame this code
// does not understand (not IP, not UDP, an IP fragment, an IPv6 extension
// header other than hop-by-hop or destination options, a jumbogram) is
// left alone rather than guessed at.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <pcap/pcap.h>

namespace ilpctl::pcap
{

struct PcapCloser {
	void operator()(pcap_t *p) const noexcept { pcap_close(p); }
};
struct DumperCloser {
	void operator()(pcap_dumper_t *d) const noexcept { pcap_dump_close(d); }
};
using PcapPtr = std::unique_ptr<pcap_t, PcapCloser>;
using DumperPtr = std::unique_ptr<pcap_dumper_t, DumperCloser>;

// The largest snap length libpcap accepts for Ethernet (its
// MAXIMUM_SNAPLEN, which pcap.h does not export).
constexpr int max_snaplen = 262144;

// One record of a capture: its header and captured bytes.
struct Packet {
	pcap_pkthdr hdr;
	std::span<const std::uint8_t> data;
};

// An Ethernet (DLT_EN10MB) capture opened for reading, pcap or pcapng.
class Reader
{
public:
	// Throws ilp::Error when @path cannot be read or is not Ethernet.
	explicit Reader(const std::string &path);

	// The next record, valid until the next call; false at the end.
	// Throws ilp::Error when the file is damaged (cut short, say).
	bool next(Packet &pkt);

	int snaplen() const;
	// PCAP_TSTAMP_PRECISION_MICRO or _NANO: what the file records, so
	// that a copy keeps every digit of the time stamps.
	int precision() const noexcept { return precision_; }

private:
	std::string path_;
	int precision_;
	PcapPtr p_;
};

// A pcap file written from scratch (an existing file is replaced).
class Writer
{
public:
	// Throws ilp::Error when @path cannot be created.
	Writer(const std::string &path, int linktype, int snaplen, int precision);

	int snaplen() const noexcept { return snaplen_; }
	// Appends a record; @data must fit the snap length.
	void write(const pcap_pkthdr &hdr, std::span<const std::uint8_t> data);
	// Flushes and closes the file; throws ilp::Error if anything written
	// did not reach it.  Without close(), the destructor closes quietly.
	void close();

private:
	std::string path_;
	int snaplen_;
	PcapPtr dead_; // what pcap_dump_open() takes the file header from
	DumperPtr dumper_;
};

// Where the UDP datagram of a frame is.  Offsets are from the start of
// the frame; bytes from @end on are not part of the IP datagram (Ethernet
// padding, an FCS) and are kept as they are.
struct UdpView {
	int ip_version = 0;
	std::size_t ip_off = 0;
	std::size_t udp_off = 0;
	std::size_t end = 0; // one past the IP datagram, as its header says
	std::uint16_t src_port = 0;
	std::uint16_t dst_port = 0;

	std::size_t payload_off() const noexcept { return udp_off + 8; }
	std::size_t payload_len() const noexcept { return end - payload_off(); }
};

enum class UdpStatus {
	NotUdp,    // no whole UDP header found: not ours to touch
	Ok,        // the whole datagram is captured and consistent
	Truncated, // the capture stops before the datagram does
	BadLength, // the UDP length disagrees with the IP length
};

struct Located {
	UdpStatus status = UdpStatus::NotUdp;
	UdpView udp; // when not NotUdp (ports are valid for every other status)
};

// Finds the UDP datagram in an Ethernet frame, behind up to two VLAN tags
// (802.1Q, 802.1ad).
Located locate_udp(std::span<const std::uint8_t> frame);

// Writes to @out @frame with the UDP payload of @udp (from locate_udp(),
// status Ok) replaced by @payload: IP and UDP lengths follow, the IPv4
// header checksum is recomputed, the UDP checksum is 0 over IPv4 (allowed,
// and what ILP receivers accept) and computed over IPv6 (where 0 is not
// allowed).  False, @out unspecified, if the lengths would not fit.
bool replace_udp_payload(std::span<const std::uint8_t> frame, const UdpView &udp,
			 std::span<const std::uint8_t> payload, std::vector<std::uint8_t> &out);

// The Internet checksum (RFC 1071) of an IPv4 header; 0 if it is right.
std::uint16_t ipv4_header_checksum(std::span<const std::uint8_t> hdr);
// The UDP checksum of the datagram at @udp in @frame over IPv6, with its
// own checksum field taken as 0; never 0 (RFC 8200, section 8.1).
std::uint16_t udp6_checksum(std::span<const std::uint8_t> frame, const UdpView &udp);

} // namespace ilpctl::pcap
