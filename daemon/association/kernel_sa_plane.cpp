// SPDX-License-Identifier: GPL-2.0-or-later
//
// The SaPlane of ilp.ko: each call is one netlink request to the
// namespace's instance, as ilpctl would make it.
#include <cerrno>

#include <ilp/error.hpp>
#include <ilp/events.hpp>

#include "association/sa_plane.hpp"

namespace ilpd
{

namespace
{

bool is_errno(const std::system_error &e, int err)
{
	return e.code().value() == err;
}

class KernelSaPlane : public SaPlane
{
public:
	std::string kind() const override { return "kernel"; }

	void ensure_master_key() override
	{
		auto keys = ctl_.keys();
		if (!keys.present[0] && !keys.present[1])
			ctl_.key_generate(0, true);
	}

	ilp::RxSa allocate(ilp::psp::Version version, const ilp::Endpoint &peer) override
	{
		return ctl_.sa_alloc(version, peer);
	}

	void install_tx(const ilp::Endpoint &peer, const ilp::TxSaSpec &tx) override
	{
		try {
			ctl_.peer_set(peer, tx);
		} catch (const ilp::Error &e) {
			if (!is_errno(e, ENOENT))
				throw;
			ctl_.peer_add(peer, tx);
		}
	}

	bool retire_rx(std::uint32_t spi) override
	{
		try {
			ctl_.sa_del(spi);
			return true;
		} catch (const ilp::Error &e) {
			if (is_errno(e, ENOENT))
				return false;
			throw;
		}
	}

	bool remove_peer(const ilp::Endpoint &peer) override
	{
		try {
			ctl_.peer_del(peer);
			return true;
		} catch (const ilp::Error &e) {
			if (is_errno(e, ENOENT))
				return false;
			throw;
		}
	}

	void set_direct(const ilp::Endpoint &peer, bool direct) override
	{
		ctl_.peer_set_direct(peer, direct);
	}

	void set_sn(const std::optional<ilp::Endpoint> &sn) override { ctl_.instance_set_sn(sn); }

	std::optional<ilp::Endpoint> sn() override
	{
		auto inst = ctl_.instance();
		return inst ? inst->default_sn : std::nullopt;
	}

	void rotate_master_key() override { ctl_.key_rotate(); }

	TrafficSnapshot traffic() override
	{
		TrafficSnapshot t;
		for (const auto &sa : ctl_.sas())
			t.rx[sa.spi] = {sa.packets, sa.bytes};
		for (const auto &p : ctl_.peers())
			t.tx[p.endpoint.to_string()] = {p.tx_packets, p.tx_bytes};
		return t;
	}

	// The events group needs CAP_NET_ADMIN, as every other call here.
	int exhaustion_fd() override { return events_.fd(); }

	std::vector<ilp::Endpoint> exhausted() override
	{
		std::vector<ilp::Endpoint> peers;
		for (const auto &e : events_.read())
			peers.push_back(e.peer);
		return peers;
	}

private:
	ilp::Control ctl_;
	ilp::SaEvents events_;
};

} // namespace

std::unique_ptr<SaPlane> make_kernel_sa_plane()
{
	return std::make_unique<KernelSaPlane>();
}

} // namespace ilpd
