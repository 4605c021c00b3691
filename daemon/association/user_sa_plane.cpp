// SPDX-License-Identifier: GPL-2.0-or-later
//
// The SaPlane of the userspace datapath: its own tables, changed in place
// as the control socket's commands change them.
#include <cerrno>

#include <ilp/error.hpp>

#include "association/sa_plane.hpp"
#include "datapath/user_datapath.hpp"

namespace ilpd
{

namespace
{

class UserSaPlane : public SaPlane
{
public:
	explicit UserSaPlane(UserDatapath &dp) : dp_(dp) {}

	std::string kind() const override { return "user"; }

	void ensure_master_key() override
	{
		auto keys = dp_.rx_sas().snapshot();
		if (!keys->keys[0] && !keys->keys[1])
			dp_.rx_sas().generate(0, true);
	}

	ilp::RxSa allocate(ilp::psp::Version version, const ilp::Endpoint &peer) override
	{
		auto a = dp_.rx_sas().allocate(version, peer);
		ilp::RxSa sa;
		sa.spi = a.sa.spi;
		sa.version = a.sa.version;
		sa.peer = a.sa.peer;
		sa.key = a.key;
		return sa;
	}

	void install_tx(const ilp::Endpoint &peer, const ilp::TxSaSpec &tx) override
	{
		UserDatapath::TxSaSpec spec;
		spec.spi = tx.spi;
		spec.version = tx.version;
		spec.key = tx.key;
		try {
			dp_.peer_set(peer, spec);
		} catch (const ilp::Error &e) {
			if (e.code().value() != ENOENT)
				throw;
			dp_.peer_add(peer, spec);
		}
	}

	bool retire_rx(std::uint32_t spi) override
	{
		try {
			dp_.rx_sas().remove(spi);
			return true;
		} catch (const ilp::Error &e) {
			if (e.code().value() == ENOENT)
				return false;
			throw;
		}
	}

	bool remove_peer(const ilp::Endpoint &peer) override
	{
		try {
			dp_.peer_del(peer);
			return true;
		} catch (const ilp::Error &e) {
			if (e.code().value() == ENOENT)
				return false;
			throw;
		}
	}

	void set_direct(const ilp::Endpoint &peer, bool direct) override
	{
		dp_.peer_set_direct(peer, direct);
	}

	void set_sn(const std::optional<ilp::Endpoint> &sn) override { dp_.set_sn(sn); }
	std::optional<ilp::Endpoint> sn() override { return dp_.sn(); }

	void rotate_master_key() override { dp_.rx_sas().rotate_generated(); }

	TrafficSnapshot traffic() override
	{
		TrafficSnapshot t;
		for (const auto &sa : dp_.rx_sas().list())
			t.rx[sa.spi] = {sa.traffic->packets.load(std::memory_order_relaxed),
					sa.traffic->bytes.load(std::memory_order_relaxed)};
		for (const auto &p : dp_.peers())
			t.tx[p->endpoint().to_string()] = {
			    p->traffic().packets.load(std::memory_order_relaxed),
			    p->traffic().bytes.load(std::memory_order_relaxed)};
		return t;
	}

private:
	UserDatapath &dp_;
};

} // namespace

std::unique_ptr<SaPlane> make_user_sa_plane(UserDatapath &dp)
{
	return std::make_unique<UserSaPlane>(dp);
}

} // namespace ilpd
