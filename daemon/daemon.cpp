// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon.hpp"

#include <future>

#include <ilp/control.hpp>
#include <ilp/group_control.hpp>

#include "association/tls.hpp"
#include "control/datapath_commands.hpp"
#include "datapath/kernel_datapath.hpp"
#include "datapath/user_datapath.hpp"
#include "edomain/edomain_core.hpp"
#include "edomain/store_service.hpp"
#include "log.hpp"
#include "multipoint/core_groups.hpp"
#include "multipoint/host_groups.hpp"

using nlohmann::json;

namespace ilpd
{

namespace
{

// "auto" means the kernel's datapath when ilp.ko is loaded.
std::unique_ptr<Datapath> make_datapath(const Options &opts)
{
	if (opts.datapath != DatapathKind::User) {
		try {
			return std::make_unique<KernelDatapath>(opts.port);
		} catch (const ilp::ModuleNotLoaded &) {
			if (opts.datapath == DatapathKind::Kernel)
				throw;
			log::info("ilp.ko is not loaded: the userspace datapath");
		}
	}
	return std::make_unique<UserDatapath>(opts);
}

json to_json(const ServiceStatus &s)
{
	json config = json::object();
	for (const auto &[k, v] : s.config)
		config[k] = v;
	return {{"name", s.name},
		{"id", s.id},
		{"description", s.description},
		{"path", s.path.string()},
		{"packets", s.counters.packets},
		{"errors", s.counters.errors},
		{"queue_full", s.counters.queue_full},
		{"dropped", s.counters.dropped},
		{"installed", s.counters.installed},
		{"stalled", s.stalled},
		{"config", config}};
}

// A service's answer: its status, and its body as text when it is
// printable, always in hex.
json control_reply_json(const ControlReply &r)
{
	static const char digits[] = "0123456789abcdef";
	std::string hex, text;
	bool printable = true;
	for (auto b : r.body) {
		hex += digits[b >> 4];
		hex += digits[b & 0xf];
		printable &= b >= 0x20 && b < 0x7f;
		text += static_cast<char>(b);
	}
	return {{"status", r.status},
		{"reply", printable ? json(text) : json(nullptr)},
		{"reply_hex", hex}};
}

} // namespace

Daemon::Daemon(const Options &opts) : opts_(opts), started_(std::chrono::steady_clock::now())
{
	dp_ = make_datapath(opts_);
	kind_ = dp_->kind();

	HostOptions host;
	host.default_idle_timeout = std::chrono::milliseconds(opts_.idle_timeout_ms);
	host.route_host = [this](const ilp::Endpoint &to, HostRoute &out) {
		return router_.route(to, out);
	};
	host.open_pipe = [this](const ilp::Endpoint &sn, const std::string &edomain) {
		std::lock_guard lock(associations_mu_);
		return associations_ ? associations_->open_pipe(sn, edomain) : -EOPNOTSUPP;
	};
	host.open_direct = [this](const ilp::Endpoint &from, const ilp::Endpoint &to) {
		std::lock_guard lock(associations_mu_);
		return associations_ ? associations_->open_direct(from, to) : -EOPNOTSUPP;
	};
	host.group_hops = [this](const std::string &group, const ilp::Endpoint &from,
				 std::vector<ilp::Endpoint> &hops) {
		return group_hops(group, from, hops);
	};
	ServiceRegistry::Config config;
	for (const auto &s : opts_.service_config)
		config[s.service][s.key] = s.value;
	services_ = std::make_unique<ServiceRegistry>(*dp_, opts_.state_dir, host, config);
	for (const auto &f : services_->load_dir(opts_.plugin_dir, opts_.services))
		log::warn("service module ", f.path.string(), " not loaded: ", f.error);
	for (const auto &s : services_->list())
		log::info("service ", s.name, " (", s.id, ") loaded from ", s.path.string());

	auto app_log = [](const std::string &msg) { log::warn("app socket: ", msg); };
	auto app_control = [this](AppControl r, AppServer::ControlDone done) {
		this->app_control(std::move(r), std::move(done));
	};
	if (auto *user = dynamic_cast<UserDatapath *>(dp_.get())) {
		apps_ = std::make_unique<AppServer>(
		    app_socket_path(opts_.run_dir),
		    [user](const ilp::Endpoint &dst, const std::optional<ilp::Endpoint> &sn,
			   std::uint32_t service, std::uint64_t conn,
			   std::span<const std::uint8_t> md,
			   std::span<const std::uint8_t> payload) {
			    user->send_from_host(dst, sn, service, conn, md, payload);
		    },
		    app_log, app_control);
		user->set_local_delivery(apps_.get());
	} else {
		apps_ = std::make_unique<AppServer>(app_socket_path(opts_.run_dir),
						    AppServer::Sender{}, app_log, app_control);
	}

	dp_->start([this](std::vector<Miss> &batch) {
		upcalls_ += batch.size();
		services_->dispatch(batch);
	});
	try {
		revalidator_ = std::make_unique<Revalidator>(
		    *dp_, std::chrono::milliseconds(opts_.revalidate_ms),
		    std::chrono::milliseconds(opts_.idle_timeout_ms),
		    [this](const Flow &flow) { return services_->idle_timeout(flow); },
		    [this](const Flow &flow) { services_->forget(flow); });
		start_associations();
		start_core();
		start_groups();
		control_ = std::make_unique<ControlServer>(
		    control_socket_path(opts_.run_dir), handlers(),
		    [](const std::string &msg) { log::warn("control socket: ", msg); });
	} catch (...) {
		// The members go in reverse order, the app server and the
		// services before the datapath: its threads must not call them.
		stop_groups();
		stop_core();
		stop_associations();
		revalidator_.reset();
		dp_->stop();
		throw;
	}
}

Daemon::~Daemon()
{
	control_.reset();
	stop_groups();
	stop_core();
	stop_associations();
	revalidator_.reset();
	if (dp_)
		dp_->stop();
	apps_.reset();
	services_.reset();
	dp_.reset();
}

// The decision cache's counters, as "ilpctl stats" names them: a hit is
// a packet no service saw.
json Daemon::cache_json() const
{
	auto st = dp_->stats();
	return {{"hit", st.hit},         {"missed", st.missed},       {"lost", st.lost},
		{"entries", st.entries}, {"delivered", st.delivered}, {"dropped", st.dropped}};
}

json Daemon::apps_json() const
{
	if (!apps_)
		return nullptr;
	auto a = apps_->stats();
	return {
	    {"socket", apps_->path().string()}, {"clients", a.clients},  {"bindings", a.bindings},
	    {"delivered", a.delivered},         {"dropped", a.dropped},  {"sent", a.sent},
	    {"send_errors", a.send_errors},     {"controls", a.controls}};
}

json Daemon::status() const
{
	json roles = json::array();
	if (opts_.role_host)
		roles.push_back("host");
	if (opts_.role_sn)
		roles.push_back("sn");
	json brief = json::array();
	for (const auto &s : services_->list())
		brief.push_back({{"name", s.name},
				 {"id", s.id},
				 {"packets", s.counters.packets},
				 {"errors", s.counters.errors}});
	auto up = std::chrono::steady_clock::now() - started_;
	return {{"uptime_s", std::chrono::duration_cast<std::chrono::seconds>(up).count()},
		{"datapath", kind_},
		{"roles", roles},
		{"upcalls", upcalls_.load()},
		// Misses of a service no module serves, dropped.
		{"no_service", services_->no_service()},
		{"services", brief},
		{"cache", cache_json()},
		{"apps", apps_json()}};
}

void Daemon::start_associations()
{
	auto *user = dynamic_cast<UserDatapath *>(dp_.get());
	sa_plane_ = user ? make_user_sa_plane(*user) : make_kernel_sa_plane();
	if (!opts_.control.enabled())
		return;
	std::uint16_t port = user ? user->port() : dynamic_cast<KernelDatapath &>(*dp_).port();
	auto m = std::make_unique<AssociationManager>(
	    *sa_plane_, opts_.control, opts_.role_sn, port,
	    [this](std::uint32_t service, const ControlFrom &from,
		   std::vector<std::uint8_t> request, ControlAnswer done) {
		    // The stores this node holds are ilpd's, not a module's.
		    if (StoreService::serves(service))
			    return serve_store(service, from, std::move(request), std::move(done));
		    if (service == ilp::group::kGroupService)
			    return serve_groups(from, std::move(request), std::move(done));
		    services_->control(service, from.endpoint, std::move(request), std::move(done));
	    });
	std::lock_guard lock(associations_mu_);
	associations_ = std::move(m);
}

void Daemon::start_core()
{
	if (opts_.core.kind == CoreConfig::Kind::None)
		return;
	// Where this SN's edomain reaches it: as configured, or its
	// certificate's first IP; on the datapath's port.
	std::optional<ilp::Endpoint> self = opts_.core.address;
	if (!self && !opts_.control.certificate.empty()) {
		auto id = ctl::identity_of_certificate(opts_.control.certificate);
		if (!id.addresses.empty())
			self = id.addresses.front();
	}
	if (self) {
		auto *user = dynamic_cast<UserDatapath *>(dp_.get());
		self->port = user ? user->port() : dynamic_cast<KernelDatapath &>(*dp_).port();
	}
	// The hosts associated with this SN now, for the core's host
	// records.
	auto hosts = [this] {
		auto up = peers_up();
		return up ? up->hosts : std::vector<ilp::Endpoint>{};
	};
	core_ = std::make_unique<EdomainCore>(opts_.core, opts_.control.edomain, self,
					      opts_.role_sn ? EdomainCore::HostsNow(hosts)
							    : EdomainCore::HostsNow(),
					      [this](const StoreConfig &c, std::uint32_t service) {
						      return remote_call(c, service);
					      });
	router_.attach(*core_, [this] { return peers_up(); });
	if (core_->own_core() || core_->own_lookup()) {
		auto s = std::make_shared<StoreService>(core_->own_core(), core_->own_lookup(),
							opts_.control.edomain);
		std::lock_guard lock(store_service_mu_);
		store_service_ = std::move(s);
	}
}

void Daemon::stop_core()
{
	std::shared_ptr<StoreService> s;
	{
		std::lock_guard lock(store_service_mu_);
		s = std::move(store_service_);
	}
	s.reset(); // waits for the requests it is answering
	router_.detach();
	core_.reset();
}

void Daemon::serve_store(std::uint32_t service, const ControlFrom &from,
			 std::vector<std::uint8_t> request, ControlAnswer done)
{
	std::shared_ptr<StoreService> s;
	{
		std::lock_guard lock(store_service_mu_);
		s = store_service_;
	}
	if (!s) {
		std::string why = "this node holds no store to serve (yet)";
		return done(-EAGAIN, std::vector<std::uint8_t>(why.begin(), why.end()));
	}
	s->answer(service, from, std::move(request), std::move(done));
}

// A store another SN holds: each request a control request to that SN,
// over this node's association with it, whichever side dialed it.
store::RemoteCall Daemon::remote_call(const StoreConfig &c, std::uint32_t service)
{
	return
	    [this, node = c.node, service](std::string request, std::chrono::milliseconds timeout,
					   std::function<void(store::RemoteAnswer)> done) {
		    std::lock_guard lock(associations_mu_);
		    if (!associations_)
			    return done({ENOTCONN, "this node runs no control channel", 0, {}});
		    associations_->control_async(
			node, service, std::vector<std::uint8_t>(request.begin(), request.end()),
			[done = std::move(done)](ControlOutcome o) {
				done({o.error, o.what, o.reply.status,
				      std::string(o.reply.body.begin(), o.reply.body.end())});
			},
			timeout);
	    };
}

std::shared_ptr<const AssociationManager::PeersUp> Daemon::peers_up()
{
	std::lock_guard lock(associations_mu_);
	return associations_ ? associations_->peers_up() : nullptr;
}

void Daemon::stop_associations()
{
	std::unique_ptr<AssociationManager> m;
	{
		std::lock_guard lock(associations_mu_);
		m = std::move(associations_);
	}
	m.reset();
}

// As "ilpctl service control" does: this node's own module with
// local, or when there is no control channel and no SN is named; else the
// SN's, over the channel.
void Daemon::app_control(AppControl r, AppServer::ControlDone done)
{
	std::unique_lock lock(associations_mu_);
	if (r.local || (!associations_ && !r.sn)) {
		lock.unlock();
		services_->control(r.service, std::nullopt, std::move(r.request),
				   [done](int status, std::vector<std::uint8_t> body) {
					   done(0, status, std::move(body));
				   });
		return;
	}
	if (!associations_) {
		lock.unlock();
		return done(ENOTCONN, 0, {});
	}
	// An app's group request to its first-hop SN: held by this host,
	// as ilpctl's are, so that the SN's state is rebuilt from here.
	std::weak_ptr<multipoint::HostGroups> held;
	if (r.service == ilp::group::kGroupService && !r.sn)
		held = host_groups_;
	std::string line(r.request.begin(), r.request.end());
	associations_->control_async(
	    r.sn, r.service, std::move(r.request),
	    [done, held, line = std::move(line)](ControlOutcome o) {
		    if (auto h = held.lock(); h && !o.error)
			    h->record(line, {o.reply.status, std::string(o.reply.body.begin(),
									 o.reply.body.end())});
		    done(o.error, o.reply.status, std::move(o.reply.body));
	    });
}

ControlHandlers Daemon::handlers()
{
	auto need = [](const json &args, const char *key) {
		if (!args.contains(key) || !args[key].is_string())
			throw ControlError(std::string("'") + key + "' missing or not a string");
		return args[key].get<std::string>();
	};
	ControlHandlers h{
	    {"daemon.status", [this](const json &) { return status(); }},
	    {"service.list",
	     [this](const json &) {
		     json list = json::array();
		     for (const auto &s : services_->list())
			     list.push_back(to_json(s));
		     return list;
	     }},
	    {"service.load",
	     [this, need](const json &args) {
		     try {
			     return to_json(services_->load(need(args, "path")));
		     } catch (const ControlError &) {
			     throw;
		     } catch (const std::exception &e) {
			     throw ControlError(e.what());
		     }
	     }},
	    {"service.unload",
	     [this, need](const json &args) {
		     auto name = need(args, "name");
		     if (!services_->unload(name))
			     throw ControlError("no service '" + name + "'", ENOENT);
		     return json();
	     }},
	    {"service.config",
	     [this, need](const json &args) {
		     auto name = need(args, "name");
		     if (!services_->status(name))
			     throw ControlError("no service '" + name + "'", ENOENT);
		     const json set = args.value("set", json::object());
		     for (const auto &[k, v] : set.items()) {
			     if (!v.is_string())
				     throw ControlError("the value of '" + k + "' is not a string");
			     if (auto why = services_->configure(name, k, v.get<std::string>()))
				     throw ControlError(name + ": " + k + ": " + *why);
		     }
		     return to_json(*services_->status(name))["config"];
	     }},
	};
	// Associations and pipes (ilpctl assoc, pipe, key rotate).
	auto assoc = [this]() -> AssociationManager & {
		if (!associations_)
			throw ControlError("ilpd runs no control channel (no first-hop, pipe or "
					   "control-listen in its configuration)",
					   EOPNOTSUPP);
		return *associations_;
	};
	auto core = [this]() -> EdomainCore & {
		if (!core_)
			throw ControlError(
			    "ilpd has no edomain core (no 'core' in its configuration)",
			    EOPNOTSUPP);
		return *core_;
	};
	h["edomain.show"] = [this, core](const json &) {
		auto j = core().show();
		j["routes"] = router_.stats();
		// The pipes this SN opened on demand with SNs of other
		// edomains, up now.
		json direct = json::array();
		if (auto up = peers_up())
			for (const auto &sn : up->sns)
				if (sn.on_demand)
					direct.push_back({{"sn", sn.endpoint.to_string()},
							  {"edomain", sn.edomain}});
		j["direct_pipes"] = direct;
		return j;
	};
	h["lookup.show"] = [core](const json &) {
		auto j = core().lookup_show();
		if (j.is_null())
			throw ControlError("ilpd has no lookup service (no 'lookup' in its "
					   "configuration)",
					   EOPNOTSUPP);
		return j;
	};
	// An owner's signed statement for a group, put at the lookup
	// service (ilpctl signs it; the lookup service checks it again).
	h["lookup.statement"] = [core, need](const json &args) {
		return guarded([&] {
			core().post_statement(need(args, "group"), need(args, "id"),
					      need(args, "text"), need(args, "sig"));
			return json{{"group", args["group"]}, {"id", args["id"]}};
		});
	};
	h["edomain.resolve"] = [core, need](const json &args) {
		auto text = need(args, "host");
		ilp::Endpoint host;
		try {
			host = ilp::Endpoint::parse(text);
		} catch (const ilp::Error &e) {
			throw ControlError(e.what());
		}
		// "ADDR" asks for the host on any port, "ADDR:PORT" for one.
		json out = json::array();
		for (const auto &at : core().resolve(host, names_port(text)))
			out.push_back({{"host", at.host.to_string()}, {"sn", at.sn.to_string()}});
		return out;
	};
	h["assoc.show"] = [assoc](const json &) { return assoc().show(); };
	h["pipe.show"] = [assoc](const json &) { return assoc().pipes(); };
	h["assoc.rotate"] = [assoc](const json &) {
		return guarded([&] { return assoc().rotate(); });
	};
	h["assoc.add"] = [this, assoc, need](const json &args) {
		auto &m = assoc();
		bool pipe = args.value("pipe", false);
		std::string text = need(args, "remote") + " edomain " + need(args, "edomain");
		return guarded([&] {
			RemoteConfig r;
			try {
				r = parse_remote(text, opts_.control.port, "assoc add",
						 pipe ? "pipe" : "first-hop");
			} catch (const ConfigError &e) {
				throw ControlError(e.what());
			}
			return m.add(r, pipe);
		});
	};
	h["assoc.del"] = [assoc, need](const json &args) {
		auto &m = assoc();
		auto peer = need(args, "peer");
		return guarded([&] {
			ilp::Endpoint e;
			try {
				e = ilp::Endpoint::parse(peer);
			} catch (const std::exception &ex) {
				throw ControlError("'" + peer + "': " + ex.what());
			}
			if (!names_port(peer))
				e.port = 0; // any port: the address names it
			m.del(e);
			return json();
		});
	};
	// Out-of-band service control: to the default SN's module (or the
	// SN named), or with "local" to this node's own.
	h["service.control"] = [this, need](const json &args) {
		if (!args.contains("service") || !args["service"].is_number_unsigned())
			throw ControlError("'service' missing or not a number");
		auto service = args["service"].get<std::uint64_t>();
		if (service == 0 || service >= 0xffffffffu)
			throw ControlError("'service' must be from 1 to 4294967294");
		auto text = args.value("request", std::string());
		std::vector<std::uint8_t> request(text.begin(), text.end());
		bool local = args.value("local", false) || (!associations_ && !args.contains("sn"));
		return guarded([&] {
			ControlReply r;
			if (local) {
				auto p = std::make_shared<std::promise<ControlReply>>();
				auto answer = p->get_future();
				services_->control(static_cast<std::uint32_t>(service),
						   std::nullopt, std::move(request),
						   [p](int status, std::vector<std::uint8_t> body) {
							   p->set_value({status, std::move(body)});
						   });
				if (answer.wait_for(std::chrono::seconds(10)) !=
				    std::future_status::ready)
					throw ControlError("service " + std::to_string(service) +
							       " did not answer within 10 s",
							   ETIMEDOUT);
				r = answer.get();
			} else {
				if (!associations_)
					throw ControlError(
					    "ilpd runs no control channel: no SN to ask",
					    EOPNOTSUPP);
				std::optional<ilp::Endpoint> sn;
				if (args.contains("sn")) {
					auto e = ilp::Endpoint::parse(need(args, "sn"));
					if (!names_port(need(args, "sn")))
						e.port = 0;
					sn = e;
				}
				r = associations_->control(sn, static_cast<std::uint32_t>(service),
							   std::move(request));
			}
			return control_reply_json(r);
		});
	};
	// ilpctl's instance, key, sa, peer, cache and stats commands.
	if (auto *user = dynamic_cast<UserDatapath *>(dp_.get()))
		add_datapath_commands(h, *user, [this] {
			auto a = apps_->stats();
			return SocketCounts{a.clients, 0, 0};
		});
	else
		add_kernel_datapath_refusals(h);
	group_handlers(h);
	return h;
}

} // namespace ilpd
