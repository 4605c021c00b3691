// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilpctl pcap decrypt|encrypt: captures of ILP traffic in clear, for an
// admin who holds the receiving node's master keys, and back again.
//
// Decrypt opens every PSP packet to the ILP port as that node would: the
// SPI's top bit picks the master key and the SA key derives from the SPI,
// so no per-SA key is needed, and Wireshark then shows the ILP header and
// payload.  Encrypt seals UDP payloads under one SA, to craft conformant
// traffic for tests or to check a decryption.  Neither needs the module
// or any privilege: they only read and write files.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <linux/ilp.h>

#include <ilp/error.hpp>
#include <ilp/psp.hpp>

#include "args.hpp"
#include "ilpctl.hpp"
#include "pcap_io.hpp"
#include <ilp/key_files.hpp>

namespace ilpctl
{

namespace
{

namespace psp = ilp::psp;

struct PcapOptions {
	std::string master_keys;
	std::optional<std::uint32_t> spi;
	psp::Version version = psp::Version::AesGcm128;
	std::uint16_t port = ILP_UDP_PORT;
	std::string in;
	std::string out;
};

[[noreturn]] void usage_error(std::string_view verb, const std::string &why)
{
	ilpctl::usage_error("pcap", verb, why);
}

PcapOptions parse_args(std::string_view verb, Args args)
{
	const bool encrypt = verb == "encrypt";
	PcapOptions o;
	std::vector<std::string> files;
	for (std::size_t i = 0; i < args.size(); i++) {
		const std::string &a = args[i];
		if (a == "--") {
			files.insert(files.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1,
				     args.end());
			break;
		}
		// "-" is a file: libpcap's name for standard input or output.
		if (a.size() < 2 || a[0] != '-') {
			files.push_back(a);
			continue;
		}
		// --name VALUE or --name=VALUE
		std::string name = a;
		std::string value;
		if (auto eq = a.find('='); eq != std::string::npos) {
			name = a.substr(0, eq);
			value = a.substr(eq + 1);
		} else if (i + 1 < args.size()) {
			value = args[++i];
		} else {
			usage_error(verb, name + " needs a value");
		}
		if (name == "--master-keys") {
			o.master_keys = value;
		} else if (name == "--port") {
			auto port = parse_uint<std::uint16_t>(value);
			if (!port || *port == 0)
				usage_error(verb, "--port takes a UDP port, 1 to 65535, not '" +
						      value + "'");
			o.port = *port;
		} else if (encrypt && name == "--spi") {
			o.spi = parse_spi(value);
			// The low 31 bits 0 is no SPI (PSP reserves it).
			if (!o.spi)
				usage_error(verb, "--spi takes a 32-bit SPI whose low 31 bits are "
						  "not all 0, in hex (0x...) or decimal, not '" +
						      value + "'");
		} else if (encrypt && name == "--version") {
			auto version = parse_version(value);
			if (!version)
				usage_error(verb, "--version takes 0 (AES-GCM-128) or 1 "
						  "(AES-GCM-256), not '" +
						      value + "'");
			o.version = *version;
		} else {
			usage_error(verb, "unknown option '" + name + "'");
		}
	}
	if (o.master_keys.empty())
		usage_error(verb, "--master-keys FILE is required");
	if (encrypt && !o.spi)
		usage_error(verb, "--spi is required");
	if (files.size() != 2)
		usage_error(verb, "expected IN and OUT, got " + std::to_string(files.size()) +
				      " file name" + (files.size() == 1 ? "" : "s"));
	o.in = files[0];
	o.out = files[1];
	// pcap_dump_open() truncates OUT before the first packet is read.
	std::error_code ec;
	if (std::filesystem::equivalent(o.in, o.out, ec))
		usage_error(verb, "IN and OUT are the same file");
	return o;
}

struct Tally {
	unsigned long done = 0;   // rewritten
	unsigned long failed = 0; // reported and left out
	unsigned long passed = 0; // copied unchanged
};

// Copies the capture @in to @out, with the payload of every UDP datagram
// to @port replaced by what @transform(payload, result) makes of it.
// @transform returns nullptr and sets result, or the reason it failed:
// the packet is then reported on stderr, numbered from 1 as Wireshark
// numbers them, and left out, so that the rest of the capture still
// gets through.
template <typename Transform>
Tally rewrite(pcap::Reader &in, pcap::Writer &out, std::uint16_t port, Transform transform)
{
	Tally t;
	pcap::Packet pkt;
	std::vector<std::uint8_t> frame;
	for (unsigned long n = 1; in.next(pkt); n++) {
		auto loc = pcap::locate_udp(pkt.data);
		if (loc.status == pcap::UdpStatus::NotUdp || loc.udp.dst_port != port) {
			out.write(pkt.hdr, pkt.data);
			t.passed++;
			continue;
		}
		std::string why;
		std::span<const std::uint8_t> result;
		if (loc.status == pcap::UdpStatus::Truncated) {
			why = "IP datagram longer than the " + std::to_string(pkt.data.size()) +
			      " bytes captured";
		} else if (loc.status == pcap::UdpStatus::BadLength) {
			why = "UDP length disagrees with the IP length";
		} else if (const char *err = transform(
			       pkt.data.subspan(loc.udp.payload_off(), loc.udp.payload_len()),
			       result)) {
			why = err;
		} else if (!pcap::replace_udp_payload(pkt.data, loc.udp, result, frame)) {
			why = "too long for one UDP datagram";
		} else if (frame.size() > static_cast<std::size_t>(out.snaplen())) {
			why = "longer than the snap length of the output";
		}
		if (!why.empty()) {
			std::cerr << "packet " << n << ": " << why << '\n';
			t.failed++;
			continue;
		}
		pcap_pkthdr hdr = pkt.hdr;
		// The part not captured, if any, is still not captured.
		std::size_t uncaptured = hdr.len > hdr.caplen ? hdr.len - hdr.caplen : 0;
		hdr.len = static_cast<bpf_u_int32>(frame.size() + uncaptured);
		out.write(hdr, frame);
		t.done++;
	}
	return t;
}

// Prints the summary line, on stderr when the capture itself went to
// stdout (OUT "-", for a pipe into tcpdump -r -).
void report(const Context &ctx, const PcapOptions &o, const char *done_name, const Tally &t,
	    bool always_failed)
{
	Context c{
	    .json = ctx.json, .pretty = ctx.pretty, .out = o.out == "-" ? std::cerr : ctx.out};
	if (c.json) {
		c.emit({{done_name, t.done}, {"failed", t.failed}, {"passed_through", t.passed}});
		return;
	}
	c.out << done_name << ' ' << t.done;
	if (always_failed || t.failed)
		c.out << ", failed " << t.failed;
	c.out << ", passed through " << t.passed << '\n';
}

} // namespace

int cmd_pcap_decrypt(Context &ctx, Args args)
{
	auto o = parse_args("decrypt", args);
	auto keys = ilp::read_master_keys(o.master_keys);
	// Any SPI opens: a tool holds the keys, not the node's SPI state.
	psp::Receiver rx(false);
	// Each set_master_key() makes its slot the active one, which only
	// matters for allocating SPIs; set slot 1 first so that 0 ends
	// active when the file has both.
	for (unsigned slot : {1u, 0u})
		if (keys.present[slot])
			rx.set_master_key(slot, keys.keys.key[slot]);

	pcap::Reader in(o.in);
	// Packets only shrink: the input's snap length fits them all.
	pcap::Writer out(o.out, DLT_EN10MB, in.snaplen(), in.precision());
	std::vector<std::uint8_t> buf;
	auto t = rewrite(in, out, o.port,
			 [&](std::span<const std::uint8_t> payload,
			     std::span<const std::uint8_t> &result) -> const char * {
				 buf.assign(payload.begin(), payload.end());
				 psp::Opened opened;
				 if (auto err = rx.open(buf, opened))
					 return ilpw_strerror(err);
				 result = opened.plaintext;
				 return nullptr;
			 });
	out.close();
	report(ctx, o, "decrypted", t, true);
	return 0;
}

int cmd_pcap_encrypt(Context &ctx, Args args)
{
	auto o = parse_args("encrypt", args);
	auto keys = ilp::read_master_keys(o.master_keys);
	unsigned slot = *o.spi >> 31;
	if (!keys.present[slot]) {
		throw ilp::Error(ENOKEY, "SPI " + spi_string(*o.spi) + " is under master key " +
					     std::to_string(slot) + " (its top bit), which " +
					     o.master_keys + " does not set");
	}
	auto key = psp::derive_sa_key(keys.keys, *o.spi, o.version);
	// One SA for the whole capture: IVs count up from 1 across it.
	psp::TxSa tx(*o.spi, o.version, key.bytes());

	pcap::Reader in(o.in);
	// Each packet grows by the PSP header and ICV; libpcap cuts records
	// longer than the file's snap length when it reads them.
	int grow = static_cast<int>(tx.sealed_size(0));
	int snaplen = std::max(in.snaplen(), std::min(in.snaplen() + grow, pcap::max_snaplen));
	pcap::Writer out(o.out, DLT_EN10MB, snaplen, in.precision());
	std::vector<std::uint8_t> buf;
	auto t = rewrite(in, out, o.port,
			 [&](std::span<const std::uint8_t> payload,
			     std::span<const std::uint8_t> &result) -> const char * {
				 buf.resize(tx.sealed_size(payload.size()));
				 std::size_t len = 0;
				 if (auto err = tx.seal(payload, buf, len))
					 return ilpw_strerror(err);
				 result = std::span<const std::uint8_t>(buf).first(len);
				 return nullptr;
			 });
	out.close();
	report(ctx, o, "encrypted", t, false);
	return 0;
}

} // namespace ilpctl
