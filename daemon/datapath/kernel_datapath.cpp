// SPDX-License-Identifier: GPL-2.0-or-later
#include "datapath/kernel_datapath.hpp"

#include <cerrno>

#include <ilp/error.hpp>
#include <ilp_wire.h>

#include "log.hpp"

namespace ilpd
{

// A control socket borrowed from the pool for one call, returned after.
class KernelDatapath::Lease
{
public:
	Lease(KernelDatapath &dp, std::unique_ptr<ilp::Control> ctl) : dp_(dp), ctl_(std::move(ctl))
	{
	}
	Lease(Lease &&) = default;
	~Lease()
	{
		if (!ctl_)
			return;
		std::lock_guard lock(dp_.pool_mu_);
		dp_.pool_.push_back(std::move(ctl_));
	}
	ilp::Control *operator->() { return ctl_.get(); }

private:
	KernelDatapath &dp_;
	std::unique_ptr<ilp::Control> ctl_;
};

KernelDatapath::Lease KernelDatapath::lease()
{
	std::unique_ptr<ilp::Control> ctl;
	{
		std::lock_guard lock(pool_mu_);
		if (!pool_.empty()) {
			ctl = std::move(pool_.back());
			pool_.pop_back();
		}
	}
	if (!ctl)
		ctl = std::make_unique<ilp::Control>();
	return Lease(*this, std::move(ctl));
}

KernelDatapath::KernelDatapath(std::uint16_t port, std::size_t batch) : batch_(batch)
{
	auto ctl = lease();
	port_ = port;
	if (auto inst = ctl->instance()) {
		port_ = inst->port;
		if (inst->port != port)
			log::warn("adopting the namespace's ILP instance on port ", inst->port,
				  " (configured port ", port, " ignored)");
	} else {
		ctl->instance_add(port);
		created_ = true;
	}
}

KernelDatapath::~KernelDatapath()
{
	stop();
}

void KernelDatapath::start(MissHandler handler)
{
	// The kernel keeps one listener per namespace and refuses another
	// (EBUSY) while it lives; one that died has been forgotten.
	listener_ = std::make_unique<ilp::Listener>(4 << 20);
	stopping_ = false;
	reader_ = std::thread([this, h = std::move(handler)] { read_loop(h); });
}

void KernelDatapath::stop()
{
	stopping_ = true;
	if (reader_.joinable())
		reader_.join();
	listener_.reset();
}

void KernelDatapath::read_loop(MissHandler handler)
{
	while (!stopping_) {
		std::vector<Miss> batch;
		try {
			// A short wait so that stop() is seen promptly.
			batch = listener_->next_batch(100, batch_);
		} catch (const std::exception &e) {
			log::error("reading upcalls: ", e.what());
			continue;
		}
		if (batch.empty())
			continue;
		resolve_prev_hops(batch);
		handler(batch);
	}
}

void KernelDatapath::resolve_prev_hops(std::vector<Miss> &batch)
{
	// Peers change under ilpctl without telling us: re-read them once a
	// second, and sooner (at most ten times a second) for an address
	// not seen among them, which may be a peer just added.
	using namespace std::chrono_literals;
	auto now = std::chrono::steady_clock::now();
	bool stale = now - peers_read_ > 1s;
	if (!stale && now - peers_read_ > 100ms)
		for (const auto &m : batch)
			stale = stale || !peer_ports_.knows(m.prev);
	if (stale) {
		try {
			std::vector<ilp::Endpoint> at;
			for (const auto &p : lease()->peers())
				at.push_back(p.endpoint);
			peer_ports_.assign(at);
		} catch (const std::exception &e) {
			log::warn("reading peers: ", e.what());
		}
		peers_read_ = now;
	}
	for (auto &m : batch)
		m.known_peer = peer_ports_.resolve(m.prev);
}

void KernelDatapath::execute(const Miss &miss, const Actions &actions, bool install)
{
	try {
		lease()->execute(miss, actions, install);
	} catch (const ilp::Error &e) {
		// The packet is lost, as any packet may be; the flow's next
		// packet is decided again.  Counted, logged sparingly.
		if (execute_errors_++ % 1000 == 0)
			log::warn("execute: ", e.what());
	}
}

void KernelDatapath::install(const Flow &flow, const Actions &actions)
{
	lease()->cache_add(flow, actions);
}

bool KernelDatapath::remove(const Flow &flow)
{
	try {
		lease()->cache_del(flow);
		return true;
	} catch (const ilp::Error &e) {
		if (e.code().value() == ENOENT)
			return false;
		throw;
	}
}

std::optional<CacheEntry> KernelDatapath::entry(const Flow &flow)
{
	return lease()->cache_get(flow);
}

std::vector<CacheEntry> KernelDatapath::entries()
{
	return lease()->cache();
}

void KernelDatapath::send(const ilp::Endpoint &to, std::uint32_t service, std::uint64_t conn,
			  std::span<const std::uint8_t> metadata,
			  std::span<const std::uint8_t> payload)
{
	// The kernel seals and sends what EXECUTE hands it: a packet that
	// starts here is an execute of a packet no one sent up.
	Miss pkt;
	pkt.prev = to;
	pkt.service = service;
	pkt.conn = conn;
	std::size_t cap = ILPW_HDR_LEN + metadata.size();
	pkt.data.resize(cap + payload.size());
	size_t hdr_len = 0;
	auto err = ilpw_hdr_build(pkt.data.data(), cap, 0, service, conn, metadata.data(),
				  metadata.size(), &hdr_len);
	if (err != ILPW_OK)
		throw ilp::Error(EMSGSIZE,
				 std::string("building the ILP header: ") + ilpw_strerror(err));
	std::copy(payload.begin(), payload.end(), pkt.data.begin() + hdr_len);
	pkt.data.resize(hdr_len + payload.size());
	Actions fwd;
	fwd.forward.push_back(to);
	lease()->execute(pkt, fwd, false);
}

DatapathStats KernelDatapath::stats()
{
	auto s = lease()->stats();
	DatapathStats d;
	d.hit = s.cache_hit;
	d.missed = s.cache_missed;
	d.lost = s.cache_lost;
	d.evicted = s.cache_evicted;
	d.entries = s.cache_entries;
	d.capacity = s.cache_capacity;
	d.rx_packets = s.rx_packets;
	d.tx_packets = s.tx_packets;
	d.delivered = s.delivered;
	for (auto n : s.drops)
		d.dropped += n;
	return d;
}

} // namespace ilpd
