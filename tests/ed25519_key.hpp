// SPDX-License-Identifier: GPL-2.0-or-later
//
// A fresh Ed25519 private key in a PEM file, as `openssl genpkey
// -algorithm ed25519` writes it: a group owner's key for the tests.
#pragma once

#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/pem.h>

inline std::filesystem::path new_ed25519_key(const std::filesystem::path &file)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
	FILE *f = std::fopen(file.c_str(), "w");
	bool ok = k && f && PEM_write_PrivateKey(f, k, nullptr, nullptr, 0, nullptr, nullptr);
	if (f)
		std::fclose(f);
	EVP_PKEY_free(k);
	if (!ok)
		throw std::runtime_error("cannot make an Ed25519 key");
	return file;
}
