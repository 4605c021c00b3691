// SPDX-License-Identifier: GPL-2.0
/*
 * psp.c - PSP key derivation and AES-GCM on skbs, with the kernel crypto API
 *
 * Key derivation (PSP KDF): NIST SP 800-108 counter mode with
 * AES-256-CMAC keyed by the master key, one 16-byte PRF input per 128 bits
 * of key: counter || label ("Pv0\0" or "Pv1\0") || SPI || length in bits,
 * all big-endian.
 *
 * Packets are encrypted and decrypted in place, the way esp4/esp6 do it:
 * a packet that is not cloned and whose page frags are its own is
 * written where it lies (no copy, frags included); anything else goes
 * through skb_cow_data(), which makes the data writable.  skb_to_sgvec()
 * maps PSP header + payload + ICV, and one synchronous AES-GCM request
 * does the rest.  The AAD is the start of the packet itself (PSP header
 * and the crypt-offset bytes), so the scatterlist covers [0, skb->len)
 * and nothing else is needed.  A copy for one of several next hops is
 * sealed out of place instead (ilp_psp_seal_copy()): read from the shared
 * plaintext, written into its own buffer.
 *
 * The request lives in per-CPU scratch memory, not allocated per packet:
 * it is used with BHs disabled from start to end of one synchronous
 * operation, so nothing else on the CPU can use it meanwhile.
 *
 * Which AES-GCM: asking the crypto API for a synchronous "gcm(aes)"
 * (CRYPTO_ALG_ASYNC masked out) passes over the AES-NI/VAES AEADs, which
 * are registered behind an asynchronous SIMD wrapper, and builds
 * gcm_base(ctr(aes-aesni),ghash-generic): table-driven GHASH, several
 * times slower.  The wrapper only exists to defer to a thread when the
 * FPU cannot be used; ilp.ko uses the wrapped implementation ("__" +
 * the wrapper's driver name, CRYPTO_ALG_INTERNAL) directly whenever
 * crypto_simd_usable() says the FPU can be used, which on x86 is always
 * the case in softirq and in process context with BHs disabled, and keeps
 * the synchronous generic transform for the other cases.
 */
#include <crypto/aead.h>
#include <crypto/hash.h>
#include <crypto/internal/simd.h>
#include <asm/simd.h>
#include <linux/err.h>
#include <linux/init.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/scatterlist.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "psp.h"

/* Pulls in the templates at load time, before the first key is set. */
MODULE_SOFTDEP("pre: cmac gcm");

#define ILP_PSP_MASTER_KEY_LEN	32
#define ILP_PSP_KDF_BLOCK	16	/* AES-CMAC output, 128 bits of key */
#define ILP_PSP_LABEL_V0	0x50763000	/* "Pv0\0" */
#define ILP_PSP_LABEL_V1	0x50763100	/* "Pv1\0" */

/*
 * Scatterlist entries kept on the stack.  After skb_cow_data() the packet
 * is one linear head plus one linear skb per frag_list member, so a
 * packet that was not reassembled needs exactly one entry; only IP
 * fragment reassembly (or fraglist GRO) needs more, and gets a kmalloc.
 */
#define ILP_PSP_SG_ON_STACK	8

/*
 * Per-CPU room for one AEAD request: struct aead_request and the
 * implementation's context (crypto_aead_reqsize(): some 100 bytes for the
 * AES-NI AEADs, about 400 for gcm_base).  A transform that needs more
 * allocates its requests per packet instead.
 */
#define ILP_PSP_REQ_MAX		1024

struct ilp_psp_req_buf {
	u8 buf[ILP_PSP_REQ_MAX];
};

/*
 * The scratch requests, allocated with the first transform and freed with
 * the last one (ilp_psp_req_users, under ilp_psp_req_lock): a packet that
 * uses one holds a transform, so it is never freed under it.
 */
static DEFINE_MUTEX(ilp_psp_req_lock);
static unsigned int ilp_psp_req_users;
static struct ilp_psp_req_buf __percpu *ilp_psp_req;

/**
 * struct ilp_psp_master - a master key, as the CMAC transform keyed by it
 * @cmac: "cmac(aes)" with the 32-byte master key; the key itself is not
 *	kept anywhere else
 */
struct ilp_psp_master {
	struct crypto_shash *cmac;
};

/**
 * struct ilp_psp_aead - a prepared AES-GCM transform for one SA key
 * @tfm: the fastest synchronous AES-GCM, key set, 16-byte tag: an
 *	internal SIMD implementation when @fallback is set, else "gcm(aes)"
 *	with CRYPTO_ALG_ASYNC masked out
 * @fallback: synchronous "gcm(aes)" for when the FPU cannot be used
 *	(crypto_simd_usable() false), or NULL when @tfm needs no FPU
 * @scratch: the requests of both fit in ILP_PSP_REQ_MAX (per-CPU scratch)
 * @version: PSP version (0: AES-GCM-128, 1: AES-GCM-256) of the key; a
 *	packet whose header names another version is refused
 */
struct ilp_psp_aead {
	struct crypto_aead *tfm;
	struct crypto_aead *fallback;
	bool scratch;
	u8 version;
};

/* Key length of PSP @version, or 0 if ILP does not support it. */
static unsigned int ilp_psp_key_len(u8 version)
{
	switch (version) {
	case 0:
		return 16;
	case 1:
		return 32;
	default:
		return 0;
	}
}

/**
 * ilp_psp_master_new - prepare the KDF for a master key
 * @key: the 32-byte master key; the caller keeps (and wipes) its copy
 *
 * Process context.
 *
 * Return: the master, or an ERR_PTR.
 */
struct ilp_psp_master *ilp_psp_master_new(const u8 key[32])
{
	struct ilp_psp_master *m;
	int err;

	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return ERR_PTR(-ENOMEM);

	m->cmac = crypto_alloc_shash("cmac(aes)", 0, 0);
	if (IS_ERR(m->cmac)) {
		err = PTR_ERR(m->cmac);
		goto err_free;
	}
	/* The KDF below writes exactly one AES block per digest. */
	if (crypto_shash_digestsize(m->cmac) != ILP_PSP_KDF_BLOCK) {
		err = -EINVAL;
		goto err_tfm;
	}
	/* A 32-byte key makes it AES-256-CMAC, as PSP requires. */
	err = crypto_shash_setkey(m->cmac, key, ILP_PSP_MASTER_KEY_LEN);
	if (err)
		goto err_tfm;
	return m;

err_tfm:
	crypto_free_shash(m->cmac);
err_free:
	kfree(m);
	return ERR_PTR(err);
}

/**
 * ilp_psp_master_free - free a master key; NULL and ERR_PTR are ignored
 * @m: the master
 *
 * The crypto API wipes the key schedule when it frees the transform.
 */
void ilp_psp_master_free(struct ilp_psp_master *m)
{
	if (IS_ERR_OR_NULL(m))
		return;
	crypto_free_shash(m->cmac);
	kfree(m);
}

/*
 * One key of @len bytes (16 or 32) from the CMAC keyed by the master.  The
 * shash descriptor lives on the stack and the transform's key never
 * changes after ilp_psp_master_new(), so concurrent calls are safe.
 */
static int ilp_psp_kdf(struct crypto_shash *cmac, u32 spi, u8 version,
		       unsigned int len, u8 *out)
{
	SHASH_DESC_ON_STACK(desc, cmac);
	unsigned int i;
	__be32 in[4];
	int err = 0;

	desc->tfm = cmac;
	in[1] = cpu_to_be32(version ? ILP_PSP_LABEL_V1 : ILP_PSP_LABEL_V0);
	in[2] = cpu_to_be32(spi);
	in[3] = cpu_to_be32(len * 8);
	for (i = 0; i < len / ILP_PSP_KDF_BLOCK; i++) {
		in[0] = cpu_to_be32(i + 1);
		err = crypto_shash_digest(desc, (const u8 *)in, sizeof(in),
					  out + i * ILP_PSP_KDF_BLOCK);
		if (err)
			break;
	}
	/* The CMAC state is derived from the master key. */
	shash_desc_zero(desc);
	return err;
}

/**
 * ilp_psp_derive - the PSP KDF: the key of the SA with @spi
 * @m: the master key the SPI's top bit selects
 * @spi: the SPI
 * @version: 0 (16-byte key) or 1 (32-byte key)
 * @out: ILP_PSP_MAX_KEY_LEN bytes; the first 16 or 32 are written
 *
 * Safe to call concurrently on one master.
 *
 * Process context.
 *
 * Return: 0, -EINVAL for an unsupported version,
 * -ENOKEY without a master, or the crypto API's error (@out is then
 * wiped).
 */
int ilp_psp_derive(struct ilp_psp_master *m, u32 spi, u8 version, u8 *out)
{
	unsigned int len = ilp_psp_key_len(version);
	int err;

	if (!len)
		return -EINVAL;
	if (IS_ERR_OR_NULL(m))
		return -ENOKEY;

	err = ilp_psp_kdf(m->cmac, spi, version, len, out);
	if (err)
		memzero_explicit(out, len);
	return err;
}

/* Takes a reference on the per-CPU scratch requests, allocating them. */
static int ilp_psp_req_get(void)
{
	int err = 0;

	mutex_lock(&ilp_psp_req_lock);
	if (!ilp_psp_req_users) {
		ilp_psp_req = alloc_percpu(struct ilp_psp_req_buf);
		if (!ilp_psp_req)
			err = -ENOMEM;
	}
	if (!err)
		ilp_psp_req_users++;
	mutex_unlock(&ilp_psp_req_lock);
	return err;
}

static void ilp_psp_req_put(void)
{
	mutex_lock(&ilp_psp_req_lock);
	if (!--ilp_psp_req_users) {
		free_percpu(ilp_psp_req);
		ilp_psp_req = NULL;
	}
	mutex_unlock(&ilp_psp_req_lock);
}

/* A synchronous AES-GCM with @key set and the PSP tag and nonce sizes. */
static struct crypto_aead *ilp_psp_tfm_new(const char *name, u32 type,
					   u32 mask, const u8 *key,
					   unsigned int key_len)
{
	struct crypto_aead *tfm;
	int err;

	tfm = crypto_alloc_aead(name, type, mask | CRYPTO_ALG_ASYNC);
	if (IS_ERR(tfm))
		return tfm;
	/* The nonce is SPI || IV: gcm(aes) must take it as a 96-bit IV. */
	if (crypto_aead_ivsize(tfm) != ILPW_PSP_NONCE_LEN) {
		err = -EINVAL;
		goto err_tfm;
	}
	err = crypto_aead_setkey(tfm, key, key_len);
	if (err)
		goto err_tfm;
	err = crypto_aead_setauthsize(tfm, ILPW_PSP_ICV_LEN);
	if (err)
		goto err_tfm;
	return tfm;

err_tfm:
	crypto_free_aead(tfm);
	return ERR_PTR(err);
}

/*
 * The internal (FPU-using, synchronous) implementation behind the
 * asynchronous SIMD wrapper that the crypto API prefers for "gcm(aes)",
 * or an ERR_PTR when the preferred "gcm(aes)" is not such a wrapper.
 * The wrapper's driver name is "NAME" (generic-gcm-aesni,
 * generic-gcm-aesni-avx, generic-gcm-vaes-avx10_256, ... in 6.1 and
 * 6.12), the implementation's "__NAME".
 */
static struct crypto_aead *ilp_psp_tfm_simd(const u8 *key,
					    unsigned int key_len)
{
	char name[CRYPTO_MAX_ALG_NAME];
	struct crypto_aead *top;
	bool async;
	int n;

	/* Only looks: CRYPTO_NOLOAD, no module is loaded for this. */
	top = crypto_alloc_aead("gcm(aes)", 0, CRYPTO_NOLOAD);
	if (IS_ERR(top))
		return top;
	async = crypto_aead_tfm(top)->__crt_alg->cra_flags & CRYPTO_ALG_ASYNC;
	n = snprintf(name, sizeof(name), "__%s", crypto_aead_driver_name(top));
	crypto_free_aead(top);
	if (!async || n >= sizeof(name))
		return ERR_PTR(-ENOENT);
	return ilp_psp_tfm_new(name, CRYPTO_ALG_INTERNAL,
			       CRYPTO_ALG_INTERNAL | CRYPTO_NOLOAD, key, key_len);
}

static bool ilp_psp_req_fits(struct crypto_aead *tfm)
{
	return !tfm || sizeof(struct aead_request) + crypto_aead_reqsize(tfm) <=
		       ILP_PSP_REQ_MAX;
}

/**
 * ilp_psp_aead_new - prepare AES-GCM for one SA key
 * @version: 0 (AES-GCM-128) or 1 (AES-GCM-256)
 * @key: 16 or 32 bytes; the caller keeps (and wipes) its copy
 *
 * Every transform is synchronous, so that the packet path gets its answer
 * from crypto_aead_{en,de}crypt() and never waits for a completion
 * callback: the SIMD implementation when the kernel has one (with the
 * generic one for when the FPU is not usable), else the synchronous
 * "gcm(aes)" the crypto API builds.  ilp_psp_aead_driver() says which.
 *
 * Process context.
 *
 * Return: the transform, or an ERR_PTR.
 */
struct ilp_psp_aead *ilp_psp_aead_new(u8 version, const u8 *key)
{
	unsigned int key_len = ilp_psp_key_len(version);
	struct ilp_psp_aead *a;
	int err;

	if (!key_len)
		return ERR_PTR(-EINVAL);

	a = kzalloc(sizeof(*a), GFP_KERNEL_ACCOUNT);
	if (!a)
		return ERR_PTR(-ENOMEM);
	a->version = version;

	err = ilp_psp_req_get();
	if (err)
		goto err_free;
	a->tfm = ilp_psp_tfm_simd(key, key_len);
	if (!IS_ERR(a->tfm)) {
		a->fallback = ilp_psp_tfm_new("gcm(aes)", 0, 0, key, key_len);
		if (IS_ERR(a->fallback)) {
			err = PTR_ERR(a->fallback);
			goto err_tfm;
		}
	} else {
		a->tfm = ilp_psp_tfm_new("gcm(aes)", 0, 0, key, key_len);
		if (IS_ERR(a->tfm)) {
			err = PTR_ERR(a->tfm);
			goto err_req;
		}
	}
	a->scratch = ilp_psp_req_fits(a->tfm) && ilp_psp_req_fits(a->fallback);
	return a;

err_tfm:
	crypto_free_aead(a->tfm);
err_req:
	ilp_psp_req_put();
err_free:
	kfree(a);
	return ERR_PTR(err);
}

/**
 * ilp_psp_aead_free - free a transform; NULL and ERR_PTR are ignored
 * @a: the transform, which no packet may be using any more
 *
 * Process context.
 */
void ilp_psp_aead_free(struct ilp_psp_aead *a)
{
	if (IS_ERR_OR_NULL(a))
		return;
	if (a->fallback)
		crypto_free_aead(a->fallback);
	crypto_free_aead(a->tfm);
	ilp_psp_req_put();
	kfree(a);
}

/**
 * ilp_psp_aead_driver - the crypto driver that seals and opens for @a
 * @a: the transform
 *
 * E.g. "generic-gcm-aesni-avx" (the internal implementation's name
 * without its "__"), or "gcm_base(ctr(aes-aesni),ghash-generic)".
 * Return: a string that lives as long as @a.
 */
const char *ilp_psp_aead_driver(const struct ilp_psp_aead *a)
{
	const char *name = crypto_aead_driver_name(a->tfm);

	return a->fallback && !strncmp(name, "__", 2) ? name + 2 : name;
}

/**
 * ilp_psp_aead_probe_driver - the driver a new SA's transform would get
 * @buf: where its name goes, NUL-terminated
 * @len: size of @buf (CRYPTO_MAX_ALG_NAME is always enough)
 *
 * Prepares a version 0 transform with a zero key, as
 * ilp_psp_aead_new() would for an SA, and frees it.
 *
 * Process context.
 *
 * Return: 0 or a negative errno.
 */
int ilp_psp_aead_probe_driver(char *buf, size_t len)
{
	static const u8 zero[16];
	struct ilp_psp_aead *a;

	a = ilp_psp_aead_new(0, zero);
	if (IS_ERR(a))
		return PTR_ERR(a);
	strscpy(buf, ilp_psp_aead_driver(a), len);
	ilp_psp_aead_free(a);
	return 0;
}

/*
 * Whether @l describes a packet whose ICV is (open) or goes (seal) at
 * @icv_off: callers pass a layout from ilpw_psp_parse() or
 * ilpw_psp_build(), but a layout for other bytes must not make us map
 * past the skb.
 */
static bool ilp_psp_layout_ok(const struct ilpw_psp_layout *l,
			      unsigned int icv_off)
{
	return l->aad_len >= ILPW_PSP_HDR_LEN && l->icv_off == icv_off &&
	       l->aad_len <= l->icv_off &&
	       l->ct_len == l->icv_off - l->aad_len;
}

/*
 * Makes @skb writable in place with @tailen bytes of room at the end.
 * Returns the number of scatterlist entries the data then spans, or a
 * negative errno.  skb_cow_data() may reallocate the head, so pointers
 * into the data are stale afterwards.
 *
 * What is already writable is not copied: an skb that is not cloned,
 * has no frag_list and no page frag that others may see
 * (skb_has_shared_frag(): spliced or sent from user pages) is its own to
 * write, head and frags alike; it needs no room at the end when opening,
 * and when sealing has it if linear with the tailroom.  skb_cow_data()
 * would linearise every frag into a new head.
 */
static int ilp_psp_cow(struct sk_buff *skb, int tailen,
		       struct sk_buff **trailer)
{
	/* Un-cloning a shared skb would BUG in pskb_expand_head(). */
	if (unlikely(skb_shared(skb)))
		return -EINVAL;
	if (!skb_cloned(skb) && !skb_has_frag_list(skb) &&
	    !skb_has_shared_frag(skb)) {
		if (!tailen) {
			*trailer = skb;
			return 1 + skb_shinfo(skb)->nr_frags;
		}
		if (!skb_is_nonlinear(skb) && skb_tailroom(skb) >= tailen) {
			*trailer = skb;
			return 1;
		}
	}
	return skb_cow_data(skb, tailen, trailer);
}

/*
 * Runs one AEAD operation from @src to @dst (the same list in place),
 * the first @aad_len bytes of which are AAD; @cryptlen is the ciphertext
 * length, plus the ICV when decrypting.  Softirq or process context:
 * whether the FPU may be used is checked here.  Does not sleep.
 */
static int ilp_psp_run(struct ilp_psp_aead *a, struct scatterlist *src,
		       struct scatterlist *dst, const struct ilpw_psp *psp,
		       u32 aad_len, u32 cryptlen, bool encrypt)
{
	struct crypto_aead *tfm = a->tfm;
	u8 iv[ILPW_PSP_NONCE_LEN];
	struct aead_request *req;
	int err;

	/*
	 * The scratch request is this CPU's: with BHs off nothing else runs
	 * here until the (synchronous) operation is done.
	 */
	local_bh_disable();
	if (a->fallback && !crypto_simd_usable())
		tfm = a->fallback;
	if (likely(a->scratch)) {
		req = (struct aead_request *)this_cpu_ptr(ilp_psp_req)->buf;
		aead_request_set_tfm(req, tfm);
	} else {
		req = aead_request_alloc(tfm, GFP_ATOMIC);
		if (!req) {
			err = -ENOMEM;
			goto out;
		}
	}
	/* gcm(aes) copies the IV into its request context. */
	ilpw_psp_nonce(psp, iv);
	/* No callback (synchronous tfm), no MAY_SLEEP: this may be softirq. */
	aead_request_set_callback(req, 0, NULL, NULL);
	aead_request_set_ad(req, aad_len);
	aead_request_set_crypt(req, src, dst, cryptlen, iv);
	err = encrypt ? crypto_aead_encrypt(req) : crypto_aead_decrypt(req);
	/* Both wipe the request: it held the GCM state of this packet. */
	if (likely(a->scratch))
		memzero_explicit(req, sizeof(*req) + crypto_aead_reqsize(tfm));
	else
		aead_request_free(req);
out:
	local_bh_enable();
	return err;
}

/*
 * Runs one AEAD operation in place over the first skb->len bytes of
 * @skb, the first @aad_len of which are AAD; @cryptlen is the ciphertext
 * length, plus the ICV when decrypting.  @nfrags is what ilp_psp_cow()
 * returned.
 */
static int ilp_psp_crypt(struct ilp_psp_aead *a, struct sk_buff *skb,
			 int nfrags, const struct ilpw_psp *psp, u32 aad_len,
			 u32 cryptlen, bool encrypt)
{
	struct scatterlist sg_stack[ILP_PSP_SG_ON_STACK];
	struct scatterlist *sg = sg_stack;
	int err;

	if (unlikely(nfrags > ILP_PSP_SG_ON_STACK)) {
		sg = kmalloc_array(nfrags, sizeof(*sg), GFP_ATOMIC);
		if (!sg)
			return -ENOMEM;
	}
	sg_init_table(sg, nfrags);
	err = skb_to_sgvec(skb, sg, 0, skb->len);
	if (likely(err >= 0))
		err = ilp_psp_run(a, sg, sg, psp, aad_len, cryptlen, encrypt);
	if (sg != sg_stack)
		kfree(sg);
	return err;
}

/**
 * ilp_psp_open - authenticate and decrypt a PSP packet in place
 * @a: the SA's transform
 * @skb: PSP header to end of ICV; non-linear or cloned is fine, shared
 *	(skb_shared()) is not
 * @psp: the parsed header (for the nonce)
 * @layout: from ilpw_psp_parse() on the same bytes
 *
 * On success the ciphertext is replaced by plaintext and the ICV trimmed
 * off, so that skb->data .. skb->len is PSP header + plaintext.  The data
 * may be moved (skb_cow_data()): re-read any pointer into it.
 * A CHECKSUM_COMPLETE value no longer matches the decrypted bytes, so it
 * is dropped (CHECKSUM_NONE).  On failure the packet's contents are
 * unspecified (GCM decrypts before it checks the tag): drop it.
 *
 * Softirq or process context; does not sleep.
 *
 * Return: 0, -EBADMSG when
 * the ICV does not verify, -EINVAL when @psp or @layout do not fit the
 * transform or the skb, or -ENOMEM.
 */
int ilp_psp_open(struct ilp_psp_aead *a, struct sk_buff *skb,
		 const struct ilpw_psp *psp,
		 const struct ilpw_psp_layout *layout)
{
	struct sk_buff *trailer;
	int nfrags, err;

	if (psp->version != a->version ||
	    skb->len < ILPW_PSP_HDR_LEN + ILPW_PSP_ICV_LEN ||
	    !ilp_psp_layout_ok(layout, skb->len - ILPW_PSP_ICV_LEN))
		return -EINVAL;

	nfrags = ilp_psp_cow(skb, 0, &trailer);
	if (nfrags < 0)
		return nfrags;
	err = ilp_psp_crypt(a, skb, nfrags, psp, layout->aad_len,
			    layout->ct_len + ILPW_PSP_ICV_LEN, false);
	if (err)
		return err;

	if (skb->ip_summed == CHECKSUM_COMPLETE)
		skb->ip_summed = CHECKSUM_NONE;
	return pskb_trim(skb, skb->len - ILPW_PSP_ICV_LEN);
}

/**
 * ilp_psp_seal - encrypt in place and append the ICV
 * @a: the SA's transform
 * @skb: PSP header (written with ilpw_psp_build()) to end of plaintext;
 *	not shared.  Without ILPW_PSP_ICV_LEN of tailroom it is expanded.
 * @psp: the header's fields (for the nonce)
 * @layout: from ilpw_psp_build()
 *
 * The data may be moved (skb_cow_data()): re-read any pointer into it.
 * On failure the packet's contents are unspecified: drop it.
 *
 * Softirq or process context; does not sleep.
 *
 * Return: 0, -EINVAL when
 * @psp or @layout do not fit the transform or the skb, or -ENOMEM.
 */
int ilp_psp_seal(struct ilp_psp_aead *a, struct sk_buff *skb,
		 const struct ilpw_psp *psp,
		 const struct ilpw_psp_layout *layout)
{
	struct sk_buff *trailer;
	int nfrags;

	if (psp->version != a->version || !ilp_psp_layout_ok(layout, skb->len))
		return -EINVAL;

	nfrags = ilp_psp_cow(skb, ILPW_PSP_ICV_LEN, &trailer);
	if (nfrags < 0)
		return nfrags;
	/* Room for the tag, which GCM writes right after the ciphertext. */
	pskb_put(skb, trailer, ILPW_PSP_ICV_LEN);
	return ilp_psp_crypt(a, skb, nfrags, psp, layout->aad_len,
			     layout->ct_len, true);
}

/*
 * The sealed copy's scatterlist entries kept on the stack: the AAD, the
 * plaintext's head and up to this many page frags less two; a plaintext
 * in more pieces (or with a frag_list) is copied first.
 */
#define ILP_PSP_COPY_SG		(ILP_PSP_SG_ON_STACK + 2)

/**
 * ilp_psp_seal_copy - seal a copy of a shared plaintext out of place
 * @a: the SA's transform
 * @dst: linear, holding just the PSP header (written with
 *	ilpw_psp_build()), with tailroom for @src and the ICV
 * @src: the plaintext (ILP header and payload): linear or not, cloned or
 *	not; only read, so several next hops can be sealed from one @src
 * @psp: the header's fields (for the nonce)
 * @layout: from ilpw_psp_build() for @src->len bytes of payload
 *
 * The AES-GCM pass reads @src and writes @dst: no copy of the plaintext
 * is made and @src's data is not un-shared, unless it is in more pieces
 * than ILP_PSP_COPY_SG allows, when it is copied into @dst and sealed
 * there.
 *
 * Softirq or process context; does not sleep.
 *
 * Return: 0, -EINVAL when
 * @psp, @layout, @dst or @src do not fit together, or -EFAULT.
 */
int ilp_psp_seal_copy(struct ilp_psp_aead *a, struct sk_buff *dst,
		      struct sk_buff *src, const struct ilpw_psp *psp,
		      const struct ilpw_psp_layout *layout)
{
	struct scatterlist sg_src[ILP_PSP_COPY_SG], sg_dst;
	unsigned int clear;
	int n;

	if (psp->version != a->version || skb_is_nonlinear(dst) ||
	    dst->len != layout->hdr_len || layout->aad_len < layout->hdr_len ||
	    !ilp_psp_layout_ok(layout, layout->hdr_len + src->len) ||
	    skb_tailroom(dst) < src->len + ILPW_PSP_ICV_LEN)
		return -EINVAL;
	clear = layout->aad_len - layout->hdr_len;

	if (unlikely(skb_has_frag_list(src) ||
		     skb_shinfo(src)->nr_frags + 2 > ILP_PSP_COPY_SG)) {
		if (skb_copy_bits(src, 0, skb_put(dst, src->len), src->len))
			return -EFAULT;
		skb_put(dst, ILPW_PSP_ICV_LEN);
		sg_init_one(&sg_dst, dst->data, dst->len);
		return ilp_psp_run(a, &sg_dst, &sg_dst, psp, layout->aad_len,
				   layout->ct_len, true);
	}

	/* The crypt-offset bytes are AAD: in clear in the copy, too. */
	if (clear && skb_copy_bits(src, 0, skb_put(dst, clear), clear))
		return -EFAULT;
	sg_init_table(sg_src, ILP_PSP_COPY_SG);
	sg_set_buf(&sg_src[0], dst->data, layout->aad_len);
	n = skb_to_sgvec(src, &sg_src[1], clear, layout->ct_len);
	if (unlikely(n < 0))
		return n;
	/* AAD from @sg_src; the AEAD skips the same bytes of the output. */
	sg_init_one(&sg_dst, dst->data,
		    layout->aad_len + layout->ct_len + ILPW_PSP_ICV_LEN);
	skb_put(dst, layout->ct_len + ILPW_PSP_ICV_LEN);
	return ilp_psp_run(a, sg_src, &sg_dst, psp, layout->aad_len,
			   layout->ct_len, true);
}

/* Self-test: the PSP specification's KDF vectors and two AES-GCM packets. */

struct ilp_psp_kdf_vec {
	u8 master[ILP_PSP_MASTER_KEY_LEN];
	u32 spi;
	u8 version;
	u8 key[ILP_PSP_MAX_KEY_LEN];
};

static const struct ilp_psp_kdf_vec ilp_psp_kdf_vecs[] __initconst = {
	{
		.master = {
			0x34, 0x44, 0x8a, 0x06, 0x42, 0x92, 0x60, 0x1b,
			0x11, 0xa0, 0x97, 0x8f, 0x56, 0xa2, 0xd3, 0x4c,
			0xf3, 0xfc, 0x35, 0xed, 0xe1, 0xa6, 0xbc, 0x04,
			0xf8, 0xdb, 0x3e, 0x52, 0x43, 0xa2, 0xb0, 0xca,
		},
		.spi = 0x12345678,
		.version = 0,
		.key = {
			0x96, 0xc2, 0x2d, 0xc7, 0x99, 0x19, 0x80, 0x90,
			0xb7, 0x4b, 0x70, 0xae, 0x46, 0x8e, 0x4e, 0x30,
		},
	},
	{
		.master = {
			0x56, 0x39, 0x52, 0x56, 0x5d, 0x3a, 0x78, 0xae,
			0x77, 0x3e, 0xc1, 0xb7, 0x79, 0xf2, 0xf2, 0xd9,
			0x9f, 0x4a, 0x7f, 0x53, 0xa6, 0xfb, 0xb9, 0xb0,
			0x7d, 0x5b, 0x71, 0xf3, 0x93, 0x64, 0xd7, 0x39,
		},
		.spi = 0x9a345678,
		.version = 0,
		.key = {
			0x39, 0x46, 0xda, 0x25, 0x54, 0xea, 0xe4, 0x6a,
			0xd1, 0xef, 0x77, 0xa6, 0x43, 0x72, 0xed, 0xc4,
		},
	},
	{
		.master = {
			0x34, 0x44, 0x8a, 0x06, 0x42, 0x92, 0x60, 0x1b,
			0x11, 0xa0, 0x97, 0x8f, 0x56, 0xa2, 0xd3, 0x4c,
			0xf3, 0xfc, 0x35, 0xed, 0xe1, 0xa6, 0xbc, 0x04,
			0xf8, 0xdb, 0x3e, 0x52, 0x43, 0xa2, 0xb0, 0xca,
		},
		.spi = 0x12345678,
		.version = 1,
		.key = {
			0x2b, 0x7d, 0x72, 0x07, 0x4e, 0x42, 0xca, 0x33,
			0x44, 0x87, 0xf2, 0x99, 0x0e, 0x3f, 0x8c, 0x40,
			0x37, 0xe4, 0x36, 0xf3, 0x82, 0x83, 0x44, 0x9b,
			0x76, 0x46, 0x3e, 0x9b, 0x7f, 0xb2, 0xe3, 0xde,
		},
	},
};

static int __init ilp_psp_selftest_kdf(const struct ilp_psp_kdf_vec *v,
				       unsigned int n)
{
	unsigned int len = ilp_psp_key_len(v->version);
	u8 key[ILP_PSP_MAX_KEY_LEN];
	struct ilp_psp_master *m;
	int err;

	m = ilp_psp_master_new(v->master);
	if (IS_ERR(m)) {
		pr_err("PSP self-test: KDF vector %u: no cmac(aes): %ld\n", n,
		       PTR_ERR(m));
		return -EINVAL;
	}
	err = ilp_psp_derive(m, v->spi, v->version, key);
	ilp_psp_master_free(m);
	if (err || memcmp(key, v->key, len)) {
		pr_err("PSP self-test: KDF vector %u (v%u, SPI %#010x) %s\n", n,
		       v->version, v->spi, err ? "failed" : "gave a wrong key");
		err = -EINVAL;
	}
	memzero_explicit(key, sizeof(key));
	return err;
}

#define ILP_PSP_TEST_PAYLOAD	40
#define ILP_PSP_TEST_LEN	\
	(ILPW_PSP_HDR_LEN + ILP_PSP_TEST_PAYLOAD + ILPW_PSP_ICV_LEN)

/*
 * A packet sealed by an independent AES-GCM implementation: payload
 * 00 01 .. 27, the key of the KDF vector @kdf.
 */
struct ilp_psp_gcm_vec {
	unsigned int kdf;
	u8 crypt_off;
	u64 iv;
	u8 sealed[ILP_PSP_TEST_LEN];
};

static const struct ilp_psp_gcm_vec ilp_psp_gcm_vecs[] __initconst = {
	{
		/* AES-GCM-128, crypt offset 1: 4 payload bytes in clear */
		.kdf = 0,
		.crypt_off = 1,
		.iv = 1,
		.sealed = {
			0xfd, 0x01, 0x01, 0x01, 0x12, 0x34, 0x56, 0x78,
			0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
			0x00, 0x01, 0x02, 0x03, 0x02, 0xfc, 0xf6, 0x5e,
			0x4d, 0x8a, 0x1f, 0xdf, 0xf4, 0x9c, 0x03, 0xb6,
			0xef, 0x5c, 0x37, 0xa7, 0x37, 0xa5, 0xfe, 0x18,
			0xe7, 0xf9, 0xb6, 0x9b, 0xa5, 0x09, 0x83, 0xce,
			0x59, 0xaa, 0xa1, 0xe0, 0xd4, 0x1b, 0x6b, 0xa1,
			0xe5, 0xd2, 0xcd, 0xc3, 0x4c, 0x27, 0x40, 0x7f,
			0x28, 0x7d, 0xc6, 0x89, 0xb2, 0x7c, 0x54, 0x70,
		},
	},
	{
		/* AES-GCM-256, crypt offset 0 */
		.kdf = 2,
		.crypt_off = 0,
		.iv = 0x0123456789abcdefULL,
		.sealed = {
			0xfd, 0x01, 0x00, 0x05, 0x12, 0x34, 0x56, 0x78,
			0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
			0x47, 0xd2, 0xf6, 0xa2, 0xf1, 0x7b, 0xbb, 0x72,
			0x57, 0xd9, 0x87, 0x11, 0x10, 0x22, 0x86, 0xff,
			0x76, 0x99, 0xc6, 0xda, 0x8d, 0x98, 0x32, 0x74,
			0x42, 0x5e, 0xae, 0xb4, 0x89, 0xdc, 0x6f, 0x83,
			0x8b, 0xcf, 0x65, 0x3d, 0xae, 0x13, 0x47, 0x82,
			0x57, 0x8b, 0x55, 0xdf, 0x93, 0x39, 0x16, 0x3b,
			0x3d, 0xc1, 0xd3, 0xf6, 0xf8, 0xd0, 0x60, 0x24,
		},
	},
};

/*
 * An skb holding @len bytes of @data: linear when @split is 0, else the
 * first @split bytes in the head and the rest in a frag_list member, as
 * IP reassembly leaves a packet.
 */
static struct sk_buff * __init ilp_psp_test_skb(const u8 *data,
						unsigned int len,
						unsigned int split)
{
	struct sk_buff *skb, *frag;

	skb = alloc_skb(split ?: len, GFP_KERNEL);
	if (!skb)
		return NULL;
	skb_put_data(skb, data, split ?: len);
	if (!split)
		return skb;

	frag = alloc_skb(len - split, GFP_KERNEL);
	if (!frag) {
		kfree_skb(skb);
		return NULL;
	}
	skb_put_data(frag, data + split, len - split);
	skb_shinfo(skb)->frag_list = frag;
	skb->len += frag->len;
	skb->data_len += frag->len;
	skb->truesize += frag->truesize;
	return skb;
}

/* Whether @skb holds exactly the @len bytes at @data. */
static bool __init ilp_psp_test_equal(struct sk_buff *skb, const u8 *data,
				      unsigned int len)
{
	u8 buf[ILP_PSP_TEST_LEN];

	return skb->len == len && len <= sizeof(buf) &&
	       !skb_copy_bits(skb, 0, buf, len) && !memcmp(buf, data, len);
}

/*
 * Seals the plaintext of @v in an skb split at @split and compares with
 * the expected packet; opens that packet and compares with the
 * plaintext; opens it with one ciphertext byte flipped and expects
 * -EBADMSG.
 */
static int __init ilp_psp_selftest_gcm(const struct ilp_psp_gcm_vec *v,
				       unsigned int n, unsigned int split)
{
	const struct ilp_psp_kdf_vec *kv = &ilp_psp_kdf_vecs[v->kdf];
	const unsigned int plain_len = ILP_PSP_TEST_LEN - ILPW_PSP_ICV_LEN;
	struct ilpw_psp_layout layout;
	u8 plain[ILP_PSP_TEST_LEN];
	u8 bad[ILP_PSP_TEST_LEN];
	struct ilpw_psp psp = {
		.next_hdr = ILPW_PSP_NEXTHDR_ILP,
		.crypt_off = v->crypt_off,
		.version = kv->version,
		.spi = kv->spi,
		.iv = v->iv,
	};
	struct ilp_psp_aead *a;
	struct sk_buff *skb;
	const char *what;
	unsigned int i;
	int err;

	for (i = 0; i < ILP_PSP_TEST_PAYLOAD; i++)
		plain[ILPW_PSP_HDR_LEN + i] = i;
	if (ilpw_psp_build(plain, sizeof(plain), &psp, ILP_PSP_TEST_PAYLOAD,
			   &layout)) {
		what = "ilpw_psp_build";
		goto fail;
	}

	a = ilp_psp_aead_new(kv->version, kv->key);
	if (IS_ERR(a)) {
		pr_err("PSP self-test: GCM vector %u: no gcm(aes): %ld\n", n,
		       PTR_ERR(a));
		return -EINVAL;
	}

	what = "seal";
	skb = ilp_psp_test_skb(plain, plain_len, split);
	if (!skb)
		goto fail_aead;
	err = ilp_psp_seal(a, skb, &psp, &layout);
	if (err || !ilp_psp_test_equal(skb, v->sealed, ILP_PSP_TEST_LEN))
		goto fail_skb;
	kfree_skb(skb);

	what = "open";
	skb = ilp_psp_test_skb(v->sealed, ILP_PSP_TEST_LEN, split);
	if (!skb)
		goto fail_aead;
	if (ilpw_psp_parse(v->sealed, ILP_PSP_TEST_LEN, &psp, &layout))
		goto fail_skb;
	err = ilp_psp_open(a, skb, &psp, &layout);
	if (err || !ilp_psp_test_equal(skb, plain, plain_len))
		goto fail_skb;
	kfree_skb(skb);

	what = "open of a tampered packet";
	memcpy(bad, v->sealed, sizeof(bad));
	bad[layout.aad_len] ^= 0x01;
	skb = ilp_psp_test_skb(bad, ILP_PSP_TEST_LEN, split);
	if (!skb)
		goto fail_aead;
	if (ilp_psp_open(a, skb, &psp, &layout) != -EBADMSG)
		goto fail_skb;
	kfree_skb(skb);

	ilp_psp_aead_free(a);
	return 0;

fail_skb:
	kfree_skb(skb);
fail_aead:
	ilp_psp_aead_free(a);
fail:
	pr_err("PSP self-test: GCM vector %u (%s skb): %s failed\n", n,
	       split ? "frag_list" : "linear", what);
	return -EINVAL;
}

/**
 * ilp_psp_selftest - known-answer tests of the KDF and of seal and open
 *
 * Checks the PSP specification's KDF vectors and two packets sealed by
 * an independent AES-GCM implementation, in a linear and in a frag_list
 * skb, and that a flipped ciphertext bit fails with -EBADMSG.  Logs
 * which check failed.
 *
 * Module init only (process context, may sleep).
 * Return: 0, or -EINVAL if any check failed.
 */
int __init ilp_psp_selftest(void)
{
	/* Linear, and split inside the ciphertext. */
	static const unsigned int splits[] __initconst = { 0, 24 };
	unsigned int i, j;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(ilp_psp_kdf_vecs); i++)
		if (ilp_psp_selftest_kdf(&ilp_psp_kdf_vecs[i], i))
			err = -EINVAL;
	for (i = 0; i < ARRAY_SIZE(ilp_psp_gcm_vecs); i++)
		for (j = 0; j < ARRAY_SIZE(splits); j++)
			if (ilp_psp_selftest_gcm(&ilp_psp_gcm_vecs[i], i,
						 splits[j]))
				err = -EINVAL;
	return err;
}
