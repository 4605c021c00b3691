// SPDX-License-Identifier: GPL-2.0-or-later
//
// The stores this SN holds, served to its peers over the control channel
// (docs/store.md, "Over the control channel"): its edomain's core, to the
// SNs of its edomain with a pipe up to it; the lookup service's store, to
// the SNs of every trusted edomain, each of which may write only its own
// host records (host/HOST/SN with its own SN and its own edomain), its
// edomain's group memberships and statements their owners signed
// (group_records.hpp).  A
// request from anyone else is refused (-EPERM) and logged.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <ilp/endpoint.hpp>

#include "association/manager.hpp"
#include "store/store_server.hpp"

namespace ilpd
{

class StoreService
{
public:
	// @core, @lookup: the stores to serve (nullptr: not this node's);
	// they must outlive the service.  @edomain: this SN's.
	StoreService(store::Store *core, store::Store *lookup, std::string edomain);

	// Whether @service is one of the stores' (remote::kCoreService,
	// kLookupService), which ilpd answers itself.
	static bool serves(std::uint32_t service);
	// Answers @request from the peer @from.  @done on any thread.
	void answer(std::uint32_t service, const ControlFrom &from,
		    std::vector<std::uint8_t> request, ControlAnswer done);

private:
	std::optional<std::string> allowed(std::uint32_t service, const ControlFrom &sn,
					   const store::remote::Request &r) const;
	std::optional<std::string> allowed_group(const ControlFrom &sn,
						 const store::remote::Request &r) const;

	std::string edomain_;
	std::unique_ptr<store::StoreServer> core_, lookup_;
};

} // namespace ilpd
