// SPDX-License-Identifier: LGPL-2.1-or-later
//
// ilp/service.hpp - a service module in C++, over the C ABI of
// <ilp/service.h>, header-only
//
// No exception may cross into ilpd: the C ABI has no way to carry one, and
// unwinding through C frames is undefined.  This header wraps a class's
// member functions in entry points that catch everything, on the module's
// side, and turn it into a negative errno:
//
//	class Echo
//	{
//	public:
//		// Throws to refuse the load (std::system_error: its errno).
//		Echo(const ilp::service::Context &ctx, std::span<const std::uint8_t> saved);
//		int handle(const ilp_packet &pkt, ilp_decision &out);
//		// Optional; without it every change is accepted.
//		int config_changed(const char *key, const char *value);
//		// Optional: an out-of-band control request (from: null for
//		// this node's own); the answer's body into reply, its length
//		// into written.  Without it, requests get -EOPNOTSUPP.
//		int on_control(std::uint32_t service, const ilp_node *from,
//			       std::span<const std::uint8_t> request,
//			       std::span<std::uint8_t> reply, std::size_t &written);
//	};
//	ILP_SERVICE_MODULE(Echo, 42, 1, "echo", "returns packets to their sender");
//
// What a throw becomes: std::bad_alloc -ENOMEM, std::system_error its
// errno, std::invalid_argument -EINVAL, anything else -EIO.  The first
// exception, and every 1000th after it, is logged through the daemon with
// its what() (timers counted apart).  A timer callback is wrapped the same way:
//
//	ctx.ops->timer_add(ctx.env, 1000, ilp::service::timer<Echo, &Echo::tick>, 0);
//
// The destructor runs at fini(), on the module's thread; like every
// destructor it is noexcept, so it must not throw (that would terminate).
#pragma once

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <span>
#include <stdexcept>
#include <system_error>

#include <ilp/service.h>

namespace ilp::service
{

// What the daemon handed init(): the calls a module may make, and the
// module's handle for them.
struct Context {
	const ilp_env_ops *ops = nullptr;
	ilp_env *env = nullptr;
};

// The state ilpd holds for a module of class T: the context (for the
// wrappers' logging) and the object.
template <typename T>
struct Holder {
	Context ctx;
	// Thrown so far, for the wrappers' logging: by handle() and
	// config_changed(), and by timers.
	std::uint64_t exceptions = 0, timer_exceptions = 0;
	T object;

	Holder(const Context &c, std::span<const std::uint8_t> saved) : ctx(c), object(c, saved) {}
};

// The negative errno an exception stands for; logs it (the first and
// every 1000th) when @ctx can.
inline int errno_of(std::exception_ptr e, const Context &ctx, std::uint64_t *count,
		    const char *where) noexcept
{
	int rc = -EIO;
	const char *what = "an exception that is not a std::exception";
	try {
		std::rethrow_exception(e);
	} catch (const std::bad_alloc &x) {
		rc = -ENOMEM;
		what = x.what();
	} catch (const std::system_error &x) {
		int v = x.code().value();
		rc = v > 0 ? -v : -EIO;
		what = x.what();
	} catch (const std::invalid_argument &x) {
		rc = -EINVAL;
		what = x.what();
	} catch (const std::exception &x) {
		what = x.what();
	} catch (...) {
	}
	std::uint64_t n = count ? ++*count : 1;
	if (ctx.ops && ctx.ops->log && (n == 1 || n % 1000 == 0))
		ctx.ops->log(ctx.env, ILP_LOG_WARN, "%s threw (%llu so far): %s", where,
			     static_cast<unsigned long long>(n), what);
	return rc;
}

// The C entry points of a module of class T.
template <typename T>
struct Entry {
	static Holder<T> &holder(void *state) noexcept { return *static_cast<Holder<T> *>(state); }

	static int init(const ilp_env_ops *ops, ilp_env *env, const void *saved,
			std::size_t saved_len, void **state) noexcept
	{
		const Context ctx{ops, env};
		*state = nullptr;
		try {
			std::span<const std::uint8_t> data(static_cast<const std::uint8_t *>(saved),
							   saved ? saved_len : 0);
			*state = new Holder<T>(ctx, data);
			return 0;
		} catch (...) {
			return errno_of(std::current_exception(), ctx, nullptr, "init()");
		}
	}

	static void fini(void *state) noexcept
	{
		if (!state)
			return;
		delete &holder(state);
	}

	static int handle(void *state, const ilp_packet *pkt, ilp_decision *out) noexcept
	{
		Holder<T> &h = holder(state);
		try {
			return h.object.handle(*pkt, *out);
		} catch (...) {
			return errno_of(std::current_exception(), h.ctx, &h.exceptions, "handle()");
		}
	}

	static int config_changed(void *state, const char *key, const char *value) noexcept
	{
		Holder<T> &h = holder(state);
		try {
			return h.object.config_changed(key, value);
		} catch (...) {
			return errno_of(std::current_exception(), h.ctx, &h.exceptions,
					"config_changed()");
		}
	}

	static int on_control(void *state, std::uint32_t service, const ilp_node *from,
			      const std::uint8_t *request, std::size_t request_len,
			      std::uint8_t *reply, std::size_t *reply_len) noexcept
	{
		Holder<T> &h = holder(state);
		try {
			std::span<std::uint8_t> out(reply, *reply_len);
			std::size_t written = 0;
			int rc = h.object.on_control(
			    service, from, std::span<const std::uint8_t>(request, request_len), out,
			    written);
			*reply_len = written <= out.size() ? written : 0;
			return rc;
		} catch (...) {
			*reply_len = 0;
			return errno_of(std::current_exception(), h.ctx, &h.exceptions,
					"on_control()");
		}
	}

	static constexpr ilp_service descriptor(std::uint32_t id, std::uint32_t count,
						const char *name, const char *description)
	{
		ilp_service d{};
		d.abi_version = ILP_SERVICE_ABI_VERSION;
		d.size = sizeof(ilp_service);
		d.service_id = id;
		d.service_count = count;
		d.name = name;
		d.description = description;
		d.init = init;
		d.fini = fini;
		d.handle = handle;
		if constexpr (requires(T & t, const char *k) { t.config_changed(k, k); })
			d.config_changed = config_changed;
		if constexpr (requires(T & t, const ilp_node *from,
				       std::span<const std::uint8_t> in,
				       std::span<std::uint8_t> out, std::size_t &n) {
				      t.on_control(std::uint32_t{}, from, in, out, n);
			      })
			d.on_control = on_control;
		return d;
	}
};

// A timer callback (ilp_timer_fn) that calls @Fn(cookie) on the module's
// object, its exceptions caught and logged.
template <typename T, void (T::*Fn)(std::uint64_t)>
void timer(void *state, std::uint64_t cookie) noexcept
{
	Holder<T> &h = Entry<T>::holder(state);
	try {
		(h.object.*Fn)(cookie);
	} catch (...) {
		errno_of(std::current_exception(), h.ctx, &h.timer_exceptions, "a timer");
	}
}

} // namespace ilp::service

// Defines and exports the descriptor of a module of class T serving
// @count service IDs from @id.
#define ILP_SERVICE_MODULE(T, id, count, name, description)                                        \
	namespace                                                                                  \
	{                                                                                          \
	constexpr ilp_service ilp_service_descriptor_ =                                            \
	    ::ilp::service::Entry<T>::descriptor((id), (count), (name), (description));            \
	}                                                                                          \
	ILP_SERVICE_EXPORT(ilp_service_descriptor_)
