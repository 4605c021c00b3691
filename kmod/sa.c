// SPDX-License-Identifier: GPL-2.0
/*
 * sa.c - the node's PSP master keys and its receive SAs
 *
 * The receiver allocates SPIs.  Each allocation derives the SA's key from
 * the active master key (PSP KDF) and prepares its AES-GCM transform once,
 * here in process context, so the packet path only looks the SPI up.
 * Replacing a master key removes the SAs that were derived from it;
 * ILP_CMD_SA_DEL withdraws one (ilp_sa_del()).
 * Master keys are generated here by default; imported ones carry their
 * SPI numbering with them (ilp_key_set()).
 */
#include <linux/random.h>
#include <linux/slab.h>

#include "ilp.h"

static const struct rhashtable_params ilp_rx_sa_params = {
	.key_len = sizeof(u32),
	.key_offset = offsetof(struct ilp_rx_sa, spi),
	.head_offset = offsetof(struct ilp_rx_sa, node),
	.automatic_shrinking = true,
};

int ilp_sa_init(struct ilp_instance *inst)
{
	INIT_LIST_HEAD(&inst->rx_sa_list);
	inst->next_spi[0] = 1;
	inst->next_spi[1] = 1;
	return rhashtable_init(&inst->rx_sas, &ilp_rx_sa_params);
}

/**
 * ilp_rx_sa_lookup - the receive SA of @spi, or NULL
 * @inst: the instance
 * @spi: SPI from a packet
 *
 * Must be called under rcu_read_lock().
 */
struct ilp_rx_sa *ilp_rx_sa_lookup(struct ilp_instance *inst, u32 spi)
{
	return rhashtable_lookup(&inst->rx_sas, &spi, ilp_rx_sa_params);
}

/**
 * ilp_rx_sa_may_open - whether a packet under @sa may be decrypted
 * @sa: the receive SA its SPI names
 *
 * Authentication failures cost an AES-GCM pass each and prove nothing
 * but that someone sends forgeries; each takes a token from the SA's
 * bucket (ILP_AUTH_FAIL_BURST deep, ILP_AUTH_FAIL_RATE tokens a second),
 * and while it is empty the SA's packets are not decrypted at all.  The
 * common case, tokens left, is one read of a line the packet path only
 * writes on failures.  Concurrent CPUs may overdraw by a token each.
 *
 * Return: true if the caller may decrypt the packet.
 */
bool ilp_rx_sa_may_open(struct ilp_rx_sa *sa)
{
	unsigned long now, stamp, elapsed;
	int tokens, add;

	if (likely(atomic_read(&sa->auth_tokens) > 0))
		return true;
	now = jiffies;
	stamp = READ_ONCE(sa->auth_stamp);
	elapsed = now - stamp;
	if (elapsed >= (unsigned long)HZ * ILP_AUTH_FAIL_BURST / ILP_AUTH_FAIL_RATE)
		add = ILP_AUTH_FAIL_BURST;
	else
		add = elapsed * ILP_AUTH_FAIL_RATE / HZ;
	/* One CPU refills; the others see its tokens or none. */
	if (!add || cmpxchg(&sa->auth_stamp, stamp, now) != stamp)
		return atomic_read(&sa->auth_tokens) > 0;
	tokens = atomic_read(&sa->auth_tokens);
	atomic_set(&sa->auth_tokens, min(max(tokens, 0) + add, ILP_AUTH_FAIL_BURST));
	return true;
}

/**
 * ilp_rx_sa_auth_failed - a packet under @sa failed authentication
 * @sa: the receive SA
 *
 * Takes a token (see ilp_rx_sa_may_open()); the refill clock starts with
 * the first failure out of a full bucket.
 */
void ilp_rx_sa_auth_failed(struct ilp_rx_sa *sa)
{
	if (atomic_dec_return(&sa->auth_tokens) == ILP_AUTH_FAIL_BURST - 1)
		WRITE_ONCE(sa->auth_stamp, jiffies);
}

static void ilp_rx_sa_free(struct ilp_rx_sa *sa)
{
	ilp_psp_aead_free(sa->aead);
	free_percpu(sa->traffic);
	kfree(sa);
}

/* Removes the SAs of key @slot, or all of them when @slot is negative. */
static void ilp_rx_sas_remove(struct ilp_instance *inst, int slot)
{
	struct ilp_rx_sa *sa, *tmp;
	LIST_HEAD(gone);

	ilp_assert_cfg_locked_or_gone(inst);
	list_for_each_entry_safe(sa, tmp, &inst->rx_sa_list, list) {
		if (slot >= 0 && (sa->spi >> 31) != (u32)slot)
			continue;
		rhashtable_remove_fast(&inst->rx_sas, &sa->node, ilp_rx_sa_params);
		list_move(&sa->list, &gone);
		inst->nr_rx_sas--;
	}
	if (list_empty(&gone))
		return;
	ilp_gen_bump(&inst->gen);
	/* Packets being decrypted with them finish first (none if @gone). */
	if (!inst->gone)
		synchronize_net();
	list_for_each_entry_safe(sa, tmp, &gone, list)
		ilp_rx_sa_free(sa);
}

void ilp_sa_destroy(struct ilp_instance *inst)
{
	ilp_rx_sas_remove(inst, -1);
	rhashtable_destroy(&inst->rx_sas);
	ilp_psp_master_free(inst->master[0]);
	ilp_psp_master_free(inst->master[1]);
	inst->master[0] = NULL;
	inst->master[1] = NULL;
}

/**
 * ilp_key_set - install a master key in @slot
 * @inst: the instance
 * @slot: 0 or 1
 * @key: ILP_MASTER_KEY_LEN bytes to import, or NULL to generate a key
 * @first_spi: the first SPI number the key hands out (1 for a new key)
 * @make_active: new SPIs come from @slot from now on
 * @extack: for the reason of a failure
 *
 * The SAs derived from the slot's previous key stop working: their keys
 * came from it.  No SPI is ever allocated twice under one key, so that
 * no two senders share a (key, nonce): a generated key (the default) was
 * never used before and leaves the kernel with the instance, so any
 * numbering is fresh for it; an imported key may have been used before,
 * so its numbering resumes at @first_spi, which whoever holds the key
 * keeps from ILP_CMD_KEY_GET (ILP_KEY_A_NEXT_SPI).  A generated key goes
 * on with the slot's numbering rather than from 1 again: no SPI comes
 * back in the instance's life (until the 2^31 - 1 numbers are spent), so
 * that withdrawing a superseded SA by its SPI (ILP_CMD_SA_DEL, say a
 * grace period after a rotation) cannot remove a newer one of the same
 * number under the slot's next key.  The key itself is never logged nor
 * kept outside the KDF's transform.  Called with cfg_lock held.
 */
int ilp_key_set(struct ilp_instance *inst, unsigned int slot, const u8 *key,
		u32 first_spi, bool make_active, struct netlink_ext_ack *extack)
{
	u8 fresh[ILP_MASTER_KEY_LEN];
	struct ilp_psp_master *m;

	ilp_assert_cfg_locked(inst);

	if (!first_spi || first_spi > 0x7fffffff) {
		NL_SET_ERR_MSG(extack, "the first SPI number is 1 to 0x7fffffff");
		return -EINVAL;
	}
	if (key) {
		m = ilp_psp_master_new(key);
	} else {
		get_random_bytes(fresh, sizeof(fresh));
		m = ilp_psp_master_new(fresh);
		memzero_explicit(fresh, sizeof(fresh));
	}
	if (IS_ERR(m)) {
		NL_SET_ERR_MSG(extack, "cannot set up AES-256-CMAC for the master key");
		return PTR_ERR(m);
	}
	if (!key && inst->next_spi[slot] > first_spi &&
	    inst->next_spi[slot] <= 0x7fffffff)
		first_spi = inst->next_spi[slot];
	WRITE_ONCE(inst->key_present[slot], false);
	ilp_rx_sas_remove(inst, slot);
	ilp_psp_master_free(inst->master[slot]);
	inst->master[slot] = m;
	inst->next_spi[slot] = first_spi;
	inst->key_generated[slot] = !key;
	WRITE_ONCE(inst->key_present[slot], true);
	if (make_active || !inst->master[inst->active])
		inst->active = slot;
	return 0;
}

/**
 * ilp_sa_alloc - allocate a receive SA under the active master key
 * @inst: the instance
 * @version: PSP version, 0 or 1
 * @peer: the previous hop the SA is for (its address; the port is ignored)
 * @spi: the new SPI
 * @key: ILP_PSP_MAX_KEY_LEN bytes: the SA key, for the sender
 * @extack: for the reason of a failure
 *
 * The SA authenticates @peer: the receive path drops a packet under it
 * that comes from any other address, so that holding one SA does not let
 * a sender pass for another previous hop.  Called with cfg_lock held.
 */
int ilp_sa_alloc(struct ilp_instance *inst, u8 version,
		 const struct ilp_peer_key *peer, u32 *spi, u8 *key,
		 struct netlink_ext_ack *extack)
{
	unsigned int slot = inst->active;
	struct ilp_rx_sa *sa;
	int err;

	ilp_assert_cfg_locked(inst);

	if (!inst->master[slot]) {
		NL_SET_ERR_MSG(extack, "no master key installed");
		return -ENOKEY;
	}
	if (inst->nr_rx_sas >= ILP_MAX_RX_SAS) {
		NL_SET_ERR_MSG(extack, "too many receive SAs");
		return -ENOSPC;
	}
	if (inst->next_spi[slot] > 0x7fffffff) {
		NL_SET_ERR_MSG(extack, "every SPI under the active master key is used; rotate the key");
		return -ENOSPC;
	}

	sa = kzalloc(sizeof(*sa), GFP_KERNEL_ACCOUNT);
	if (!sa)
		return -ENOMEM;
	sa->spi = slot << 31 | inst->next_spi[slot];
	sa->version = version;
	sa->peer = *peer;
	sa->peer.port = 0;
	atomic_set(&sa->auth_tokens, ILP_AUTH_FAIL_BURST);
	sa->auth_stamp = jiffies;
	sa->traffic = ilp_traffic_new();
	if (!sa->traffic) {
		err = -ENOMEM;
		goto err_free;
	}
	err = ilp_psp_derive(inst->master[slot], sa->spi, version, key);
	if (err)
		goto err_free;
	sa->aead = ilp_psp_aead_new(version, key);
	if (IS_ERR(sa->aead)) {
		err = PTR_ERR(sa->aead);
		NL_SET_ERR_MSG(extack, "cannot set up AES-GCM for the SA");
		goto err_free;
	}
	err = rhashtable_insert_fast(&inst->rx_sas, &sa->node, ilp_rx_sa_params);
	if (err)
		goto err_aead;
	inst->next_spi[slot]++;
	list_add(&sa->list, &inst->rx_sa_list);
	inst->nr_rx_sas++;
	ilp_gen_bump(&inst->gen);
	*spi = sa->spi;
	return 0;

err_aead:
	ilp_psp_aead_free(sa->aead);
err_free:
	memzero_explicit(key, ILP_PSP_MAX_KEY_LEN);
	free_percpu(sa->traffic);
	kfree(sa);
	return err;
}

/**
 * ilp_sa_del - withdraw the receive SA of @spi
 * @inst: the instance
 * @spi: its SPI
 * @extack: for the reason of a failure
 *
 * Packets under @spi are dropped from now on as an unknown SPI's.  The
 * SA is freed a grace period later, so that packets being decrypted with
 * it finish: not from an RCU callback, since freeing a transform takes a
 * mutex (ilp_psp_aead_free()).  next_spi is left alone, so the SPI is
 * never handed out again under its key.  Called with cfg_lock held.
 *
 * Return: 0, or -ENOENT when no SA has @spi.
 */
int ilp_sa_del(struct ilp_instance *inst, u32 spi,
	       struct netlink_ext_ack *extack)
{
	struct ilp_rx_sa *sa;

	ilp_assert_cfg_locked(inst);

	sa = rhashtable_lookup_fast(&inst->rx_sas, &spi, ilp_rx_sa_params);
	if (!sa) {
		NL_SET_ERR_MSG(extack, "no such SA");
		return -ENOENT;
	}
	rhashtable_remove_fast(&inst->rx_sas, &sa->node, ilp_rx_sa_params);
	list_del(&sa->list);
	inst->nr_rx_sas--;
	ilp_gen_bump(&inst->gen);
	synchronize_net();
	ilp_rx_sa_free(sa);
	return 0;
}
