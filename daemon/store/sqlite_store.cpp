// SPDX-License-Identifier: GPL-2.0-or-later
//
// SqliteStore: three tables.  kv holds the keys (as BLOBs, so that they
// compare as bytes, as etcd's do), history every change by revision, meta
// the store's revision and the first revision history still holds.  Each
// change is one IMMEDIATE transaction: the next revision, the key, the
// history row.
#include <condition_variable>
#include <mutex>
#include <thread>

#include <sqlite3.h>

#include "store/sqlite_store.hpp"

namespace ilpd::store
{

namespace
{

struct DbClose {
	void operator()(sqlite3 *db) const noexcept { sqlite3_close_v2(db); }
};
struct StmtFinalize {
	void operator()(sqlite3_stmt *s) const noexcept { sqlite3_finalize(s); }
};
using Db = std::unique_ptr<sqlite3, DbClose>;

// A statement, reset and unbound when it goes.
class Stmt
{
public:
	Stmt(sqlite3 *db, const std::string &where, const char *sql) : db_(db), where_(where)
	{
		sqlite3_stmt *s = nullptr;
		if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK)
			fail("preparing a query");
		stmt_.reset(s);
	}
	Stmt &bind(int i, const std::string &blob)
	{
		if (sqlite3_bind_blob64(stmt_.get(), i, blob.data(), blob.size(),
					SQLITE_TRANSIENT) != SQLITE_OK)
			fail("binding a value");
		return *this;
	}
	Stmt &bind(int i, std::int64_t v)
	{
		if (sqlite3_bind_int64(stmt_.get(), i, v) != SQLITE_OK)
			fail("binding a value");
		return *this;
	}
	// True while there is a row.
	bool step()
	{
		int rc = sqlite3_step(stmt_.get());
		if (rc == SQLITE_ROW)
			return true;
		if (rc == SQLITE_DONE)
			return false;
		fail("running a query");
	}
	std::int64_t i64(int col) { return sqlite3_column_int64(stmt_.get(), col); }
	std::string blob(int col)
	{
		auto *p = static_cast<const char *>(sqlite3_column_blob(stmt_.get(), col));
		return p ? std::string(p, sqlite3_column_bytes(stmt_.get(), col)) : std::string();
	}

	[[noreturn]] void fail(const char *doing) const
	{
		int rc = sqlite3_errcode(db_);
		auto kind = rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB
				? StoreError::Kind::Corrupt
				: StoreError::Kind::Unavailable;
		throw StoreError(kind, where_ + ": " + doing + ": " + sqlite3_errmsg(db_));
	}

private:
	sqlite3 *db_;
	const std::string &where_;
	std::unique_ptr<sqlite3_stmt, StmtFinalize> stmt_;
};

// What the store and its watches share: the connection, and a condition
// that writers of this process signal (writers of another process on the
// same file are seen by polling).
struct Shared {
	std::string where;
	std::mutex mu;
	std::condition_variable changed;
	Db db;

	void exec(const char *sql)
	{
		char *err = nullptr;
		if (sqlite3_exec(db.get(), sql, nullptr, nullptr, &err) != SQLITE_OK) {
			std::string msg = err ? err : sqlite3_errmsg(db.get());
			sqlite3_free(err);
			int rc = sqlite3_errcode(db.get());
			throw StoreError(rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB
					     ? StoreError::Kind::Corrupt
					     : StoreError::Kind::Unavailable,
					 where + ": " + msg);
		}
	}
	std::int64_t meta(const char *name)
	{
		Stmt s(db.get(), where, "SELECT value FROM meta WHERE name = ?");
		s.bind(1, std::string(name));
		return s.step() ? s.i64(0) : 0;
	}
};

// BEGIN ... COMMIT, rolled back when left by an exception.  A writer's
// takes the write lock first (IMMEDIATE), so that its reads and writes
// are one step of the store.
class Transaction
{
public:
	explicit Transaction(Shared &s, bool write = true) : s_(s)
	{
		s_.exec(write ? "BEGIN IMMEDIATE" : "BEGIN");
	}
	~Transaction()
	{
		if (!done_)
			sqlite3_exec(s_.db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
	}
	void commit()
	{
		s_.exec("COMMIT");
		done_ = true;
	}

private:
	Shared &s_;
	bool done_ = false;
};

constexpr const char *kSchema = R"(
CREATE TABLE IF NOT EXISTS meta (name BLOB PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB NOT NULL,
			       created INTEGER NOT NULL, modified INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS history (revision INTEGER PRIMARY KEY, deleted INTEGER NOT NULL,
				    key BLOB NOT NULL, value BLOB NOT NULL);
INSERT OR IGNORE INTO meta VALUES (CAST('revision' AS BLOB), 0), (CAST('kept_from' AS BLOB), 1);
)";

// "key >= ?1 AND (?2 = '' OR key < ?2)", the range of a prefix.
void bind_range(Stmt &s, int first, const std::string &prefix)
{
	s.bind(first, prefix).bind(first + 1, prefix_end(prefix));
}

class SqliteWatch : public Watch
{
public:
	SqliteWatch(std::shared_ptr<Shared> s, std::string prefix, Revision next)
	    : s_(std::move(s)), prefix_(std::move(prefix)), next_(next)
	{
	}

	std::vector<Event> wait(std::chrono::milliseconds timeout) override
	{
		auto deadline = std::chrono::steady_clock::now() + timeout;
		std::unique_lock lock(s_->mu);
		for (;;) {
			auto events = read();
			if (!events.empty())
				return events;
			// Another process's commits signal nothing here: look
			// again at least every 50 ms.
			auto now = std::chrono::steady_clock::now();
			if (now >= deadline)
				return {};
			s_->changed.wait_until(
			    lock, std::min(deadline, now + std::chrono::milliseconds(50)));
		}
	}

private:
	std::vector<Event> read()
	{
		if (next_ < s_->meta("kept_from"))
			throw StoreError(StoreError::Kind::Compacted,
					 s_->where + ": revision " + std::to_string(next_) +
					     " is compacted (history starts at " +
					     std::to_string(s_->meta("kept_from")) + ")");
		Stmt q(s_->db.get(), s_->where,
		       "SELECT revision, deleted, key, value FROM history WHERE revision >= ?1 "
		       "AND key >= ?2 AND (?3 = x'' OR key < ?3) ORDER BY revision LIMIT 1000");
		q.bind(1, next_);
		bind_range(q, 2, prefix_);
		std::vector<Event> events;
		while (q.step()) {
			Event e;
			e.revision = q.i64(0);
			e.kind = q.i64(1) ? Event::Kind::Delete : Event::Kind::Put;
			e.key = q.blob(2);
			e.value = q.blob(3);
			events.push_back(std::move(e));
		}
		if (!events.empty())
			next_ = events.back().revision + 1;
		return events;
	}

	std::shared_ptr<Shared> s_;
	std::string prefix_;
	Revision next_;
};

class SqliteStore : public Store
{
public:
	explicit SqliteStore(const std::filesystem::path &file) : s_(std::make_shared<Shared>())
	{
		s_->where = file.string();
		sqlite3 *db = nullptr;
		int rc = sqlite3_open_v2(
		    file.c_str(), &db,
		    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
		s_->db.reset(db);
		if (rc != SQLITE_OK)
			throw StoreError(StoreError::Kind::Unavailable,
					 s_->where + ": " +
					     (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
		// Another process may hold the write lock for a moment.
		sqlite3_busy_timeout(db, 5000);
		s_->exec("PRAGMA journal_mode = WAL");
		s_->exec("PRAGMA synchronous = FULL");
		s_->exec(kSchema);
	}

	std::string kind() const override { return "sqlite"; }

	Revision put(const std::string &key, const std::string &value) override
	{
		check_key(key);
		check_value(value);
		std::lock_guard lock(s_->mu);
		Transaction t(*s_);
		auto rev = write(key, value);
		t.commit();
		s_->changed.notify_all();
		return rev;
	}

	std::optional<Record> get(const std::string &key) override
	{
		check_key(key);
		std::lock_guard lock(s_->mu);
		return current(key);
	}

	std::optional<Revision> del(const std::string &key) override
	{
		check_key(key);
		std::lock_guard lock(s_->mu);
		Transaction t(*s_);
		if (!current(key))
			return std::nullopt;
		auto rev = next_revision();
		Stmt(s_->db.get(), s_->where, "DELETE FROM kv WHERE key = ?").bind(1, key).step();
		log(rev, true, key, {});
		t.commit();
		s_->changed.notify_all();
		return rev;
	}

	Listing list(const std::string &prefix) override
	{
		std::lock_guard lock(s_->mu);
		// One read transaction: the records and the revision agree.
		Transaction t(*s_, false);
		Listing out;
		Stmt q(s_->db.get(), s_->where,
		       "SELECT key, value, created, modified FROM kv WHERE key >= ?1 "
		       "AND (?2 = x'' OR key < ?2) ORDER BY key");
		bind_range(q, 1, prefix);
		while (q.step())
			out.records.push_back(record(q));
		out.revision = s_->meta("revision");
		t.commit();
		return out;
	}

	std::optional<Revision> compare_and_swap(const std::string &key, Revision expected,
						 const std::string &value) override
	{
		check_key(key);
		check_value(value);
		std::lock_guard lock(s_->mu);
		Transaction t(*s_);
		auto now = current(key);
		if ((now ? now->modified : 0) != expected)
			return std::nullopt;
		auto rev = write(key, value);
		t.commit();
		s_->changed.notify_all();
		return rev;
	}

	Revision revision() override
	{
		std::lock_guard lock(s_->mu);
		return s_->meta("revision");
	}

	std::unique_ptr<Watch> watch(const std::string &prefix, Revision from) override
	{
		if (from < 0)
			throw StoreError(StoreError::Kind::Invalid,
					 "a watch from a negative revision");
		if (from == 0)
			from = revision() + 1;
		return std::make_unique<SqliteWatch>(s_, prefix, from);
	}

	void compact(Revision revision) override
	{
		std::lock_guard lock(s_->mu);
		Transaction t(*s_);
		if (revision > s_->meta("revision"))
			throw StoreError(StoreError::Kind::Invalid,
					 "compacting past the store's revision");
		if (revision <= s_->meta("kept_from"))
			return;
		Stmt(s_->db.get(), s_->where, "DELETE FROM history WHERE revision < ?")
		    .bind(1, revision)
		    .step();
		set_meta("kept_from", revision);
		t.commit();
	}

private:
	static Record record(Stmt &q) { return Record{q.blob(0), q.blob(1), q.i64(2), q.i64(3)}; }

	std::optional<Record> current(const std::string &key)
	{
		Stmt q(s_->db.get(), s_->where,
		       "SELECT key, value, created, modified FROM kv WHERE key = ?");
		q.bind(1, key);
		if (!q.step())
			return std::nullopt;
		return record(q);
	}

	Revision next_revision()
	{
		auto rev = s_->meta("revision") + 1;
		set_meta("revision", rev);
		return rev;
	}

	void set_meta(const char *name, std::int64_t v)
	{
		Stmt(s_->db.get(), s_->where, "UPDATE meta SET value = ?1 WHERE name = ?2")
		    .bind(1, v)
		    .bind(2, std::string(name))
		    .step();
	}

	void log(Revision rev, bool deleted, const std::string &key, const std::string &value)
	{
		Stmt(s_->db.get(), s_->where, "INSERT INTO history VALUES (?1, ?2, ?3, ?4)")
		    .bind(1, rev)
		    .bind(2, std::int64_t(deleted))
		    .bind(3, key)
		    .bind(4, value)
		    .step();
	}

	// Inside a transaction.
	Revision write(const std::string &key, const std::string &value)
	{
		auto rev = next_revision();
		Stmt(s_->db.get(), s_->where,
		     "INSERT INTO kv VALUES (?1, ?2, ?3, ?3) ON CONFLICT(key) DO UPDATE "
		     "SET value = excluded.value, modified = excluded.modified")
		    .bind(1, key)
		    .bind(2, value)
		    .bind(3, rev)
		    .step();
		log(rev, false, key, value);
		return rev;
	}

	std::shared_ptr<Shared> s_;
};

} // namespace

std::unique_ptr<Store> open_sqlite_store(const std::filesystem::path &file)
{
	return std::make_unique<SqliteStore>(file);
}

} // namespace ilpd::store
