// SPDX-License-Identifier: GPL-2.0-or-later
//
// A reader-writer lock that lets a waiting writer in before new readers,
// for the daemon's tables that packet threads read: the decision cache,
// the app sockets' bindings, the service modules by id.
//
// glibc's default rwlock (what std::shared_mutex is) prefers readers: as
// long as some packet thread holds the lock shared, another may take it
// too, and a steady stream of packets keeps a writer (an install, an app's
// bind, a module load) waiting for as long as the stream lasts (seconds,
// measured on the decision cache with four lookup threads on two cores).
// A change must not wait behind the traffic it is about.  Meets the
// SharedMutex requirements, so std::unique_lock and std::shared_lock take
// it.  No thread may take it shared twice (see the constructor).
#pragma once

#include <pthread.h>

#include <system_error>

namespace ilpd
{

class WriterFirstMutex
{
public:
	WriterFirstMutex()
	{
		pthread_rwlockattr_t attr;
		pthread_rwlockattr_init(&attr);
		// "Nonrecursive": no thread takes it shared twice, which is
		// what lets glibc block new readers behind a waiting writer.
		pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		int err = pthread_rwlock_init(&lock_, &attr);
		pthread_rwlockattr_destroy(&attr);
		if (err)
			throw std::system_error(err, std::generic_category(),
						"pthread_rwlock_init");
	}
	~WriterFirstMutex() { pthread_rwlock_destroy(&lock_); }
	WriterFirstMutex(const WriterFirstMutex &) = delete;
	WriterFirstMutex &operator=(const WriterFirstMutex &) = delete;

	void lock() { check(pthread_rwlock_wrlock(&lock_), "pthread_rwlock_wrlock"); }
	bool try_lock() { return pthread_rwlock_trywrlock(&lock_) == 0; }
	void unlock() { pthread_rwlock_unlock(&lock_); }

	void lock_shared() { check(pthread_rwlock_rdlock(&lock_), "pthread_rwlock_rdlock"); }
	bool try_lock_shared() { return pthread_rwlock_tryrdlock(&lock_) == 0; }
	void unlock_shared() { pthread_rwlock_unlock(&lock_); }

private:
	static void check(int err, const char *what)
	{
		if (err)
			throw std::system_error(err, std::generic_category(), what);
	}

	pthread_rwlock_t lock_;
};

} // namespace ilpd
