// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Writes the seed corpus of the fuzz targets: `make_seeds DIR` fills
// DIR/psp_ilp_parse/ and DIR/psp_open/ (fuzz/run.sh --seeds, into
// fuzz/corpus/).  The output is deterministic (fixed keys, IVs counting
// from 1), so regenerating changes no committed file unless this program
// or the wire format changed.
//
// Valid seeds give the fuzzer a start past every check (a random input
// almost never authenticates); invalid ones each hit one rejection.  Every
// file is named seed-*; crash reproducers added by hand are not, and this
// program never touches them.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <string>

#include "psp_open_input.hpp"

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

namespace
{

[[noreturn]] void fail(const std::string &what)
{
	std::fprintf(stderr, "make_seeds: %s\n", what.c_str());
	std::exit(1);
}

void ok(ilpw_err err, const char *what)
{
	if (err != ILPW_OK)
		fail(std::string(what) + ": " + ilpw_strerror(err));
}

struct TlvSpec {
	std::uint16_t type;
	std::string val;
};

// An ILP header with @tlvs for service 7, connection 0x1122334455667788,
// then @data_len bytes of payload.
Bytes ilp_packet(std::initializer_list<TlvSpec> tlvs, std::size_t data_len)
{
	Bytes enc(256);
	std::size_t enc_len = 0;
	for (const auto &t : tlvs)
		ok(ilpw_tlv_put(enc.data(), enc.size(), &enc_len, t.type, t.val.data(),
				static_cast<std::uint16_t>(t.val.size())),
		   "ilpw_tlv_put");
	Bytes p(ILPW_HDR_LEN + enc_len + data_len);
	std::size_t hdr_len = 0;
	ok(ilpw_hdr_build(p.data(), p.size(), 0, 7, 0x1122334455667788ULL, enc.data(), enc_len,
			  &hdr_len),
	   "ilpw_hdr_build");
	for (std::size_t i = hdr_len; i < p.size(); i++)
		p[i] = static_cast<std::uint8_t>(i * 7);
	return p;
}

Bytes default_ilp()
{
	return ilp_packet({{0x0101, "hi!"}}, 32);
}

// A PSP packet with @ilp in clear where the ciphertext would be, and a
// dummy ICV: the bytes psp_ilp_parse_fuzz sees as decrypted.
Bytes plain_packet(const Bytes &ilp, std::uint8_t version = 0, std::optional<std::uint64_t> vc = {},
		   std::uint8_t crypt_off = 0)
{
	ilpw_psp psp{};
	psp.next_hdr = ILPW_PSP_NEXTHDR_ILP;
	psp.version = version;
	psp.crypt_off = crypt_off;
	psp.has_vc = vc.has_value();
	psp.vc = vc.value_or(0);
	psp.spi = 1;
	psp.iv = 1;
	Bytes pkt(ilpw_psp_hdr_len(&psp) + ilp.size() + ILPW_PSP_ICV_LEN, 0xa5);
	ilpw_psp_layout layout;
	ok(ilpw_psp_build(pkt.data(), pkt.size(), &psp, ilp.size(), &layout), "ilpw_psp_build");
	std::copy(ilp.begin(), ilp.end(), pkt.begin() + layout.hdr_len);
	return pkt;
}

// @ilp sealed for spi_table()[@spi_index] with the fuzz target's keys.
Bytes sealed_packet(unsigned spi_index, const Bytes &ilp,
		    ilp::psp::Version v = ilp::psp::Version::AesGcm128,
		    ilp::psp::TxOptions opts = {})
{
	ilp::psp::Receiver rx(true);
	ilp_fuzz::set_up(rx);
	const std::uint32_t spi = ilp_fuzz::spi_table().at(spi_index);
	ilp::psp::TxSa tx(spi, v, rx.sa_key(spi, v).bytes(), opts);
	Bytes pkt(tx.sealed_size(ilp.size()));
	std::size_t len = 0;
	ok(tx.seal(ilp, pkt, len), "TxSa::seal");
	pkt.resize(len);
	return pkt;
}

Bytes raw(const Bytes &pkt)
{
	Bytes in{0x00};
	in.insert(in.end(), pkt.begin(), pkt.end());
	return in;
}

void write(const fs::path &dir, const std::string &name, const Bytes &b)
{
	fs::create_directories(dir);
	std::ofstream f(dir / ("seed-" + name), std::ios::binary | std::ios::trunc);
	f.write(reinterpret_cast<const char *>(b.data()), static_cast<std::streamsize>(b.size()));
	if (!f)
		fail("cannot write " + (dir / name).string());
}

// The result the fuzz target's parsing gets for a psp_ilp_parse seed:
// the PSP header's, then the ILP header's with the odd critical types known.
ilpw_err parsed(const Bytes &pkt)
{
	ilpw_psp psp;
	ilpw_psp_layout layout;
	if (auto err = ilpw_psp_parse(pkt.data(), pkt.size(), &psp, &layout))
		return err;
	ilpw_hdr hdr;
	return ilpw_hdr_parse(
	    pkt.data() + layout.hdr_len, layout.icv_off - layout.hdr_len, &hdr,
	    [](std::uint16_t type, void *) { return (type & 1) != 0; }, nullptr);
}

// Each seed is checked to still do what its name says: a valid seed that
// stopped parsing or opening would leave the paths past it unexplored
// without anyone noticing.
void parse_seed(const fs::path &dir, const std::string &name, const Bytes &pkt, ilpw_err expect)
{
	if (parsed(pkt) != expect)
		fail(name + ": parses with " + ilpw_strerror(parsed(pkt)) + ", not " +
		     ilpw_strerror(expect));
	write(dir, name, pkt);
}

void open_seed(const fs::path &dir, const std::string &name, const Bytes &in, ilpw_err expect)
{
	ilp::psp::Receiver rx(true);
	ilp_fuzz::set_up(rx);
	Bytes pkt = ilp_fuzz::packet_from_input(in);
	ilp::psp::Opened o;
	const ilpw_err err = rx.open(pkt, o);
	if (err != expect)
		fail(name + ": opens with " + ilpw_strerror(err) + ", not " +
		     ilpw_strerror(expect));
	write(dir, name, in);
}

void parse_seeds(const fs::path &dir)
{
	parse_seed(dir, "valid-minimal", plain_packet(ilp_packet({}, 0)), ILPW_OK);
	// A pad TLV (type 0), a known critical type (odd) and an ordinary one.
	parse_seed(dir, "valid-tlvs",
		   plain_packet(ilp_packet({{0x0101, "hi!"}, {0, "pad!"}, {0x8001, "known"}}, 32)),
		   ILPW_OK);
	parse_seed(dir, "valid-v1-vc-crypt-off",
		   plain_packet(default_ilp(), 1, 0x0102030405060708ULL, 2), ILPW_OK);

	parse_seed(dir, "tlv-unknown-critical", plain_packet(ilp_packet({{0x8002, "x"}}, 8)),
		   ILPW_E_TLV_CRITICAL);
	Bytes trunc = ilp_packet({{0x0101, "abcd"}}, 0);
	trunc[ILPW_HDR_LEN + 3] = 9; // the value runs past the header
	parse_seed(dir, "tlv-truncated", plain_packet(trunc), ILPW_E_TLV_TRUNC);
	Bytes past = ilp_packet({}, 4);
	past[3] = 6; // 24 bytes of header in 20
	parse_seed(dir, "ilp-past-end", plain_packet(past), ILPW_E_ILP_PAST_END);
	Bytes ver = default_ilp();
	ver[0] = 1 << 4;
	parse_seed(dir, "ilp-version", plain_packet(ver), ILPW_E_ILP_VERSION);

	Bytes nh = plain_packet(default_ilp());
	nh[0] = 17;
	parse_seed(dir, "psp-next-header", nh, ILPW_E_PSP_NEXTHDR);
	Bytes co = plain_packet(ilp_packet({}, 0));
	co[2] = 5; // 20 clear bytes after the IV: past the 16 of ILP, into the ICV
	parse_seed(dir, "psp-crypt-off", co, ILPW_E_PSP_CRYPT_OFF);
	parse_seed(dir, "psp-truncated", Bytes(nh.begin(), nh.begin() + 20), ILPW_E_PSP_TRUNC);
}

void open_seeds(const fs::path &dir)
{
	using ilp::psp::Version;
	const Bytes v0 = sealed_packet(0, default_ilp());
	open_seed(dir, "raw-v0", raw(v0), ILPW_OK);
	open_seed(dir, "raw-v1-vc-slot1",
		  raw(sealed_packet(4, default_ilp(), Version::AesGcm256,
				    {.crypt_off = 0, .vc = 0x0102030405060708ULL})),
		  ILPW_OK);
	open_seed(dir, "raw-v0-crypt-off",
		  raw(sealed_packet(2, default_ilp(), Version::AesGcm128,
				    {.crypt_off = 4, .vc = std::nullopt})),
		  ILPW_OK);
	open_seed(dir, "framed-v0", ilp_fuzz::framed_input(sealed_packet(1, default_ilp()), 1),
		  ILPW_OK);
	open_seed(dir, "framed-v1-vc-slot1",
		  ilp_fuzz::framed_input(sealed_packet(3, ilp_packet({}, 100), Version::AesGcm256,
						       {.crypt_off = 1, .vc = 42}),
					 3),
		  ILPW_OK);

	Bytes tampered = v0;
	tampered.back() ^= 0x80;
	open_seed(dir, "raw-tampered-icv", raw(tampered), ILPW_E_PSP_AUTH);
	open_seed(dir, "raw-unknown-spi", raw(sealed_packet(6, default_ilp())),
		  ILPW_E_PSP_UNKNOWN_SPI);
	open_seed(dir, "raw-truncated", raw(Bytes(v0.begin(), v0.begin() + 31)), ILPW_E_PSP_TRUNC);
	// Too short to frame: opened raw, and too short for PSP.
	open_seed(dir, "framed-too-short", {ilp_fuzz::framed, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		  ILPW_E_PSP_TRUNC);
}

} // namespace

int main(int argc, char **argv)
{
	if (argc != 2) {
		std::fprintf(stderr, "usage: make_seeds DIR\n");
		return 2;
	}
	const fs::path top = argv[1];
	parse_seeds(top / "psp_ilp_parse");
	open_seeds(top / "psp_open");
	return 0;
}
