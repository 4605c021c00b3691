// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Group names and owners' signatures: Ed25519 with OpenSSL's one-shot
// EVP_DigestSign and EVP_DigestVerify (Ed25519 takes the whole message).
#include <cstdio>

#include <openssl/evp.h>
#include <openssl/pem.h>

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
