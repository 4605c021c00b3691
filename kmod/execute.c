// SPDX-License-Identifier: GPL-2.0
/*
 * execute.c - the executor: carries out a cached or installed decision
 * on a decrypted ILP packet (drop, deliver to a local socket, forward to
 * next hops)
 *
 * Called from the receive path (rx.c) on a cache hit and from netlink.c
 * for a packet the daemon sends back with its decision; runs under
 * rcu_read_lock() with BHs disabled.
 */
#include <linux/jhash.h>
#include <linux/skbuff.h>

#include "ilp.h"

static void ilp_exec_drop(struct ilp_net *in, struct sk_buff *skb,
			  enum ilp_drop_reason reason)
{
	ilp_stats_drop(&in->stats, reason);
	kfree_skb(skb);
}

/*
 * Length of the ILP header at skb->data, which both callers of
 * ilp_execute() have parsed and made linear; 0 if it somehow is not.
 */
static unsigned int ilp_hdr_len(const struct sk_buff *skb)
{
	unsigned int n;

	if (skb_headlen(skb) < ILPW_HDR_LEN)
		return 0;
	n = 4 * ((unsigned int)skb->data[2] << 8 | skb->data[3]);
	return n >= ILPW_HDR_LEN && n <= skb_headlen(skb) ? n : 0;
}

/**
 * ilp_execute - carry out a decision on a packet
 * @in: the namespace's ILP state
 * @inst: the instance
 * @skb: data is the ILP header and payload; consumed
 * @key: the packet's flow (for the flow hash)
 * @acts: the decision
 * @dsfield: the DS field (DSCP, ECN) the packet arrived with, which its
 *	copies to the next hops carry on; 0 when not known
 *
 * Under rcu_read_lock() with BHs disabled.  Each next hop gets its own
 * copy, sealed with its own transmit SA: all but the last are sealed out
 * of place from @skb's plaintext into buffers of their own, the last in
 * place, unless a local delivery shares @skb's data, when it is sealed
 * out of place too.
 */
void ilp_execute(struct ilp_net *in, struct ilp_instance *inst,
		 struct sk_buff *skb, const struct ilp_flow_key *key,
		 const struct ilp_actions *acts, u8 dsfield)
{
	u32 hash = jhash_3words(key->service, (u32)key->conn,
				(u32)(key->conn >> 32), 0);
	struct ilp_peer *peer;
	struct sk_buff *copy;
	bool shared = false;
	unsigned int i;
	int reason;

	if (acts->drop || (!acts->n_fwd && !acts->deliver)) {
		ilp_exec_drop(in, skb, ILP_DROP_DECIDED);
		return;
	}
	if (acts->deliver) {
		unsigned int hl;

		copy = acts->n_fwd ? skb_clone(skb, GFP_ATOMIC) : skb;
		hl = copy ? ilp_hdr_len(copy) : 0;
		if (!copy)
			ilp_stats_drop(&in->stats, ILP_DROP_NOMEM);
		else if (!hl)
			ilp_exec_drop(in, copy, ILP_DROP_ILP_HDRLEN);
		else if (!ilp_deliver(in, copy, key, hl))
			ilp_exec_drop(in, copy, ILP_DROP_NO_SOCKET);
		if (!acts->n_fwd)
			return;
		shared = true;
	}
	for (i = 0; i < acts->n_fwd; i++) {
		bool in_place = i + 1 == acts->n_fwd && !shared;

		peer = ilp_peer_lookup(inst, &acts->fwd[i]);
		if (!peer)
			reason = ILP_DROP_NO_PEER;
		else
			reason = ilp_tx_fwd(inst, peer, skb, hash, dsfield,
					    !in_place);
		if (reason)
			ilp_stats_drop(&in->stats, reason);
		else
			ilp_stats_inc(&in->stats, ILP_CNT_TX_PACKETS);
		if (in_place && !peer)
			kfree_skb(skb);
	}
	/* Every copy was sealed out of place: the plaintext is done with. */
	if (shared)
		consume_skb(skb);
}
