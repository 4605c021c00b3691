// SPDX-License-Identifier: GPL-2.0
/*
 * peer.c - the peers of an instance and their transmit SAs
 *
 * A peer is an address and UDP port.  Its transmit SA (SPI and key given
 * by the peer, the receiver) is replaced under RCU: a packet being sealed
 * with the old SA finishes with it, and the old one is freed after.
 */
#include <linux/slab.h>

#include "ilp.h"

static const struct rhashtable_params ilp_peer_params = {
	.key_len = sizeof(struct ilp_peer_key),
	.key_offset = offsetof(struct ilp_peer, key),
	.head_offset = offsetof(struct ilp_peer, node),
	.automatic_shrinking = true,
};

int ilp_peer_init(struct ilp_instance *inst)
{
	INIT_LIST_HEAD(&inst->peer_list);
	return rhashtable_init(&inst->peers, &ilp_peer_params);
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
	err = dst_cache_init(&p->dst_cache, GFP_KERNEL);
	if (err) {
		kfree(p);
		return err;
	}
	err = rhashtable_insert_fast(&inst->peers, &p->node, ilp_peer_params);
	if (err) {
		dst_cache_destroy(&p->dst_cache);
		kfree(p);
		return err;
	}
	list_add(&p->list, &inst->peer_list);
	ilp_gen_bump(&inst->gen);
	return 0;
}

int ilp_peer_set_tx(struct ilp_instance *inst, const struct ilp_peer_key *key,
		    u32 spi, u8 version, const u8 *sa_key,
		    struct netlink_ext_ack *extack)
{
	struct ilp_tx_sa *tx, *old;
	struct ilp_peer *p;

	ilp_assert_cfg_locked(inst);

	p = ilp_peer_find_locked(inst, key);
	if (!p) {
		NL_SET_ERR_MSG(extack, "no such peer");
		return -ENOENT;
	}
	tx = kzalloc(sizeof(*tx), GFP_KERNEL);
	if (!tx)
		return -ENOMEM;
	tx->spi = spi;
	tx->version = version;
	tx->iv = alloc_percpu(u64);
	if (!tx->iv) {
		kfree(tx);
		return -ENOMEM;
	}
	tx->aead = ilp_psp_aead_new(version, sa_key);
	if (IS_ERR(tx->aead)) {
		int err = PTR_ERR(tx->aead);

		free_percpu(tx->iv);
		kfree(tx);
		NL_SET_ERR_MSG(extack, "cannot set up AES-GCM for the SA");
		return err;
	}
	old = rcu_replace_pointer(p->tx, tx,
				  lockdep_is_held(&ilp_pernet(inst->net)->cfg_lock));
	ilp_gen_bump(&inst->gen);
	if (old) {
		synchronize_net();
		ilp_tx_sa_free(old);
	}
	return 0;
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
