// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Groups (docs/edomains.md, "Groups at the lookup service"): a group is
// named by its owner's Ed25519 public key and a label, "KEYHEX:LABEL",
// and its owner signs what it states about it with the private key.
// What an owner's tool needs, and what ilpd checks:
//
//	auto owner = ilp::group::Owner::load("owner.pem");  // openssl genpkey -algorithm ed25519
//	ilp::group::Name g{owner.public_key(), "news"};
//	auto sig = owner.sign(ilp::group::statement_message(g, "open", "open"));
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace ilp::group
{

inline constexpr std::size_t kKeySize = 32;  // an Ed25519 public key
inline constexpr std::size_t kSigSize = 64;  // an Ed25519 signature
inline constexpr std::size_t kMaxLabel = 64; // [a-z0-9._-]

using PublicKey = std::array<std::uint8_t, kKeySize>;
using Signature = std::array<std::uint8_t, kSigSize>;

struct Name {
	PublicKey key{};
	std::string label;
	std::string text() const; // "KEYHEX:LABEL"
};
// "KEYHEX:LABEL" (64 lowercase hex digits, then 1 to 64 of [a-z0-9._-]),
// or nullopt and @why.
std::optional<Name> parse_name(const std::string &text, std::string *why = nullptr);
// 1 to @max of [a-z0-9._-]: a label, a statement's ID, an edomain.
bool is_word(const std::string &s, std::size_t max = kMaxLabel);

// What an owner signs for a statement @id saying @text about @group:
// a context string and the three, NUL-separated, so that a signature is
// good for that group, ID and text only.
std::string statement_message(const Name &group, const std::string &id, const std::string &text);

bool verify(const PublicKey &key, const std::string &message, const Signature &sig);

// The ILP connection a group's packets travel on, the first 8 bytes of
// SHA-256 over its name's text (big-endian): every sender to a group uses
// it, so that SNs past the first keep one cache entry per group and
// previous hop, and no group can pick another's (docs/multipoint.md).
std::uint64_t connection_of(const Name &group);

// What a host does in a group (docs/multipoint.md): receive what is sent
// to it, or send to it.  Both need the owner's leave: a grant for that
// host, or the owner's statement that the group is open for the role.
enum class Role { Member, Sender };
const char *role_name(Role r); // "member", "sender"
std::optional<Role> parse_role(const std::string &text);
// The statement ID an owner posts, with the text "yes", to open @r to
// any host: "open.member" or "open.sender".
std::string open_statement_id(Role r);

// An owner's grant of @role in @group to one host, named by its ILP
// address as text ("10.1.1.1", "fd00::1"), until @expires (Unix time, in
// seconds).  The host shows it when it joins or registers; its SN checks
// it against the host the request came from, so that a grant copied to
// another host is worth nothing.
struct Grant {
	Name group;
	Role role = Role::Member;
	std::string host;
	std::uint64_t expires = 0;
	Signature sig{};
	// "ilp-grant-1 ROLE GROUP HOST EXPIRES SIGHEX", on one line: what
	// `ilpctl group grant` prints and what a join carries.
	std::string text() const;
};
inline constexpr std::size_t kMaxHost = 64;
// What the owner signs for a grant: a context string and the fields,
// NUL-separated.
std::string grant_message(const Name &group, Role role, const std::string &host,
			  std::uint64_t expires);
// A grant's text, parsed (not checked), or nullopt and @why.
std::optional<Grant> parse_grant(const std::string &text, std::string *why = nullptr);
// Whether @g lets @host act as @role at time @now (Unix seconds): its
// signature is the group owner's, and it is for that role and host and
// not yet expired.  nullopt when it does; else why not.
std::optional<std::string> check_grant(const Grant &g, Role role, const std::string &host,
				       std::uint64_t now);

// An owner's Ed25519 private key, from a PEM file.
class Owner
{
public:
	// Throws ilp::Error naming @pem_file when it cannot be read or is
	// not an Ed25519 private key.
	static Owner load(const std::string &pem_file);
	Owner(Owner &&) noexcept;
	Owner &operator=(Owner &&) noexcept;
	~Owner();

	const PublicKey &public_key() const noexcept { return public_; }
	Signature sign(const std::string &message) const;

private:
	struct Key;
	explicit Owner(std::unique_ptr<Key> key);
	std::unique_ptr<Key> key_;
	PublicKey public_{};
};

// The owner signs a grant of @role in its group @label to @host (any
// form inet_pton takes; the grant holds inet_ntop's).  Throws ilp::Error
// (EINVAL) for a bad label or host.
Grant make_grant(const Owner &owner, const std::string &label, Role role, const std::string &host,
		 std::uint64_t expires);
// @text as inet_ntop writes it back (IPv4, else IPv6), or nullopt.
std::optional<std::string> canonical_host(const std::string &text);

std::string hex(const std::uint8_t *p, std::size_t n);
// @text as exactly @n bytes of lowercase hex into @out, or false.
bool unhex(const std::string &text, std::uint8_t *out, std::size_t n);

} // namespace ilp::group
