/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The modules the loader must refuse, one build of this file each, told
 * apart by the definitions CMakeLists.txt gives: VARIANT_ABI,
 * VARIANT_ID, VARIANT_COUNT, VARIANT_NAME, VARIANT_NO_HANDLE,
 * VARIANT_NO_SYMBOL, VARIANT_SIZE.  Its handle() drops every packet.
 */
#include <errno.h>

#include <ilp/service.h>

#ifndef VARIANT_ABI
#define VARIANT_ABI ILP_SERVICE_ABI_VERSION
#endif

static int v_init(const struct ilp_env_ops *ops, struct ilp_env *env, const void *saved,
		  size_t saved_len, void **state)
{
	(void)ops;
	(void)env;
	(void)saved;
	(void)saved_len;
	*state = NULL;
	return 0;
}

#ifndef VARIANT_NO_HANDLE
static int v_handle(void *state, const struct ilp_packet *pkt, struct ilp_decision *out)
{
	(void)state;
	(void)pkt;
	(void)out;
	return 0;
}
#endif

#ifndef VARIANT_COUNT
#define VARIANT_COUNT 1
#endif
#ifndef VARIANT_SIZE
#define VARIANT_SIZE sizeof(struct ilp_service)
#endif

static const struct ilp_service variant = {
    .abi_version = VARIANT_ABI,
    .size = VARIANT_SIZE,
    .service_id = VARIANT_ID,
    .service_count = VARIANT_COUNT,
    .name = VARIANT_NAME,
    .description = "a module the loader refuses (or not)",
    .init = v_init,
#ifndef VARIANT_NO_HANDLE
    .handle = v_handle,
#endif
};

#ifdef VARIANT_NO_SYMBOL
/* Exported under another name: the loader must not find it. */
__attribute__((visibility("default"))) const struct ilp_service *const not_the_symbol = &variant;
#else
ILP_SERVICE_EXPORT(variant);
#endif
