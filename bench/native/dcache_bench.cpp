// SPDX-License-Identifier: GPL-2.0-or-later
//
// The decision cache's hit, alone: CPU per lookup that hits, from one or
// more lookup threads, with or without a writer changing other entries
// meanwhile.  Built twice (bench/CMakeLists.txt): dcache_bench with ilpd's
// cache (lookups under RCU, no lock), dcache_rwlock_bench with the cache as
// it was before (a writer-first reader-writer lock, kept in
// decision_cache_rwlock.cpp for this comparison only), so that run.sh
// shows both in one run.  Lookup thread t runs on the t-th CPU it may use.
//
// usage: dcache_bench [--threads N] [--seconds S] [--flows F] [--writer-us U]
//   --threads     lookup threads (default 1)
//   --seconds     how long they look up (default 1)
//   --flows       entries hit, shared out among the threads, each going
//                 round its own in a shuffled order (default 1024)
//   --writer-us   a writer installs or removes an entry that no lookup hits
//                 every U microseconds (default 0: no writer)
// Prints "RESULT threads=N writer_us=U hits=H ns_per_hit=X mhits_per_s=Y".
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <pthread.h>
#include <sched.h>
#include <string>
#include <thread>
#include <vector>

#include "datapath/decision_cache.hpp"

using namespace ilpd;

namespace
{

double thread_cpu_seconds()
{
	timespec ts{};
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

Flow flow_of(std::uint64_t conn)
{
	return Flow{ilp::Endpoint::parse("192.0.2.1:4000"), 8, conn};
}

// Lookup thread @t on CPU t mod the CPU count: two threads must run on two
// cores at once for a shared line to bounce between them, which is what a
// shared lock costs.  (On a loaded machine they may still take turns.)
void pin(unsigned t)
{
	cpu_set_t all;
	if (sched_getaffinity(0, sizeof(all), &all) != 0 || CPU_COUNT(&all) == 0)
		return;
	int n = int(t % unsigned(CPU_COUNT(&all)));
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &all) || n--)
			continue;
		cpu_set_t one;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
		return;
	}
}

[[noreturn]] void usage()
{
	std::fprintf(stderr, "usage: dcache_bench [--threads N] [--seconds S] [--flows F] "
			     "[--writer-us U]\n");
	std::exit(2);
}

} // namespace

int main(int argc, char **argv)
{
	unsigned threads = 1, flows = 1024, writer_us = 0;
	double seconds = 1;
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		if (i + 1 >= argc)
			usage();
		const char *v = argv[++i];
		if (a == "--threads")
			threads = unsigned(std::atoi(v));
		else if (a == "--seconds")
			seconds = std::atof(v);
		else if (a == "--flows")
			flows = unsigned(std::atoi(v));
		else if (a == "--writer-us")
			writer_us = unsigned(std::atoi(v));
		else
			usage();
	}
	if (!threads || !flows || seconds <= 0)
		usage();

	// Room for the hit entries and the writer's, so nothing is evicted.
	DecisionCache cache(flows + 1024);
	Actions relay;
	relay.forward.push_back(ilp::Endpoint::parse("198.51.100.1:1000"));
	for (std::uint64_t c = 0; c < flows; c++)
		cache.install(flow_of(c), relay);
	// Each thread hits flows of its own, as ilpd's receive threads do
	// (the kernel steers a flow's datagrams to one SO_REUSEPORT socket),
	// so that what they share is the cache, not entries; in a shuffled
	// order, so that the table's memory is walked as many flows would.
	std::vector<std::vector<Flow>> orders(threads);
	std::uint64_t s = 12345;
	for (unsigned t = 0; t < threads; t++) {
		const std::uint64_t first = flows * t / threads, last = flows * (t + 1) / threads;
		for (std::uint64_t c = first; c < std::max(last, first + 1); c++) {
			s = s * 6364136223846793005ULL + 1442695040888963407ULL;
			orders[t].push_back(
			    flow_of(first + (s >> 33) % std::max<std::uint64_t>(last - first, 1)));
		}
	}

	std::atomic<bool> stop{false};
	std::thread writer;
	if (writer_us)
		writer = std::thread([&] {
			std::uint64_t n = 0;
			while (!stop.load(std::memory_order_relaxed)) {
				Flow f = flow_of(flows + n % 512);
				if (n++ % 2)
					cache.remove(f);
				else
					cache.install(f, relay);
				std::this_thread::sleep_for(std::chrono::microseconds(writer_us));
			}
		});

	std::atomic<std::uint64_t> hits{0};
	std::atomic<std::uint64_t> cpu_ns{0};
	std::vector<std::thread> lookups;
	const auto until = std::chrono::steady_clock::now() +
			   std::chrono::duration_cast<std::chrono::steady_clock::duration>(
			       std::chrono::duration<double>(seconds));
	for (unsigned t = 0; t < threads; t++)
		lookups.emplace_back([&, t] {
			pin(t);
			const std::vector<Flow> &order = orders[t];
			std::uint64_t n = 0, missed = 0;
			std::size_t i = 0;
			const double c0 = thread_cpu_seconds();
			// The clock is read once per 256 lookups, and passed in as
			// ilpd's receive loop passes the batch's time.
			while (std::chrono::steady_clock::now() < until) {
				const auto now = std::chrono::steady_clock::now();
				for (int k = 0; k < 256; k++) {
					if (!cache.lookup(order[i], 248, now))
						missed++;
					if (++i == order.size())
						i = 0;
				}
				n += 256;
			}
			const double c1 = thread_cpu_seconds();
			if (missed) {
				std::fprintf(stderr, "dcache_bench: %llu lookups missed\n",
					     static_cast<unsigned long long>(missed));
				std::exit(1);
			}
			hits += n;
			cpu_ns += std::uint64_t((c1 - c0) * 1e9);
		});
	for (auto &th : lookups)
		th.join();
	stop = true;
	if (writer.joinable())
		writer.join();

	const double h = double(hits.load());
	std::printf("RESULT threads=%u writer_us=%u hits=%.0f ns_per_hit=%.1f mhits_per_s=%.2f\n",
		    threads, writer_us, h, double(cpu_ns.load()) / h, h / seconds / 1e6);
	return 0;
}
