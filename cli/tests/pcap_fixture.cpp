// SPDX-License-Identifier: GPL-2.0-or-later
//
// pcap_fixture: makes and inspects the captures of pcap_test.sh, with
// libpcap directly and frames.hpp, not with what it tests.
//
//   pcap_fixture make OUT              the original capture (samples below)
//   pcap_fixture make-raw OUT          a capture whose link type is not Ethernet
//   pcap_fixture check-sealed ORIG ENC VERSION SPI
//                                      ENC is ORIG with its ILP packets sealed
//                                      as PSP VERSION under SPI, nothing else
//   pcap_fixture compare A B [SKIP...] B holds A's records but those numbered SKIP
//   pcap_fixture corrupt IN OUT N      flips a bit in the last byte of record N
//
// Exit status 0 when all is as expected, 1 (with the reason) when not.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <pcap/pcap.h>

#include <ilp_wire.h>

#include "frames.hpp"

namespace
{

using Bytes = std::vector<std::uint8_t>;

struct Sample {
	frames::FrameSpec spec;
	bool rewritten;       // a UDP datagram to port 1000 the tools rewrite
	std::size_t data_len; // payload after the ILP header
	bool tlv;             // the ILP header carries a TLV
};

// IPv4 and IPv6, VLAN tags, options and extension headers, Ethernet
// padding, odd lengths; and among them what must pass untouched: other
// ports, TCP to port 1000, ARP, an IP fragment.
const Sample samples[] = {
    {{.ip = 4, .src_port = 40001}, true, 40, false},
    {{.ip = 6, .src_port = 40002}, true, 100, true},
    {{.ip = 4, .src_port = 5353, .dst_port = 53}, false, 30, false},
    {{.ip = 4, .proto = 6}, false, 20, false},
    {{.ip = 4, .vlan_tags = 1}, true, 0, false},
    {{.ip = 6, .ipv6_hop_by_hop = true}, true, 300, true},
    {{.ip = 6, .src_port = 5353, .dst_port = 53}, false, 45, false},
    {{.ip = 0}, false, 0, false},
    {{.ip = 4, .trailer = 2}, true, 0, false}, // 58 bytes, padded to 60
    {{.ip = 4, .ipv4_options = true}, true, 10, true},
    {{.ip = 4, .ipv4_fragment = true}, false, 64, false},
    {{.ip = 6, .vlan_tags = 2}, true, 1400, false},
    {{.ip = 4}, true, 7, false},
};
constexpr std::size_t n_samples = sizeof(samples) / sizeof(samples[0]);

struct Fail {
	std::string why;
};

void check(bool ok, std::size_t record, const std::string &why)
{
	if (!ok)
		throw Fail{"record " + std::to_string(record) + ": " + why};
}

// The UDP payload of sample @n (from 1): an ILP header, then data.
Bytes payload_of(std::size_t n)
{
	const Sample &s = samples[n - 1];
	std::uint8_t tlvs[8];
	std::size_t tlv_len = 0;
	if (s.tlv && ilpw_tlv_put(tlvs, sizeof(tlvs), &tlv_len, 0x0101, "hi!", 3) != ILPW_OK)
		throw Fail{"ilpw_tlv_put failed"};
	Bytes p(ILPW_HDR_LEN + tlv_len + s.data_len);
	std::size_t hdr_len = 0;
	if (ilpw_hdr_build(p.data(), p.size(), 0, 0xf0000000u + static_cast<std::uint32_t>(n),
			   0x1122334455667700ull + n, tlvs, tlv_len, &hdr_len) != ILPW_OK)
		throw Fail{"ilpw_hdr_build failed"};
	for (std::size_t i = hdr_len; i < p.size(); i++)
		p[i] = static_cast<std::uint8_t>(i * 7 + n);
	return p;
}

struct Record {
	pcap_pkthdr hdr;
	Bytes data;
};

struct PcapCloser {
	void operator()(pcap_t *p) const noexcept { pcap_close(p); }
};
struct DumperCloser {
	void operator()(pcap_dumper_t *d) const noexcept { pcap_dump_close(d); }
};

std::vector<Record> read_all(const std::string &path)
{
	char err[PCAP_ERRBUF_SIZE];
	std::unique_ptr<pcap_t, PcapCloser> p(pcap_open_offline(path.c_str(), err));
	if (!p)
		throw Fail{path + ": " + err};
	std::vector<Record> out;
	pcap_pkthdr *h;
	const u_char *d;
	int rc;
	while ((rc = pcap_next_ex(p.get(), &h, &d)) == 1)
		out.push_back({*h, Bytes(d, d + h->caplen)});
	if (rc != PCAP_ERROR_BREAK)
		throw Fail{path + ": " + pcap_geterr(p.get())};
	return out;
}

void write_all(const std::string &path, int linktype, const std::vector<Record> &records)
{
	// The largest snap length, as tcpdump writes by default.
	std::unique_ptr<pcap_t, PcapCloser> dead(pcap_open_dead(linktype, 262144));
	std::unique_ptr<pcap_dumper_t, DumperCloser> d(pcap_dump_open(dead.get(), path.c_str()));
	if (!d)
		throw Fail{path + ": " + pcap_geterr(dead.get())};
	for (const auto &r : records)
		pcap_dump(reinterpret_cast<u_char *>(d.get()), &r.hdr, r.data.data());
}

pcap_pkthdr header_for(std::size_t n, std::size_t len)
{
	pcap_pkthdr h{};
	h.ts.tv_sec = 1700000000 + static_cast<long>(n);
	h.ts.tv_usec = static_cast<long>(n * 1000 + 7);
	h.caplen = h.len = static_cast<bpf_u_int32>(len);
	return h;
}

void make(const std::string &path)
{
	std::vector<Record> records;
	for (std::size_t n = 1; n <= n_samples; n++) {
		auto f = frames::build_frame(samples[n - 1].spec, payload_of(n));
		records.push_back({header_for(n, f.size()), f});
	}
	write_all(path, DLT_EN10MB, records);
}

void make_raw(const std::string &path)
{
	auto f = frames::build_frame({}, payload_of(1));
	Bytes ip(f.begin() + 14, f.end()); // no Ethernet header: DLT_RAW
	write_all(path, DLT_RAW, {{header_for(1, ip.size()), ip}});
}

bool same_header(const pcap_pkthdr &a, const pcap_pkthdr &b)
{
	return a.ts.tv_sec == b.ts.tv_sec && a.ts.tv_usec == b.ts.tv_usec && a.caplen == b.caplen &&
	       a.len == b.len;
}

void check_sealed(const std::string &orig_path, const std::string &enc_path, unsigned version,
		  std::uint32_t spi)
{
	auto orig = read_all(orig_path);
	auto enc = read_all(enc_path);
	check(orig.size() == n_samples, 0, orig_path + " is not the capture 'make' writes");
	check(enc.size() == orig.size(), 0,
	      std::to_string(enc.size()) + " records, expected " + std::to_string(orig.size()));
	std::uint64_t iv = 1;
	std::size_t sealed = 0;
	for (std::size_t n = 1; n <= n_samples; n++) {
		const Sample &s = samples[n - 1];
		const Record &o = orig[n - 1];
		const Record &e = enc[n - 1];
		if (!s.rewritten) {
			check(same_header(o.hdr, e.hdr) && o.data == e.data, n, "changed");
			continue;
		}
		auto plain = payload_of(n);
		std::size_t off = frames::payload_offset(s.spec);
		check(e.data.size() == o.data.size() + ILPW_PSP_HDR_LEN + ILPW_PSP_ICV_LEN, n,
		      "grew by " + std::to_string(e.data.size() - o.data.size()) +
			  " bytes, not by a PSP header and ICV");
		check(e.hdr.ts.tv_sec == o.hdr.ts.tv_sec && e.hdr.ts.tv_usec == o.hdr.ts.tv_usec, n,
		      "time stamp changed");
		check(e.hdr.caplen == e.data.size() && e.hdr.len == e.hdr.caplen, n,
		      "record lengths wrong");
		Bytes psp(e.data.begin() + static_cast<std::ptrdiff_t>(off),
			  e.data.end() - static_cast<std::ptrdiff_t>(s.spec.trailer));
		// Everything around the PSP packet as a frame builder would
		// lay it out: lengths, checksums, tags, trailer.
		check(e.data == frames::build_frame(s.spec, psp), n,
		      "headers around the PSP packet wrong (lengths or checksums)");
		ilpw_psp h;
		ilpw_psp_layout layout;
		auto err = ilpw_psp_parse(psp.data(), psp.size(), &h, &layout);
		check(err == ILPW_OK, n, std::string("ilpw_psp_parse: ") + ilpw_strerror(err));
		check(h.next_hdr == ILPW_PSP_NEXTHDR_ILP, n,
		      "Next Header " + std::to_string(h.next_hdr));
		check(h.version == version, n, "PSP version " + std::to_string(h.version));
		check(h.spi == spi, n, "SPI " + std::to_string(h.spi));
		check(h.crypt_off == 0 && !h.has_vc && !h.sample && !h.drop, n,
		      "unexpected PSP options");
		check(h.iv == iv++, n, "IV " + std::to_string(h.iv) + ", expected a count from 1");
		check(!std::equal(plain.begin(), plain.end(), psp.begin() + ILPW_PSP_HDR_LEN), n,
		      "ILP header and payload in clear");
		sealed++;
	}
	std::printf("%s: %zu records; %zu sealed as PSP v%u, SPI 0x%08x, Next Header %d; %zu "
		    "unchanged\n",
		    enc_path.c_str(), enc.size(), sealed, version, spi, ILPW_PSP_NEXTHDR_ILP,
		    enc.size() - sealed);
}

void compare(const std::string &a_path, const std::string &b_path,
	     const std::set<std::size_t> &skip)
{
	auto a = read_all(a_path);
	auto b = read_all(b_path);
	std::size_t j = 0;
	for (std::size_t n = 1; n <= a.size(); n++) {
		if (skip.count(n))
			continue;
		check(j < b.size(), n, b_path + " ends before it");
		check(same_header(a[n - 1].hdr, b[j].hdr), n, "record header differs");
		const Bytes &x = a[n - 1].data;
		const Bytes &y = b[j].data;
		auto diff = std::mismatch(x.begin(), x.end(), y.begin(), y.end());
		check(diff.first == x.end() && diff.second == y.end(), n,
		      "differs from byte " + std::to_string(diff.first - x.begin()));
		j++;
	}
	check(j == b.size(), 0, b_path + " has " + std::to_string(b.size() - j) + " more records");
	std::printf("%s: the %zu records of %s", b_path.c_str(), j, a_path.c_str());
	if (!skip.empty()) {
		std::printf(" but");
		for (auto n : skip)
			std::printf(" %zu", n);
	}
	std::printf(", byte for byte\n");
}

void corrupt(const std::string &in, const std::string &out, std::size_t n)
{
	auto r = read_all(in);
	check(n >= 1 && n <= r.size() && !r[n - 1].data.empty(), n, "no such record");
	r[n - 1].data.back() ^= 0x01;
	write_all(out, DLT_EN10MB, r);
}

unsigned long number(const char *s)
{
	char *end;
	errno = 0;
	unsigned long v = std::strtoul(s, &end, 0);
	if (errno || *end || end == s)
		throw Fail{std::string("not a number: ") + s};
	return v;
}

} // namespace

int main(int argc, char **argv)
{
	std::vector<std::string> a(argv + 1, argv + argc);
	try {
		if (a.size() == 2 && a[0] == "make")
			make(a[1]);
		else if (a.size() == 2 && a[0] == "make-raw")
			make_raw(a[1]);
		else if (a.size() == 5 && a[0] == "check-sealed")
			check_sealed(a[1], a[2], static_cast<unsigned>(number(argv[4])),
				     static_cast<std::uint32_t>(number(argv[5])));
		else if (a.size() >= 3 && a[0] == "compare") {
			std::set<std::size_t> skip;
			for (int i = 4; i < argc; i++)
				skip.insert(number(argv[i]));
			compare(a[1], a[2], skip);
		} else if (a.size() == 4 && a[0] == "corrupt")
			corrupt(a[1], a[2], number(argv[4]));
		else {
			std::cerr << "usage: see the top of pcap_fixture.cpp\n";
			return 2;
		}
	} catch (const Fail &f) {
		std::cerr << "pcap_fixture: " << f.why << '\n';
		return 1;
	}
	return 0;
}
