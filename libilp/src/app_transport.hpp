// SPDX-License-Identifier: LGPL-2.1-or-later
//
// ilp::Socket's other transport: the local ilpd's app socket instead of
// AF_ILP, for machines without ilp.ko (docs/app-socket.md).  Socket keeps
// its messages and hints; this class only moves bytes and returns errnos
// the way the kernel's calls would, so that both transports fail alike.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <linux/ilp.h>

#include "app_protocol.hpp"

namespace ilp::app
{

// The path apps connect to: $ILP_APP_SOCKET, else default_path.
std::string socket_path();

// What ILP_TRANSPORT asks for.
enum class Choice { Auto, Kernel, Unix };
// Throws ilp::Error(EINVAL) for a value other than kernel, unix or auto.
Choice transport_choice();

// A received DATA message, cut up.
struct Incoming {
	std::size_t size = 0; // payload bytes copied (or the whole, MSG_TRUNC)
	bool truncated = false;
	sockaddr_ilp from{};
	std::span<const std::byte> metadata; // into the transport's buffer
};

class Transport
{
public:
	// Connects to @path and hands ilpd the data channel.  Returns
	// nullopt and sets @err (and @why, for a message) when it cannot.
	static std::optional<Transport> open(const std::string &path, int flags, int &err,
					     std::string &why);

	Transport(Transport &&other) noexcept;
	Transport &operator=(Transport &&other) noexcept;
	Transport(const Transport &) = delete;
	Transport &operator=(const Transport &) = delete;
	~Transport();

	// Each returns 0 or the errno the kernel's call would give.
	int bind(std::uint32_t service, std::uint64_t conn);
	int connect(const sockaddr_ilp &to);
	void disconnect() noexcept { connected_ = false; }
	// @to: nullptr for the connected destination.  @md: the packet's
	// TLVs, nullptr for the sticky ones.
	int send(const sockaddr_ilp *to, std::span<const std::byte> data,
		 const std::vector<std::byte> *md);
	int receive(std::span<std::byte> buf, int flags, Incoming &in);

	void set_metadata(std::vector<std::byte> md) { sticky_ = std::move(md); }
	const std::vector<std::byte> &metadata() const noexcept { return sticky_; }

	// The bound (service, conn): zeroes when unbound, as getsockname().
	const sockaddr_ilp &local() const noexcept { return bound_; }
	// ENOTCONN when not connected.
	int peer(sockaddr_ilp &out) const;
	int shutdown(int how);

	int data_fd() const noexcept { return data_; }

private:
	Transport() = default;
	// One request, one reply; the reply's error (or the channel's).
	int call(MsgType type, const sockaddr_ilp &addr, std::span<const std::byte> md,
		 std::span<const std::byte> payload, int send_fd = -1);
	void close_all() noexcept;

	int ctl_ = -1;  // the control connection, always blocking
	int data_ = -1; // our end of the data channel: what fd() returns
	sockaddr_ilp bound_{};
	bool connected_ = false;
	sockaddr_ilp dest_{};
	std::vector<std::byte> sticky_;
	bool shut_rd_ = false, shut_wr_ = false;
	std::vector<std::byte> buf_; // one DATA message, allocated once
};

} // namespace ilp::app
