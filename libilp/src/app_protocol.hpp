// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The app socket's wire protocol (docs/app-socket.md): how ilp::Socket
// talks to the local ilpd when the kernel has no AF_ILP.  Shared by
// libilp's client side and ilpd's server side; never leaves the machine,
// so fields are in the host's byte order.
//
// Two SOCK_SEQPACKET channels per socket, one message per packet:
//   - the control connection to ilpd's app socket: requests (HELLO, BIND,
//     CONNECT, SEND), each answered by one REPLY, in order;
//   - the data channel: a socketpair whose one end HELLO hands to ilpd
//     (SCM_RIGHTS); ilpd writes DATA to it, the app reads and polls it.
// Keeping replies off the data channel is what lets fd() be polled for
// packets alone.  A connection may also carry out-of-band service control
// (CONTROL, answered by a REPLY with the module's status and answer),
// without HELLO: ilp::control_service() opens one for each request.
#pragma once

#include <cstddef>
#include <cstdint>

#include <linux/ilp.h>

namespace ilp::app
{

constexpr std::uint8_t protocol_version = 1;

enum class MsgType : std::uint8_t {
	Hello = 1,   // app -> ilpd; carries the data channel's fd
	Bind = 2,    // app -> ilpd; addr: service and conn
	Connect = 3, // app -> ilpd; addr: destination (binds as a send would)
	Send = 4,    // app -> ilpd; addr: destination; metadata, payload
	Reply = 5,   // ilpd -> app; error; addr: the socket's bound address
	Data = 6,    // ilpd -> app, data channel; addr: sender; TLVs, payload
	Control = 7, // app -> ilpd; addr: service, optional SN; the request
};

// CONTROL's flags: the request is for this node's own module, not an SN's.
constexpr std::uint16_t control_local = 1;
// The most a CONTROL request carries (the control channel's SVC_REQ).
constexpr std::size_t max_control_request = 1000;

// Every message starts with this header; md_len bytes of TLVs follow, and
// the rest of the message is the payload.
struct MsgHeader {
	std::uint8_t version = protocol_version;
	MsgType type = MsgType::Reply;
	std::uint16_t flags = 0; // CONTROL: control_local; else 0
	std::int32_t error = 0;  // Reply: 0 or a positive errno
	std::uint32_t md_len = 0;
	// The REPLY to a CONTROL that the module answered: its status (0 or
	// a negative errno); else 0.
	std::int32_t status = 0;
	// silp_family is not used (0): the fields are those of AF_ILP.
	sockaddr_ilp addr{};
};
static_assert(sizeof(MsgHeader) == 80, "the wire header's size is part of the protocol");

// The largest message: the header, a packet's whole TLV area, a payload.
constexpr std::size_t max_message = sizeof(MsgHeader) + 65535 + 65535;

// The default app socket: ilpd's run directory, and the environment
// variables that override the path and the transport.
constexpr const char *default_path = "/run/ilp/app.sock";
constexpr const char *path_env = "ILP_APP_SOCKET";
constexpr const char *transport_env = "ILP_TRANSPORT";

} // namespace ilp::app
