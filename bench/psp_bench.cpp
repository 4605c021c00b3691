// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Microbenchmark of libilp's PSP seal and open against bare OpenSSL
// AES-GCM-128 doing the same cryptographic work, for 64, 512 and 1400-byte
// packets: what libilp's framing, SA and receiver logic cost on top of the
// cipher.  After Google Benchmark's table it prints, for each size, ILP's
// packet rate as a fraction of the bare loop's, from the same run:
//
//   ratio seal 1400 B: 0.97 of bare AES-GCM
//
// The size is the PSP payload (ILP header and payload, what TxSa::seal
// takes); on the wire a packet is 32 bytes longer (PSP header and ICV).
//
// Not a test: timings depend on the machine.  `cmake --build build --target
// bench` runs it with the defaults below; Google Benchmark's flags
// (--benchmark_filter, --benchmark_repetitions, ...) override them.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <ilp/psp.hpp>

using namespace ilp::psp;

namespace
{

constexpr std::size_t sizes[] = {64, 512, 1400};
constexpr int aad_len = ILPW_PSP_HDR_LEN; // crypt offset 0, no VC

// A receiver with one SPI, and that SA's key: what both sides of a hop
// hold.  ILP and the bare loop use the same key.
struct Hop {
	Receiver rx{true};
	std::uint32_t spi;
	SaKey key;

	Hop() : spi(0), key{}
	{
		std::array<std::uint8_t, 32> mk;
		std::iota(mk.begin(), mk.end(), std::uint8_t(1));
		rx.set_master_key(0, MasterKey(std::span<const std::uint8_t, 32>(mk)));
		spi = rx.allocate_spi();
		key = rx.sa_key(spi, Version::AesGcm128);
	}
};

std::vector<std::uint8_t> payload_of(std::size_t n)
{
	std::vector<std::uint8_t> p(n);
	for (std::size_t i = 0; i < n; i++)
		p[i] = static_cast<std::uint8_t>(i * 7);
	return p;
}

// A packet sealed by libilp, which the open benchmarks open again and
// again (from a pristine copy each time: open decrypts in place).
std::vector<std::uint8_t> sealed_packet(Hop &hop, std::size_t n)
{
	TxSa tx(hop.spi, Version::AesGcm128, hop.key.bytes());
	auto payload = payload_of(n);
	std::vector<std::uint8_t> pkt(tx.sealed_size(n));
	std::size_t len = 0;
	if (tx.seal(payload, pkt, len) != ILPW_OK)
		throw std::runtime_error("seal failed");
	return pkt;
}

struct CtxDeleter {
	void operator()(EVP_CIPHER_CTX *c) const noexcept { EVP_CIPHER_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

// One context for the whole loop, key schedule done once, as libilp does.
CtxPtr bare_ctx(const Hop &hop, bool encrypt)
{
	CtxPtr c(EVP_CIPHER_CTX_new());
	const std::uint8_t *k = hop.key.bytes().data();
	if (!c || !EVP_CipherInit_ex(c.get(), EVP_aes_128_gcm(), nullptr, k, nullptr, encrypt))
		throw std::runtime_error("EVP set-up failed");
	return c;
}

void put_be64(std::uint8_t *p, std::uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = static_cast<std::uint8_t>(v);
}

void count(benchmark::State &state, std::size_t n)
{
	state.SetItemsProcessed(state.iterations());
	state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(n));
}

void seal_ilp(benchmark::State &state, std::size_t n)
{
	Hop hop;
	TxSa tx(hop.spi, Version::AesGcm128, hop.key.bytes());
	auto payload = payload_of(n);
	std::vector<std::uint8_t> out(tx.sealed_size(n));
	for (auto _ : state) {
		std::size_t len = 0;
		if (tx.seal(payload, out, len) != ILPW_OK) {
			state.SkipWithError("seal failed");
			break;
		}
		benchmark::DoNotOptimize(out.data());
		benchmark::ClobberMemory();
	}
	count(state, n);
}

// The least work that gives the same packet: the IV written into the
// header and the nonce, the plaintext encrypted from where it is straight
// into the packet (no copy first), the tag appended.
void seal_bare(benchmark::State &state, std::size_t n)
{
	Hop hop;
	auto c = bare_ctx(hop, true);
	auto payload = payload_of(n);
	// The header as libilp writes it; only the IV changes per packet.
	std::vector<std::uint8_t> out = sealed_packet(hop, n);
	std::uint8_t nonce[ILPW_PSP_NONCE_LEN];
	std::memcpy(nonce, out.data() + 4, sizeof(nonce));
	std::uint64_t iv = 1;
	for (auto _ : state) {
		put_be64(out.data() + 8, iv);
		put_be64(nonce + 4, iv++);
		std::uint8_t *ct = out.data() + aad_len;
		int len = 0;
		if (!EVP_EncryptInit_ex(c.get(), nullptr, nullptr, nullptr, nonce) ||
		    !EVP_EncryptUpdate(c.get(), nullptr, &len, out.data(), aad_len) ||
		    !EVP_EncryptUpdate(c.get(), ct, &len, payload.data(), static_cast<int>(n)) ||
		    !EVP_EncryptFinal_ex(c.get(), ct + len, &len) ||
		    !EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_GET_TAG, ILPW_PSP_ICV_LEN, ct + n)) {
			state.SkipWithError("EVP seal failed");
			break;
		}
		benchmark::DoNotOptimize(out.data());
		benchmark::ClobberMemory();
	}
	count(state, n);
}

void open_ilp(benchmark::State &state, std::size_t n)
{
	Hop hop;
	const auto pristine = sealed_packet(hop, n);
	std::vector<std::uint8_t> work(pristine.size());
	for (auto _ : state) {
		std::memcpy(work.data(), pristine.data(), pristine.size());
		Opened o;
		if (hop.rx.open(work, o) != ILPW_OK) {
			state.SkipWithError("open failed");
			break;
		}
		benchmark::DoNotOptimize(o.plaintext.data());
		benchmark::ClobberMemory();
	}
	count(state, n);
}

// The same copy of a pristine packet as open_ilp, then the nonce taken from
// the header, the AAD and ciphertext run through, the tag checked.
void open_bare(benchmark::State &state, std::size_t n)
{
	Hop hop;
	auto c = bare_ctx(hop, false);
	const auto pristine = sealed_packet(hop, n);
	std::vector<std::uint8_t> work(pristine.size());
	for (auto _ : state) {
		std::memcpy(work.data(), pristine.data(), pristine.size());
		std::uint8_t *ct = work.data() + aad_len;
		int len = 0;
		if (!EVP_DecryptInit_ex(c.get(), nullptr, nullptr, nullptr, work.data() + 4) ||
		    !EVP_DecryptUpdate(c.get(), nullptr, &len, work.data(), aad_len) ||
		    !EVP_DecryptUpdate(c.get(), ct, &len, ct, static_cast<int>(n)) ||
		    !EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_SET_TAG, ILPW_PSP_ICV_LEN, ct + n) ||
		    EVP_DecryptFinal_ex(c.get(), ct + len, &len) != 1) {
			state.SkipWithError("EVP open failed");
			break;
		}
		benchmark::DoNotOptimize(work.data());
		benchmark::ClobberMemory();
	}
	count(state, n);
}

// Keeps each benchmark's packet rate (the median over the repetitions when
// there are some, else the single run's), and passes everything on to the
// usual display reporter, in the order the benchmarks were registered:
// interleaving finishes them in random order.
class RateCollector : public benchmark::BenchmarkReporter
{
public:
	explicit RateCollector(benchmark::BenchmarkReporter *display) : display_(display) {}

	bool ReportContext(const Context &context) override
	{
		return display_->ReportContext(context);
	}

	void ReportRuns(const std::vector<Run> &runs) override
	{
		if (!runs.empty())
			held_.push_back(runs);
		for (const Run &r : runs) {
			auto it = r.counters.find("items_per_second");
			if (r.error_occurred || it == r.counters.end())
				continue;
			const std::string id = r.run_name.str();
			if (r.run_type == Run::RT_Aggregate && r.aggregate_name == "median")
				median_[id] = it->second.value;
			else if (r.run_type == Run::RT_Iteration)
				single_[id] = it->second.value;
		}
	}

	void Finalize() override
	{
		std::stable_sort(held_.begin(), held_.end(), [](const auto &a, const auto &b) {
			return a.front().family_index < b.front().family_index;
		});
		for (const auto &runs : held_)
			display_->ReportRuns(runs);
		display_->Finalize();
	}

	// Packets per second of @id; 0 when it did not run.
	double rate(const std::string &id) const
	{
		if (auto it = median_.find(id); it != median_.end())
			return it->second;
		auto it = single_.find(id);
		return it == single_.end() ? 0 : it->second;
	}

private:
	benchmark::BenchmarkReporter *display_;
	std::vector<std::vector<Run>> held_;
	std::map<std::string, double> median_, single_;
};

std::string name(const char *op, const char *impl, std::size_t n)
{
	return std::string(op) + "/" + impl + "/" + std::to_string(n);
}

} // namespace

int main(int argc, char **argv)
{
	// Defaults, which flags on the command line override (the last
	// occurrence of a flag wins): ILP and bare runs interleaved in random
	// order and repeated, so that a slow spell of a shared machine lands on
	// both sides of a ratio, which then compares medians.
	std::vector<char *> args{argv[0]};
	char reps[] = "--benchmark_repetitions=5";
	char interleave[] = "--benchmark_enable_random_interleaving=true";
	char aggregates[] = "--benchmark_display_aggregates_only=true";
	args.insert(args.end(), {reps, interleave, aggregates});
	args.insert(args.end(), argv + 1, argv + argc);
	int args_n = static_cast<int>(args.size());
	benchmark::Initialize(&args_n, args.data());
	if (benchmark::ReportUnrecognizedArguments(args_n, args.data()))
		return 1;

	// Registered size by size, so that without interleaving each ILP
	// benchmark still runs next to its baseline.
	for (std::size_t n : sizes) {
		benchmark::RegisterBenchmark(name("seal", "bare", n).c_str(), seal_bare, n);
		benchmark::RegisterBenchmark(name("seal", "ilp", n).c_str(), seal_ilp, n);
		benchmark::RegisterBenchmark(name("open", "bare", n).c_str(), open_bare, n);
		benchmark::RegisterBenchmark(name("open", "ilp", n).c_str(), open_ilp, n);
	}

	RateCollector collector(benchmark::CreateDefaultDisplayReporter());
	benchmark::RunSpecifiedBenchmarks(&collector);
	benchmark::Shutdown();

	std::printf("\n");
	for (const char *op : {"seal", "open"}) {
		for (std::size_t n : sizes) {
			const double ilp = collector.rate(name(op, "ilp", n));
			const double bare = collector.rate(name(op, "bare", n));
			if (ilp > 0 && bare > 0)
				std::printf("ratio %s %zu B: %.2f of bare AES-GCM\n", op, n,
					    ilp / bare);
		}
	}
	return 0;
}
