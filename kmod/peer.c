// SPDX-License-Identifier: GPL-2.0
/*
 * peer.c - the peers of an instance and their transmit SAs
 *
 * A peer is an address and UDP port.  Its transmit SA (SPI and key given
 * by the peer, the receiver) is replaced under RCU: a packet being sealed
 * with the old SA finishes with it, and the old one is freed after.
 *
 * A nonce (SPI and IV) is never used twice under one key.  The IVs of an
 * SA count up per CPU (tx.c) and never wrap; a re-install of the peer's
 * current SPI keeps its counters; any other SA (SPI and key) installed for
 * the peer before, in the instance's life, is refused, as its counters
 * are gone.  The same SPI under another key is another SA: a receiver
 * re-created (a reboot, the module reloaded, another datapath) numbers
 * its SPIs from 1 again, under keys never used.
 */
#include <crypto/sha2.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "ilp.h"

static ulong test_iv_left;
module_param(test_iv_left, ulong, 0644);
MODULE_PARM_DESC(test_iv_left,
		 "For tests only: the IVs each CPU has left on a newly installed transmit SA (0: all)");

#define ILP_TX_KEY_ID_LEN	16

/*
 * What ilp_instance->tx_spis holds: one SA ever installed, (peer, SPI)
 * and the SA key's ID, the first 16 bytes of its SHA-256 (never the key).
 */
struct ilp_tx_spi {
	struct rhash_head node;
	struct {
		struct ilp_peer_key peer;
		u32 spi;
		u8 key_id[ILP_TX_KEY_ID_LEN];
	} key;
};

static const struct rhashtable_params ilp_tx_spi_params = {
	.key_len = sizeof_field(struct ilp_tx_spi, key),
	.key_offset = offsetof(struct ilp_tx_spi, key),
	.head_offset = offsetof(struct ilp_tx_spi, node),
};

static void ilp_tx_spi_free(void *ptr, void *arg)
{
	kfree(ptr);
}

static const struct rhashtable_params ilp_peer_params = {
	.key_len = sizeof(struct ilp_peer_key),
	.key_offset = offsetof(struct ilp_peer, key),
	.head_offset = offsetof(struct ilp_peer, node),
	.automatic_shrinking = true,
};

int ilp_peer_init(struct ilp_instance *inst)
{
	int err;

	INIT_LIST_HEAD(&inst->peer_list);
	err = rhashtable_init(&inst->tx_spis, &ilp_tx_spi_params);
	if (err)
		return err;
	err = rhashtable_init(&inst->peers, &ilp_peer_params);
	if (err)
		rhashtable_destroy(&inst->tx_spis);
	return err;
}

static struct ilp_peer *ilp_peer_find_locked(struct ilp_instance *inst,
					     const struct ilp_peer_key *key)
{
	return rhashtable_lookup_fast(&inst->peers, key, ilp_peer_params);
}

/**
 * ilp_peer_lookup - the peer at @key, or NULL
 * @inst: the instance
 * @key: address and port
 *
 * Must be called under rcu_read_lock().
 */
struct ilp_peer *ilp_peer_lookup(struct ilp_instance *inst,
				 const struct ilp_peer_key *key)
{
	return rhashtable_lookup(&inst->peers, key, ilp_peer_params);
}

static void ilp_tx_sa_free(struct ilp_tx_sa *tx)
{
	if (!tx)
		return;
	ilp_psp_aead_free(tx->aead);
	free_percpu(tx->iv);
	kfree(tx);
}

static void ilp_peers_free(struct ilp_instance *inst, struct list_head *gone)
{
	struct ilp_peer *p, *tmp;

	if (list_empty(gone))
		return;
	/* Not when the instance is gone: nothing reads its peers any more. */
	if (!inst->gone)
		synchronize_net();
	list_for_each_entry_safe(p, tmp, gone, list) {
		ilp_tx_sa_free(rcu_dereference_protected(p->tx, 1));
		dst_cache_destroy(&p->dst_cache);
		free_percpu(p->tx_traffic);
		kfree(p);
	}
}

void ilp_peer_destroy(struct ilp_instance *inst)
{
	struct ilp_peer *p, *tmp;
	LIST_HEAD(gone);

	list_for_each_entry_safe(p, tmp, &inst->peer_list, list) {
		rhashtable_remove_fast(&inst->peers, &p->node, ilp_peer_params);
		list_move(&p->list, &gone);
	}
	ilp_peers_free(inst, &gone);
	rhashtable_destroy(&inst->peers);
	rhashtable_free_and_destroy(&inst->tx_spis, ilp_tx_spi_free, NULL);
}

int ilp_peer_add(struct ilp_instance *inst, const struct ilp_peer_key *key,
		 struct netlink_ext_ack *extack)
{
	struct ilp_peer *p;
	int err;

	ilp_assert_cfg_locked(inst);

	if (ilp_peer_find_locked(inst, key)) {
		NL_SET_ERR_MSG(extack, "peer already exists");
		return -EEXIST;
	}
	if (atomic_read(&inst->peers.nelems) >= ILP_MAX_PEERS) {
		NL_SET_ERR_MSG(extack, "too many peers (ILP_MAX_PEERS)");
		return -ENOSPC;
	}
	p = kzalloc(sizeof(*p), GFP_KERNEL_ACCOUNT);
	if (!p)
		return -ENOMEM;
	p->key = *key;
	p->tx_traffic = ilp_traffic_new();
	if (!p->tx_traffic) {
		kfree(p);
		return -ENOMEM;
	}
	err = dst_cache_init(&p->dst_cache, GFP_KERNEL_ACCOUNT);
	if (err) {
		free_percpu(p->tx_traffic);
		kfree(p);
		return err;
	}
	err = rhashtable_insert_fast(&inst->peers, &p->node, ilp_peer_params);
	if (err) {
		dst_cache_destroy(&p->dst_cache);
		free_percpu(p->tx_traffic);
		kfree(p);
		return err;
	}
	list_add(&p->list, &inst->peer_list);
	ilp_gen_bump(&inst->gen);
	return 0;
}

/* Fresh IV counters, at 0, or near their end for a test (test_iv_left). */
static u64 __percpu *ilp_tx_iv_new(u64 iv_max)
{
	u64 __percpu *iv = alloc_percpu_gfp(u64, GFP_KERNEL_ACCOUNT);
	ulong left = READ_ONCE(test_iv_left);
	int cpu;

	if (iv && left && left < iv_max)
		for_each_possible_cpu(cpu)
			*per_cpu_ptr(iv, cpu) = iv_max - left;
	return iv;
}

/**
 * ilp_peer_set_tx - install a transmit SA for the peer at @key
 * @inst: the instance
 * @key: the peer
 * @spi: the SPI the peer allocated
 * @version: PSP version
 * @sa_key: its key (16 or 32 bytes)
 * @extack: for the reason of a failure
 *
 * The IV is the CPU number in the top order_base_2(nr_cpu_ids) bits (at
 * least 1) and a per-CPU counter in the rest.  Re-installing the peer's
 * current SPI (say with another key or version, or the same again) hands
 * the counters on; an SA (the same SPI and key) installed for the peer
 * before and replaced since is refused (EKEYREJECTED): its counters are
 * gone, and counting again from 1 would repeat nonces under its key.  The
 * same SPI with another key is a new SA.  Called with cfg_lock held.
 *
 * Return: 0 or a negative errno.
 */
int ilp_peer_set_tx(struct ilp_instance *inst, const struct ilp_peer_key *key,
		    u32 spi, u8 version, const u8 *sa_key,
		    struct netlink_ext_ack *extack)
{
	u8 digest[SHA256_DIGEST_SIZE];
	struct ilp_tx_spi *used = NULL;
	struct ilp_tx_sa *tx, *old;
	struct ilp_tx_spi lookup;
	struct ilp_peer *p;
	bool same, known;
	int err;

	ilp_assert_cfg_locked(inst);

	p = ilp_peer_find_locked(inst, key);
	if (!p) {
		NL_SET_ERR_MSG(extack, "no such peer");
		return -ENOENT;
	}
	old = rcu_dereference_protected(p->tx,
					lockdep_is_held(&ilp_pernet(inst->net)->cfg_lock));
	same = old && old->spi == spi;
	memset(&lookup.key, 0, sizeof(lookup.key));
	lookup.key.peer = *key;
	lookup.key.spi = spi;
	sha256(sa_key, version ? 32 : 16, digest);
	memcpy(lookup.key.key_id, digest, ILP_TX_KEY_ID_LEN);
	known = rhashtable_lookup_fast(&inst->tx_spis, &lookup.key,
				       ilp_tx_spi_params);
	if (known && !same) {
		NL_SET_ERR_MSG(extack,
			       "this SA (SPI and key) was installed for the peer before: its IVs would repeat; get a new SA from the peer");
		return -EKEYREJECTED;
	}
	/*
	 * Remembered also when it keeps the current SPI's counters with
	 * another key: once replaced, that SA must not come back either.
	 */
	if (!known) {
		if (atomic_read(&inst->tx_spis.nelems) >= ILP_MAX_TX_SAS_INSTALLED) {
			NL_SET_ERR_MSG(extack,
				       "too many transmit SAs in this instance's life (ILP_MAX_TX_SAS_INSTALLED)");
			return -ENOSPC;
		}
		used = kmemdup(&lookup, sizeof(lookup), GFP_KERNEL_ACCOUNT);
		if (!used)
			return -ENOMEM;
	}
	err = -ENOMEM;
	tx = kzalloc(sizeof(*tx), GFP_KERNEL_ACCOUNT);
	if (!tx)
		goto err_used;
	tx->spi = spi;
	tx->version = version;
	tx->ctr_bits = 64 - max(order_base_2(nr_cpu_ids), 1);
	tx->iv_max = (1ULL << tx->ctr_bits) - 1;
	tx->iv_warn = tx->iv_max - (tx->iv_max >> 4);
	if (same) {
		tx->iv = old->iv;
		tx->events = READ_ONCE(old->events);
	} else {
		tx->iv = ilp_tx_iv_new(tx->iv_max);
		if (!tx->iv)
			goto err_tx;
	}
	tx->aead = ilp_psp_aead_new(version, sa_key);
	if (IS_ERR(tx->aead)) {
		err = PTR_ERR(tx->aead);
		NL_SET_ERR_MSG(extack, "cannot set up AES-GCM for the SA");
		goto err_iv;
	}
	if (used) {
		err = rhashtable_insert_fast(&inst->tx_spis, &used->node,
					     ilp_tx_spi_params);
		if (err)
			goto err_aead;
	}
	old = rcu_replace_pointer(p->tx, tx,
				  lockdep_is_held(&ilp_pernet(inst->net)->cfg_lock));
	ilp_gen_bump(&inst->gen);
	if (old) {
		synchronize_net();
		/* Its counters live on in @tx. */
		if (same)
			old->iv = NULL;
		ilp_tx_sa_free(old);
	}
	return 0;

err_aead:
	ilp_psp_aead_free(tx->aead);
err_iv:
	if (!same)
		free_percpu(tx->iv);
err_tx:
	kfree(tx);
err_used:
	kfree(used);
	return err;
}

int ilp_peer_del(struct ilp_instance *inst, const struct ilp_peer_key *key,
		 struct netlink_ext_ack *extack)
{
	struct ilp_peer *p;
	LIST_HEAD(gone);

	ilp_assert_cfg_locked(inst);

	p = ilp_peer_find_locked(inst, key);
	if (!p) {
		NL_SET_ERR_MSG(extack, "no such peer");
		return -ENOENT;
	}
	rhashtable_remove_fast(&inst->peers, &p->node, ilp_peer_params);
	list_move(&p->list, &gone);
	ilp_gen_bump(&inst->gen);
	ilp_peers_free(inst, &gone);
	return 0;
}

/* Whether local sockets may send to the peer without an SN. */
int ilp_peer_set_direct(struct ilp_instance *inst, const struct ilp_peer_key *key,
			bool direct, struct netlink_ext_ack *extack)
{
	struct ilp_peer *p;

	ilp_assert_cfg_locked(inst);
	p = ilp_peer_find_locked(inst, key);
	if (!p) {
		NL_SET_ERR_MSG(extack, "no such peer");
		return -ENOENT;
	}
	WRITE_ONCE(p->direct, direct);
	ilp_gen_bump(&inst->gen);
	return 0;
}
