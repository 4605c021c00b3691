/* SPDX-License-Identifier: GPL-2.0 */
/*
 * psp.h - PSP crypto in the kernel: key derivation and AES-GCM on skbs
 *
 * Everything that may sleep (allocating transforms, setting keys) happens
 * in process context when keys and SAs are configured; the packet path
 * only uses prepared transforms.
 */
#ifndef _ILP_PSP_H
#define _ILP_PSP_H

#include <linux/skbuff.h>
#include <linux/types.h>

#include "ilp_wire.h"

#define ILP_PSP_MAX_KEY_LEN	32

/* A master key with the AES-256-CMAC transform keyed by it. */
struct ilp_psp_master;

/* Process context.  Returns an ERR_PTR on failure. */
struct ilp_psp_master *ilp_psp_master_new(const u8 key[32]);
void ilp_psp_master_free(struct ilp_psp_master *m);

/*
 * ilp_psp_derive - the PSP KDF: the key of the SA with @spi
 * @m: the master key the SPI's top bit selects
 * @version: 0 (16-byte key) or 1 (32-byte key)
 * @out: ILP_PSP_MAX_KEY_LEN bytes; the first 16 or 32 are written
 *
 * Process context.  Returns 0 or a negative errno.
 */
int ilp_psp_derive(struct ilp_psp_master *m, u32 spi, u8 version, u8 *out);

/* A prepared AES-GCM transform for one SA key. */
struct ilp_psp_aead;

/* Process context.  @key is 16 (version 0) or 32 (version 1) bytes. */
struct ilp_psp_aead *ilp_psp_aead_new(u8 version, const u8 *key);
void ilp_psp_aead_free(struct ilp_psp_aead *a);

/*
 * ilp_psp_open - authenticate and decrypt a PSP packet in place
 * @a: the SA's transform
 * @skb: the packet; its data starts at the PSP header and runs to the
 *	end of the ICV (skb->len), and @skb may be non-linear or cloned
 * @psp: the parsed header (for the nonce)
 * @layout: from ilpw_psp_parse() on the same bytes
 *
 * Softirq or process context; does not sleep.  On success the
 * ciphertext is replaced by plaintext and the ICV trimmed off, so that
 * skb->data .. skb->len is PSP header + plaintext.  Returns 0,
 * -EBADMSG when the ICV does not verify, or another negative errno
 * (-ENOMEM) when the packet could not be processed.
 */
int ilp_psp_open(struct ilp_psp_aead *a, struct sk_buff *skb,
		 const struct ilpw_psp *psp,
		 const struct ilpw_psp_layout *layout);

/*
 * ilp_psp_seal - encrypt in place and append the ICV
 * @skb: data starts at a PSP header already written with ilpw_psp_build()
 *	and runs to the end of the plaintext; needs ILPW_PSP_ICV_LEN of
 *	tailroom (or is expanded)
 *
 * Softirq or process context.  Returns 0 or a negative errno.
 */
int ilp_psp_seal(struct ilp_psp_aead *a, struct sk_buff *skb,
		 const struct ilpw_psp *psp,
		 const struct ilpw_psp_layout *layout);

/*
 * Known-answer tests of the KDF (the PSP specification's vectors) and of
 * seal and open; logs which check failed.  Module init only (__init).
 * Returns 0 or -EINVAL.
 */
int ilp_psp_selftest(void);

#endif /* _ILP_PSP_H */
