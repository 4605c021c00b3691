// SPDX-License-Identifier: GPL-2.0 OR LGPL-2.1-or-later
/*
 * ilp_wire.c - PSP and ILP header parsing and building, for ilp.ko and
 * libilp alike.  See ilp_wire.h for the contract, docs/protocol.md for
 * the format.
 */
#include "ilp_wire.h"

/* Byte-wise big-endian access: no alignment assumed, no headers needed. */
static inline u16 get_be16(const u8 *p)
{
	return (u16)((u16)p[0] << 8 | p[1]);
}

static inline u32 get_be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

static inline u64 get_be64(const u8 *p)
{
	return (u64)get_be32(p) << 32 | get_be32(p + 4);
}

static inline void put_be16(u8 *p, u16 v)
{
	p[0] = (u8)(v >> 8);
	p[1] = (u8)v;
}

static inline void put_be32(u8 *p, u32 v)
{
	p[0] = (u8)(v >> 24);
	p[1] = (u8)(v >> 16);
	p[2] = (u8)(v >> 8);
	p[3] = (u8)v;
}

static inline void put_be64(u8 *p, u64 v)
{
	put_be32(p, (u32)(v >> 32));
	put_be32(p + 4, (u32)v);
}

static const char *const ilpw_err_names[__ILPW_E_MAX] = {
	[ILPW_OK] = "ok",
	[ILPW_E_PSP_TRUNC] = "psp_truncated",
	[ILPW_E_PSP_VERSION] = "psp_version",
	[ILPW_E_PSP_HDRLEN] = "psp_hdr_ext_len",
	[ILPW_E_PSP_ALWAYS1] = "psp_always_one_bit",
	[ILPW_E_PSP_NEXTHDR] = "psp_next_header",
	[ILPW_E_PSP_SPI] = "psp_spi_zero",
	[ILPW_E_PSP_CRYPT_OFF] = "psp_crypt_offset",
	[ILPW_E_PSP_NO_KEY] = "psp_no_master_key",
	[ILPW_E_PSP_UNKNOWN_SPI] = "psp_unknown_spi",
	[ILPW_E_PSP_AUTH] = "psp_auth_failed",
	[ILPW_E_ILP_TRUNC] = "ilp_truncated",
	[ILPW_E_ILP_VERSION] = "ilp_version",
	[ILPW_E_ILP_HDRLEN] = "ilp_hdr_len",
	[ILPW_E_ILP_PAST_END] = "ilp_hdr_past_end",
	[ILPW_E_TLV_TRUNC] = "tlv_truncated",
	[ILPW_E_TLV_CRITICAL] = "tlv_unknown_critical",
	[ILPW_E_NOSPACE] = "no_space",
	[ILPW_E_INVAL] = "invalid_argument",
};

const char *ilpw_strerror(enum ilpw_err err)
{
	if ((unsigned int)err >= __ILPW_E_MAX)
		return "unknown";
	return ilpw_err_names[err];
}

/* Layout of a packet of @len bytes (ICV included) given its header. */
static enum ilpw_err psp_layout(const struct ilpw_psp *psp, size_t len,
				struct ilpw_psp_layout *layout)
{
	u32 hdr_len = ilpw_psp_hdr_len(psp);
	u32 aad_len = ILPW_PSP_HDR_LEN + 4u * psp->crypt_off;

	if (len < (size_t)hdr_len + ILPW_PSP_ICV_LEN)
		return ILPW_E_PSP_TRUNC;
	/* The clear part may cover the VC and payload, not the ICV. */
	if (aad_len > len - ILPW_PSP_ICV_LEN)
		return ILPW_E_PSP_CRYPT_OFF;
	layout->hdr_len = hdr_len;
	layout->aad_len = aad_len;
	layout->icv_off = (u32)(len - ILPW_PSP_ICV_LEN);
	layout->ct_len = layout->icv_off - aad_len;
	return ILPW_OK;
}

enum ilpw_err ilpw_psp_parse(const u8 *pkt, size_t len, struct ilpw_psp *psp,
			     struct ilpw_psp_layout *layout)
{
	u8 flags;

	if (len < ILPW_PSP_HDR_LEN + ILPW_PSP_ICV_LEN)
		return ILPW_E_PSP_TRUNC;

	flags = pkt[3];
	psp->next_hdr = pkt[0];
	psp->rsvd = pkt[2] >> 6;
	psp->crypt_off = pkt[2] & 0x3f;
	psp->sample = flags & 0x80;
	psp->drop = flags & 0x40;
	psp->version = (flags >> 2) & 0x0f;
	psp->has_vc = flags & 0x02;
	psp->spi = get_be32(pkt + 4);
	psp->iv = get_be64(pkt + 8);
	psp->vc = 0;

	if (!(flags & 0x01))
		return ILPW_E_PSP_ALWAYS1;
	if (psp->version > 1)
		return ILPW_E_PSP_VERSION;
	if (pkt[1] != (psp->has_vc ? 2 : 1))
		return ILPW_E_PSP_HDRLEN;
	if (!(psp->spi & 0x7fffffff))
		return ILPW_E_PSP_SPI;
	if (psp->next_hdr != ILPW_PSP_NEXTHDR_ILP)
		return ILPW_E_PSP_NEXTHDR;
	if (psp->has_vc) {
		if (len < ILPW_PSP_HDR_LEN + ILPW_PSP_VC_LEN + ILPW_PSP_ICV_LEN)
			return ILPW_E_PSP_TRUNC;
		psp->vc = get_be64(pkt + ILPW_PSP_HDR_LEN);
	}
	return psp_layout(psp, len, layout);
}

enum ilpw_err ilpw_psp_build(u8 *buf, size_t cap, const struct ilpw_psp *psp,
			     size_t payload_len,
			     struct ilpw_psp_layout *layout)
{
	u32 hdr_len = ilpw_psp_hdr_len(psp);
	enum ilpw_err err;
	size_t total;

	if (psp->version > 1 || psp->crypt_off > ILPW_PSP_MAX_CRYPT_OFF ||
	    psp->rsvd > 3 || !(psp->spi & 0x7fffffff))
		return ILPW_E_INVAL;
	if (payload_len > 0xffff)
		return ILPW_E_INVAL;
	total = hdr_len + payload_len + ILPW_PSP_ICV_LEN;
	if (cap < total)
		return ILPW_E_NOSPACE;
	err = psp_layout(psp, total, layout);
	if (err)
		return err;

	buf[0] = psp->next_hdr;
	buf[1] = psp->has_vc ? 2 : 1;
	buf[2] = (u8)(psp->rsvd << 6 | psp->crypt_off);
	buf[3] = (u8)((psp->sample ? 0x80 : 0) | (psp->drop ? 0x40 : 0) |
		      psp->version << 2 | (psp->has_vc ? 0x02 : 0) | 0x01);
	put_be32(buf + 4, psp->spi);
	put_be64(buf + 8, psp->iv);
	if (psp->has_vc)
		put_be64(buf + ILPW_PSP_HDR_LEN, psp->vc);
	return ILPW_OK;
}

void ilpw_psp_read_vc(const u8 *pkt, struct ilpw_psp *psp)
{
	if (psp->has_vc)
		psp->vc = get_be64(pkt + ILPW_PSP_HDR_LEN);
}

void ilpw_psp_nonce(const struct ilpw_psp *psp, u8 nonce[ILPW_PSP_NONCE_LEN])
{
	put_be32(nonce, psp->spi);
	put_be64(nonce + 4, psp->iv);
}

enum ilpw_err ilpw_hdr_parse(const u8 *p, size_t len, struct ilpw_hdr *hdr,
			     bool (*known)(u16 type, void *arg), void *arg)
{
	struct ilpw_tlv_iter it;
	struct ilpw_tlv tlv;
	u32 words;
	int rc;

	if (len < ILPW_HDR_LEN)
		return ILPW_E_ILP_TRUNC;
	hdr->version = p[0] >> 4;
	hdr->flags = p[1];
	words = get_be16(p + 2);
	hdr->hdr_len = 4 * words;
	hdr->service = get_be32(p + 4);
	hdr->conn = get_be64(p + 8);

	if (hdr->version != ILPW_VERSION)
		return ILPW_E_ILP_VERSION;
	if (hdr->hdr_len < ILPW_HDR_LEN)
		return ILPW_E_ILP_HDRLEN;
	if (hdr->hdr_len > len)
		return ILPW_E_ILP_PAST_END;
	hdr->tlv = p + ILPW_HDR_LEN;
	hdr->tlv_len = hdr->hdr_len - ILPW_HDR_LEN;

	ilpw_tlv_iter_init(&it, hdr);
	while ((rc = ilpw_tlv_next(&it, &tlv)) > 0) {
		if ((tlv.type & ILPW_TLV_CRITICAL) &&
		    !(known && known(tlv.type, arg)))
			return ILPW_E_TLV_CRITICAL;
	}
	return rc < 0 ? (enum ilpw_err)-rc : ILPW_OK;
}

enum ilpw_err ilpw_hdr_build(u8 *buf, size_t cap, u8 flags, u32 service,
			     u64 conn, const u8 *tlv, size_t tlv_len,
			     size_t *out_len)
{
	size_t len = ILPW_HDR_LEN + tlv_len;

	if (tlv_len % 4 || len / 4 > ILPW_HDR_MAX_WORDS)
		return ILPW_E_INVAL;
	if (cap < len)
		return ILPW_E_NOSPACE;
	buf[0] = ILPW_VERSION << 4;
	buf[1] = flags;
	put_be16(buf + 2, (u16)(len / 4));
	put_be32(buf + 4, service);
	put_be64(buf + 8, conn);
	if (tlv_len)
		memmove(buf + ILPW_HDR_LEN, tlv, tlv_len);
	*out_len = len;
	return ILPW_OK;
}

int ilpw_tlv_next(struct ilpw_tlv_iter *it, struct ilpw_tlv *tlv)
{
	u32 padded;

	for (;;) {
		if (!it->rem)
			return 0;
		if (it->rem < ILPW_TLV_HDR_LEN)
			return -ILPW_E_TLV_TRUNC;
		tlv->type = get_be16(it->p);
		tlv->len = get_be16(it->p + 2);
		padded = ILPW_TLV_HDR_LEN + (((u32)tlv->len + 3) & ~3u);
		if (padded > it->rem)
			return -ILPW_E_TLV_TRUNC;
		tlv->val = it->p + ILPW_TLV_HDR_LEN;
		it->p += padded;
		it->rem -= padded;
		if (tlv->type != ILPW_TLV_PAD)
			return 1;
	}
}

enum ilpw_err ilpw_tlv_put(u8 *buf, size_t cap, size_t *off, u16 type,
			   const void *val, u16 len)
{
	size_t padded = ILPW_TLV_HDR_LEN + (((size_t)len + 3) & ~(size_t)3);

	if (*off > cap || cap - *off < padded)
		return ILPW_E_NOSPACE;
	put_be16(buf + *off, type);
	put_be16(buf + *off + 2, len);
	if (len)
		memcpy(buf + *off + ILPW_TLV_HDR_LEN, val, len);
	memset(buf + *off + ILPW_TLV_HDR_LEN + len, 0,
	       padded - ILPW_TLV_HDR_LEN - len);
	*off += padded;
	return ILPW_OK;
}
