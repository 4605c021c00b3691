// SPDX-License-Identifier: LGPL-2.1-or-later
//
// What a host asks its first-hop SN about groups (docs/multipoint.md):
// join or leave one as a member, register or unregister as a sender, and
// what the SN holds for it.  A request is one line of text, carried as a
// control request to ilpd's own service kGroupService over the host's
// association; the host's ilpd keeps what it joined and asks again when
// the association comes back (the paper's host-driven state
// reconstruction), so an SN's state is rebuilt by its hosts.
//
//	join GROUP [GRANT]        GROUP is KEYHEX:LABEL; GRANT an owner's
//	leave GROUP               grant's text (ilp/group.hpp), needed
//	register GROUP [GRANT]    unless the owner posted the group open
//	unregister GROUP          for the role at the lookup service
//	show                      what the SN holds for this host
//
// The answer's status is 0, or a negative errno with the reason as its
// body: -EPERM (no grant and not open, or a grant that does not hold),
// -EINVAL (not a request), -EAGAIN (the lookup service is out of reach,
// so openness is not known), -EUSERS (the host's groups are at the
// limit), -EBUSY (the host asks too fast).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <ilp/group.hpp>

namespace ilp::group
{

// ilpd's own control service for groups (docs/protocol.md, "Service
// IDs": 0xffffff00 and up are ilpd's).
inline constexpr std::uint32_t kGroupService = 0xffffff03;

struct Request {
	enum class Op { Join, Leave, Register, Unregister, Show };
	Op op = Op::Show;
	Name group;                 // not for Show
	std::optional<Grant> grant; // Join and Register only
	std::string text() const;
};
// A request's line, parsed (the grant not checked), or nullopt and @why.
std::optional<Request> parse_request(const std::string &line, std::string *why = nullptr);
// The role a request acts on (Member for Join/Leave, Sender for the others).
Role role_of(Request::Op op);

// An app's side of a group: its requests go through this node's ilpd
// (its app socket, as control_service() does) to its first-hop SN, and
// ilpd holds what was joined or registered, asking the SN again when the
// SN has forgotten it.  Packets to the group go on its connection with the
// TLV kGroupTlv holding the name's text (docs/multipoint.md):
//
//	auto g = ilp::group::Group(ilp::group::parse_name(text).value());
//	g.join(ilp::group::parse_grant(grant_text));   // or g.join() when open
//	sock.bind(10, g.connection());                 // multicast, service 10
class Group
{
public:
	explicit Group(Name name);
	const Name &name() const noexcept { return name_; }
	// The connection every sender to the group uses (connection_of()).
	std::uint64_t connection() const noexcept { return conn_; }
	// Each throws ilp::Error: the SN's refusal with its errno (EPERM,
	// EAGAIN, EBUSY, EUSERS, ENOENT, EINVAL) and its reason, or what
	// control_service() throws on the way.
	void join(const std::optional<Grant> &grant = std::nullopt);
	void leave();
	void register_sender(const std::optional<Grant> &grant = std::nullopt);
	void unregister_sender();

private:
	void ask(Request::Op op, const std::optional<Grant> &grant);
	Name name_;
	std::uint64_t conn_ = 0;
};

// The TLV naming a packet's group: the name's text.
inline constexpr std::uint16_t kGroupTlv = 0x0101;

} // namespace ilp::group
