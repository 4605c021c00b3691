// SPDX-License-Identifier: GPL-2.0-or-later
//
// The core store of an edomain (docs/store.md): the persistent state its
// SNs share (the gateway map, memberships), as keys and values with one
// revision counter for the whole store, as etcd has it.  Every change
// takes the next revision; a watch names the revision it starts from, so
// that a watcher that lost its connection asks again from the revision
// after the last event it saw and misses nothing.
//
// Two implementations: SqliteStore, embedded in the ilpd that plays the
// core, and EtcdStore, over an etcd cluster's v3 API, for a core that must
// survive the loss of a machine.  The same test suite runs against both
// (daemon/tests/store_test.cpp).
//
// Errors are exceptions (StoreError), as in the rest of the daemon.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ilpd::store
{

// Revisions start at 1; 0 means "none" (an absent key's revision in
// compare_and_swap, a watch from the store's next change).
using Revision = std::int64_t;

struct Record {
	std::string key;
	std::string value;
	Revision created = 0;  // the revision that created the key
	Revision modified = 0; // the revision of its last change
};

struct Event {
	enum class Kind { Put, Delete };
	Kind kind = Kind::Put;
	std::string key;
	std::string value; // empty for a delete
	Revision revision = 0;
	bool operator==(const Event &) const = default;
};

// A listing and the revision it was read at: watch from revision + 1 to
// follow it with nothing missed.
struct Listing {
	std::vector<Record> records; // by key
	Revision revision = 0;
};

class StoreError : public std::runtime_error
{
public:
	enum class Kind {
		Unavailable, // cannot reach the store now: try again later
		Compacted,   // a watch from a revision the store no longer keeps
		Invalid,     // a bad key or argument
		Corrupt,     // the store said something that makes no sense
	};
	StoreError(Kind kind, const std::string &what) : std::runtime_error(what), kind_(kind) {}
	Kind kind() const noexcept { return kind_; }

private:
	Kind kind_;
};

// Events under a prefix, in revision order, from the revision the watch
// was made with.  Not thread-safe: one reader.
class Watch
{
public:
	virtual ~Watch() = default;
	// The events that came within @timeout (none when nothing changed).
	// Throws StoreError: Unavailable when the connection was lost (make
	// a new watch from the revision after the last event), Compacted.
	virtual std::vector<Event> wait(std::chrono::milliseconds timeout) = 0;
};

// Keys are non-empty byte strings of at most kMaxKey bytes; values at
// most kMaxValue (what etcd takes by default, with room).
constexpr std::size_t kMaxKey = 1024;
constexpr std::size_t kMaxValue = 1 << 20;

// Safe to call from several threads; each Watch from one.
class Store
{
public:
	virtual ~Store() = default;

	// "sqlite" or "etcd".
	virtual std::string kind() const = 0;

	// Sets @key: the revision of the change.
	virtual Revision put(const std::string &key, const std::string &value) = 0;
	virtual std::optional<Record> get(const std::string &key) = 0;
	// Removes @key: the revision of the change, or nullopt when there was
	// no such key (no change then).
	virtual std::optional<Revision> del(const std::string &key) = 0;
	// Every key starting with @prefix ("" for all).
	virtual Listing list(const std::string &prefix) = 0;
	// Sets @key to @value only if its last change is revision @expected
	// (0: only if it does not exist): the revision of the change, or
	// nullopt when @key had moved on.
	virtual std::optional<Revision> compare_and_swap(const std::string &key, Revision expected,
							 const std::string &value) = 0;
	// The store's revision now: the last change's.
	virtual Revision revision() = 0;
	// Events under @prefix from revision @from (0: from the next change).
	virtual std::unique_ptr<Watch> watch(const std::string &prefix, Revision from) = 0;
	// Forgets the history before @revision: watches from earlier fail
	// with Compacted.  The keys themselves stay.
	virtual void compact(Revision revision) = 0;
};

// Throws StoreError (Invalid) for a key or value out of bounds.
void check_key(const std::string &key);
void check_value(const std::string &value);

// The first key after every key starting with @prefix ("" when there is
// none: the prefix is all 0xff bytes, or empty).
std::string prefix_end(const std::string &prefix);

} // namespace ilpd::store
