/* SPDX-License-Identifier: GPL-2.0 */
/*
 * psp.h - PSP crypto in the kernel: key derivation and AES-GCM on skbs
 *
 * Everything that may sleep (allocating transforms, setting keys) happens
 * in process context when keys and SAs are configured; the packet path
 * only uses prepared transforms.  The functions' kernel-doc is in psp.c.
 */
#ifndef _ILP_PSP_H
#define _ILP_PSP_H

#include <linux/skbuff.h>
#include <linux/types.h>

#include "ilp_wire.h"

#define ILP_PSP_MAX_KEY_LEN	32

/* A master key with the AES-256-CMAC transform keyed by it. */
struct ilp_psp_master;

struct ilp_psp_master *ilp_psp_master_new(const u8 key[32]);
void ilp_psp_master_free(struct ilp_psp_master *m);
int ilp_psp_derive(struct ilp_psp_master *m, u32 spi, u8 version, u8 *out);

/* A prepared AES-GCM transform for one SA key. */
struct ilp_psp_aead;

struct ilp_psp_aead *ilp_psp_aead_new(u8 version, const u8 *key);
void ilp_psp_aead_free(struct ilp_psp_aead *a);
const char *ilp_psp_aead_driver(const struct ilp_psp_aead *a);
int ilp_psp_aead_probe_driver(char *buf, size_t len);

int ilp_psp_open(struct ilp_psp_aead *a, struct sk_buff *skb,
		 const struct ilpw_psp *psp,
		 const struct ilpw_psp_layout *layout);
int ilp_psp_seal(struct ilp_psp_aead *a, struct sk_buff *skb,
		 const struct ilpw_psp *psp,
		 const struct ilpw_psp_layout *layout);
int ilp_psp_seal_copy(struct ilp_psp_aead *a, struct sk_buff *dst,
		      struct sk_buff *src, const struct ilpw_psp *psp,
		      const struct ilpw_psp_layout *layout);

int ilp_psp_selftest(void);

#endif /* _ILP_PSP_H */
