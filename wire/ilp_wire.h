/* SPDX-License-Identifier: GPL-2.0 OR LGPL-2.1-or-later */
/*
 * ilp_wire.h - parse, validate and build PSP and ILP headers
 *
 * One implementation for the kernel and for userspace (see compat.h).  It
 * never allocates and never reads or writes outside the buffer it is
 * given; every length is checked before it is used.  docs/protocol.md is
 * the specification this code follows.
 *
 * Layout of a packet from the PSP header on (the UDP payload):
 *
 *	PSP header (16, or 24 with VC) | ILP header | payload | ICV (16)
 *
 * Functions return ILPW_OK (0) or one of enum ilpw_err, which name the
 * reason a packet is dropped; the datapaths count them separately.
 */
#ifndef _ILP_WIRE_H
#define _ILP_WIRE_H

#include "compat.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ILPW_PSP_HDR_LEN	16	/* PSP header without VC */
#define ILPW_PSP_VC_LEN		8
#define ILPW_PSP_ICV_LEN	16
#define ILPW_PSP_NONCE_LEN	12	/* SPI || IV */
#define ILPW_PSP_NEXTHDR_ILP	253
#define ILPW_PSP_MAX_CRYPT_OFF	63	/* 6 bits, in 4-byte words */

#define ILPW_HDR_LEN		16	/* fixed part of the ILP header */
#define ILPW_HDR_MAX_WORDS	0xffff
#define ILPW_VERSION		0
#define ILPW_TLV_HDR_LEN	4
#define ILPW_TLV_CRITICAL	0x8000	/* unknown critical TLV: drop */
#define ILPW_TLV_PAD		0

/* Why a packet is rejected.  Values are stable: they index counters. */
enum ilpw_err {
	ILPW_OK = 0,
	ILPW_E_PSP_TRUNC,	/* shorter than PSP header + ICV */
	ILPW_E_PSP_VERSION,	/* version not 0 or 1 */
	ILPW_E_PSP_HDRLEN,	/* Hdr Ext Len disagrees with the V bit */
	ILPW_E_PSP_ALWAYS1,	/* bit 0 of byte 3 is not set */
	ILPW_E_PSP_NEXTHDR,	/* Next Header does not name ILP */
	ILPW_E_PSP_SPI,		/* SPI with its low 31 bits zero */
	ILPW_E_PSP_CRYPT_OFF,	/* crypt offset past the payload */
	ILPW_E_PSP_NO_KEY,	/* the master key the SPI selects is absent */
	ILPW_E_PSP_UNKNOWN_SPI,	/* SPI never allocated under that key */
	ILPW_E_PSP_AUTH,	/* ICV does not verify */
	ILPW_E_ILP_TRUNC,	/* shorter than the fixed ILP header */
	ILPW_E_ILP_VERSION,	/* unknown ILP version */
	ILPW_E_ILP_HDRLEN,	/* Header Length below the fixed part */
	ILPW_E_ILP_PAST_END,	/* Header Length runs past the packet */
	ILPW_E_TLV_TRUNC,	/* TLV header or value runs past the ILP header */
	ILPW_E_TLV_CRITICAL,	/* unknown critical TLV */
	ILPW_E_NOSPACE,		/* builder: buffer too small */
	ILPW_E_INVAL,		/* builder: invalid argument */
	__ILPW_E_MAX,
};

/* A short name per error, for counters and logs ("psp_auth"). */
const char *ilpw_strerror(enum ilpw_err err);

/**
 * struct ilpw_psp - a parsed PSP header
 * @next_hdr: Next Header (ILPW_PSP_NEXTHDR_ILP for ILP)
 * @crypt_off: Crypt Offset, in 4-byte words after the IV
 * @version: 0 (AES-GCM-128) or 1 (AES-GCM-256)
 * @sample: S bit; @drop: D bit; @has_vc: V bit
 * @rsvd: the two reserved bits of byte 2 (authenticated, else ignored)
 * @spi: Security Parameters Index; the top bit selects the master key
 * @iv: per-packet IV, never repeated under one key
 * @vc: virtualization cookie, when @has_vc
 */
struct ilpw_psp {
	u8 next_hdr;
	u8 crypt_off;
	u8 version;
	u8 rsvd;
	bool sample;
	bool drop;
	bool has_vc;
	u32 spi;
	u64 iv;
	u64 vc;
};

/**
 * struct ilpw_psp_layout - where the parts of a PSP packet are
 * @hdr_len: PSP header length, VC included (16 or 24)
 * @aad_len: authenticated-only bytes from the start (16 + 4 * crypt_off)
 * @ct_len: bytes encrypted, from @aad_len up to the ICV
 * @icv_off: offset of the 16-byte ICV
 */
struct ilpw_psp_layout {
	u32 hdr_len;
	u32 aad_len;
	u32 ct_len;
	u32 icv_off;
};

/*
 * Parses and validates the PSP header of the @len-byte packet at @pkt
 * (ICV included) and works out its layout.  Checks structure only: the
 * key and the ICV are the caller's.
 */
enum ilpw_err ilpw_psp_parse(const u8 *pkt, size_t len, struct ilpw_psp *psp,
			     struct ilpw_psp_layout *layout);

/* Length of the PSP header @psp describes (16 or 24). */
static inline u32 ilpw_psp_hdr_len(const struct ilpw_psp *psp)
{
	return ILPW_PSP_HDR_LEN + (psp->has_vc ? ILPW_PSP_VC_LEN : 0);
}

/*
 * Writes the PSP header @psp to @buf (room for @cap bytes) and computes
 * the layout of a packet whose PSP payload (ILP header and payload) is
 * @payload_len bytes long.  The caller then encrypts and appends the ICV.
 */
enum ilpw_err ilpw_psp_build(u8 *buf, size_t cap, const struct ilpw_psp *psp,
			     size_t payload_len,
			     struct ilpw_psp_layout *layout);

/*
 * Reads the VC of @pkt into @psp again.  With a crypt offset of 0 the VC
 * is encrypted, so ilpw_psp_parse() saw ciphertext: call this after the
 * packet is decrypted in place.
 */
void ilpw_psp_read_vc(const u8 *pkt, struct ilpw_psp *psp);

/* The AEAD nonce: SPI || IV, both big-endian. */
void ilpw_psp_nonce(const struct ilpw_psp *psp, u8 nonce[ILPW_PSP_NONCE_LEN]);

/**
 * struct ilpw_hdr - a parsed ILP header
 * @version: ILPW_VERSION
 * @flags: none defined yet
 * @hdr_len: whole header in bytes (4 * Header Length)
 * @service: service ID
 * @conn: connection ID
 * @tlv: first TLV byte (inside the caller's buffer), @tlv_len bytes
 */
struct ilpw_hdr {
	u8 version;
	u8 flags;
	u32 hdr_len;
	u32 service;
	u64 conn;
	const u8 *tlv;
	u32 tlv_len;
};

/*
 * Parses the decrypted ILP header at @p, @len bytes to the end of the
 * payload.  The payload starts at @p + @hdr->hdr_len.  TLVs are checked
 * for bounds, and for critical types the caller does not know: @known is
 * called for each critical type and returns true if the caller handles
 * it (NULL: no critical type is known).
 */
enum ilpw_err ilpw_hdr_parse(const u8 *p, size_t len, struct ilpw_hdr *hdr,
			     bool (*known)(u16 type, void *arg), void *arg);

/*
 * Writes an ILP header with @tlv_len bytes of already encoded TLVs (a
 * multiple of 4, see ilpw_tlv_put()) to @buf.  Returns the header length
 * in @out_len.
 */
enum ilpw_err ilpw_hdr_build(u8 *buf, size_t cap, u8 flags, u32 service,
			     u64 conn, const u8 *tlv, size_t tlv_len,
			     size_t *out_len);

/* One TLV: @type, and @len bytes of value at @val. */
struct ilpw_tlv {
	u16 type;
	u16 len;
	const u8 *val;
};

/* Iterates the TLVs of a parsed header, padding skipped. */
struct ilpw_tlv_iter {
	const u8 *p;
	u32 rem;
};

static inline void ilpw_tlv_iter_init(struct ilpw_tlv_iter *it,
				      const struct ilpw_hdr *hdr)
{
	it->p = hdr->tlv;
	it->rem = hdr->tlv_len;
}

/* Returns 1 and fills @tlv, 0 at the end, or -ILPW_E_TLV_TRUNC. */
int ilpw_tlv_next(struct ilpw_tlv_iter *it, struct ilpw_tlv *tlv);

/*
 * Appends a TLV at offset *@off of @buf (room for @cap bytes), padded to
 * 4 bytes, and advances *@off.
 */
enum ilpw_err ilpw_tlv_put(u8 *buf, size_t cap, size_t *off, u16 type,
			   const void *val, u16 len);

#ifdef __cplusplus
}
#endif

#endif /* _ILP_WIRE_H */
