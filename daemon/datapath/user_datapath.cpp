// SPDX-License-Identifier: GPL-2.0-or-later
#include "datapath/user_datapath.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <ilp/control.hpp>
#include <ilp/error.hpp>
#include <ilp/key_files.hpp>
#include <ilp_wire.h>

namespace ilpd
{

namespace
{

// Datagrams per recvmmsg(), and sealed copies per sendmmsg().
constexpr std::size_t rx_batch = 32;
constexpr std::size_t tx_batch = 64;
// Batches a thread reads before it looks at the stop event again.
constexpr int rx_rounds = 8;

// The wire code's reasons and the uapi's drop reasons are one list
// (as kmod/rx.c relies on too).
static_assert(ILPW_E_PSP_TRUNC - 1 == ILP_DROP_PSP_TRUNC);
static_assert(ILPW_E_TLV_CRITICAL - 1 == ILP_DROP_TLV_CRITICAL);

ilp_drop_reason wire_drop(ilpw_err err)
{
	if (err < ILPW_E_PSP_TRUNC || err > ILPW_E_TLV_CRITICAL)
		return ILP_DROP_NOMEM; // the builder's errors: not a receive check
	return static_cast<ilp_drop_reason>(err - 1);
}

// The reason a datagram the socket refused counts under.
ilp_drop_reason send_drop(int err)
{
	switch (err) {
	case EMSGSIZE:
		return ILP_DROP_TOO_BIG;
	case ENETUNREACH:
	case EHOSTUNREACH:
	case EADDRNOTAVAIL:
	case EAFNOSUPPORT:
	case EINVAL:
		return ILP_DROP_NO_ROUTE;
	default:
		return ILP_DROP_NOMEM;
	}
}

// The errno a transmit drop means to a sender (kmod/sock_send.c).
int drop_errno(ilp_drop_reason r)
{
	switch (r) {
	case ILP_DROP_NO_PEER:
	case ILP_DROP_NO_ROUTE:
		return ENETUNREACH;
	case ILP_DROP_NO_TX_SA:
		return ENOKEY;
	case ILP_DROP_TOO_BIG:
		return EMSGSIZE;
	default:
		return ENOBUFS;
	}
}

// Metadata an application may send (kmod's ilp_metadata_check): whole
// TLVs, padded, none of ILP's own types.  0 or an errno.
int metadata_check(std::span<const std::uint8_t> md)
{
	if (md.size() % 4)
		return EINVAL;
	if (md.size() > ILP_METADATA_MAX)
		return EMSGSIZE;
	ilpw_hdr h{};
	h.tlv = md.data();
	h.tlv_len = static_cast<std::uint32_t>(md.size());
	ilpw_tlv_iter it;
	ilpw_tlv t;
	int r;
	ilpw_tlv_iter_init(&it, &h);
	while ((r = ilpw_tlv_next(&it, &t)) > 0) {
		unsigned type = t.type & ~ILP_TLV_CRITICAL;
		if (type && type <= ILP_TLV_OWN_MAX)
			return EINVAL;
	}
	return r ? EINVAL : 0;
}

// A host TLV (ILP_TLV_SRC_HOST, ILP_TLV_DST_HOST): address, then port,
// network order.
ilpw_err put_host_tlv(std::uint8_t *buf, std::size_t cap, std::size_t &off, std::uint16_t type,
		      const ilp::Endpoint &host)
{
	std::uint8_t v[18];
	auto addr = host.addr_bytes();
	std::uint16_t port = host.port ? host.port : ILP_UDP_PORT;
	std::copy(addr.begin(), addr.end(), v);
	v[addr.size()] = static_cast<std::uint8_t>(port >> 8);
	v[addr.size() + 1] = static_cast<std::uint8_t>(port);
	return ilpw_tlv_put(buf, cap, &off, type, v, static_cast<std::uint16_t>(addr.size() + 2));
}

// Outer IP and UDP headers, PSP header and ICV around an ILP packet.
std::size_t outer_len(const ilp::Endpoint &to)
{
	return (to.family == AF_INET ? 20 : 40) + 8 + ILPW_PSP_HDR_LEN + ILPW_PSP_ICV_LEN;
}

void count(std::atomic<std::uint64_t> &c, std::uint64_t n = 1)
{
	c.fetch_add(n, std::memory_order_relaxed);
}

} // namespace

// Counters of one thread (a receive thread's are written by it alone,
// so no cache line is shared on the packet path), summed by stats().
struct alignas(64) UserDatapath::Counters {
	std::atomic<std::uint64_t> rx_packets{0};
	std::atomic<std::uint64_t> rx_bytes{0};
	std::atomic<std::uint64_t> tx_packets{0};
	std::atomic<std::uint64_t> delivered{0};
	std::atomic<std::uint64_t> sent{0};
	std::atomic<std::uint64_t> missed{0};
	std::atomic<std::uint64_t> lost{0};
	std::array<std::atomic<std::uint64_t>, __ILP_DROP_MAX> drops{};

	void drop(ilp_drop_reason r) { count(drops[r]); }
};

// A receive thread and everything it uses, allocated once.
struct UserDatapath::Worker {
	explicit Worker(udp::Fd s) : sock(std::move(s)) {}

	udp::Fd sock;
	// PSP derives every SA's key from its SPI and the master key, so a
	// receiver needs no per-SA state: track_spis off opens every SPI
	// under a present master key, and check_spi() says which SPIs are
	// this node's, from @keys.  One per thread: a Receiver is not
	// thread-safe; rebuilt when the keys change.
	ilp::psp::Receiver rx{false};
	std::shared_ptr<const RxKeys> keys;
	// The peers this batch uses.
	std::shared_ptr<const PeerTable> peers;
	Sealer sealer;
	udp::RecvBatch in{rx_batch};
	udp::SendBatch out{tx_batch};
	Counters counters;
	std::vector<Miss> misses;
	Miss scratch; // local delivery of hits: its buffer is reused
	std::thread thread;
};

// What a service thread needs to seal: its own contexts and buffers,
// leased from a pool so that concurrent callers do not wait for each
// other (the pool grows to the number of concurrent callers).
struct UserDatapath::TxContext {
	Sealer sealer;
	std::vector<std::uint8_t> plain;
	std::vector<std::uint8_t> sealed;
};

class UserDatapath::TxLease
{
public:
	TxLease(UserDatapath &dp, std::unique_ptr<TxContext> ctx) : dp_(dp), ctx_(std::move(ctx)) {}
	TxLease(TxLease &&) = default;
	~TxLease()
	{
		if (!ctx_)
			return;
		std::lock_guard lock(dp_.tx_mu_);
		dp_.tx_pool_.push_back(std::move(ctx_));
	}
	TxContext &operator*() { return *ctx_; }
	TxContext *operator->() { return ctx_.get(); }

private:
	UserDatapath &dp_;
	std::unique_ptr<TxContext> ctx_;
};

UserDatapath::UserDatapath(const Options &opts) : UserDatapath(user_config(opts)) {}

UserDatapath::UserDatapath(const UserConfig &config)
    : sn_(config.sn), peers_(std::make_shared<const PeerTable>(config.peers)),
      sas_(config.state_dir.empty() ? std::filesystem::path()
				    : config.state_dir / "datapath" / "rx-sas.json"),
      cache_(config.cache_capacity), shared_(std::make_unique<Counters>())
{
	// Without the file the node has no key until "ilpctl key set".
	if (!config.master_keys.empty())
		sas_.set_file_keys(ilp::read_master_keys(config.master_keys.string()));

	stop_fd_ = udp::Fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	if (!stop_fd_)
		throw ilp::Error(errno, std::string("eventfd: ") + std::strerror(errno));

	unsigned threads = std::max(config.handler_threads, 1u);
	bool reuseport = threads > 1;
	port_ = config.port;
	if (reuseport) {
		// SO_REUSEPORT would let these sockets join those of another
		// process of this user on the port (another ilpd) and share
		// its traffic without a word: a plain bind first tells that the
		// port is free (and picks one for port 0).
		auto probe = udp::open_socket(port_, false);
		port_ = udp::bound_port(probe.get());
	}
	for (unsigned i = 0; i < threads; i++) {
		auto fd = udp::open_socket(port_, reuseport);
		if (!i) {
			port_ = udp::bound_port(fd.get());
			family_ = udp::socket_family(fd.get());
		}
		auto w = std::make_unique<Worker>(std::move(fd));
		refresh_keys(*w);
		w->misses.reserve(rx_batch);
		workers_.push_back(std::move(w));
	}
}

UserDatapath::~UserDatapath()
{
	stop();
}

void UserDatapath::start(MissHandler handler)
{
	std::lock_guard lock(run_mu_);
	if (running_)
		throw std::logic_error("UserDatapath::start: already started");
	handler_ = std::move(handler);
	std::uint64_t v;
	while (read(stop_fd_.get(), &v, sizeof(v)) > 0) // left by an earlier stop()
		;
	running_ = true;
	try {
		for (auto &w : workers_)
			w->thread = std::thread([this, &w = *w] { run(w); });
	} catch (...) {
		v = 1;
		[[maybe_unused]] auto n = write(stop_fd_.get(), &v, sizeof(v));
		for (auto &w : workers_)
			if (w->thread.joinable())
				w->thread.join();
		running_ = false;
		handler_ = nullptr;
		throw;
	}
}

void UserDatapath::stop()
{
	std::lock_guard lock(run_mu_);
	if (!running_)
		return;
	// Readable from now on, for every thread's poll(), until start()
	// reads it.
	std::uint64_t one = 1;
	[[maybe_unused]] auto n = write(stop_fd_.get(), &one, sizeof(one));
	for (auto &w : workers_)
		if (w->thread.joinable())
			w->thread.join();
	running_ = false;
	handler_ = nullptr;
}

void UserDatapath::run(Worker &w)
{
	pollfd fds[2] = {{w.sock.get(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR || errno == ENOMEM)
				continue;
			return;
		}
		if (fds[1].revents)
			return;
		for (int round = 0; round < rx_rounds; round++) {
			std::size_t n = w.in.receive(w.sock.get());
			if (!n)
				break;
			// One clock read and one look at the hook, the keys
			// and the peers per batch.
			auto now = DecisionCache::Clock::now();
			auto *local = local_.load(std::memory_order_acquire);
			refresh_keys(w);
			w.peers = peers_.load();
			for (std::size_t i = 0; i < n; i++)
				receive(w, i, now, local);
			flush(w);
			hand_up(w);
			if (n < w.in.size())
				break;
		}
		// No table of a batch is held while the thread waits.
		w.peers.reset();
	}
}

void UserDatapath::refresh_keys(Worker &w)
{
	auto keys = sas_.snapshot();
	if (w.keys && w.keys->generation == keys->generation)
		return;
	// A key that changed must not keep opening packets: a new receiver,
	// with no context of the old keys.
	ilp::psp::Receiver rx(false);
	for (unsigned slot : {1 - keys->active, keys->active})
		if (keys->keys[slot])
			rx.set_master_key(slot, *keys->keys[slot]);
	w.rx = std::move(rx);
	w.keys = std::move(keys);
}

std::optional<ilp_drop_reason> UserDatapath::check_spi(const RxKeys &keys, std::uint32_t spi,
						       const ilp::Endpoint &from,
						       const RxSaBinding *&sa)
{
	sa = nullptr;
	auto it = keys.sas.find(spi);
	if (it == keys.sas.end())
		return keys.tracked[spi >> 31] || keys.withdrawn.contains(spi)
			   ? std::optional(ILP_DROP_PSP_UNKNOWN_SPI)
			   : std::nullopt;
	const auto &peer = it->second.peer;
	auto a = peer.addr_bytes(), b = from.addr_bytes();
	if (peer.family != from.family || !std::equal(a.begin(), a.end(), b.begin(), b.end()))
		return ILP_DROP_SA_PEER;
	sa = &it->second;
	return std::nullopt;
}

// One datagram, in kmod/rx.c's order.
void UserDatapath::receive(Worker &w, std::size_t i, DecisionCache::Clock::time_point now,
			   LocalDelivery *local)
{
	Counters &c = w.counters;
	try {
		if (w.in.truncated(i)) {
			c.drop(ILP_DROP_NOMEM);
			return;
		}
		// The SPI is this node's, and its peer's, before any crypto.
		auto pkt = w.in.packet(i);
		ilp::Endpoint from = udp::from_sockaddr(w.in.source(i));
		ilpw_psp psp;
		ilpw_psp_layout layout;
		if (auto err = ilpw_psp_parse(pkt.data(), pkt.size(), &psp, &layout)) {
			c.drop(wire_drop(err));
			return;
		}
		const RxSaBinding *sa;
		if (auto why = check_spi(*w.keys, psp.spi, from, sa)) {
			c.drop(*why);
			return;
		}
		ilp::psp::Opened opened;
		if (auto err = w.rx.open(pkt, opened)) {
			c.drop(wire_drop(err));
			return;
		}
		// Authenticated and decrypted from here on.
		auto data = opened.plaintext;
		ilpw_hdr hdr;
		if (auto err = ilpw_hdr_parse(data.data(), data.size(), &hdr, nullptr, nullptr)) {
			c.drop(wire_drop(err));
			return;
		}
		count(c.rx_packets);
		count(c.rx_bytes, data.size());
		if (sa)
			sa->traffic->add(data.size());

		Flow flow{from, hdr.service, hdr.conn};
		// A hit shares the entry's decision, which is never changed in
		// place: no copy per packet, and it stays whole for this packet
		// even if a service thread replaces or removes the entry while
		// the copies are sealed (the reference goes with @acts).
		if (std::shared_ptr<const Actions> acts = cache_.lookup(flow, data.size(), now)) {
			act(w, *acts, flow, data, local);
		} else if (local && local->claims(hdr.service, hdr.conn)) {
			// A local socket's binding is its claim on the flow: no
			// daemon needed (docs/decision-cache.md).
			deliver(w, *local, flow, data);
		} else if (!handler_) {
			c.drop(ILP_DROP_NO_LISTENER);
		} else {
			try {
				w.misses.push_back(Miss{
				    flow.prev, hdr.service, hdr.conn, {data.begin(), data.end()}});
				Miss &m = w.misses.back();
				m.known_peer = w.peers->ports().resolve(m.prev);
			} catch (const std::bad_alloc &) {
				count(c.lost);
			}
		}
	} catch (const std::exception &) {
		// OpenSSL failing, memory, a hook that threw: this packet is
		// lost, the thread goes on.
		c.drop(ILP_DROP_NOMEM);
	}
}

void UserDatapath::act(Worker &w, const Actions &actions, const Flow &flow,
		       std::span<const std::uint8_t> data, LocalDelivery *local)
{
	Counters &c = w.counters;
	if (actions.drop || (actions.forward.empty() && !actions.deliver)) {
		c.drop(ILP_DROP_DECIDED);
		return;
	}
	if (actions.deliver) {
		if (local && local->claims(flow.service, flow.conn))
			deliver(w, *local, flow, data);
		else
			c.drop(ILP_DROP_NO_SOCKET);
	}
	for (const auto &hop : actions.forward) {
		const TxPeer *peer = w.peers->find(hop);
		if (!peer) {
			c.drop(ILP_DROP_NO_PEER);
			continue;
		}
		std::size_t len = 0;
		if (auto why = w.sealer.seal(*peer, data, w.out.slot(), len)) {
			c.drop(*why);
			continue;
		}
		if (!w.out.commit(len, peer->endpoint(), family_)) {
			c.drop(ILP_DROP_NO_ROUTE);
			continue;
		}
		if (w.out.full())
			flush(w);
	}
}

void UserDatapath::deliver(Worker &w, LocalDelivery &local, const Flow &flow,
			   std::span<const std::uint8_t> data)
{
	// Into the thread's own Miss, whose buffer stays allocated.
	w.scratch.prev = flow.prev;
	w.peers->ports().resolve(w.scratch.prev);
	w.scratch.service = flow.service;
	w.scratch.conn = flow.conn;
	w.scratch.data.assign(data.begin(), data.end());
	local.deliver(w.scratch);
	count(w.counters.delivered);
}

void UserDatapath::flush(Worker &w)
{
	if (w.out.empty())
		return;
	Counters &c = w.counters;
	auto sent = w.out.flush(w.sock.get(), [&c](int err) { c.drop(send_drop(err)); });
	count(c.tx_packets, sent);
}

void UserDatapath::hand_up(Worker &w)
{
	if (w.misses.empty())
		return;
	std::size_t n = w.misses.size();
	try {
		handler_(w.misses);
		count(w.counters.missed, n);
	} catch (const std::exception &) {
		count(w.counters.lost, n);
	}
	w.misses.clear();
}

UserDatapath::TxLease UserDatapath::lease()
{
	std::unique_ptr<TxContext> ctx;
	{
		std::lock_guard lock(tx_mu_);
		if (!tx_pool_.empty()) {
			ctx = std::move(tx_pool_.back());
			tx_pool_.pop_back();
		}
	}
	if (!ctx)
		ctx = std::make_unique<TxContext>();
	return TxLease(*this, std::move(ctx));
}

std::optional<ilp_drop_reason> UserDatapath::transmit(TxContext &tx, const TxPeer &peer,
						      std::span<const std::uint8_t> plain)
{
	tx.sealed.resize(Sealer::sealed_size(plain.size()));
	std::size_t len = 0;
	if (auto why = tx.sealer.seal(peer, plain, tx.sealed, len))
		return why;
	sockaddr_storage ss;
	socklen_t slen = udp::to_sockaddr(peer.endpoint(), family_, ss);
	if (!slen)
		return ILP_DROP_NO_ROUTE;
	// Any of the sockets sends from the node's port; the first will do.
	while (sendto(workers_.front()->sock.get(), tx.sealed.data(), len, 0,
		      reinterpret_cast<sockaddr *>(&ss), slen) < 0) {
		if (errno != EINTR)
			return send_drop(errno);
	}
	count(shared_->tx_packets);
	return std::nullopt;
}

void UserDatapath::transmit_or_throw(TxContext &tx, const TxPeer &peer,
				     std::span<const std::uint8_t> plain)
{
	auto why = transmit(tx, peer, plain);
	if (!why)
		return;
	shared_->drop(*why);
	int err = drop_errno(*why);
	throw ilp::Error(err, "sending to " + peer.endpoint().to_string() + ": " +
				  ilp::drop_reason_name(*why) + " (" + std::strerror(err) + ")");
}

void UserDatapath::execute(const Miss &miss, const Actions &actions, bool install)
{
	if (actions.forward.size() > ILP_MAX_FORWARD)
		throw std::invalid_argument("more than " + std::to_string(ILP_MAX_FORWARD) +
					    " next hops");
	// As kmod's EXECUTE: the flow is the packet's own (its header),
	// with the previous hop the miss came from.
	ilpw_hdr hdr;
	if (auto err = ilpw_hdr_parse(miss.data.data(), miss.data.size(), &hdr, nullptr, nullptr)) {
		shared_->drop(wire_drop(err));
		return;
	}
	Flow flow{miss.prev, hdr.service, hdr.conn};
	if (install)
		cache_.install(flow, actions);

	Counters &c = *shared_;
	if (actions.drop || (actions.forward.empty() && !actions.deliver)) {
		c.drop(ILP_DROP_DECIDED);
		return;
	}
	if (actions.deliver) {
		auto *local = local_.load(std::memory_order_acquire);
		if (local && local->claims(hdr.service, hdr.conn)) {
			local->deliver(miss);
			count(c.delivered);
		} else {
			c.drop(ILP_DROP_NO_SOCKET);
		}
	}
	if (actions.forward.empty())
		return;
	auto tx = lease();
	auto peers = peers_.load();
	for (const auto &hop : actions.forward) {
		const TxPeer *peer = peers->find(hop);
		if (!peer) {
			c.drop(ILP_DROP_NO_PEER);
			continue;
		}
		try {
			if (auto why = transmit(*tx, *peer, miss.data))
				c.drop(*why);
		} catch (const std::bad_alloc &) {
			c.drop(ILP_DROP_NOMEM);
		}
	}
}

void UserDatapath::install(const Flow &flow, const Actions &actions)
{
	cache_.install(flow, actions);
}

bool UserDatapath::remove(const Flow &flow)
{
	return cache_.remove(flow);
}

std::optional<CacheEntry> UserDatapath::entry(const Flow &flow)
{
	return cache_.entry(flow);
}

std::vector<CacheEntry> UserDatapath::entries()
{
	return cache_.entries();
}

void UserDatapath::send(const ilp::Endpoint &to, std::uint32_t service, std::uint64_t conn,
			std::span<const std::uint8_t> metadata,
			std::span<const std::uint8_t> payload)
{
	auto peers = peers_.load();
	const TxPeer *peer = peers->find(to);
	if (!peer) {
		shared_->drop(ILP_DROP_NO_PEER);
		throw ilp::Error(ENETUNREACH, "sending to " + to.to_string() + ": not a peer");
	}
	if (metadata.size() % 4)
		throw ilp::Error(EINVAL, "metadata of " + std::to_string(metadata.size()) +
					     " bytes: not whole TLVs (a multiple of 4)");
	auto tx = lease();
	tx->plain.resize(ILPW_HDR_LEN + metadata.size() + payload.size());
	std::size_t hdr_len = 0;
	if (auto err = ilpw_hdr_build(tx->plain.data(), tx->plain.size(), 0, service, conn,
				      metadata.data(), metadata.size(), &hdr_len))
		throw ilp::Error(EMSGSIZE,
				 std::string("building the ILP header: ") + ilpw_strerror(err));
	std::copy(payload.begin(), payload.end(), tx->plain.begin() + hdr_len);
	transmit_or_throw(*tx, *peer, tx->plain);
}

void UserDatapath::send_from_host(const ilp::Endpoint &dst_host,
				  const std::optional<ilp::Endpoint> &sn, std::uint32_t service,
				  std::uint64_t conn, std::span<const std::uint8_t> metadata,
				  std::span<const std::uint8_t> payload)
{
	if (!service || service == ~0u)
		throw ilp::Error(EINVAL, "service " + std::to_string(service) + " is reserved");
	if (int err = metadata_check(metadata))
		throw ilp::Error(err, "metadata must be whole TLVs of at most " +
					  std::to_string(ILP_METADATA_MAX) +
					  " bytes, none of ILP's own types");
	if (payload.size() > 0xffff)
		throw ilp::Error(EMSGSIZE, "a payload of " + std::to_string(payload.size()) +
					       " bytes (65535 at most)");

	// The first hop, as kmod's ilp_first_hop().
	auto peers = peers_.load();
	auto default_sn = this->sn();
	const TxPeer *peer = nullptr;
	bool direct = false;
	if (sn) {
		peer = peers->find(*sn);
	} else if (const TxPeer *p = peers->find(dst_host); p && p->direct()) {
		peer = p;
		direct = true;
	} else if (default_sn) {
		peer = peers->find(*default_sn);
	}
	if (!peer)
		throw ilp::Error(ENETUNREACH,
				 "no first hop to " + dst_host.to_string() +
				     (sn           ? " through " + sn->to_string() + " (not a peer)"
				      : default_sn ? " (the default SN is not a peer)"
						   : " (not a direct peer, and no default SN)"));
	udp::Route route = peer->route();
	ilp::Endpoint src = route.source;
	src.port = port_;

	// ILP's own TLVs then the metadata, where the header will have them.
	constexpr std::size_t own_max = 2 * (ILPW_TLV_HDR_LEN + 20);
	auto tx = lease();
	tx->plain.resize(ILPW_HDR_LEN + own_max + metadata.size() + payload.size());
	std::uint8_t *tlv = tx->plain.data() + ILPW_HDR_LEN;
	std::size_t off = 0;
	// No destination host for a direct peer, nor for the first hop
	// itself, as kmod's: the packet is for that node (a service of the
	// SN, a group's), its copies for whoever the SN decides.
	const bool to_hop = peer->endpoint() == dst_host;
	if (put_host_tlv(tlv, own_max, off, ILP_TLV_SRC_HOST, src) ||
	    (!direct && !to_hop && put_host_tlv(tlv, own_max, off, ILP_TLV_DST_HOST, dst_host)))
		throw ilp::Error(EMSGSIZE, "no room for ILP's own TLVs"); // cannot happen
	std::copy(metadata.begin(), metadata.end(), tlv + off);
	std::size_t hdr_len = ILPW_HDR_LEN + off + metadata.size();
	if (hdr_len + payload.size() + outer_len(peer->endpoint()) > route.mtu ||
	    hdr_len / 4 > ILPW_HDR_MAX_WORDS)
		throw ilp::Error(
		    EMSGSIZE, "a packet of " + std::to_string(hdr_len + payload.size()) +
				  " bytes does not fit the path MTU " + std::to_string(route.mtu) +
				  " to " + peer->endpoint().to_string());
	if (ilpw_hdr_build(tx->plain.data(), hdr_len, 0, service, conn, tlv, off + metadata.size(),
			   &hdr_len))
		throw ilp::Error(EMSGSIZE, "building the ILP header");
	std::copy(payload.begin(), payload.end(), tx->plain.begin() + hdr_len);
	tx->plain.resize(hdr_len + payload.size());
	transmit_or_throw(*tx, *peer, tx->plain);
	count(shared_->sent);
}

void UserDatapath::set_local_delivery(LocalDelivery *delivery) noexcept
{
	local_.store(delivery, std::memory_order_release);
}

DatapathStats UserDatapath::stats()
{
	DatapathStats d;
	auto add = [&d](const Counters &c) {
		d.missed += c.missed.load(std::memory_order_relaxed);
		d.lost += c.lost.load(std::memory_order_relaxed);
		d.rx_packets += c.rx_packets.load(std::memory_order_relaxed);
		d.tx_packets += c.tx_packets.load(std::memory_order_relaxed);
		d.delivered += c.delivered.load(std::memory_order_relaxed);
		for (const auto &n : c.drops)
			d.dropped += n.load(std::memory_order_relaxed);
	};
	for (const auto &w : workers_)
		add(w->counters);
	add(*shared_);
	// The cache counts its misses on every lookup, local deliveries
	// included; "missed" is the kernel's: misses sent up.
	d.hit = cache_.hits();
	d.evicted = cache_.evictions();
	d.entries = cache_.size();
	d.capacity = cache_.capacity();
	return d;
}

std::array<std::uint64_t, __ILP_DROP_MAX> UserDatapath::drop_counts()
{
	std::array<std::uint64_t, __ILP_DROP_MAX> out{};
	auto add = [&out](const Counters &c) {
		for (std::size_t r = 0; r < out.size(); r++)
			out[r] += c.drops[r].load(std::memory_order_relaxed);
	};
	for (const auto &w : workers_)
		add(w->counters);
	add(*shared_);
	return out;
}

std::map<std::string, std::uint64_t> UserDatapath::drops()
{
	std::map<std::string, std::uint64_t> out;
	auto counts = drop_counts();
	for (unsigned r = 0; r < counts.size(); r++)
		out[ilp::drop_reason_name(r)] = counts[r];
	return out;
}

std::uint64_t UserDatapath::sent()
{
	return shared_->sent.load(std::memory_order_relaxed);
}

ilp::Stats UserDatapath::raw_counters()
{
	ilp::Stats st;
	auto add = [&st](const Counters &c) {
		st.rx_packets += c.rx_packets.load(std::memory_order_relaxed);
		st.rx_bytes += c.rx_bytes.load(std::memory_order_relaxed);
		st.tx_packets += c.tx_packets.load(std::memory_order_relaxed);
		st.delivered += c.delivered.load(std::memory_order_relaxed);
		st.sent += c.sent.load(std::memory_order_relaxed);
		st.cache_missed += c.missed.load(std::memory_order_relaxed);
		st.cache_lost += c.lost.load(std::memory_order_relaxed);
		for (std::size_t r = 0; r < st.drops.size(); r++)
			st.drops[r] += c.drops[r].load(std::memory_order_relaxed);
	};
	for (const auto &w : workers_)
		add(w->counters);
	add(*shared_);
	st.cache_hit = cache_.hits();
	st.cache_evicted = cache_.evictions();
	return st;
}

ilp::Stats UserDatapath::counters()
{
	ilp::Stats st = raw_counters();
	{
		std::lock_guard lock(base_mu_);
		auto since = [](std::uint64_t &now, std::uint64_t then) {
			now = now >= then ? now - then : 0;
		};
		since(st.rx_packets, base_.rx_packets);
		since(st.rx_bytes, base_.rx_bytes);
		since(st.tx_packets, base_.tx_packets);
		since(st.delivered, base_.delivered);
		since(st.sent, base_.sent);
		since(st.cache_missed, base_.cache_missed);
		since(st.cache_lost, base_.cache_lost);
		since(st.cache_hit, base_.cache_hit);
		since(st.cache_evicted, base_.cache_evicted);
		for (std::size_t r = 0; r < st.drops.size(); r++)
			since(st.drops[r], base_.drops[r]);
	}
	// Gauges.  The userspace datapath bounds no upcall rate (its misses
	// go to the services' queues, which count what they cannot take):
	// cache_throttled, upcall_rate and upcall_burst stay 0.
	st.cache_entries = cache_.size();
	st.cache_capacity = cache_.capacity();
	return st;
}

void UserDatapath::reset_stats()
{
	auto raw = raw_counters();
	std::lock_guard lock(base_mu_);
	base_ = raw;
}

template <typename F>
void UserDatapath::change_peers(F change)
{
	std::lock_guard lock(peers_mu_);
	auto now = peers_.load();
	peers_.store(std::make_shared<const PeerTable>(change(*now)));
}

namespace
{

std::shared_ptr<TxSaState> sa_state(const UserDatapath::TxSaSpec &tx)
{
	if (!(tx.spi & 0x7fffffffu))
		throw ilp::Error(EINVAL, "an SPI's low 31 bits must not all be 0");
	if (tx.key.size != ilp::psp::key_size(tx.version))
		throw ilp::Error(EINVAL, "a " + std::to_string(tx.key.size) +
					     "-byte key for PSP version " +
					     std::to_string(static_cast<int>(tx.version)));
	return std::make_shared<TxSaState>(tx.spi, tx.version, tx.key);
}

} // namespace

void UserDatapath::peer_add(const ilp::Endpoint &peer, const std::optional<TxSaSpec> &tx)
{
	auto sa = tx ? sa_state(*tx) : nullptr;
	change_peers([&](const PeerTable &t) {
		if (t.find(peer))
			throw ilp::Error(EEXIST, "peer " + peer.to_string() + " already exists");
		// The kernel's bound, so that both datapaths take the same.
		if (t.size() >= ILP_MAX_PEERS)
			throw ilp::Error(ENOSPC,
					 "at most " + std::to_string(ILP_MAX_PEERS) + " peers");
		return t.with(std::make_shared<const TxPeer>(peer, false, "ilpctl", sa));
	});
}

void UserDatapath::peer_set(const ilp::Endpoint &peer, const TxSaSpec &tx)
{
	auto sa = sa_state(tx);
	change_peers([&](const PeerTable &t) {
		auto p = t.get(peer);
		if (!p)
			throw ilp::Error(ENOENT, "no peer " + peer.to_string());
		return t.with(p->with_sa(sa));
	});
}

void UserDatapath::peer_set_direct(const ilp::Endpoint &peer, bool direct)
{
	change_peers([&](const PeerTable &t) {
		auto p = t.get(peer);
		if (!p)
			throw ilp::Error(ENOENT, "no peer " + peer.to_string());
		return t.with(p->with_direct(direct));
	});
}

void UserDatapath::peer_del(const ilp::Endpoint &peer)
{
	change_peers([&](const PeerTable &t) {
		if (!t.find(peer))
			throw ilp::Error(ENOENT, "no peer " + peer.to_string());
		return t.without(peer);
	});
	// Its decisions go with it, as ILP_CMD_PEER_DEL's do in the kernel.
	cache_.remove_peer(peer);
}

std::vector<std::shared_ptr<const TxPeer>> UserDatapath::peers() const
{
	return peers_.load()->list();
}

void UserDatapath::set_sn(const std::optional<ilp::Endpoint> &sn)
{
	std::lock_guard lock(sn_mu_);
	sn_ = sn;
}

std::optional<ilp::Endpoint> UserDatapath::sn() const
{
	std::lock_guard lock(sn_mu_);
	return sn_;
}

} // namespace ilpd
