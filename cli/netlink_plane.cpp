// SPDX-License-Identifier: GPL-2.0-or-later
//
// The kernel plane: ilp.ko through libilp's netlink client, ilp::Control.
#include <cerrno>

#include <ilp/control.hpp>
#include <ilp/error.hpp>

#include "plane.hpp"

namespace ilpctl
{

namespace
{

class NetlinkPlane : public Plane
{
public:
	model::Plane describe() override
	{
		model::Plane p;
		p.name = "kernel";
		p.where = "netlink family " ILP_GENL_NAME;
		p.module = ctl_.version();
		return p;
	}

	model::Stats stats() override { return ctl_.stats(); }
	void reset_stats() override { ctl_.reset_stats(); }

	void instance_add(std::optional<std::uint16_t> port) override { ctl_.instance_add(port); }
	void instance_del() override { ctl_.instance_del(); }
	std::optional<model::Instance> instance() override { return ctl_.instance(); }
	void instance_set_sn(const std::optional<ilp::Endpoint> &sn) override
	{
		ctl_.instance_set_sn(sn);
	}

	void key_set(unsigned slot, const ilp::psp::MasterKey &key, bool make_active,
		     std::uint32_t first_spi) override
	{
		ctl_.key_set(slot, key, make_active, first_spi);
	}
	void key_rotate(const ilp::psp::MasterKey &key, std::uint32_t first_spi) override
	{
		ctl_.key_rotate(key, first_spi);
	}
	void key_generate(unsigned slot, bool make_active) override
	{
		ctl_.key_generate(slot, make_active);
	}
	void key_rotate_generated() override { ctl_.key_rotate(); }
	model::Keys keys() override
	{
		auto k = ctl_.keys();
		model::Keys m;
		m.active_slot = k.active_slot;
		m.present[0] = k.present[0];
		m.present[1] = k.present[1];
		m.aead_driver = k.aead_driver;
		for (unsigned s = 0; s < 2; s++) {
			m.next_spi[s] = k.next_spi[s];
			m.generated[s] = k.generated[s];
		}
		return m;
	}

	model::NewSa sa_alloc(ilp::psp::Version version,
			      const std::optional<ilp::Endpoint> &peer) override
	{
		if (!peer)
			throw ilp::Error(EINVAL, "ilp.ko binds every receive SA to the peer it "
						 "is for: give 'peer ADDR'");
		auto sa = ctl_.sa_alloc(version, *peer);
		model::NewSa m;
		m.spi = sa.spi;
		m.version = sa.version;
		m.peer = sa.peer;
		m.key = sa.key;
		return m;
	}
	std::vector<model::Sa> sas() override
	{
		std::vector<model::Sa> out;
		for (const auto &s : ctl_.sas())
			out.push_back({s.spi, s.version, s.peer, s.packets, s.bytes});
		return out;
	}

	void sa_del(std::uint32_t spi) override { ctl_.sa_del(spi); }

	void peer_add(const ilp::Endpoint &peer, const std::optional<model::TxSaSpec> &tx) override
	{
		ctl_.peer_add(peer, tx);
	}
	void peer_set(const ilp::Endpoint &peer, const model::TxSaSpec &tx) override
	{
		ctl_.peer_set(peer, tx);
	}
	void peer_set_direct(const ilp::Endpoint &peer, bool direct) override
	{
		ctl_.peer_set_direct(peer, direct);
	}
	void peer_del(const ilp::Endpoint &peer) override { ctl_.peer_del(peer); }
	std::vector<model::Peer> peers() override { return ctl_.peers(); }

	std::vector<model::CacheEntry> cache() override { return ctl_.cache(); }
	void cache_add(const model::Flow &flow, const model::Actions &actions) override
	{
		ctl_.cache_add(flow, actions);
	}
	void cache_del(const model::Flow &flow) override { ctl_.cache_del(flow); }
	void cache_flush() override { ctl_.cache_flush(); }
	void cache_set(const model::CacheSettings &settings) override { ctl_.cache_set(settings); }

private:
	ilp::Control ctl_;
};

} // namespace

std::unique_ptr<Plane> netlink_plane()
{
	return std::make_unique<NetlinkPlane>();
}

} // namespace ilpctl
