// SPDX-License-Identifier: GPL-2.0
/*
 * dcache.c - the decision cache of the pipe-terminus
 *
 * Maps (previous hop, service ID, connection ID) to what to do with a
 * packet.  Lookups are lock-free under RCU; writers (netlink, always in
 * process context) hold dc->lock.  When full, inserting evicts by second
 * chance (CLOCK): entries hit since the hand last passed are spared once,
 * so hot entries stay.  Idle expiry is left to the daemon, which reads
 * each entry's hit counts and last use (docs/decision-cache.md).
 */
#include <linux/jiffies.h>
#include <linux/random.h>
#include <linux/slab.h>

#include "ilp.h"

static const struct rhashtable_params ilp_dc_params = {
	.key_len = sizeof(struct ilp_flow_key),
	.key_offset = offsetof(struct ilp_dc_entry, key),
	.head_offset = offsetof(struct ilp_dc_entry, node),
	.automatic_shrinking = true,
};

int ilp_dc_init(struct ilp_dcache *dc)
{
	mutex_init(&dc->lock);
	INIT_LIST_HEAD(&dc->clock);
	dc->count = 0;
	dc->gen = get_random_u32() | 1;
	dc->capacity = ILP_CACHE_DEFAULT_CAPACITY;
	return rhashtable_init(&dc->table, &ilp_dc_params);
}

static void ilp_dc_free_rcu(struct rcu_head *head)
{
	kfree(container_of(head, struct ilp_dc_entry, rcu));
}

/* Unlinks @e; readers may still hold it until a grace period passes. */
static void ilp_dc_remove(struct ilp_dcache *dc, struct ilp_dc_entry *e)
{
	lockdep_assert_held(&dc->lock);
	rhashtable_remove_fast(&dc->table, &e->node, ilp_dc_params);
	list_del(&e->lru);
	dc->count--;
	ilp_gen_bump(&dc->gen);
	call_rcu(&e->rcu, ilp_dc_free_rcu);
}

void ilp_dc_flush(struct ilp_dcache *dc)
{
	struct ilp_dc_entry *e, *tmp;

	mutex_lock(&dc->lock);
	list_for_each_entry_safe(e, tmp, &dc->clock, lru)
		ilp_dc_remove(dc, e);
	mutex_unlock(&dc->lock);
}

/* Whether @e's flow comes from @prev (port 0) or forwards to @peer. */
static bool ilp_dc_names_peer(const struct ilp_dc_entry *e,
			      const struct ilp_peer_key *prev,
			      const struct ilp_peer_key *peer)
{
	unsigned int i;

	if (!memcmp(&e->key.prev, prev, sizeof(*prev)))
		return true;
	for (i = 0; i < e->acts.n_fwd; i++)
		if (!memcmp(&e->acts.fwd[i], peer, sizeof(*peer)))
			return true;
	return false;
}

/**
 * ilp_dc_del_peer - remove the decisions from and to a peer
 * @dc: the cache
 * @peer: the peer removed: its address and port
 *
 * Entries whose previous hop is @peer's address (flows are keyed by the
 * address alone, so another peer at that address loses its entries too),
 * and entries with @peer among their next hops.  An entry that forwards
 * to other next hops as well goes whole rather than shrunk: a decision
 * is the listener's to make, and it makes it again at the flow's next
 * miss.  The walk is over every entry, on the config path, with dc->lock
 * held (under cfg_lock, in the documented order); readers still holding
 * an entry finish with it before it is freed (call_rcu()).
 *
 * Process context.
 *
 * Return: the number of entries removed.
 */
unsigned int ilp_dc_del_peer(struct ilp_dcache *dc,
			     const struct ilp_peer_key *peer)
{
	struct ilp_peer_key prev = *peer;
	struct ilp_dc_entry *e, *tmp;
	unsigned int n = 0, seen = 0;

	prev.port = 0;
	mutex_lock(&dc->lock);
	list_for_each_entry_safe(e, tmp, &dc->clock, lru) {
		if (ilp_dc_names_peer(e, &prev, peer)) {
			ilp_dc_remove(dc, e);
			n++;
		}
		/* A million entries is a long walk: let others run. */
		if (!(++seen & 4095))
			cond_resched();
	}
	mutex_unlock(&dc->lock);
	return n;
}

static void ilp_dc_free_entry(void *ptr, void *arg)
{
	kfree(ptr);
}

/**
 * ilp_dc_destroy - free the cache and its entries
 * @dc: a cache no reader can reach any more (its instance was unpublished
 *	a grace period ago, or never published)
 *
 * Frees the entries at once, without call_rcu(); entries removed earlier
 * may still wait for theirs, which the module's exit waits for.
 */
void ilp_dc_destroy(struct ilp_dcache *dc)
{
	rhashtable_free_and_destroy(&dc->table, ilp_dc_free_entry, NULL);
	INIT_LIST_HEAD(&dc->clock);
	dc->count = 0;
	mutex_destroy(&dc->lock);
}

/**
 * ilp_dc_lookup - the decision for a flow, or NULL
 * @dc: the cache
 * @key: the flow
 *
 * Must be called under rcu_read_lock().
 */
struct ilp_dc_entry *ilp_dc_lookup(struct ilp_dcache *dc,
				   const struct ilp_flow_key *key)
{
	return rhashtable_lookup(&dc->table, key, ilp_dc_params);
}

/* The entry of @key, with dc->lock held; NULL if none. */
struct ilp_dc_entry *ilp_dc_find_locked(struct ilp_dcache *dc,
					const struct ilp_flow_key *key)
{
	lockdep_assert_held(&dc->lock);
	return rhashtable_lookup_fast(&dc->table, key, ilp_dc_params);
}

/**
 * ilp_dc_hit - account a packet of @len bytes to @e
 * @e: the entry that decided
 * @len: bytes of ILP header and payload
 *
 * Softirq or process context with BHs off.
 */
void ilp_dc_hit(struct ilp_dc_entry *e, unsigned int len)
{
	atomic64_inc(&e->packets);
	atomic64_add(len, &e->bytes);
	/* Write the shared fields only when they change. */
	if (READ_ONCE(e->used) != jiffies)
		WRITE_ONCE(e->used, jiffies);
	if (!READ_ONCE(e->referenced))
		WRITE_ONCE(e->referenced, 1);
}

void ilp_dc_entry_stats(struct ilp_dc_entry *e, u64 *packets, u64 *bytes)
{
	*packets = atomic64_read(&e->packets);
	*bytes = atomic64_read(&e->bytes);
}

/* Evicts one entry by second chance; the cache must not be empty. */
static void ilp_dc_evict_one(struct ilp_net *in, struct ilp_dcache *dc)
{
	struct ilp_dc_entry *e;
	u32 tries = 2 * dc->count;

	while (tries--) {
		e = list_first_entry(&dc->clock, struct ilp_dc_entry, lru);
		if (READ_ONCE(e->referenced) && tries) {
			WRITE_ONCE(e->referenced, 0);
			list_move_tail(&e->lru, &dc->clock);
			ilp_gen_bump(&dc->gen);
			continue;
		}
		ilp_dc_remove(dc, e);
		ilp_stats_inc(&in->stats, ILP_CNT_CACHE_EVICTED);
		return;
	}
}

/**
 * ilp_dc_add - install (or replace) the decision for a flow
 * @in: the namespace, for the eviction counter
 * @dc: the cache
 * @key: the flow
 * @acts: the decision
 *
 * Process context.
 */
int ilp_dc_add(struct ilp_net *in, struct ilp_dcache *dc,
	       const struct ilp_flow_key *key, const struct ilp_actions *acts)
{
	size_t size = offsetof(struct ilp_dc_entry, acts.fwd) +
		      acts->n_fwd * sizeof(acts->fwd[0]);
	struct ilp_dc_entry *e, *old;
	int err = 0;

	/* Charged to the caller's memory cgroup: the daemon that decided. */
	e = kzalloc(size, GFP_KERNEL_ACCOUNT);
	if (!e)
		return -ENOMEM;
	e->key = *key;
	memcpy(&e->acts, acts, size - offsetof(struct ilp_dc_entry, acts));

	mutex_lock(&dc->lock);
	old = rhashtable_lookup_fast(&dc->table, key, ilp_dc_params);
	if (old) {
		err = rhashtable_replace_fast(&dc->table, &old->node, &e->node,
					      ilp_dc_params);
		if (!err) {
			list_replace(&old->lru, &e->lru);
			ilp_gen_bump(&dc->gen);
			call_rcu(&old->rcu, ilp_dc_free_rcu);
		}
		goto out;
	}
	while (dc->count >= dc->capacity && dc->count)
		ilp_dc_evict_one(in, dc);
	err = rhashtable_insert_fast(&dc->table, &e->node, ilp_dc_params);
	if (!err) {
		list_add_tail(&e->lru, &dc->clock);
		dc->count++;
		ilp_gen_bump(&dc->gen);
	}
out:
	mutex_unlock(&dc->lock);
	if (err)
		kfree(e);
	return err;
}

int ilp_dc_del(struct ilp_dcache *dc, const struct ilp_flow_key *key)
{
	struct ilp_dc_entry *e;
	int err = 0;

	mutex_lock(&dc->lock);
	e = rhashtable_lookup_fast(&dc->table, key, ilp_dc_params);
	if (e)
		ilp_dc_remove(dc, e);
	else
		err = -ENOENT;
	mutex_unlock(&dc->lock);
	return err;
}

int ilp_dc_set_capacity(struct ilp_net *in, struct ilp_dcache *dc, u32 cap)
{
	if (!cap || cap > ILP_CACHE_MAX_CAPACITY)
		return -EINVAL;
	mutex_lock(&dc->lock);
	dc->capacity = cap;
	while (dc->count > dc->capacity)
		ilp_dc_evict_one(in, dc);
	mutex_unlock(&dc->lock);
	return 0;
}
