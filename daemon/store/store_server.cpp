// SPDX-License-Identifier: GPL-2.0-or-later
//
// StoreServer: parse, check, run on the store, encode what fits.  A
// listing or a watch's events beyond one payload are left for the next
// request ("more"), which names where to go on from.
#include <cerrno>

#include "log.hpp"
#include "store/store_server.hpp"

namespace ilpd::store
{

using namespace std::chrono_literals;

StoreServer::StoreServer(Store &store) : store_(store) {}

StoreServer::~StoreServer()
{
	stop_ = true;
	std::lock_guard lock(mu_);
	in_flight_.clear(); // each waits for its request
}

void StoreServer::handle(std::string payload, Check check, Done done)
{
	std::lock_guard lock(mu_);
	std::erase_if(in_flight_, [](const std::future<void> &f) {
		return f.wait_for(0s) == std::future_status::ready;
	});
	if (in_flight_.size() >= kMaxInFlight) {
		done(-EBUSY, "the store has " + std::to_string(kMaxInFlight) +
				 " requests in flight already");
		return;
	}
	in_flight_.push_back(
	    std::async(std::launch::async, [this, payload = std::move(payload),
					    check = std::move(check), done = std::move(done)] {
		    auto [status, body] = run(payload, check);
		    done(status, std::move(body));
	    }));
}

std::pair<int, std::string> StoreServer::run(const std::string &payload, const Check &check)
{
	try {
		auto r = remote::parse_request(payload);
		if (check)
			if (auto why = check(r))
				return {-EPERM, *why};
		return {0, remote::encode(execute(r))};
	} catch (const StoreError &e) {
		if (e.kind() == StoreError::Kind::Invalid)
			log::warn("store request refused: ", e.what());
		return {remote::status_of(e.kind()), e.what()};
	} catch (const std::exception &e) {
		log::warn("store request failed: ", e.what());
		return {-EIO, e.what()};
	}
}

remote::Reply StoreServer::execute(const remote::Request &r)
{
	remote::Reply out;
	switch (r.op) {
	case remote::Op::Put:
		out.revision = store_.put(r.key, r.value);
		break;
	case remote::Op::Get:
		out.record = store_.get(r.key);
		break;
	case remote::Op::Del:
		out.revision = store_.del(r.key);
		break;
	case remote::Op::Cas:
		out.revision = store_.compare_and_swap(r.key, r.revision, r.value);
		break;
	case remote::Op::Rev:
		out.revision = store_.revision();
		break;
	case remote::Op::Compact:
		store_.compact(r.revision);
		break;
	case remote::Op::List: {
		auto l = store_.list(r.key);
		out.revision = l.revision;
		for (auto &rec : l.records)
			if (rec.key > r.after)
				out.records.push_back(std::move(rec));
		break;
	}
	case remote::Op::Watch: {
		// Waits in slices, so that a server going away is not held
		// up by a long poll.
		auto w = store_.watch(r.key, r.revision);
		auto until =
		    std::chrono::steady_clock::now() + std::chrono::milliseconds(r.wait_ms);
		do {
			auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
			    until - std::chrono::steady_clock::now());
			out.events = w->wait(std::clamp(left, 0ms, 200ms));
		} while (out.events.empty() && !stop_ && std::chrono::steady_clock::now() < until);
		out.revision = store_.revision();
		break;
	}
	}
	return out;
}

} // namespace ilpd::store
