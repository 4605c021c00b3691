// SPDX-License-Identifier: GPL-2.0-or-later
#include "environment/service_registry.hpp"

#include <algorithm>
#include <set>

#include "environment/daemon_log.hpp"

namespace fs = std::filesystem;

namespace ilpd
{

ServiceRegistry::ServiceRegistry(Datapath &dp, fs::path state_dir, HostOptions opts, Config config,
				 ModuleLoader loader)
    : dp_(dp), state_dir_(std::move(state_dir)), opts_(opts), config_(std::move(config)),
      loader_(loader)
{
}

ServiceRegistry::~ServiceRegistry()
{
	std::map<std::uint32_t, HostPtr> hosts;
	{
		std::unique_lock g(map_mu_);
		hosts.swap(hosts_);
	}
	// Each host stops its worker and runs fini() as it goes.
}

const ServiceRegistry::HostPtr *ServiceRegistry::serving(std::uint32_t service) const
{
	// The ranges do not overlap: only the last one starting at or before
	// @service can hold it.
	auto it = hosts_.upper_bound(service);
	if (it == hosts_.begin())
		return nullptr;
	--it;
	return it->second->serves(service) ? &it->second : nullptr;
}

ServiceRegistry::HostPtr ServiceRegistry::find(std::uint32_t id) const
{
	std::shared_lock g(map_mu_);
	const HostPtr *h = serving(id);
	return h ? *h : nullptr;
}

ServiceRegistry::HostPtr ServiceRegistry::find(const std::string &name) const
{
	std::shared_lock g(map_mu_);
	for (const auto &[id, h] : hosts_)
		if (h->name() == name)
			return h;
	return nullptr;
}

ModuleLoader::Taken ServiceRegistry::taken() const
{
	ModuleLoader::Taken t;
	std::shared_lock g(map_mu_);
	for (const auto &[id, h] : hosts_) {
		t.ids[id] = h->last_id();
		t.names.insert(h->name());
	}
	return t;
}

ServiceRegistry::HostPtr ServiceRegistry::host(Module module)
{
	static const std::map<std::string, std::string> none;
	auto it = config_.find(module.name());
	return std::make_shared<ServiceHost>(std::move(module), dp_, state_dir_, opts_,
					     it == config_.end() ? none : it->second);
}

void ServiceRegistry::add(HostPtr h)
{
	std::unique_lock g(map_mu_);
	hosts_.emplace(h->id(), std::move(h));
}

std::vector<LoadFailure> ServiceRegistry::load_dir(const fs::path &dir,
						   const std::vector<std::string> &only)
{
	std::lock_guard admin(admin_mu_);
	DirLoad loaded = loader_.load_dir(dir, taken());
	std::vector<LoadFailure> failures = std::move(loaded.failures);
	std::set<std::string> wanted(only.begin(), only.end());
	for (auto &m : loaded.modules) {
		if (!wanted.empty() && !wanted.erase(m.name()))
			continue; // not asked for: unloaded as m goes
		fs::path path = m.path();
		try {
			add(host(std::move(m)));
		} catch (const std::exception &e) {
			failures.push_back({path, e.what()});
		}
	}
	for (const auto &name : wanted)
		failures.push_back(
		    {dir, "no module of " + dir.string() + " serves \"" + name + "\""});
	return failures;
}

ServiceStatus ServiceRegistry::load(const fs::path &file)
{
	std::lock_guard admin(admin_mu_);
	HostPtr h = host(loader_.load(file, taken()));
	ServiceStatus s = h->status();
	add(std::move(h));
	return s;
}

bool ServiceRegistry::unload(const std::string &which)
{
	HostPtr h;
	{
		std::lock_guard admin(admin_mu_);
		std::unique_lock g(map_mu_);
		auto it = std::find_if(hosts_.begin(), hosts_.end(), [&](const auto &e) {
			return e.second->name() == which || e.second->path() == fs::path(which);
		});
		if (it == hosts_.end())
			return false;
		h = std::move(it->second);
		hosts_.erase(it);
	}
	// No dispatch() reaches it any more (the exclusive lock waited for
	// those under way).  Destroyed outside the locks, since that joins
	// its worker and runs fini(): dispatch() goes on meanwhile.
	h.reset();
	return true;
}

void ServiceRegistry::dispatch(std::vector<Miss> &batch)
{
	{
		std::shared_lock g(map_mu_);
		for (auto &m : batch) {
			const HostPtr *h = serving(m.service);
			if (!h) {
				auto n = ++no_service_;
				if (n == 1 || n % 1000 == 0)
					daemon_log::at(ILP_LOG_INFO, "dropped a packet of service ",
						       m.service, ", which no module serves (", n,
						       " so far; then logging every 1000th)");
				continue;
			}
			(*h)->submit(std::move(m));
		}
	}
	batch.clear();
}

std::vector<ServiceStatus> ServiceRegistry::list() const
{
	std::vector<HostPtr> hosts;
	{
		std::shared_lock g(map_mu_);
		for (const auto &[id, h] : hosts_)
			hosts.push_back(h);
	}
	std::vector<ServiceStatus> out;
	for (const auto &h : hosts)
		out.push_back(h->status());
	std::sort(out.begin(), out.end(), [](const auto &a, const auto &b) { return a.id < b.id; });
	return out;
}

std::optional<ServiceStatus> ServiceRegistry::status(const std::string &name) const
{
	if (auto h = find(name))
		return h->status();
	return std::nullopt;
}

std::optional<std::string> ServiceRegistry::configure(const std::string &name,
						      const std::string &key,
						      const std::optional<std::string> &value)
{
	auto h = find(name);
	if (!h)
		return "no service \"" + name + "\" is loaded";
	return h->configure(key, value);
}

void ServiceRegistry::control(std::uint32_t service, const std::optional<ilp::Endpoint> &from,
			      std::vector<std::uint8_t> request,
			      ServiceHost::ControlDone done) const
{
	auto h = find(service);
	if (!h) {
		done(-ENOENT, {});
		return;
	}
	h->control(service, from, std::move(request), std::move(done));
}

std::optional<std::chrono::milliseconds> ServiceRegistry::idle_timeout(const Flow &flow) const
{
	if (auto h = find(flow.service))
		return h->own_idle_timeout(flow);
	return std::nullopt;
}

void ServiceRegistry::forget(const Flow &flow)
{
	if (auto h = find(flow.service))
		h->forget(flow);
}

} // namespace ilpd
