// SPDX-License-Identifier: GPL-2.0
/*
 * upcall.c - misses of the decision cache go up to the daemon
 *
 * The namespace's listener is one netlink socket (ILP_CMD_LISTEN).  A miss
 * becomes an ILP_CMD_UPCALL message queued on that socket without
 * waiting: its receive buffer is the bound on the memory misses can take,
 * and a miss that does not fit is counted as lost, never queued
 * elsewhere.  A flood of new connections thus costs at most one socket
 * buffer and never slows the packets the cache already decides.
 *
 * Before that, each CPU spends from its own token bucket (upcall_rate per
 * second, upcall_burst at most): a flood arriving on one CPU (one RSS
 * queue, one sender) is cut there, cheaply and before any allocation, and
 * leaves the socket buffer to the misses of the other CPUs.
 */
#include <net/genetlink.h>
#include <net/netlink.h>

#include "ilp.h"

/*
 * Cleared first when the module unloads (main.c), a grace period before
 * the family and the release notifier go: an upcall built after either
 * had gone could reach a socket that merely reuses the listener's port ID.
 */
static bool ilp_upcalls_on = true;

/* Whether upcalls may be sent; false from the start of unloading. */
bool ilp_upcalls_enabled(void)
{
	return READ_ONCE(ilp_upcalls_on);
}

/**
 * ilp_upcall_stop - send no more upcalls, and wait for those in flight
 *
 * Process context; the first step of unloading the module.
 */
void ilp_upcall_stop(void)
{
	WRITE_ONCE(ilp_upcalls_on, false);
	synchronize_net();
}

static int ilp_upcall_fill(struct sk_buff *msg, struct sk_buff *skb,
			   const struct ilp_flow_key *key, __be16 sport)
{
	struct nlattr *nest, *data;
	void *hdr;

	hdr = genlmsg_put(msg, 0, 0, &ilp_genl_family, 0, ILP_CMD_UPCALL);
	if (!hdr)
		return -EMSGSIZE;
	nest = nla_nest_start(msg, ILP_A_PACKET);
	if (!nest ||
	    nla_put(msg, ILP_PKT_A_PREV_ADDR,
		    key->prev.family == AF_INET ? 4 : 16, &key->prev.addr) ||
	    nla_put_u16(msg, ILP_PKT_A_PREV_PORT, ntohs(sport)) ||
	    nla_put_u32(msg, ILP_PKT_A_SERVICE, key->service) ||
	    nla_put_u64_64bit(msg, ILP_PKT_A_CONN, key->conn, ILP_PKT_A_PAD))
		return -EMSGSIZE;
	data = nla_reserve(msg, ILP_PKT_A_DATA, skb->len);
	if (!data || skb_copy_bits(skb, 0, nla_data(data), skb->len))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	genlmsg_end(msg, hdr);
	return 0;
}

/* Softirq (this CPU's bucket is only touched here, with BHs off). */
static bool ilp_upcall_take(struct ilp_net *in)
{
	u32 rate = READ_ONCE(in->upcall_rate);
	u32 burst = READ_ONCE(in->upcall_burst);
	struct ilp_upcall_quota *q;
	unsigned long now, elapsed;
	u64 tokens;

	if (!rate)
		return true;
	q = this_cpu_ptr(in->upcall_quota);
	now = jiffies;
	/* Capped so that the product cannot overflow; a minute refills any bucket. */
	elapsed = min_t(unsigned long, now - q->stamp, 60 * HZ);
	tokens = (u64)elapsed * rate / HZ;
	/* Keep the stamp while under one token, or slow rates never refill. */
	if (tokens)
		q->stamp = now;
	tokens = min_t(u64, q->tokens + tokens, burst);
	if (!tokens) {
		q->tokens = 0;
		return false;
	}
	q->tokens = tokens - 1;
	return true;
}

/**
 * ilp_upcall - send a packet the cache had no decision for to the listener
 * @in: the namespace's ILP state
 * @net: the namespace
 * @skb: data is the decrypted ILP header and payload; consumed
 * @key: its flow
 * @sport: the UDP source port it came from, for the listener's information
 *
 * Softirq; does not wait.
 */
void ilp_upcall(struct ilp_net *in, struct net *net, struct sk_buff *skb,
		const struct ilp_flow_key *key, __be16 sport)
{
	u32 portid = READ_ONCE(in->listener);
	struct sk_buff *msg;
	int err;

	if (!portid || !ilp_upcalls_enabled()) {
		ilp_stats_drop(&in->stats, ILP_DROP_NO_LISTENER);
		goto out;
	}
	if (!ilp_upcall_take(in)) {
		ilp_stats_inc(&in->stats, ILP_CNT_CACHE_THROTTLED);
		ilp_stats_inc(&in->stats, ILP_CNT_CACHE_LOST);
		goto out;
	}
	msg = genlmsg_new(nla_total_size(skb->len) + 128, GFP_ATOMIC);
	if (!msg) {
		ilp_stats_inc(&in->stats, ILP_CNT_CACHE_LOST);
		goto out;
	}
	if (ilp_upcall_fill(msg, skb, key, sport)) {
		nlmsg_free(msg);
		ilp_stats_inc(&in->stats, ILP_CNT_CACHE_LOST);
		goto out;
	}
	err = genlmsg_unicast(net, msg, portid);
	if (err) {
		ilp_stats_inc(&in->stats, ILP_CNT_CACHE_LOST);
		/* The listener is gone: stop trying until another registers. */
		if (err == -ECONNREFUSED)
			cmpxchg(&in->listener, portid, 0);
	} else {
		ilp_stats_inc(&in->stats, ILP_CNT_CACHE_MISSED);
	}
out:
	consume_skb(skb);
}

/* A netlink socket closed: forget it if it was a listener. */
static int ilp_upcall_release(struct notifier_block *nb, unsigned long state,
			      void *ptr)
{
	struct netlink_notify *n = ptr;
	struct ilp_net *in;

	if (state != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC ||
	    !n->portid)
		return NOTIFY_DONE;
	in = ilp_pernet(n->net);
	cmpxchg(&in->listener, n->portid, 0);
	return NOTIFY_DONE;
}

static struct notifier_block ilp_upcall_nb = {
	.notifier_call = ilp_upcall_release,
};

int ilp_upcall_init(void)
{
	return netlink_register_notifier(&ilp_upcall_nb);
}

void ilp_upcall_exit(void)
{
	netlink_unregister_notifier(&ilp_upcall_nb);
}
