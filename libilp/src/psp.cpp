// SPDX-License-Identifier: LGPL-2.1-or-later
#include "ilp/psp.hpp"

#include <algorithm>
#include <cerrno>
#include <string>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "ilp/error.hpp"

namespace ilp::psp
{

namespace
{

[[noreturn]] void openssl_failed(const char *what)
{
	char buf[256] = "unknown error";
	ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
	throw Error(EIO, std::string("PSP: ") + what + ": " + buf);
}

struct CtxDeleter {
	void operator()(EVP_CIPHER_CTX *c) const noexcept { EVP_CIPHER_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

const EVP_CIPHER *cipher_for(Version v)
{
	return v == Version::AesGcm128 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
}

int as_int(std::size_t n)
{
	return static_cast<int>(n);
}

} // namespace

struct Aead::Contexts {
	CtxPtr enc;
	CtxPtr dec;
};

Aead::Aead(Version version, std::span<const std::uint8_t> key) : ctx_(std::make_unique<Contexts>())
{
	if (key.size() != key_size(version))
		throw Error(EINVAL, "PSP: key of " + std::to_string(key.size()) +
					" bytes for a version that takes " +
					std::to_string(key_size(version)));
	ctx_->enc.reset(EVP_CIPHER_CTX_new());
	ctx_->dec.reset(EVP_CIPHER_CTX_new());
	if (!ctx_->enc || !ctx_->dec)
		openssl_failed("EVP_CIPHER_CTX_new");
	// Key schedule once; each packet only sets its nonce.
	if (!EVP_EncryptInit_ex(ctx_->enc.get(), cipher_for(version), nullptr, key.data(),
				nullptr) ||
	    !EVP_DecryptInit_ex(ctx_->dec.get(), cipher_for(version), nullptr, key.data(), nullptr))
		openssl_failed("AES-GCM key set-up");
}

Aead::Aead(Aead &&) noexcept = default;
Aead &Aead::operator=(Aead &&) noexcept = default;
Aead::~Aead() = default;

bool Aead::seal(std::span<std::uint8_t> pkt, const ilpw_psp_layout &layout,
		const std::uint8_t (&nonce)[ILPW_PSP_NONCE_LEN], const std::uint8_t *src)
{
	EVP_CIPHER_CTX *c = ctx_->enc.get();
	std::uint8_t *ct = pkt.data() + layout.aad_len;
	int n = 0;
	if (!EVP_EncryptInit_ex(c, nullptr, nullptr, nullptr, nonce) ||
	    !EVP_EncryptUpdate(c, nullptr, &n, pkt.data(), as_int(layout.aad_len)) ||
	    !EVP_EncryptUpdate(c, ct, &n, src ? src : ct, as_int(layout.ct_len)) ||
	    !EVP_EncryptFinal_ex(c, ct + n, &n) ||
	    !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, ILPW_PSP_ICV_LEN,
				 pkt.data() + layout.icv_off))
		return false;
	return true;
}

bool Aead::open(std::span<std::uint8_t> pkt, const ilpw_psp_layout &layout,
		const std::uint8_t (&nonce)[ILPW_PSP_NONCE_LEN])
{
	EVP_CIPHER_CTX *c = ctx_->dec.get();
	std::uint8_t *ct = pkt.data() + layout.aad_len;
	int n = 0;
	if (!EVP_DecryptInit_ex(c, nullptr, nullptr, nullptr, nonce) ||
	    !EVP_DecryptUpdate(c, nullptr, &n, pkt.data(), as_int(layout.aad_len)) ||
	    !EVP_DecryptUpdate(c, ct, &n, ct, as_int(layout.ct_len)) ||
	    !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, ILPW_PSP_ICV_LEN,
				 pkt.data() + layout.icv_off))
		return false;
	// Final checks the tag (OpenSSL compares it in constant time).
	return EVP_DecryptFinal_ex(c, ct + n, &n) == 1;
}

std::optional<std::uint64_t> IvCounter::take() noexcept
{
	std::uint64_t iv = next_.fetch_add(1, std::memory_order_relaxed);
	if (iv == 0) { // wrapped: every IV has been used
		next_.store(0, std::memory_order_relaxed);
		return std::nullopt;
	}
	return iv;
}

TxSa::TxSa(std::uint32_t spi, Version version, std::span<const std::uint8_t> key, TxOptions opts)
    : spi_(spi), version_(version), opts_(opts), aead_(version, key)
{
	if (!(spi & 0x7fffffffu))
		throw Error(EINVAL,
			    "PSP: SPI " + std::to_string(spi) + " has its low 31 bits zero");
	if (opts.crypt_off > ILPW_PSP_MAX_CRYPT_OFF)
		throw Error(EINVAL, "PSP: crypt offset above 63 words");
}

std::size_t TxSa::sealed_size(std::size_t payload_len) const noexcept
{
	return ILPW_PSP_HDR_LEN + (opts_.vc ? ILPW_PSP_VC_LEN : 0) + payload_len + ILPW_PSP_ICV_LEN;
}

ilpw_err TxSa::seal(std::span<const std::uint8_t> payload, std::span<std::uint8_t> out,
		    std::size_t &out_len)
{
	auto iv = iv_.take();
	if (!iv)
		return ILPW_E_INVAL;
	ilpw_psp psp{};
	psp.next_hdr = ILPW_PSP_NEXTHDR_ILP;
	psp.crypt_off = opts_.crypt_off;
	psp.version = static_cast<std::uint8_t>(version_);
	psp.has_vc = opts_.vc.has_value();
	psp.vc = opts_.vc.value_or(0);
	psp.spi = spi_;
	psp.iv = *iv;
	ilpw_psp_layout layout;
	if (auto err = ilpw_psp_build(out.data(), out.size(), &psp, payload.size(), &layout))
		return err;
	// Encrypt straight from @payload; only a clear prefix (crypt offset)
	// is copied.  With a VC inside the encrypted region the plaintext is
	// not contiguous, so that rare case is copied whole and sealed in place.
	const std::uint8_t *src = nullptr;
	if (layout.aad_len >= layout.hdr_len) {
		std::size_t clear = layout.aad_len - layout.hdr_len;
		std::copy_n(payload.begin(), clear, out.begin() + layout.hdr_len);
		src = payload.data() + clear;
	} else {
		std::copy(payload.begin(), payload.end(), out.begin() + layout.hdr_len);
	}
	std::uint8_t nonce[ILPW_PSP_NONCE_LEN];
	ilpw_psp_nonce(&psp, nonce);
	if (!aead_.seal(out.first(layout.icv_off + ILPW_PSP_ICV_LEN), layout, nonce, src))
		openssl_failed("AES-GCM seal");
	out_len = layout.icv_off + ILPW_PSP_ICV_LEN;
	return ILPW_OK;
}

Receiver::Receiver(bool track_spis) : track_spis_(track_spis) {}

void Receiver::forget_slot(unsigned slot)
{
	std::erase_if(cache_, [slot](const auto &kv) {
		return (static_cast<std::uint32_t>(kv.first) >> 31) == slot;
	});
}

void Receiver::set_master_key(unsigned slot, const MasterKey &key)
{
	if (slot > 1)
		throw Error(EINVAL, "PSP: master key slot must be 0 or 1");
	forget_slot(slot);
	keys_[slot] = key;
	next_spi_[slot] = 1; // a new key starts a new SPI space
	active_ = slot;
}

void Receiver::rotate(const MasterKey &fresh)
{
	set_master_key(active_ ^ 1u, fresh);
}

std::uint32_t Receiver::allocate_spi()
{
	if (!keys_[active_])
		throw Error(ENOKEY, "PSP: no master key to allocate an SPI under");
	if (next_spi_[active_] > 0x7fffffffu)
		throw Error(ENOSPC, "PSP: every SPI under this master key is used; rotate the key");
	return active_ << 31 | next_spi_[active_]++;
}

SaKey Receiver::sa_key(std::uint32_t spi, Version version) const
{
	unsigned slot = spi >> 31;
	if (!keys_[slot])
		throw Error(ENOKEY, "PSP: no master key in slot " + std::to_string(slot));
	MasterKeys mk;
	mk.key[slot] = *keys_[slot];
	return derive_sa_key(mk, spi, version);
}

Aead &Receiver::aead_for(std::uint32_t spi, Version version)
{
	std::uint64_t id = std::uint64_t(static_cast<unsigned>(version)) << 32 | spi;
	auto it = cache_.find(id);
	if (it != cache_.end())
		return it->second;
	if (cache_.size() >= cache_limit)
		cache_.erase(cache_.begin()); // any entry: it is only a cache
	auto key = sa_key(spi, version);
	return cache_.try_emplace(id, version, key.bytes()).first->second;
}

ilpw_err Receiver::open(std::span<std::uint8_t> pkt, Opened &out)
{
	ilpw_psp_layout layout;
	if (auto err = ilpw_psp_parse(pkt.data(), pkt.size(), &out.psp, &layout))
		return err;
	unsigned slot = out.psp.spi >> 31;
	if (!keys_[slot])
		return ILPW_E_PSP_NO_KEY;
	if (track_spis_ && (out.psp.spi & 0x7fffffffu) >= next_spi_[slot])
		return ILPW_E_PSP_UNKNOWN_SPI;
	std::uint8_t nonce[ILPW_PSP_NONCE_LEN];
	ilpw_psp_nonce(&out.psp, nonce);
	auto version = static_cast<Version>(out.psp.version);
	if (!aead_for(out.psp.spi, version).open(pkt, layout, nonce))
		return ILPW_E_PSP_AUTH;
	ilpw_psp_read_vc(pkt.data(), &out.psp);
	out.plaintext = pkt.subspan(layout.hdr_len, layout.icv_off - layout.hdr_len);
	return ILPW_OK;
}

} // namespace ilp::psp
