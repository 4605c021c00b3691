// SPDX-License-Identifier: GPL-2.0-or-later
//
// The app socket of the userspace datapath (docs/app-socket.md): what
// AF_ILP sockets are on a kernel node, for nodes without ilp.ko.  Apps
// (ilp::Socket, which falls back to it transparently) connect to a UNIX
// SOCK_SEQPACKET socket, mode 0666, and hand over the data channel packets
// reach them on.
//
// At most 1024 apps at a time; more are refused (their connection closed).
//
// Out-of-band service control (CONTROL) is served on either datapath: on
// a kernel node, whose apps use AF_ILP, it is all the app socket serves.
// The Controller answers asynchronously; until it has, that app's further
// requests wait (replies stay in order) and the others' do not.
//
// Threads.  One thread of the server's own accepts apps and answers their
// requests (bind, connect, send) in order; sends go out through the
// Sender, on that thread.  Delivery is the LocalDelivery hook, called by
// the datapath's receive threads: a non-blocking write to the app's data
// channel, whose socket buffer is the app's bounded queue.  A full one
// drops the packet and counts it, as a full receive buffer does in the
// kernel, so a slow app never holds up a receive thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <ilp/endpoint.hpp>

#include "datapath/udp_io.hpp"
#include "datapath/user_datapath.hpp"
#include "writer_first_mutex.hpp"

namespace ilp::app
{
struct MsgHeader;
}

namespace ilpd
{

// run-dir + "/app.sock".
inline std::filesystem::path app_socket_path(const std::filesystem::path &run_dir)
{
	return run_dir / "app.sock";
}

struct AppStats {
	std::uint64_t clients = 0;   // apps connected now
	std::uint64_t bindings = 0;  // (service, connection) pairs bound now
	std::uint64_t delivered = 0; // packets written to apps
	std::uint64_t dropped = 0;   // not written: the app's queue was full
	std::uint64_t sent = 0;      // packets apps sent
	std::uint64_t send_errors = 0;
	std::uint64_t controls = 0; // CONTROL requests answered
};

// An app's out-of-band request for a service module (CONTROL).
struct AppControl {
	std::uint32_t service = 0;
	std::optional<ilp::Endpoint> sn; // nullopt: the first-hop SN
	bool local = false;              // this node's own module
	std::vector<std::uint8_t> request;
};

class AppServer : public LocalDelivery
{
public:
	// The end of a CONTROL: @error 0 and the module's @status and @body,
	// or a positive errno.  May be called on any thread, once.
	using ControlDone =
	    std::function<void(int error, int status, std::vector<std::uint8_t> body)>;
	using Controller = std::function<void(AppControl request, ControlDone done)>;

	// What UserDatapath::send_from_host() does, and throws as it does.
	using Sender = std::function<void(
	    const ilp::Endpoint &dst, const std::optional<ilp::Endpoint> &sn, std::uint32_t service,
	    std::uint64_t conn, std::span<const std::uint8_t> md,
	    std::span<const std::uint8_t> payload)>;
	// Where the server reports what no app is told; one line.
	using Log = std::function<void(const std::string &message)>;

	// Binds and listens on @path (a stale socket file there is replaced;
	// its directory is made if missing), mode 0666, and starts the
	// thread.  Throws ilp::Error naming the path.  Without @send (a kernel
	// node) apps get EOPNOTSUPP for all but CONTROL; without @control,
	// for CONTROL.
	AppServer(std::filesystem::path path, Sender send, Log log = {}, Controller control = {});
	// Stops the thread, closes every app's channels and removes @path.
	~AppServer() override;
	AppServer(const AppServer &) = delete;
	AppServer &operator=(const AppServer &) = delete;

	const std::filesystem::path &path() const noexcept { return path_; }
	AppStats stats() const;

	bool claims(std::uint32_t service, std::uint64_t conn) override;
	void deliver(const Miss &packet) override;

private:
	struct Client;
	using Key = std::pair<std::uint32_t, std::uint64_t>;

	void run();
	void accept_clients();
	// False when the app is gone (or broke the protocol) and must go.
	bool serve(const std::shared_ptr<Client> &c);
	// The errno of the reply; EPROTO also ends the connection.
	int handle(Client &c, std::span<const std::byte> msg, udp::Fd &passed);
	int bind(Client &c, std::uint32_t service, std::uint64_t conn);
	int autobind(Client &c, std::uint32_t service, std::uint64_t conn);
	void drop_client(const std::shared_ptr<Client> &c);
	// Hands a CONTROL to the Controller; false when it was answered at
	// once (with *@err), true when the answer comes later.
	bool start_control(const std::shared_ptr<Client> &c, const ilp::app::MsgHeader &h,
			   std::span<const std::byte> payload, int &err);
	std::shared_ptr<Client> lookup(std::uint32_t service, std::uint64_t conn) const;

	std::filesystem::path path_;
	Sender send_;
	Log log_;
	Controller control_;
	// Where answered CONTROLs tell the server thread to poll their
	// apps again; shared with the Controller's callbacks, which may
	// outlive the server.
	struct Answered;
	std::shared_ptr<Answered> answered_;
	udp::Fd listen_;
	udp::Fd stop_; // an eventfd: readable when the thread must stop

	mutable WriterFirstMutex mu_; // bindings_; taken by receive threads
	std::map<Key, std::shared_ptr<Client>> bindings_;
	std::vector<std::shared_ptr<Client>> clients_; // the server thread's
	std::vector<std::byte> buf_;                   // one request
	std::uint64_t refused_ = 0;                    // apps over the limit

	std::atomic<std::uint64_t> clients_now_{0}, delivered_{0}, dropped_{0}, sent_{0},
	    send_errors_{0};
	std::thread thread_;
};

} // namespace ilpd
