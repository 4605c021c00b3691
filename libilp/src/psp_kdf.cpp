// SPDX-License-Identifier: LGPL-2.1-or-later
#include "ilp/psp_kdf.hpp"

#include <cerrno>
#include <memory>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "ilp/error.hpp"

namespace ilp::psp
{

template <std::size_t N>
Secret<N>::Secret(std::span<const std::uint8_t, N> bytes)
{
	std::copy(bytes.begin(), bytes.end(), bytes_.begin());
}

template <std::size_t N>
Secret<N>::~Secret()
{
	OPENSSL_cleanse(bytes_.data(), bytes_.size());
}

template class Secret<32>;

namespace
{

[[noreturn]] void openssl_failed(const char *what)
{
	char buf[256] = "unknown error";
	ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
	throw Error(EIO, std::string("PSP key derivation: ") + what + ": " + buf);
}

struct MacDeleter {
	void operator()(EVP_MAC *m) const noexcept { EVP_MAC_free(m); }
	void operator()(EVP_MAC_CTX *c) const noexcept { EVP_MAC_CTX_free(c); }
};

void put_be32(std::uint8_t *p, std::uint32_t v)
{
	p[0] = static_cast<std::uint8_t>(v >> 24);
	p[1] = static_cast<std::uint8_t>(v >> 16);
	p[2] = static_cast<std::uint8_t>(v >> 8);
	p[3] = static_cast<std::uint8_t>(v);
}

} // namespace

SaKey derive_sa_key(const MasterKeys &masters, std::uint32_t spi, Version version)
{
	std::unique_ptr<EVP_MAC, MacDeleter> mac(EVP_MAC_fetch(nullptr, "CMAC", nullptr));
	if (!mac)
		openssl_failed("CMAC unavailable");
	std::unique_ptr<EVP_MAC_CTX, MacDeleter> ctx(EVP_MAC_CTX_new(mac.get()));
	if (!ctx)
		openssl_failed("EVP_MAC_CTX_new");

	char cipher[] = "AES-256-CBC";
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher, 0),
	    OSSL_PARAM_construct_end(),
	};
	const MasterKey &master = masters.key[spi >> 31];
	SaKey out{{}, key_size(version)};
	const std::uint32_t bits = static_cast<std::uint32_t>(out.size * 8);

	// One CMAC block per 128 bits of key: counter || label || SPI || length.
	for (std::uint32_t counter = 1; counter <= out.size / 16; counter++) {
		std::uint8_t input[16];
		put_be32(input, counter);
		input[4] = 'P';
		input[5] = 'v';
		input[6] = version == Version::AesGcm128 ? '0' : '1';
		input[7] = 0;
		put_be32(input + 8, spi);
		put_be32(input + 12, bits);

		std::size_t len = 0;
		auto dst = out.key.bytes().subspan((counter - 1) * 16, 16);
		if (!EVP_MAC_init(ctx.get(), master.bytes().data(), master.bytes().size(),
				  params) ||
		    !EVP_MAC_update(ctx.get(), input, sizeof(input)) ||
		    !EVP_MAC_final(ctx.get(), dst.data(), &len, dst.size()) || len != 16)
			openssl_failed("AES-256-CMAC");
	}
	return out;
}

} // namespace ilp::psp
