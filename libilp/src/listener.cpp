// SPDX-License-Identifier: LGPL-2.1-or-later
#include "ilp/listener.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/ilp.h>

namespace ilp
{

Upcall parse_upcall(const nlmsghdr *nlh)
{
	auto top = nl::Attrs::of_message(nlh, ILP_A_MAX);
	auto a = nl::Attrs::of_nest(top.get(ILP_A_PACKET), ILP_PKT_A_MAX);
	auto addr = a.bytes(ILP_PKT_A_PREV_ADDR);
	auto port = a.u16(ILP_PKT_A_PREV_PORT);
	auto service = a.u32(ILP_PKT_A_SERVICE);
	auto conn = a.u64(ILP_PKT_A_CONN);
	auto data = a.bytes(ILP_PKT_A_DATA);
	if (!addr || !port || !service || !conn || !data)
		throw nl::NetlinkError(EPROTO, "the kernel sent an upcall without its previous "
					       "hop, service, connection and data");
	Upcall up;
	try {
		up.prev = Endpoint::from_bytes(*addr, *port);
	} catch (const Error &e) {
		throw nl::NetlinkError(EPROTO, std::string("upcall: ") + e.what());
	}
	up.service = *service;
	up.conn = *conn;
	up.data.assign(data->begin(), data->end());
	return up;
}

Listener::Listener(int receive_buffer)
{
	auto f = sock_.resolve(ILP_GENL_NAME);
	if (!f)
		throw ModuleNotLoaded();
	family_ = *f;
	if (receive_buffer > 0)
		sock_.set_receive_buffer(receive_buffer);
	nl::Request req(family_.id, NLM_F_ACK, ILP_CMD_LISTEN, ILP_GENL_VERSION);
	// Upcalls that overtake the ack are kept for receive().
	sock_.transact(
	    req, [](const nlmsghdr *) {}, "registering as the upcall listener");
}

bool Listener::receive(int timeout_ms)
{
	return sock_.receive(
	    [&](const nlmsghdr *nlh) {
		    if (nlh->nlmsg_type != family_.id)
			    return;
		    const auto *genl = static_cast<const genlmsghdr *>(mnl_nlmsg_get_payload(nlh));
		    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*genl) ||
			genl->cmd != ILP_CMD_UPCALL)
			    return;
		    queue_.push_back(parse_upcall(nlh));
	    },
	    timeout_ms);
}

std::optional<Upcall> Listener::next(int timeout_ms)
{
	auto batch = next_batch(timeout_ms, 1);
	if (batch.empty())
		return std::nullopt;
	return std::move(batch.front());
}

std::vector<Upcall> Listener::next_batch(int timeout_ms, std::size_t max)
{
	using clock = std::chrono::steady_clock;
	std::vector<Upcall> out;
	if (!max)
		return out;
	auto deadline = clock::now() + std::chrono::milliseconds(std::max(timeout_ms, 0));
	// The first: a datagram may hold something else than an upcall.
	while (queue_.empty()) {
		int left = -1;
		if (timeout_ms >= 0)
			left = static_cast<int>(std::max<clock::rep>(
			    0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
										     clock::now())
				   .count()));
		if (!receive(left))
			return out;
		if (queue_.empty() && timeout_ms >= 0 && clock::now() >= deadline)
			return out;
	}
	// The rest, without waiting.
	while (queue_.size() < max && receive(0)) {
	}
	while (!queue_.empty() && out.size() < max) {
		out.push_back(std::move(queue_.front()));
		queue_.pop_front();
	}
	return out;
}

} // namespace ilp
