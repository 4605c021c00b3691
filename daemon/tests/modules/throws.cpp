// SPDX-License-Identifier: GPL-2.0-or-later
//
// A C++ module (service 400, "throws") whose handle() throws on a packet
// saying "throw" and returns any other to its sender: the host must catch
// the exception, count it and go on with the next packets.
#include <cstring>
#include <stdexcept>
#include <string_view>

#include <ilp/service.h>

namespace
{

int throws_init(const ilp_env_ops *, ilp_env *, const void *, size_t, void **state)
{
	*state = nullptr;
	return 0;
}

int throws_handle(void *, const ilp_packet *pkt, ilp_decision *out)
{
	std::string_view payload(reinterpret_cast<const char *>(pkt->payload), pkt->payload_len);
	if (payload == "throw")
		throw std::runtime_error("boom");
	out->actions = ILP_ACTION_FORWARD;
	out->n_hops = 1;
	out->hops[0] = pkt->flow.prev;
	return 0;
}

const ilp_service throws_service = {
    .abi_version = ILP_SERVICE_ABI_VERSION,
    .service_id = 400,
    .name = "throws",
    .description = "throws from handle()",
    .init = throws_init,
    .fini = nullptr,
    .handle = throws_handle,
    .config_changed = nullptr,
};

} // namespace

// ILP_SERVICE_EXPORT spelled out: in C++ a const object at namespace scope
// has internal linkage unless declared extern (the macro is written for C).
extern "C" {
__attribute__((visibility("default"))) extern const ilp_service *const ilp_service_v1 =
    &throws_service;
}
