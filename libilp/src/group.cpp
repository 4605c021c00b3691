// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Group names and owners' signatures: Ed25519 with OpenSSL's one-shot
// EVP_DigestSign and EVP_DigestVerify (Ed25519 takes the whole message).
#include <charconv>
#include <cstdio>
#include <vector>

#include <arpa/inet.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <ilp/error.hpp>
#include <ilp/group.hpp>

namespace ilp::group
{

struct Owner::Key {
	EVP_PKEY *pkey = nullptr;
	~Key() { EVP_PKEY_free(pkey); }
};

std::string hex(const std::uint8_t *p, std::size_t n)
{
	static const char digits[] = "0123456789abcdef";
	std::string out;
	for (std::size_t i = 0; i < n; i++) {
		out += digits[p[i] >> 4];
		out += digits[p[i] & 15];
	}
	return out;
}

bool unhex(const std::string &text, std::uint8_t *out, std::size_t n)
{
	if (text.size() != 2 * n)
		return false;
	auto nibble = [](char c) -> int {
		if (c >= '0' && c <= '9')
			return c - '0';
		if (c >= 'a' && c <= 'f')
			return c - 'a' + 10;
		return -1;
	};
	for (std::size_t i = 0; i < n; i++) {
		int hi = nibble(text[2 * i]), lo = nibble(text[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
	}
	return true;
}

bool is_word(const std::string &s, std::size_t max)
{
	if (s.empty() || s.size() > max)
		return false;
	for (char c : s)
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	return true;
}

std::string Name::text() const
{
	return hex(key.data(), key.size()) + ":" + label;
}

std::optional<Name> parse_name(const std::string &text, std::string *why)
{
	auto fail = [&](const char *what) -> std::optional<Name> {
		if (why)
			*why = what;
		return std::nullopt;
	};
	auto colon = text.find(':');
	Name n;
	if (colon != 2 * kKeySize || !unhex(text.substr(0, colon), n.key.data(), kKeySize))
		return fail("a group name is KEYHEX:LABEL, with 64 lowercase hex digits of the "
			    "owner's Ed25519 key");
	n.label = text.substr(colon + 1);
	if (!is_word(n.label))
		return fail("a group's label is 1 to 64 of [a-z0-9._-]");
	return n;
}

std::string statement_message(const Name &group, const std::string &id, const std::string &text)
{
	const std::string name = group.text();
	std::string m = "ILP group statement";
	for (const std::string *part : {&name, &id, &text}) {
		m += '\0';
		m += *part;
	}
	return m;
}

bool verify(const PublicKey &key, const std::string &message, const Signature &sig)
{
	std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
	    EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.data(), key.size()),
	    EVP_PKEY_free);
	std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
								    EVP_MD_CTX_free);
	if (!pkey || !ctx ||
	    EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1)
		return false;
	return EVP_DigestVerify(ctx.get(), sig.data(), sig.size(),
				reinterpret_cast<const unsigned char *>(message.data()),
				message.size()) == 1;
}

std::uint64_t connection_of(const Name &group)
{
	const auto text = group.text();
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256(reinterpret_cast<const unsigned char *>(text.data()), text.size(), md);
	std::uint64_t c = 0;
	for (int i = 0; i < 8; i++)
		c = c << 8 | md[i];
	return c;
}

const char *role_name(Role r)
{
	return r == Role::Member ? "member" : "sender";
}

std::optional<Role> parse_role(const std::string &text)
{
	if (text == "member")
		return Role::Member;
	if (text == "sender")
		return Role::Sender;
	return std::nullopt;
}

std::string open_statement_id(Role r)
{
	return std::string("open.") + role_name(r);
}

namespace
{
constexpr const char *kGrantTag = "ilp-grant-1";
} // namespace

std::optional<std::string> canonical_host(const std::string &text)
{
	if (text.empty() || text.size() > kMaxHost)
		return std::nullopt;
	char out[INET6_ADDRSTRLEN];
	in6_addr a6{};
	in_addr a4{};
	if (inet_pton(AF_INET, text.c_str(), &a4) == 1)
		return inet_ntop(AF_INET, &a4, out, sizeof(out));
	if (inet_pton(AF_INET6, text.c_str(), &a6) == 1)
		return inet_ntop(AF_INET6, &a6, out, sizeof(out));
	return std::nullopt;
}

std::string grant_message(const Name &group, Role role, const std::string &host,
			  std::uint64_t expires)
{
	const std::string name = group.text(), when = std::to_string(expires);
	std::string m = "ILP group grant";
	for (const std::string *part : {&name, &host, &when}) {
		m += '\0';
		m += *part;
	}
	m += '\0';
	m += role_name(role);
	return m;
}

std::string Grant::text() const
{
	return std::string(kGrantTag) + " " + role_name(role) + " " + group.text() + " " + host +
	       " " + std::to_string(expires) + " " + hex(sig.data(), sig.size());
}

std::optional<Grant> parse_grant(const std::string &text, std::string *why)
{
	auto fail = [&](const std::string &what) -> std::optional<Grant> {
		if (why)
			*why = what;
		return std::nullopt;
	};
	std::vector<std::string> f;
	std::size_t at = 0;
	while (at <= text.size() && f.size() < 7) {
		auto sp = text.find(' ', at);
		f.push_back(text.substr(at, sp == std::string::npos ? std::string::npos : sp - at));
		if (sp == std::string::npos)
			break;
		at = sp + 1;
	}
	if (f.size() != 6 || f[0] != kGrantTag)
		return fail(std::string("a grant is '") + kGrantTag +
			    " ROLE GROUP HOST EXPIRES SIGNATURE'");
	Grant g;
	auto role = parse_role(f[1]);
	if (!role)
		return fail("a grant's role is member or sender, not '" + f[1] + "'");
	g.role = *role;
	std::string bad;
	auto name = parse_name(f[2], &bad);
	if (!name)
		return fail(bad);
	g.group = *name;
	auto host = canonical_host(f[3]);
	if (!host || *host != f[3])
		return fail("a grant's host is an ILP address as inet_ntop writes it, not '" +
			    f[3] + "'");
	g.host = *host;
	const auto &e = f[4];
	auto [end, ec] = std::from_chars(e.data(), e.data() + e.size(), g.expires);
	if (e.empty() || ec != std::errc() || end != e.data() + e.size())
		return fail("a grant's expiry is Unix time in seconds, not '" + e + "'");
	if (!unhex(f[5], g.sig.data(), g.sig.size()))
		return fail("a grant's signature is 128 lowercase hex digits");
	return g;
}

std::optional<std::string> check_grant(const Grant &g, Role role, const std::string &host,
				       std::uint64_t now)
{
	if (g.role != role)
		return std::string("the grant is for a ") + role_name(g.role) + ", not a " +
		       role_name(role);
	if (g.host != host)
		return "the grant is for host " + g.host + ", not " + host;
	if (!verify(g.group.key, grant_message(g.group, g.role, g.host, g.expires), g.sig))
		return std::string("the grant's signature is not the group owner's");
	if (g.expires <= now)
		return "the grant expired at " + std::to_string(g.expires);
	return std::nullopt;
}

Grant make_grant(const Owner &owner, const std::string &label, Role role, const std::string &host,
		 std::uint64_t expires)
{
	if (!is_word(label))
		throw Error(EINVAL,
			    "a group's label is 1 to 64 of [a-z0-9._-], not '" + label + "'");
	auto canonical = canonical_host(host);
	if (!canonical)
		throw Error(EINVAL, "a grant's host is an ILP address, not '" + host + "'");
	Grant g{Name{owner.public_key(), label}, role, *canonical, expires, {}};
	g.sig = owner.sign(grant_message(g.group, role, g.host, expires));
	return g;
}

Owner::Owner(std::unique_ptr<Key> key) : key_(std::move(key)) {}
Owner::Owner(Owner &&) noexcept = default;
Owner &Owner::operator=(Owner &&) noexcept = default;
Owner::~Owner() = default;

Owner Owner::load(const std::string &pem_file)
{
	std::unique_ptr<FILE, decltype(&std::fclose)> f(std::fopen(pem_file.c_str(), "r"),
							std::fclose);
	if (!f)
		throw Error(errno, pem_file + ": cannot open");
	auto key = std::make_unique<Key>();
	key->pkey = PEM_read_PrivateKey(f.get(), nullptr, nullptr, nullptr);
	if (!key->pkey || EVP_PKEY_id(key->pkey) != EVP_PKEY_ED25519)
		throw Error(EINVAL, pem_file + ": not an Ed25519 private key in PEM "
					       "(openssl genpkey -algorithm ed25519)");
	Owner o(std::move(key));
	std::size_t len = o.public_.size();
	if (EVP_PKEY_get_raw_public_key(o.key_->pkey, o.public_.data(), &len) != 1 ||
	    len != o.public_.size())
		throw Error(EINVAL, pem_file + ": its public key cannot be read");
	return o;
}

Signature Owner::sign(const std::string &message) const
{
	std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
								    EVP_MD_CTX_free);
	Signature sig{};
	std::size_t len = sig.size();
	if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_->pkey) != 1 ||
	    EVP_DigestSign(ctx.get(), sig.data(), &len,
			   reinterpret_cast<const unsigned char *>(message.data()),
			   message.size()) != 1 ||
	    len != sig.size())
		throw Error(EIO, "Ed25519 signing failed");
	return sig;
}

} // namespace ilp::group
