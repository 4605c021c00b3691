// SPDX-License-Identifier: GPL-2.0-or-later
#include "association/manager.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <future>
#include <map>
#include <variant>

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <ilp/error.hpp>

#include "association/association.hpp"
#include "association/channel.hpp"
#include "association/discovery.hpp"
#include "association/listener.hpp"
#include "association/on_link.hpp"
#include "association/schedule.hpp"
#include "association/tls.hpp"
#include "log.hpp"

namespace asio = boost::asio;
using asio::ip::tcp;
using nlohmann::json;

namespace ilpd
{

namespace
{

using Clock = std::chrono::steady_clock;

// How often superseded SAs, forgotten peers and the rotation schedule are
// looked at.
constexpr auto kTick = std::chrono::milliseconds(250);
// Pipes opened on demand at once, at most: each costs a channel and SAs
// on both sides, and a service asks on behalf of packets.
constexpr std::size_t kMaxOnDemand = 256;
// How often an SN suggests a direct pipe to the same pair of hosts.
constexpr auto kDirectAskEvery = std::chrono::seconds(10);
// The first redial after a channel broke; it doubles up to reconnect-max.
constexpr auto kFirstRedial = std::chrono::milliseconds(200);

ctl::HostAuth host_auth_of(HostAuthMode m)
{
	switch (m) {
	case HostAuthMode::None:
		return ctl::HostAuth::None;
	case HostAuthMode::Required:
		return ctl::HostAuth::Required;
	case HostAuthMode::Optional:
		break;
	}
	return ctl::HostAuth::Optional;
}

ctl::TlsSettings tls_settings(const ControlOptions &o)
{
	ctl::TlsSettings s;
	s.certificate = o.certificate;
	s.private_key = o.private_key;
	for (const auto &t : o.trust)
		s.trust[t.edomain] = t.ca;
	s.host_ca = o.host_ca;
	s.host_auth = host_auth_of(o.host_auth);
	return s;
}

// IPv4 connections to a dual-stack socket show as ::ffff:a.b.c.d; ILP
// names them a.b.c.d, as the datapath and certificates do.
ilp::Endpoint endpoint_of(const tcp::endpoint &e)
{
	ilp::Endpoint out;
	auto a = e.address();
	if (a.is_v6() && a.to_v6().is_v4_mapped())
		a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
	if (a.is_v4()) {
		out.family = AF_INET;
		auto b = a.to_v4().to_bytes();
		std::copy(b.begin(), b.end(), out.addr.s6_addr);
	} else {
		out.family = AF_INET6;
		auto b = a.to_v6().to_bytes();
		std::copy(b.begin(), b.end(), out.addr.s6_addr);
	}
	out.port = e.port();
	return out;
}

tcp::endpoint tcp_of(const ilp::Endpoint &e)
{
	if (e.family == AF_INET) {
		asio::ip::address_v4::bytes_type b;
		std::copy(e.addr.s6_addr, e.addr.s6_addr + 4, b.begin());
		return {asio::ip::address_v4(b), e.port};
	}
	asio::ip::address_v6::bytes_type b;
	std::copy(e.addr.s6_addr, e.addr.s6_addr + 16, b.begin());
	return {asio::ip::address_v6(b), e.port};
}

bool same_address(const ilp::Endpoint &a, const ilp::Endpoint &b)
{
	return a.family == b.family &&
	       std::equal(a.addr.s6_addr, a.addr.s6_addr + 16, b.addr.s6_addr);
}

// Orders addresses for the duplicate-channel rule: of two channels
// between the same pair, the one the lower address dialed is kept.
bool lower(const ilp::Endpoint &a, const ilp::Endpoint &b)
{
	if (a.family != b.family)
		return a.family < b.family;
	return std::lexicographical_compare(a.addr.s6_addr, a.addr.s6_addr + 16, b.addr.s6_addr,
					    b.addr.s6_addr + 16);
}

std::string spi_hex(std::uint32_t spi)
{
	char buf[16];
	std::snprintf(buf, sizeof(buf), "0x%08x", spi);
	return buf;
}

double seconds_since(Clock::time_point t, Clock::time_point now)
{
	return std::chrono::duration<double>(now - t).count();
}

} // namespace

// A control request this node sent, until its answer, its timeout or
// its channel's end, whichever comes first, calls @done.
struct PendingControl {
	explicit PendingControl(asio::io_context &io, ControlDone d) : done(std::move(d)), timer(io)
	{
	}
	void finish(ControlOutcome o)
	{
		timer.cancel();
		if (auto d = std::exchange(done, nullptr))
			d(std::move(o));
	}
	ControlDone done;
	asio::steady_timer timer;
};

// One peer: a remote ilpd dials (from the configuration or ilpctl), or
// one that dialed in.  It outlives its channels: what a broken channel's
// association gave out is retired by the next one.
struct Link {
	std::uint64_t id = 0;
	std::optional<RemoteConfig> dial; // set when this node dials it
	bool pipe = false;                // SN to SN
	bool direct = false;              // host to host (a direct pipe)
	// Opened by open_pipe(), closed once no packet used it for
	// direct_pipe_idle: the packets it had counted when last seen
	// moving, and when.
	bool on_demand = false;
	std::uint64_t last_packets = 0;
	Clock::time_point last_used = Clock::now();
	std::shared_ptr<ctl::Channel> channel;
	std::unique_ptr<Association> assoc;
	bool outbound = false; // the channel is one this node dialed
	std::optional<ctl::Hello> peer;
	std::string identity;
	std::vector<std::uint32_t> leftover_rx; // a previous association's
	Counted rx_retired;                     // what its retired receive SAs had opened
	std::unique_ptr<Backoff> backoff;
	std::unique_ptr<asio::steady_timer> redial;
	Clock::time_point created = Clock::now(), closed_at{};
	std::string last_error;
	std::uint64_t channels = 0; // channels that reached HELLO
	bool withdrawn = false;
	// Service control: requests this node sent on the channel, by ID,
	// and those the peer sent that a module is answering.
	std::map<std::uint32_t, std::shared_ptr<PendingControl>> asked;
	std::uint32_t next_request = 1;
	unsigned answering = 0;
};

// Requests a peer may have a module answer at once; more are refused
// (-EBUSY), so that a peer cannot queue unbounded work on an SN.
constexpr unsigned kMaxAnswering = 16;

struct AssociationManager::Impl {
	Impl(SaPlane &plane_, const ControlOptions &opts_, bool role_sn_, std::uint16_t ilp_port_,
	     ServiceControlHook services_)
	    : plane(plane_), opts(opts_), role_sn(role_sn_), ilp_port(ilp_port_),
	      services(std::move(services_)), tls(tls_settings(opts_)),
	      rotation(opts_.rekey_interval, Clock::now()), tick(io)
	{
	}

	SaPlane &plane;
	ControlOptions opts;
	bool role_sn;
	std::uint16_t ilp_port;
	ServiceControlHook services;
	asio::io_context io;
	ctl::TlsContexts tls;
	std::unique_ptr<ctl::Listener> listener;
	RotationSchedule rotation;
	asio::steady_timer tick;
	std::map<std::uint64_t, std::unique_ptr<Link>> links;
	// peers_up()'s copy, made again on the thread at every change.
	mutable std::mutex view_mu;
	std::shared_ptr<const PeersUp> view = std::make_shared<PeersUp>();

	void publish_view()
	{
		auto v = std::make_shared<PeersUp>();
		for (const auto &[id, l] : links) {
			if (!l->assoc || !l->assoc->up() || !l->peer || l->direct)
				continue;
			if (l->peer->role == ctl::Role::Sn)
				v->sns.push_back(
				    {l->peer->endpoint, l->peer->edomain, l->on_demand});
			else if (!l->dial) {
				v->hosts.push_back(l->peer->endpoint);
				if (l->peer->direct)
					v->direct_hosts.push_back(l->peer->endpoint);
			}
		}
		std::lock_guard lock(view_mu);
		view = std::move(v);
	}
	std::vector<std::uint64_t> first_hop_order; // a host's SNs, by preference
	std::uint64_t next_id = 1;
	std::atomic<std::size_t> on_demand{0}; // links with on_demand set
	std::uint64_t rotations = 0;
	Clock::time_point last_rotation{};
	bool stopping = false;

	ctl::ChannelTimers timers() const
	{
		ctl::ChannelTimers t;
		t.handshake = opts.handshake;
		t.keepalive = opts.keepalive;
		t.dead = opts.dead_peer;
		return t;
	}

	Link &new_link()
	{
		auto l = std::make_unique<Link>();
		l->id = next_id++;
		l->backoff = std::make_unique<Backoff>(
		    kFirstRedial,
		    std::chrono::duration_cast<std::chrono::milliseconds>(opts.reconnect_max));
		l->redial = std::make_unique<asio::steady_timer>(io);
		auto &ref = *l;
		links.emplace(ref.id, std::move(l));
		return ref;
	}

	Link *find(std::uint64_t id)
	{
		auto it = links.find(id);
		return it == links.end() ? nullptr : it->second.get();
	}

	std::string name_of(const Link &l) const
	{
		std::string n;
		if (l.peer)
			n = l.peer->endpoint.to_string();
		else if (l.dial)
			n = l.dial->control.to_string();
		else if (l.channel)
			n = l.channel->name();
		if (!l.identity.empty())
			n += " (" + l.identity + ")";
		return n;
	}

	void start()
	{
		plane.ensure_master_key();
		if (opts.listen.value_or(false)) {
			tcp::endpoint at(asio::ip::address_v6::any(), opts.port);
			listener = std::make_unique<ctl::Listener>(
			    io, at, tls, timers(), opts.max_handshaking,
			    [this](const tcp::endpoint &) { return accepted(); });
			log::info("control channel: listening on TCP port ",
				  listener->local().port());
		}
		for (const auto &r : opts.first_hops)
			add_remote(r, false);
		for (const auto &r : opts.pipes)
			add_remote(r, true);
		for (const auto &r : opts.neighbours)
			add_remote(r, false, true);
		watch_exhaustion();
		start_lookups();
		arm_tick();
	}

	// First-hop SNs found in DNS (first-hop-domain), each dialed as a
	// first-hop line's would be, after those lines and in the records'
	// order, so that the default SN is the first of them up.  The
	// lookups are declared after io so that they go first, each waiting
	// for its query in flight.
	std::vector<std::unique_ptr<FirstHopLookup>> lookups;

	void start_lookups()
	{
		for (const auto &d : opts.first_hop_domains) {
			auto found = [this, d](const std::vector<FirstHop> &hops) {
				if (stopping)
					return;
				for (const auto &h : hops) {
					bool dialed = std::any_of(
					    links.begin(), links.end(), [&](const auto &l) {
						    return l.second->dial &&
							   l.second->dial->control == h.control;
					    });
					if (!dialed)
						add_remote({h.control, d.edomain, d.where}, false);
				}
			};
			lookups.push_back(std::make_unique<FirstHopLookup>(
			    io, d, opts.dns_server, opts.port, opts.reconnect_max, found));
			lookups.back()->start();
		}
	}

	Link &add_remote(const RemoteConfig &r, bool pipe, bool direct = false)
	{
		auto &l = new_link();
		l.dial = r;
		l.pipe = pipe;
		l.direct = direct;
		if (!pipe && !direct)
			first_hop_order.push_back(l.id);
		dial(l);
		return l;
	}

	ctl::Channel::Handlers handlers_for(std::uint64_t id)
	{
		ctl::Channel::Handlers h;
		h.on_up = [this, id](ctl::Channel &c) { on_up(id, c); };
		h.on_message = [this, id](ctl::Channel &c, ctl::Message &&m) {
			on_message(id, c, std::move(m));
		};
		h.on_closed = [this, id](ctl::Channel &c, const std::string &why) {
			on_closed(id, c, why);
		};
		return h;
	}

	void dial(Link &l)
	{
		if (stopping || l.withdrawn)
			return;
		l.outbound = true;
		try {
			l.channel =
			    ctl::Channel::connect(io, tcp_of(l.dial->control), tls, l.dial->edomain,
						  timers(), handlers_for(l.id));
		} catch (const std::exception &e) {
			l.last_error = e.what();
			log::warn("control channel to ", name_of(l), ": ", e.what());
			schedule_redial(l);
		}
	}

	void schedule_redial(Link &l)
	{
		if (stopping || !l.dial || l.withdrawn)
			return;
		auto d = l.backoff->next();
		log::debug("control channel to ", name_of(l), ": redial in ", d.count(), " ms");
		l.redial->expires_after(d);
		l.redial->async_wait([this, id = l.id](const boost::system::error_code &ec) {
			if (ec)
				return;
			if (auto *link = find(id); link && !link->channel)
				dial(*link);
		});
	}

	// A channel dialed in: a link of its own until its HELLO says who.
	ctl::Channel::Handlers accepted()
	{
		auto &l = new_link();
		l.outbound = false;
		return handlers_for(l.id);
	}

	ctl::Hello local_hello(const ctl::Channel &c, const Link &l) const
	{
		ctl::Hello h;
		bool as_sn = l.dial ? l.pipe : role_sn;
		h.role = as_sn ? ctl::Role::Sn : ctl::Role::Host;
		h.direct = !as_sn && opts.direct;
		h.endpoint = endpoint_of(c.local());
		h.endpoint.port = ilp_port;
		if (as_sn)
			h.edomain = opts.edomain;
		return h;
	}

	void on_up(std::uint64_t id, ctl::Channel &c)
	{
		auto *l = resolve(id);
		if (!l)
			return;
		if (!l->channel)
			l->channel = c.shared_from_this();
		l->identity = c.identity().subject;
		l->assoc =
		    std::make_unique<Association>(plane, local_hello(c, *l), opts.psp_version);
		c.send(l->assoc->hello());
	}

	void fail(Link &l, ctl::Channel &c, const ctl::ProtocolError &e)
	{
		l.last_error = e.what();
		log::warn("control channel ", name_of(l), ": refused: ", e.what());
		c.close(e.code(), e.what());
	}

	void on_message(std::uint64_t id, ctl::Channel &c, ctl::Message &&m)
	{
		auto *l = resolve(id);
		if (!l || !l->assoc || l->channel.get() != &c)
			return;
		auto now = Clock::now();
		try {
			std::vector<ctl::Message> out;
			if (auto *h = std::get_if<ctl::Hello>(&m)) {
				l = on_hello(*l, c, *h);
				if (!l)
					return;
				out = l->assoc->on_hello(*h, now);
			} else if (auto *e = std::get_if<ctl::ErrorMsg>(&m)) {
				l->last_error = std::string("peer refused: ") +
						ctl::error_name(e->code) + ": " + e->reason;
				log::warn("control channel ", name_of(*l), ": ", l->last_error);
				return;
			} else if (std::holds_alternative<ctl::Keepalive>(m)) {
				return;
			} else if (std::holds_alternative<ctl::Bye>(m)) {
				log::info("association with ", name_of(*l),
					  " withdrawn by the peer");
				l->assoc->withdraw();
				l->leftover_rx.clear();
				// A peer that dialed in is forgotten when its
				// channel closes; one this node dials is dialed
				// again, as before.
				if (!l->dial)
					l->withdrawn = true;
				// The peer went from the datapath, its counts with it.
				l->rx_retired = {};
				publish_view();
				c.close();
				return;
			} else if (auto *r = std::get_if<ctl::SvcRequest>(&m)) {
				if (!l->assoc->peer())
					throw ctl::ProtocolError(ctl::ErrorCode::Unexpected,
								 "SVC_REQ before HELLO");
				if (r->service == kDirectService)
					answer_direct(*l, c, *r);
				else
					answer(*l, c, std::move(*r));
			} else if (auto *rep = std::get_if<ctl::SvcReply>(&m)) {
				auto it = l->asked.find(rep->request_id);
				// One that timed out: its answer has nobody to go to.
				if (it == l->asked.end() && rep->request_id &&
				    rep->request_id < l->next_request) {
					log::debug("control channel ", name_of(*l),
						   ": a late SVC_REPLY to request ",
						   rep->request_id, " dropped");
					return;
				}
				if (it == l->asked.end())
					throw ctl::ProtocolError(
					    ctl::ErrorCode::Unexpected,
					    "SVC_REPLY to request " +
						std::to_string(rep->request_id) +
						", not one in flight");
				auto pending = std::move(it->second);
				l->asked.erase(it);
				pending->finish(
				    {0,
				     {},
				     {rep->status, std::vector<std::uint8_t>(rep->payload.begin(),
									     rep->payload.end())}});
			} else {
				bool was_up = l->assoc->up();
				out = l->assoc->on_message(m, now);
				if (!was_up && l->assoc->up())
					became_up(*l);
			}
			for (const auto &msg : out)
				c.send(msg);
		} catch (const ctl::ProtocolError &e) {
			fail(*l, c, e);
		} catch (const std::exception &e) {
			// The datapath refused (no instance, a limit): this
			// channel only.
			l->last_error = e.what();
			log::warn("control channel ", name_of(*l), ": ", e.what());
			c.close(ctl::ErrorCode::Internal, "the datapath refused the SA");
		}
	}

	// A peer's request for one of this node's modules: answered on the
	// module's thread, sent back from this one, on the same channel if it
	// is still open.
	void answer(Link &l, ctl::Channel &c, ctl::SvcRequest r)
	{
		if (!services) {
			c.send(ctl::SvcReply{r.request_id, -EOPNOTSUPP, {}});
			return;
		}
		if (l.answering >= kMaxAnswering) {
			c.send(ctl::SvcReply{r.request_id, -EBUSY, {}});
			return;
		}
		l.answering++;
		std::weak_ptr<ctl::Channel> channel = c.shared_from_this();
		std::vector<std::uint8_t> body(r.payload.begin(), r.payload.end());
		ControlFrom from{l.peer->endpoint, l.peer->role == ctl::Role::Sn, l.peer->edomain};
		services(r.service, from, std::move(body),
			 [this, id = l.id, channel,
			  rid = r.request_id](int status, std::vector<std::uint8_t> reply) {
				 asio::post(io, [this, id, channel, rid, status,
						 reply = std::move(reply)]() mutable {
					 if (auto *link = resolve(id); link && link->answering)
						 link->answering--;
					 auto ch = channel.lock();
					 if (!ch || !ch->is_open())
						 return;
					 ctl::SvcReply rep;
					 rep.request_id = rid;
					 rep.status = status;
					 rep.payload.assign(reply.begin(), reply.end());
					 ch->send(rep);
				 });
			 });
	}

	// An SN's suggestion, on a host: a direct pipe with the host its
	// payload names.  Taken from an SN this host is associated with,
	// when this host allows direct pipes and the other host is on one
	// of its subnets; dialed as a neighbour line's would be, and closed
	// once idle as a pipe opened on demand is.
	void answer_direct(Link &l, ctl::Channel &c, const ctl::SvcRequest &r)
	{
		auto reply = [&](int status, const std::string &why) {
			ctl::SvcReply rep;
			rep.request_id = r.request_id;
			rep.status = status;
			rep.payload.assign(why.begin(), why.end());
			c.send(rep);
		};
		if (role_sn || !opts.direct || l.peer->role != ctl::Role::Sn)
			return reply(-EPERM, "this node takes no direct pipes");
		ilp::Endpoint to;
		try {
			to = ilp::Endpoint::parse(std::string(r.payload.begin(), r.payload.end()));
		} catch (const std::exception &e) {
			return reply(-EINVAL, e.what());
		}
		ilp::Endpoint any_port = to;
		any_port.port = 0; // its ILP or its control endpoint
		if (find_peer(any_port))
			return reply(0, "a pipe with it is up or on its way");
		if (!on_link(to)) {
			log::info("a direct pipe with ", to.to_string(), " asked by ", name_of(l),
				  ": not on a subnet of this host, not dialed");
			return reply(-ENETUNREACH, "not on a subnet of this host");
		}
		if (on_demand >= kMaxOnDemand)
			return reply(-ENOSPC, "too many pipes opened on demand");
		ilp::Endpoint control = to;
		control.port = opts.port;
		// Its certificate is checked against the CA bundle of the
		// edomain of the SN that suggested it.
		auto &d =
		    add_remote({control, l.peer->edomain, "a direct pipe asked by " + name_of(l)},
			       false, true);
		d.on_demand = true;
		on_demand++;
		log::info("opening a direct pipe with ", to.to_string(), ", asked by ", name_of(l));
		reply(0, "dialing");
	}

	// The SN's half of open_direct(), on the thread: once per pair in
	// kDirectAskEvery, the host's answer logged.
	std::map<std::pair<std::string, std::string>, Clock::time_point> direct_asked;
	void ask_direct(const ilp::Endpoint &from, const ilp::Endpoint &to)
	{
		auto now = Clock::now();
		std::erase_if(direct_asked,
			      [&](const auto &a) { return now - a.second >= kDirectAskEvery; });
		if (!direct_asked.emplace(std::pair(from.to_string(), to.to_string()), now).second)
			return;
		auto text = to.to_string();
		ask(
		    from, kDirectService, {text.begin(), text.end()},
		    [from, to](ControlOutcome o) {
			    if (o.error || o.reply.status)
				    log::info("direct pipe ", from.to_string(), " -> ",
					      to.to_string(), " not set up: ",
					      o.error ? o.what
						      : std::string(o.reply.body.begin(),
								    o.reply.body.end()));
			    else
				    log::info("direct pipe ", from.to_string(), " -> ",
					      to.to_string(), ": asked");
		    },
		    std::chrono::seconds(10));
	}

	// Sends @request to the module of @service on @sn's node; @done gets
	// its answer, or the reason there is none.
	void ask(const std::optional<ilp::Endpoint> &sn, std::uint32_t service,
		 std::vector<std::uint8_t> request, ControlDone done,
		 std::chrono::milliseconds timeout)
	{
		Link *l = nullptr;
		if (sn) {
			l = find_peer(*sn);
		} else {
			for (auto id : first_hop_order)
				if (auto *f = find(id); f && f->assoc && f->assoc->up()) {
					l = f;
					break;
				}
		}
		if (!l || !l->assoc || !l->assoc->up() || !l->channel)
			return done({ENOTCONN,
				     sn ? "no association up with " + sn->to_string()
					: std::string("no first-hop SN is associated"),
				     {}});
		if (request.size() > ctl::kMaxServicePayload)
			return done({EMSGSIZE,
				     "a control request carries at most " +
					 std::to_string(ctl::kMaxServicePayload) + " bytes",
				     {}});
		auto rid = l->next_request++;
		auto p = std::make_shared<PendingControl>(io, std::move(done));
		l->asked[rid] = p;
		// A late answer finds no request in flight: the timer removes it.
		p->timer.expires_after(timeout);
		p->timer.async_wait([this, id = l->id, rid,
				     service](const boost::system::error_code &ec) {
			if (ec)
				return;
			auto *link = resolve(id);
			if (!link)
				return;
			auto it = link->asked.find(rid);
			if (it == link->asked.end())
				return;
			auto pending = std::move(it->second);
			link->asked.erase(it);
			pending->finish({ETIMEDOUT,
					 "no answer from the SN's service " +
					     std::to_string(service) + " within the time allowed",
					 {}});
		});
		ctl::SvcRequest r;
		r.service = service;
		r.request_id = rid;
		r.payload.assign(request.begin(), request.end());
		l->channel->send(r);
	}

	// Checks who the peer says it is; merges the link with the one of the
	// same peer, if any.  Returns the link that now holds the channel,
	// nullptr when this channel is the one to drop.
	Link *on_hello(Link &l, ctl::Channel &c, const ctl::Hello &h)
	{
		ctl::check_binding(c.identity(), h, endpoint_of(c.remote()),
				   host_auth_of(opts.host_auth));
		if (l.dial && l.direct) {
			if (h.role != ctl::Role::Host || !h.direct)
				throw ctl::ProtocolError(
				    ctl::ErrorCode::Refused,
				    "the neighbour does not take direct pipes");
		} else if (l.dial) {
			if (h.role != ctl::Role::Sn)
				throw ctl::ProtocolError(ctl::ErrorCode::Identity,
							 "dialed an SN, answered by a host");
			if (h.edomain != l.dial->edomain)
				throw ctl::ProtocolError(ctl::ErrorCode::Identity,
							 "edomain '" + h.edomain +
							     "', configured '" + l.dial->edomain +
							     "'");
		} else if (h.role == ctl::Role::Host && !role_sn) {
			// A host takes a host's channel only for a direct pipe
			// both allow, between hosts that show certificates.
			if (!opts.direct || !h.direct)
				throw ctl::ProtocolError(
				    ctl::ErrorCode::Refused,
				    "this node is not an SN and takes no direct "
				    "pipes");
			l.direct = true;
		}
		if (l.direct && !c.identity().authenticated)
			throw ctl::ProtocolError(ctl::ErrorCode::Refused,
						 "a direct pipe needs the host's certificate");
		Link *kept = &l;
		for (auto &[oid, other] : links) {
			if (other.get() == &l || !other->peer ||
			    !(other->peer->endpoint == h.endpoint))
				continue;
			kept = merge(l, *other, c, h);
			break;
		}
		if (!kept)
			return nullptr;
		kept->peer = h;
		kept->channels++;
		log::info("control channel ", name_of(*kept), ": ",
			  h.role == ctl::Role::Sn ? "SN of edomain " + h.edomain
						  : std::string("host"),
			  kept->outbound ? ", dialed" : ", dialed in");
		return kept;
	}

	// Two links for one peer: the new channel on @fresh, and @old, which
	// knew the peer before (a channel still open, or what a broken one
	// gave out).  @old stays, with the configuration it is dialed by, and
	// takes the new channel unless the channel it has is the one to keep:
	// of two live channels between the same pair, the one the lower
	// address dialed (both sides apply the rule, so they agree), or the
	// newer one if the same side dialed both.  Returns the link that holds
	// the new channel, nullptr when the new channel is dropped.
	Link *merge(Link &fresh, Link &old, ctl::Channel &c, const ctl::Hello &h)
	{
		// A pipe this node asked for on demand stays one, closed
		// when idle, whichever channel is kept.
		if (fresh.on_demand) {
			if (old.on_demand)
				on_demand--;
			old.on_demand = true;
			fresh.on_demand = false;
		}
		if (fresh.dial && !old.dial) {
			old.dial = fresh.dial;
			old.pipe = fresh.pipe;
			std::replace(first_hop_order.begin(), first_hop_order.end(), fresh.id,
				     old.id);
		}
		bool old_live =
		    old.channel && old.channel->is_open() && old.assoc && old.assoc->peer();
		auto mine = fresh.assoc->hello().endpoint;
		bool keep_fresh = !old_live || old.outbound == fresh.outbound ||
				  fresh.outbound == lower(mine, h.endpoint);
		forward[fresh.id] = old.id;
		if (!keep_fresh) {
			c.close(ctl::ErrorCode::Duplicate,
				"a channel with this peer is kept already");
			links.erase(fresh.id);
			return nullptr;
		}
		if (old.assoc) {
			auto spis = old.assoc->rx_spis();
			old.leftover_rx.insert(old.leftover_rx.end(), spis.begin(), spis.end());
		}
		old.leftover_rx.insert(old.leftover_rx.end(), fresh.leftover_rx.begin(),
				       fresh.leftover_rx.end());
		auto replaced = std::move(old.channel);
		old.channel = std::move(fresh.channel);
		old.assoc = std::move(fresh.assoc);
		old.outbound = fresh.outbound;
		old.identity = fresh.identity;
		old.direct = old.direct || fresh.direct;
		old.redial->cancel();
		links.erase(fresh.id);
		if (replaced && replaced->is_open())
			replaced->close(ctl::ErrorCode::Duplicate,
					"a channel with this peer is kept already");
		return &old;
	}

	// Links merged into others: their channels' events go to these.
	std::map<std::uint64_t, std::uint64_t> forward;

	Link *resolve(std::uint64_t id)
	{
		if (auto f = forward.find(id); f != forward.end())
			id = f->second;
		return find(id);
	}

	void became_up(Link &l)
	{
		auto &i = l.assoc->info();
		l.backoff->reset();
		l.last_error.clear();
		if (!l.leftover_rx.empty()) {
			// Superseded by this association's SAs.
			l.assoc->adopt_retiring(std::move(l.leftover_rx), Clock::now());
			l.leftover_rx.clear();
		}
		bool pipe = l.dial ? l.pipe : l.peer && l.peer->role == ctl::Role::Sn;
		// A pipe opened on demand is idle from now on, not from when it
		// was asked for: a slow handshake is no reason to close it.
		l.last_used = Clock::now();
		if (l.direct) {
			// Local sockets reach this host without an SN now.
			plane.set_direct(l.peer->endpoint, true);
		}
		log::info(l.direct ? "direct pipe with "
			  : pipe   ? "pipe with "
				   : "association with ",
			  name_of(l), " up: SPI in ", spi_hex(i.spi_in), ", out ",
			  spi_hex(i.spi_out));
		choose_sn();
		publish_view();
	}

	// A host sends through the first of its SNs, in configuration order,
	// whose association is up.
	void choose_sn()
	{
		std::optional<ilp::Endpoint> best;
		for (auto id : first_hop_order)
			if (auto *l = find(id); l && l->assoc && l->assoc->up() && l->peer) {
				best = l->peer->endpoint;
				break;
			}
		if (!best)
			return;
		auto current = plane.sn();
		if (current && *current == *best)
			return;
		plane.set_sn(best);
		log::info("default SN: ", best->to_string());
	}

	void on_closed(std::uint64_t id, ctl::Channel &c, const std::string &why)
	{
		auto *l = resolve(id);
		forward.erase(id);
		if (!l || (l->channel && l->channel.get() != &c))
			return;
		id = l->id;
		if (l->assoc) {
			auto spis = l->assoc->rx_spis();
			l->leftover_rx.insert(l->leftover_rx.end(), spis.begin(), spis.end());
		}
		bool was_up = l->assoc && l->assoc->up();
		l->assoc.reset();
		l->channel.reset();
		if (was_up)
			publish_view();
		// Requests in flight on it get no answer now.
		for (auto &[rid, p] : std::exchange(l->asked, {}))
			p->finish({ECONNRESET, "the channel closed before the answer came", {}});
		l->answering = 0;
		l->closed_at = Clock::now();
		std::string name = name_of(*l);
		if (name.empty())
			name = c.name();
		// A channel that never came up failed: said once as a warning,
		// then quietly while the redials fail the same way.
		if (was_up || stopping)
			log::info("control channel ", name, " closed: ", why);
		else if (why != l->last_error)
			log::warn("control channel ", name, ": ", why);
		else
			log::debug("control channel ", name, ": ", why);
		if (!why.empty())
			l->last_error = why;
		if (stopping)
			return;
		if (l->dial) {
			schedule_redial(*l);
		} else if (!l->peer || l->withdrawn) {
			// Never said who it was, or withdrew (BYE): nothing to
			// wait for.
			for (auto spi : l->leftover_rx)
				plane.retire_rx(spi);
			links.erase(id);
		}
	}

	// Transmit SAs of the kernel near the end of their IVs: their peer
	// is asked for a new SA (REKEY), which replaces it before a packet
	// has to be dropped.
	std::unique_ptr<asio::posix::stream_descriptor> exhaustion;

	void watch_exhaustion()
	{
		int fd = plane.exhaustion_fd();
		if (fd < 0)
			return;
		int own = ::dup(fd);
		if (own < 0)
			return;
		exhaustion = std::make_unique<asio::posix::stream_descriptor>(io, own);
		arm_exhaustion();
	}

	void arm_exhaustion()
	{
		exhaustion->async_wait(asio::posix::stream_descriptor::wait_read,
				       [this](const boost::system::error_code &ec) {
					       if (ec || stopping)
						       return;
					       on_exhausted();
					       arm_exhaustion();
				       });
	}

	void on_exhausted()
	{
		std::vector<ilp::Endpoint> peers;
		try {
			peers = plane.exhausted();
		} catch (const std::exception &e) {
			log::warn("reading the datapath's SA events: ", e.what());
			return;
		}
		for (const auto &peer : peers) {
			Link *l = nullptr;
			for (auto &[id, link] : links)
				if (link->peer && link->peer->endpoint == peer && link->channel &&
				    link->assoc && link->assoc->up())
					l = link.get();
			if (!l) {
				log::warn("the transmit SA for ", peer.to_string(),
					  " nears the end of its IVs, and no association with it "
					  "is up to replace it");
				continue;
			}
			log::info("the transmit SA for ", name_of(*l),
				  " nears the end of its IVs: asking for a new one");
			l->channel->send(ctl::Rekey{ctl::kRekeyIvExhaustion});
		}
	}

	void arm_tick()
	{
		tick.expires_after(kTick);
		tick.async_wait([this](const boost::system::error_code &ec) {
			if (ec || stopping)
				return;
			on_tick();
			arm_tick();
		});
	}

	void on_tick()
	{
		auto now = Clock::now();
		if (rotation.take(now))
			rotate_now(now);
		// Superseded SAs go once the packets sent under them have
		// surely arrived; a peer that does not come back is forgotten
		// after a rotation interval, its SAs by then from a key on its
		// way out.
		auto grace = std::max<Clock::duration>(opts.dead_peer, std::chrono::seconds(2));
		grace = std::min<Clock::duration>(grace, opts.rekey_interval / 2);
		std::vector<std::uint64_t> forget;
		// The counts are read once per tick that retires any SA, not
		// per SA: after a rotation every link retires at once.
		std::optional<TrafficSnapshot> counts;
		for (auto &[id, l] : links) {
			if (l->assoc) {
				if (!counts && l->assoc->retire_pending(now, grace))
					counts = traffic();
				if (counts)
					l->rx_retired += l->assoc->retire_due(now, grace, *counts);
			} else if (!l->dial && l->peer && now - l->closed_at > opts.rekey_interval)
				forget.push_back(id);
		}
		close_idle(now);
		for (auto id : forget) {
			auto &l = *links[id];
			log::info("forgetting ", name_of(l), ": gone for a rotation interval");
			for (auto spi : l.leftover_rx)
				plane.retire_rx(spi);
			plane.remove_peer(l.peer->endpoint);
			links.erase(id);
		}
	}

	// Pipes opened on demand that no packet used for direct_pipe_idle
	// (or that never came up in that time) are withdrawn: their peer is
	// told, and its cache entries go with it, so a flow that comes back
	// is decided again (through the gateways, or a new pipe).
	Clock::time_point next_idle_check{};
	void close_idle(Clock::time_point now)
	{
		if (!on_demand || now < next_idle_check)
			return;
		next_idle_check = now + std::chrono::seconds(1);
		auto counts = traffic();
		std::vector<std::uint64_t> idle;
		for (auto &[id, l] : links) {
			if (!l->on_demand)
				continue;
			auto [tx, rx] = data_of(*l, counts);
			if (tx.packets + rx.packets != l->last_packets) {
				l->last_packets = tx.packets + rx.packets;
				l->last_used = now;
			} else if (now - l->last_used >= opts.direct_pipe_idle) {
				idle.push_back(id);
			}
		}
		for (auto id : idle) {
			auto &l = *links[id];
			log::info(
			    "pipe with ", name_of(l), " opened on demand: idle for ",
			    std::chrono::duration_cast<std::chrono::seconds>(now - l.last_used)
				.count(),
			    " s, closed");
			withdraw(l);
		}
	}

	// The on-demand half of open_pipe(), on the thread.
	void open_on_demand(const ilp::Endpoint &sn, const std::string &edomain)
	{
		for (const auto &[id, l] : links)
			if ((l->peer && same_address(l->peer->endpoint, sn)) ||
			    (l->dial && same_address(l->dial->control, sn)) ||
			    (l->channel && same_address(endpoint_of(l->channel->remote()), sn)))
				return; // up, or on its way (the peer's dial included)
		if (on_demand >= kMaxOnDemand)
			return;
		ilp::Endpoint control = sn;
		control.port = opts.port;
		auto &l = add_remote({control, edomain, "a pipe opened on demand"}, true);
		l.on_demand = true;
		on_demand++;
		log::info("opening a pipe on demand with ", sn.to_string(), " of edomain ",
			  edomain);
	}

	void rotate_now(Clock::time_point now)
	{
		plane.rotate_master_key();
		rotations++;
		last_rotation = now;
		rotation.rotated(now);
		std::size_t offered = 0;
		for (auto &[id, l] : links) {
			if (!l->assoc || !l->channel)
				continue;
			try {
				for (const auto &m : l->assoc->rekey(now)) {
					l->channel->send(m);
					offered++;
				}
			} catch (const std::exception &e) {
				log::warn("rekeying ", name_of(*l), ": ", e.what());
			}
		}
		log::info("master key rotated; ", offered, " new SA", offered == 1 ? "" : "s",
			  " offered");
	}

	// The datapath's counts, or none when it cannot say (they are for
	// show, not worth failing a tick or a command over).
	TrafficSnapshot traffic()
	{
		try {
			return plane.traffic();
		} catch (const std::exception &e) {
			log::debug("reading the datapath's SA counts: ", e.what());
			return {};
		}
	}

	// Data through the link: sealed for the peer since it became a peer
	// of the datapath, and opened under the SAs this node gave it,
	// retired ones included.
	static std::pair<Counted, Counted> data_of(const Link &l, const TrafficSnapshot &counts)
	{
		Counted tx, rx = l.rx_retired;
		if (l.peer)
			if (auto it = counts.tx.find(l.peer->endpoint.to_string());
			    it != counts.tx.end())
				tx = it->second;
		for (auto spi : l.assoc ? l.assoc->rx_spis() : l.leftover_rx)
			if (auto it = counts.rx.find(spi); it != counts.rx.end())
				rx += it->second;
		return {tx, rx};
	}

	json link_json(const Link &l, Clock::time_point now, const TrafficSnapshot &counts) const
	{
		auto [tx, rx] = data_of(l, counts);
		const Association::Info *i = l.assoc ? &l.assoc->info() : nullptr;
		std::string state = i ? to_string(i->state) : l.channel ? "connecting" : "down";
		// What the peer is to this node: its first-hop SN, a peer SN
		// (a pipe), or a host of this SN.
		std::string kind = l.direct ? "direct"
				   : l.dial ? (l.pipe ? "pipe" : "first-hop")
				   : l.peer && l.peer->role == ctl::Role::Sn ? "pipe"
									     : "host";
		json j{{"peer", l.peer ? json(l.peer->endpoint.to_string()) : json(nullptr)},
		       {"control", l.dial      ? json(l.dial->control.to_string())
				   : l.channel ? json(endpoint_of(l.channel->remote()).to_string())
					       : json(nullptr)},
		       {"kind", kind},
		       {"on_demand", l.on_demand},
		       {"direction", l.outbound ? "out" : "in"},
		       {"state", state},
		       {"identity", l.identity.empty() ? json(nullptr) : json(l.identity)},
		       {"edomain", l.peer && !l.peer->edomain.empty() ? json(l.peer->edomain)
				   : l.dial                           ? json(l.dial->edomain)
								      : json(nullptr)},
		       {"spi_in", i && i->spi_in ? json(i->spi_in) : json(nullptr)},
		       {"spi_out", i && i->spi_out ? json(i->spi_out) : json(nullptr)},
		       {"rekeys", i ? i->rekeys : 0},
		       {"age_s", i && i->state == Association::State::Up
				     ? json(seconds_since(i->up_since, now))
				     : json(nullptr)},
		       {"last_rekey_s",
			i && i->rekeys ? json(seconds_since(i->last_rekey, now)) : json(nullptr)},
		       {"channels", l.channels},
		       {"bytes_in", l.channel ? l.channel->bytes_in() : 0},
		       {"bytes_out", l.channel ? l.channel->bytes_out() : 0},
		       {"tx_packets", tx.packets},
		       {"tx_bytes", tx.bytes},
		       {"rx_packets", rx.packets},
		       {"rx_bytes", rx.bytes},
		       {"last_error", l.last_error.empty() ? json(nullptr) : json(l.last_error)}};

		return j;
	}

	json show(bool pipes_only)
	{
		auto now = Clock::now();
		auto counts = traffic();
		json list = json::array();
		for (const auto &[id, l] : links) {
			auto j = link_json(*l, now, counts);
			if (!pipes_only || j["kind"] == "pipe")
				list.push_back(std::move(j));
		}
		return list;
	}

	// The link of the peer at @who: its ILP endpoint or the control
	// endpoint dialed, or with port 0 the only address given.  Several
	// nodes may share an address (two SNs behind one, on other ports):
	// a port names one of them.
	Link *find_peer(const ilp::Endpoint &who)
	{
		auto at = [&](const ilp::Endpoint &e) {
			return same_address(e, who) && (who.port == 0 || who.port == e.port);
		};
		for (auto &[id, l] : links)
			if ((l->peer && at(l->peer->endpoint)) || (l->dial && at(l->dial->control)))
				return l.get();
		return nullptr;
	}

	void del(const ilp::Endpoint &who)
	{
		auto *l = find_peer(who);
		if (!l)
			throw ilp::Error(ENOENT, "no association with " + who.addr_string());
		withdraw(*l);
	}

	// BYE to the peer, its SAs and cache entries removed, no more
	// redials, and the link gone.
	void withdraw(Link &link)
	{
		auto *l = &link;
		const std::string who = name_of(*l);
		if (l->on_demand)
			on_demand--;
		l->withdrawn = true;
		l->redial->cancel();
		if (l->channel && l->assoc && l->assoc->peer())
			l->channel->send(ctl::Bye{});
		if (l->assoc)
			l->assoc->withdraw();
		for (auto spi : l->leftover_rx)
			plane.retire_rx(spi);
		if (l->peer)
			plane.remove_peer(l->peer->endpoint);
		bool was_sn = l->peer && plane.sn() && *plane.sn() == l->peer->endpoint;
		auto channel = std::move(l->channel);
		std::erase(first_hop_order, l->id);
		links.erase(l->id);
		if (channel)
			channel->close();
		publish_view();
		log::info("association with ", who, " withdrawn");
		if (was_sn) {
			plane.set_sn(std::nullopt);
			choose_sn();
		}
	}

	void stop()
	{
		stopping = true;
		tick.cancel();
		if (exhaustion)
			exhaustion->cancel();
		listener.reset();
		for (auto &[id, l] : links) {
			for (auto &[rid, p] : std::exchange(l->asked, {}))
				p->finish({ECANCELED, "ilpd is stopping", {}});
			l->redial->cancel();
			if (l->channel)
				l->channel->close();
		}
	}
};

AssociationManager::AssociationManager(SaPlane &plane, const ControlOptions &opts, bool role_sn,
				       std::uint16_t ilp_port, ServiceControlHook services)
    : impl_(std::make_unique<Impl>(plane, opts, role_sn, ilp_port, std::move(services)))
{
	impl_->start();
	thread_ = std::thread([this] {
		try {
			impl_->io.run();
		} catch (const std::exception &e) {
			log::error("association thread: ", e.what());
		}
	});
}

AssociationManager::~AssociationManager()
{
	asio::post(impl_->io, [this] { impl_->stop(); });
	// The channels' close_notify goes out, briefly, before the loop ends.
	std::this_thread::sleep_for(std::chrono::milliseconds(50));
	impl_->io.stop();
	thread_.join();
}

namespace
{

// Runs @f on the association thread and returns its result (or throws
// its exception) to the control socket's thread.
template <typename F>
auto on_thread(asio::io_context &io, F f) -> decltype(f())
{
	std::packaged_task<decltype(f())()> task(std::move(f));
	auto result = task.get_future();
	asio::post(io, [&task] { task(); });
	return result.get();
}

} // namespace

json AssociationManager::show()
{
	return on_thread(impl_->io, [this] { return impl_->show(false); });
}

std::shared_ptr<const AssociationManager::PeersUp> AssociationManager::peers_up() const
{
	std::lock_guard lock(impl_->view_mu);
	return impl_->view;
}

json AssociationManager::pipes()
{
	return on_thread(impl_->io, [this] { return impl_->show(true); });
}

json AssociationManager::add(const RemoteConfig &remote, bool pipe)
{
	return on_thread(impl_->io, [&] {
		for (const auto &[id, l] : impl_->links)
			if (l->dial && l->dial->control == remote.control)
				throw ilp::Error(EEXIST,
						 "already dialing " + remote.control.to_string());
		if (pipe && !impl_->role_sn)
			throw ilp::Error(EINVAL, "pipes are between SNs: this node is not one");
		bool trusted = false;
		for (const auto &t : impl_->opts.trust)
			trusted |= t.edomain == remote.edomain;
		if (!trusted)
			throw ilp::Error(EINVAL, "edomain '" + remote.edomain +
						     "' is not trusted (no 'trust' line)");
		auto &l = impl_->add_remote(remote, pipe);
		return impl_->link_json(l, Clock::now(), {});
	});
}

int AssociationManager::open_pipe(const ilp::Endpoint &sn, const std::string &edomain)
{
	const auto &opts = impl_->opts;
	if (!impl_->role_sn || !opts.direct_pipes)
		return -EPERM;
	if (edomain.empty() || edomain == opts.edomain)
		return -EINVAL;
	for (const auto &s : peers_up()->sns)
		if (same_address(s.endpoint, sn))
			return 0;
	if (std::none_of(opts.trust.begin(), opts.trust.end(),
			 [&](const TrustConfig &t) { return t.edomain == edomain; }))
		return -EPERM;
	if (impl_->on_demand >= kMaxOnDemand)
		return -ENOSPC;
	asio::post(impl_->io, [this, sn, edomain] { impl_->open_on_demand(sn, edomain); });
	return -EINPROGRESS;
}

int AssociationManager::open_direct(const ilp::Endpoint &from, const ilp::Endpoint &to)
{
	if (!impl_->role_sn)
		return -EPERM;
	auto up = peers_up();
	auto in = [](const std::vector<ilp::Endpoint> &v, const ilp::Endpoint &e) {
		return std::any_of(v.begin(), v.end(),
				   [&](const ilp::Endpoint &h) { return same_address(h, e); });
	};
	if (!in(up->hosts, from) || !in(up->hosts, to))
		return -ENOENT;
	if (!in(up->direct_hosts, from) || !in(up->direct_hosts, to))
		return -EPERM;
	// The host's ILP endpoint as its association has it (the module's
	// may carry another port).
	ilp::Endpoint host = from, other = to;
	for (const auto &h : up->hosts) {
		if (same_address(h, from))
			host = h;
		if (same_address(h, to))
			other = h;
	}
	asio::post(impl_->io, [this, host, other] { impl_->ask_direct(host, other); });
	return -EINPROGRESS;
}

void AssociationManager::del(const ilp::Endpoint &address)
{
	on_thread(impl_->io, [&] { impl_->del(address); });
}

json AssociationManager::rotate()
{
	return on_thread(impl_->io, [this] {
		impl_->rotate_now(Clock::now());
		return json{{"rotations", impl_->rotations}};
	});
}

ControlReply AssociationManager::control(const std::optional<ilp::Endpoint> &sn,
					 std::uint32_t service, std::vector<std::uint8_t> request)
{
	auto p = std::make_shared<std::promise<ControlOutcome>>();
	auto answer = p->get_future();
	control_async(sn, service, std::move(request),
		      [p](ControlOutcome o) { p->set_value(std::move(o)); });
	// The thread answers every request by its timeout (10 s), unless it
	// is gone.
	if (answer.wait_for(std::chrono::seconds(15)) != std::future_status::ready)
		throw ilp::Error(ETIMEDOUT, "the association thread did not answer");
	auto o = answer.get();
	if (o.error)
		throw ilp::Error(o.error, o.what);
	return std::move(o.reply);
}

void AssociationManager::control_async(const std::optional<ilp::Endpoint> &sn,
				       std::uint32_t service, std::vector<std::uint8_t> request,
				       ControlDone done, std::chrono::milliseconds timeout)
{
	asio::post(impl_->io, [this, sn, service, request = std::move(request),
			       done = std::move(done), timeout]() mutable {
		impl_->ask(sn, service, std::move(request), std::move(done), timeout);
	});
}

std::optional<ilp::Endpoint> AssociationManager::listening() const
{
	if (!impl_->listener)
		return std::nullopt;
	return endpoint_of(impl_->listener->local());
}

} // namespace ilpd
