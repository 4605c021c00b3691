// SPDX-License-Identifier: LGPL-2.1-or-later
//
// ilp::Control: the PSP master keys.  Keys go to the kernel and never come
// back; the request buffer that carried one is wiped (nl::Request does).
#include "ilp/control.hpp"

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/ilp.h>

namespace ilp
{

static_assert(decltype(std::declval<const psp::MasterKey &>().bytes())::extent ==
	      ILP_MASTER_KEY_LEN);

namespace
{

// The SPI number of @first_spi (the slot bit dropped), 1 to 0x7fffffff.
std::uint32_t spi_number(std::uint32_t first_spi)
{
	first_spi &= 0x7fffffff;
	if (first_spi == 0)
		throw Error(EINVAL, "an SPI number is 1 to 0x7fffffff, not 0");
	return first_spi;
}

} // namespace

void Control::key_set(unsigned slot, const psp::MasterKey &key, bool make_active,
		      std::uint32_t first_spi)
{
	if (slot > 1)
		throw Error(EINVAL, "master key slot " + std::to_string(slot) + ": must be 0 or 1");
	auto req = request(ILP_CMD_KEY_SET, NLM_F_ACK);
	auto *nest = req.nest_start(ILP_A_KEY);
	req.put_u8(ILP_KEY_A_SLOT, static_cast<std::uint8_t>(slot));
	req.put_bytes(ILP_KEY_A_MASTER, key.bytes());
	if (spi_number(first_spi) != 1)
		req.put_u32(ILP_KEY_A_NEXT_SPI, spi_number(first_spi));
	if (make_active)
		req.put_flag(ILP_KEY_A_ACTIVE);
	req.nest_end(nest);
	sock_.transact(
	    req, [](const nlmsghdr *) {}, "installing master key " + std::to_string(slot));
}

void Control::key_generate(unsigned slot, bool make_active)
{
	if (slot > 1)
		throw Error(EINVAL, "master key slot " + std::to_string(slot) + ": must be 0 or 1");
	auto req = request(ILP_CMD_KEY_SET, NLM_F_ACK);
	auto *nest = req.nest_start(ILP_A_KEY);
	req.put_u8(ILP_KEY_A_SLOT, static_cast<std::uint8_t>(slot));
	if (make_active)
		req.put_flag(ILP_KEY_A_ACTIVE);
	req.nest_end(nest);
	sock_.transact(
	    req, [](const nlmsghdr *) {}, "generating master key " + std::to_string(slot));
}

void Control::key_rotate(const psp::MasterKey &key, std::uint32_t first_spi)
{
	auto req = request(ILP_CMD_KEY_ROTATE, NLM_F_ACK);
	auto *nest = req.nest_start(ILP_A_KEY);
	req.put_bytes(ILP_KEY_A_MASTER, key.bytes());
	if (spi_number(first_spi) != 1)
		req.put_u32(ILP_KEY_A_NEXT_SPI, spi_number(first_spi));
	req.nest_end(nest);
	sock_.transact(
	    req, [](const nlmsghdr *) {}, "rotating the master keys");
}

void Control::key_rotate()
{
	auto req = request(ILP_CMD_KEY_ROTATE, NLM_F_ACK);
	auto *nest = req.nest_start(ILP_A_KEY);
	req.nest_end(nest);
	sock_.transact(
	    req, [](const nlmsghdr *) {}, "rotating to a generated master key");
}

KeyInfo Control::keys()
{
	auto req = request(ILP_CMD_KEY_GET, NLM_F_ACK);
	KeyInfo info;
	sock_.transact(
	    req,
	    [&](const nlmsghdr *nlh) {
		    auto top = nl::Attrs::of_message(nlh, ILP_A_MAX);
		    auto a = nl::Attrs::of_nest(top.get(ILP_A_KEY), ILP_KEY_A_MAX);
		    if (auto active = a.u8(ILP_KEY_A_ACTIVE_SLOT))
			    info.active_slot = *active;
		    // One ILP_KEY_A_SLOT_PRESENT per slot holding a key.
		    for (auto slot : a.u8_all(ILP_KEY_A_SLOT_PRESENT))
			    if (slot < 2)
				    info.present[slot] = true;
		    for (auto slot : a.u8_all(ILP_KEY_A_SLOT_GENERATED))
			    if (slot < 2)
				    info.generated[slot] = true;
		    // One per slot holding a key; the slot is the SPI's top bit.
		    for (const auto *n : a.all(ILP_KEY_A_NEXT_SPI)) {
			    if (mnl_attr_get_payload_len(n) != sizeof(std::uint32_t))
				    throw nl::NetlinkError(
					EPROTO, "the kernel sent a next SPI of " +
						    std::to_string(mnl_attr_get_payload_len(n)) +
						    " bytes");
			    auto spi = mnl_attr_get_u32(n);
			    info.next_spi[spi >> 31] = spi;
		    }
		    // A NUL-terminated string.
		    if (auto d = a.bytes(ILP_KEY_A_AEAD_DRIVER); d && !d->empty())
			    info.aead_driver.emplace(
				reinterpret_cast<const char *>(d->data()),
				strnlen(reinterpret_cast<const char *>(d->data()), d->size()));
	    },
	    "reading the master key slots");
	return info;
}

} // namespace ilp
