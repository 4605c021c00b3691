// SPDX-License-Identifier: GPL-2.0-or-later
//
// RemoteStore: each Store call one request (or, for list(), one per page),
// waited for on the caller's thread.  A RemoteWatch keeps one long poll
// in flight: wait() waits for it up to its own timeout and leaves it
// running when it has not come back, so that a watcher polling every
// 200 ms costs one request per event or per kMaxWaitMs, not five a
// second.
#include <future>

#include "store/remote_protocol.hpp"
#include "store/remote_store.hpp"

namespace ilpd::store
{

namespace
{

using namespace std::chrono_literals;
// How long a request may take beyond what the server is asked to wait.
constexpr auto kSlack = 5s;

// A request without designated initializers (every field named, as
// -Wmissing-field-initializers wants).
remote::Request request(remote::Op op, std::string key = {}, std::string value = {},
			Revision revision = 0)
{
	remote::Request r;
	r.op = op;
	r.key = std::move(key);
	r.value = std::move(value);
	r.revision = revision;
	return r;
}

class Remote
{
public:
	Remote(std::string name, RemoteCall call) : name_(std::move(name)), call_(std::move(call))
	{
	}

	std::future<RemoteAnswer> send(const remote::Request &r) const
	{
		auto body = remote::encode(r);
		auto p = std::make_shared<std::promise<RemoteAnswer>>();
		auto f = p->get_future();
		call_(std::move(body), std::chrono::milliseconds(r.wait_ms) + kSlack,
		      [p](RemoteAnswer a) { p->set_value(std::move(a)); });
		return f;
	}

	// The reply to an answer, or the StoreError it stands for.
	remote::Reply reply(RemoteAnswer a) const
	{
		if (a.error)
			throw StoreError(StoreError::Kind::Unavailable, name_ + ": " + a.what);
		if (a.status)
			throw StoreError(remote::kind_of(a.status),
					 name_ + ": " + (a.body.empty() ? "refused" : a.body));
		try {
			return remote::parse_reply(a.body);
		} catch (const StoreError &e) {
			throw StoreError(e.kind(), name_ + ": " + e.what());
		}
	}

	// Waits for the answer a little longer than the request may take:
	// one that never comes (the association went with it) is a store
	// out of reach, not a hang.
	remote::Reply call(const remote::Request &r) const
	{
		auto f = send(r);
		if (f.wait_for(std::chrono::milliseconds(r.wait_ms) + 2 * kSlack) !=
		    std::future_status::ready)
			throw StoreError(StoreError::Kind::Unavailable, name_ + ": no answer");
		return reply(f.get());
	}

	const std::string &name() const noexcept { return name_; }

private:
	std::string name_;
	RemoteCall call_;
};

class RemoteWatch : public Watch
{
public:
	RemoteWatch(std::shared_ptr<const Remote> remote, std::string prefix, Revision next)
	    : remote_(std::move(remote)), prefix_(std::move(prefix)), next_(next)
	{
	}

	std::vector<Event> wait(std::chrono::milliseconds timeout) override
	{
		if (!poll_.valid()) {
			remote::Request r;
			r.op = remote::Op::Watch;
			r.key = prefix_;
			r.revision = next_;
			// A page ready at once is asked for without waiting.
			r.wait_ms = more_ ? 0 : remote::kMaxWaitMs;
			poll_ = remote_->send(r);
		}
		if (poll_.wait_for(timeout) != std::future_status::ready)
			return {};
		auto reply = remote_->reply(poll_.get());
		for (const auto &e : reply.events) {
			if (e.revision < next_ || e.key.compare(0, prefix_.size(), prefix_) != 0)
				throw StoreError(StoreError::Kind::Corrupt,
						 remote_->name() + ": an event out of the watch");
			next_ = e.revision + 1;
		}
		more_ = reply.more;
		return reply.events;
	}

private:
	std::shared_ptr<const Remote> remote_;
	const std::string prefix_;
	Revision next_;
	bool more_ = false;
	std::future<RemoteAnswer> poll_;
};

class RemoteStore : public Store
{
public:
	RemoteStore(std::string name, RemoteCall call)
	    : remote_(std::make_shared<const Remote>(std::move(name), std::move(call)))
	{
	}

	std::string kind() const override { return "remote"; }

	Revision put(const std::string &key, const std::string &value) override
	{
		check_key(key);
		return revision_of(remote_->call(request(remote::Op::Put, key, value)));
	}

	std::optional<Record> get(const std::string &key) override
	{
		check_key(key);
		return remote_->call(request(remote::Op::Get, key)).record;
	}

	std::optional<Revision> del(const std::string &key) override
	{
		check_key(key);
		return remote_->call(request(remote::Op::Del, key)).revision;
	}

	// Page after page, each after the last key of the one before.  The
	// listing's revision is the first page's: a change between pages
	// is in the listing or after it, and a watch from there replays it
	// (puts and deletes set a key's state, so a replay changes nothing).
	Listing list(const std::string &prefix) override
	{
		Listing out;
		auto r = request(remote::Op::List, prefix);
		for (;;) {
			auto page = remote_->call(r);
			if (!page.revision)
				throw StoreError(StoreError::Kind::Corrupt,
						 remote_->name() +
						     ": a listing without its revision");
			if (out.records.empty() && r.after.empty())
				out.revision = *page.revision;
			for (auto &rec : page.records) {
				if (rec.key <= r.after ||
				    rec.key.compare(0, prefix.size(), prefix) != 0)
					throw StoreError(StoreError::Kind::Corrupt,
							 remote_->name() +
							     ": a listing out of order or prefix");
				r.after = rec.key;
				out.records.push_back(std::move(rec));
			}
			if (!page.more)
				return out;
			if (page.records.empty())
				throw StoreError(StoreError::Kind::Corrupt,
						 remote_->name() + ": an empty page with more");
		}
	}

	std::optional<Revision> compare_and_swap(const std::string &key, Revision expected,
						 const std::string &value) override
	{
		check_key(key);
		if (expected < 0)
			throw StoreError(StoreError::Kind::Invalid, "a negative revision");
		return remote_->call(request(remote::Op::Cas, key, value, expected)).revision;
	}

	Revision revision() override
	{
		return revision_of(remote_->call(request(remote::Op::Rev)));
	}

	std::unique_ptr<Watch> watch(const std::string &prefix, Revision from) override
	{
		if (prefix.size() > kMaxKey)
			check_key(prefix);
		if (from < 0)
			throw StoreError(StoreError::Kind::Invalid, "a negative revision");
		// "From the next change" is fixed now, not at the first poll.
		if (from == 0)
			from = revision() + 1;
		return std::make_unique<RemoteWatch>(remote_, prefix, from);
	}

	void compact(Revision revision) override
	{
		remote_->call(request(remote::Op::Compact, {}, {}, revision));
	}

private:
	Revision revision_of(const remote::Reply &r) const
	{
		if (!r.revision)
			throw StoreError(StoreError::Kind::Corrupt,
					 remote_->name() + ": a reply without its revision");
		return *r.revision;
	}

	std::shared_ptr<const Remote> remote_;
};

} // namespace

std::unique_ptr<Store> open_remote_store(std::string name, RemoteCall call)
{
	return std::make_unique<RemoteStore>(std::move(name), std::move(call));
}

} // namespace ilpd::store
