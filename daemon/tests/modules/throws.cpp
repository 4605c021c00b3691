// SPDX-License-Identifier: GPL-2.0-or-later
//
// A C++ module (service 400, "throws") built with <ilp/service.hpp>, which
// throws from each of its entry points on demand: the helper must catch
// every exception on the module's side and hand ilpd an errno, so that
// nothing unwinds into the daemon.
//
//	init():			throws std::runtime_error when its
//				configuration has throw-init=yes
//	handle():		"throw" throws std::runtime_error, "throw-alloc"
//				std::bad_alloc, "throw-int" an int; "timer"
//				sets a timer that throws; anything else is
//				returned to its sender
//	config_changed():	the key "throw" throws std::invalid_argument
//	on_control():		"throw" throws std::runtime_error; anything
//				else is answered with "ack:" and the request,
//				and the sender's port when it has one
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include <ilp/service.hpp>

namespace
{

class Throws
{
public:
	Throws(const ilp::service::Context &ctx, std::span<const std::uint8_t>) : ctx_(ctx)
	{
		const char *v = ctx.ops->config_get(ctx.env, "throw-init");
		if (v && std::string_view(v) == "yes")
			throw std::runtime_error("init asked to throw");
	}

	int handle(const ilp_packet &pkt, ilp_decision &out)
	{
		std::string_view payload(reinterpret_cast<const char *>(pkt.payload),
					 pkt.payload_len);
		if (payload == "throw")
			throw std::runtime_error("boom");
		if (payload == "throw-alloc")
			throw std::bad_alloc();
		if (payload == "throw-int")
			throw 42;
		if (payload == "timer") {
			ctx_.ops->timer_add(ctx_.env, 1, ilp::service::timer<Throws, &Throws::tick>,
					    7);
			return 0;
		}
		out.actions = ILP_ACTION_FORWARD;
		out.n_hops = 1;
		out.hops[0] = pkt.flow.prev;
		return 0;
	}

	int config_changed(const char *key, const char *)
	{
		if (std::string_view(key) == "throw")
			throw std::invalid_argument("config asked to throw");
		return 0;
	}

	int on_control(std::uint32_t, const ilp_node *from, std::span<const std::uint8_t> request,
		       std::span<std::uint8_t> reply, std::size_t &written)
	{
		std::string_view req(reinterpret_cast<const char *>(request.data()),
				     request.size());
		if (req == "throw")
			throw std::runtime_error("control boom");
		std::string answer = "ack:" + std::string(req);
		if (from)
			answer += " from port " + std::to_string(from->port);
		if (answer.size() > reply.size())
			return -ENOSPC;
		std::memcpy(reply.data(), answer.data(), answer.size());
		written = answer.size();
		return 0;
	}

	// Throws; the next packet still finds the module working.
	void tick(std::uint64_t) { throw std::runtime_error("timer boom"); }

private:
	ilp::service::Context ctx_;
};

} // namespace

ILP_SERVICE_MODULE(Throws, 400, 1, "throws", "throws from every entry point on demand");
