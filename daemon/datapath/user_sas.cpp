// SPDX-License-Identifier: GPL-2.0-or-later
#include "datapath/user_sas.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <linux/ilp.h>

#include <ilp/error.hpp>

namespace ilpd
{

namespace
{

using nlohmann::json;

// SHA-256 of a label and the key, in hex: which key allocations were
// made under, without the key.
std::string fingerprint(const ilp::psp::MasterKey &key)
{
	static const char label[] = "ilpd receive SAs v1";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) &&
		  EVP_DigestUpdate(ctx, label, sizeof(label)) &&
		  EVP_DigestUpdate(ctx, key.bytes().data(), key.bytes().size()) &&
		  EVP_DigestFinal_ex(ctx, md, &len);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		throw ilp::Error(ENOMEM, "SHA-256 failed (OpenSSL)");
	std::string hex;
	char b[3];
	for (unsigned i = 0; i < len; i++) {
		std::snprintf(b, sizeof(b), "%02x", md[i]);
		hex += b;
	}
	return hex;
}

} // namespace

RxSaTable::RxSaTable(std::filesystem::path state) : state_(std::move(state))
{
	load();
	publish();
}

void RxSaTable::load()
{
	if (state_.empty())
		return;
	std::ifstream f(state_);
	if (!f)
		return; // none yet
	std::string text{std::istreambuf_iterator<char>(f), {}};
	auto j = json::parse(text, nullptr, false);
	auto bad = [&](const std::string &why) {
		return ilp::Error(EINVAL, state_.string() + ": " + why +
					      " (remove the file to start afresh: the SAs it "
					      "lists stop working)");
	};
	if (j.is_discarded() || !j.is_object() || !j.contains("keys") || !j["keys"].is_array())
		throw bad("not a receive-SA table");
	try {
		for (const auto &k : j["keys"]) {
			Kept kept;
			kept.next_spi = k.at("next_spi").get<std::uint32_t>();
			for (const auto &s : k.at("sas")) {
				RxSaBinding b;
				b.spi = s.at("spi").get<std::uint32_t>();
				b.version =
				    static_cast<ilp::psp::Version>(s.at("version").get<int>());
				b.peer = ilp::Endpoint::parse(s.at("peer").get<std::string>());
				b.peer.port = 0;
				kept.sas.push_back(b);
			}
			// Absent from files written before SAs could be withdrawn.
			if (auto w = k.find("withdrawn"); w != k.end())
				kept.withdrawn = w->get<std::vector<std::uint32_t>>();
			kept_[k.at("fingerprint").get<std::string>()] = std::move(kept);
		}
	} catch (const std::exception &e) {
		throw bad(e.what());
	}
}

void RxSaTable::save()
{
	if (state_.empty())
		return;
	json keys = json::array();
	for (const auto &[fp, kept] : kept_) {
		json sas = json::array();
		for (const auto &s : kept.sas)
			sas.push_back({{"spi", s.spi},
				       {"version", static_cast<int>(s.version)},
				       {"peer", s.peer.addr_string()}});
		json entry{{"fingerprint", fp}, {"next_spi", kept.next_spi}, {"sas", sas}};
		if (!kept.withdrawn.empty())
			entry["withdrawn"] = kept.withdrawn;
		keys.push_back(std::move(entry));
	}
	std::string text = json{{"keys", keys}}.dump(1) + "\n";
	// A whole new file renamed over the old one: a crash leaves either.
	std::error_code ec;
	std::filesystem::create_directories(state_.parent_path(), ec);
	auto tmp = state_;
	tmp += ".tmp";
	int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		throw ilp::Error(errno,
				 "cannot write " + tmp.string() + ": " + std::strerror(errno));
	bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
		  fsync(fd) == 0;
	int err = errno;
	close(fd);
	if (!ok || rename(tmp.c_str(), state_.c_str()) < 0) {
		err = ok ? errno : err;
		unlink(tmp.c_str());
		throw ilp::Error(err,
				 "cannot write " + state_.string() + ": " + std::strerror(err));
	}
}

void RxSaTable::install(unsigned slot, const ilp::psp::MasterKey &key, bool tracked,
			std::uint32_t first_spi)
{
	keys_[slot] = key;
	tracked_[slot] = tracked;
	generated_[slot] = false;
	fingerprint_[slot] = fingerprint(key);
	Kept &kept = kept_[fingerprint_[slot]];
	kept.next_spi = std::max(kept.next_spi, first_spi & 0x7fffffffu);
}

ilp::psp::MasterKey RxSaTable::random_key()
{
	ilp::psp::MasterKey key;
	if (RAND_bytes(key.bytes().data(), static_cast<int>(key.bytes().size())) != 1)
		throw ilp::Error(EIO, "no random bytes for a master key (OpenSSL)");
	return key;
}

// A generated key numbers on from its slot's previous key, as the
// kernel's does: no SPI number comes back while ilpd runs, so that
// withdrawing a superseded SA by its SPI cannot hit a newer one.
std::uint32_t RxSaTable::slot_next_spi(unsigned slot) const
{
	if (!keys_[slot])
		return 1;
	auto it = kept_.find(fingerprint_[slot]);
	return it == kept_.end() ? 1 : it->second.next_spi;
}

void RxSaTable::generate(unsigned slot, bool make_active)
{
	auto key = random_key();
	std::lock_guard lock(mu_);
	install(slot, key, true, slot_next_spi(slot));
	generated_[slot] = true;
	if (make_active || !keys_[active_])
		active_ = slot;
	save();
	publish();
}

void RxSaTable::rotate_generated()
{
	auto key = random_key();
	std::lock_guard lock(mu_);
	unsigned slot = keys_[active_] ? 1 - active_ : active_;
	install(slot, key, true, slot_next_spi(slot));
	generated_[slot] = true;
	active_ = slot;
	save();
	publish();
}

RxSaTable::SlotInfo RxSaTable::slot_info(unsigned slot) const
{
	std::lock_guard lock(mu_);
	SlotInfo info;
	if (!keys_[slot])
		return info;
	auto it = kept_.find(fingerprint_[slot]);
	info.next_spi = slot << 31 | (it == kept_.end() ? 1 : it->second.next_spi);
	info.generated = generated_[slot];
	return info;
}

void RxSaTable::set_file_keys(const ilp::MasterKeyFile &file)
{
	std::lock_guard lock(mu_);
	// As psp::Receiver::set_master_key: the last slot set is active,
	// slot 0 when the file has both.
	for (unsigned slot : {1u, 0u})
		if (file.present[slot]) {
			install(slot, file.keys.key[slot], false);
			active_ = slot;
		}
	publish();
}

void RxSaTable::set_key(unsigned slot, const ilp::psp::MasterKey &key, bool make_active,
			std::uint32_t first_spi)
{
	std::lock_guard lock(mu_);
	install(slot, key, true, first_spi);
	if (make_active || !keys_[active_])
		active_ = slot;
	save();
	publish();
}

void RxSaTable::rotate(const ilp::psp::MasterKey &key, std::uint32_t first_spi)
{
	std::lock_guard lock(mu_);
	unsigned slot = keys_[active_] ? 1 - active_ : active_;
	install(slot, key, true, first_spi);
	active_ = slot;
	save();
	publish();
}

RxSaTable::Allocated RxSaTable::allocate(ilp::psp::Version version, const ilp::Endpoint &peer)
{
	std::lock_guard lock(mu_);
	if (!keys_[active_])
		throw ilp::Error(ENOKEY, "no master key to allocate an SA under (ilpctl key set)");
	Kept &kept = kept_[fingerprint_[active_]];
	std::size_t live = 0;
	for (unsigned s = 0; s < 2; s++)
		if (keys_[s])
			live += kept_[fingerprint_[s]].sas.size();
	// The kernel's bound, so that both datapaths take the same.
	if (live >= ILP_MAX_RX_SAS)
		throw ilp::Error(ENOSPC,
				 "at most " + std::to_string(ILP_MAX_RX_SAS) +
				     " receive SAs; rotate the master key to let old ones go");
	if (kept.next_spi > 0x7fffffffu)
		throw ilp::Error(ENOSPC, "every SPI under the active master key is allocated; "
					 "rotate the key (ilpctl key rotate)");
	Allocated a;
	a.sa.spi = active_ << 31 | kept.next_spi;
	a.sa.version = version;
	a.sa.peer = peer;
	a.sa.peer.port = 0;
	ilp::psp::MasterKeys mk;
	mk.key[active_] = *keys_[active_];
	a.key = ilp::psp::derive_sa_key(mk, a.sa.spi, version);
	// Kept before it is handed out: a crash must not let it go twice.
	// Not for a generated key, which dies with the process and its SAs
	// with it: writing the whole table per SA made a rotation of N
	// associations cost N^2 (bench/pipes).
	kept.next_spi++;
	kept.sas.push_back(a.sa);
	if (!generated_[active_]) {
		try {
			save();
		} catch (...) {
			kept.sas.pop_back();
			throw;
		}
	}
	publish();
	return a;
}

void RxSaTable::remove(std::uint32_t spi)
{
	std::lock_guard lock(mu_);
	const unsigned slot = spi >> 31;
	auto none = [spi] {
		char text[48];
		std::snprintf(text, sizeof(text), "no such SA: SPI 0x%08x", spi);
		return ilp::Error(ENOENT, text);
	};
	if (!keys_[slot])
		throw none();
	Kept &kept = kept_[fingerprint_[slot]];
	auto it = std::find_if(kept.sas.begin(), kept.sas.end(),
			       [spi](const RxSaBinding &b) { return b.spi == spi; });
	if (it == kept.sas.end())
		throw none();
	const auto pos = it - kept.sas.begin();
	const RxSaBinding gone = *it;
	kept.sas.erase(it);
	// A file key's slot takes SPIs nobody allocated here: without this,
	// the withdrawn one would be taken again, bound to nobody.
	const bool remember = !tracked_[slot];
	if (remember)
		kept.withdrawn.push_back(spi);
	try {
		if (!generated_[slot])
			save();
	} catch (...) {
		kept.sas.insert(kept.sas.begin() + pos, gone);
		if (remember)
			kept.withdrawn.pop_back();
		throw;
	}
	publish();
}

std::vector<RxSaBinding> RxSaTable::list() const
{
	auto snap = snapshot();
	std::vector<RxSaBinding> out;
	for (const auto &[spi, b] : snap->sas)
		out.push_back(b);
	std::sort(out.begin(), out.end(),
		  [](const auto &a, const auto &b) { return a.spi < b.spi; });
	return out;
}

void RxSaTable::publish()
{
	auto s = std::make_shared<RxKeys>();
	s->generation = ++generation_;
	s->active = active_;
	for (unsigned slot = 0; slot < 2; slot++) {
		s->keys[slot] = keys_[slot];
		s->tracked[slot] = tracked_[slot];
		if (!keys_[slot])
			continue;
		const Kept &kept = kept_[fingerprint_[slot]];
		for (const auto &b : kept.sas)
			if (b.spi >> 31 == slot)
				s->sas[b.spi] = b;
		if (!tracked_[slot])
			for (auto spi : kept.withdrawn)
				if (spi >> 31 == slot)
					s->withdrawn.insert(spi);
	}
	snap_.store(std::move(s));
}

} // namespace ilpd
