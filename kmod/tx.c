// SPDX-License-Identifier: GPL-2.0
/*
 * tx.c - the transmit path: seal an ILP packet with a peer's transmit SA
 * and send it over the instance's UDP socket
 *
 * Called with rcu_read_lock() held and BHs disabled (softirq on the
 * forwarding path, or netlink's EXECUTE).
 */
#include <linux/jhash.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/ipv6_stubs.h>
#include <net/route.h>
#include <net/udp_tunnel.h>

#include "ilp.h"

/* Room for the outer headers in front of the PSP header. */
#define ILP_TX_HEADROOM (LL_MAX_HEADER + sizeof(struct ipv6hdr) + \
			 sizeof(struct udphdr) + ILPW_PSP_HDR_LEN)

/* The next IV of @tx on this CPU; 0 when this CPU's space is spent. */
static u64 ilp_tx_next_iv(struct ilp_tx_sa *tx)
{
	u64 n = ++*this_cpu_ptr(tx->iv);

	if (n >> (64 - ILP_IV_CPU_BITS))
		return 0;
	return (u64)smp_processor_id() << (64 - ILP_IV_CPU_BITS) | n;
}

/* A source port from the flow hash, for ECMP, in the local port range. */
static __be16 ilp_tx_src_port(struct net *net, u32 hash)
{
	int lo, hi;

	inet_get_local_port_range(net, &lo, &hi);
	return htons((u16)((((u64)hash * (hi - lo)) >> 32) + lo));
}

static int ilp_tx_v4(struct ilp_instance *inst, struct ilp_peer *peer,
		     struct sk_buff *skb, __be16 sport)
{
	struct flowi4 fl4 = {
		.daddr = peer->key.addr.v4,
		.flowi4_proto = IPPROTO_UDP,
		.fl4_dport = peer->key.port,
		.fl4_sport = sport,
	};
	struct rtable *rt;

	rt = ip_route_output_key(inst->net, &fl4);
	if (IS_ERR(rt))
		return ILP_DROP_NO_ROUTE;
	udp_tunnel_xmit_skb(rt, inst->sock4->sk, skb, fl4.saddr, fl4.daddr, 0,
			    ip4_dst_hoplimit(&rt->dst), 0, sport, peer->key.port,
			    false, false);
	return 0;
}

#if IS_ENABLED(CONFIG_IPV6)
static int ilp_tx_v6(struct ilp_instance *inst, struct ilp_peer *peer,
		     struct sk_buff *skb, __be16 sport)
{
	struct flowi6 fl6 = {
		.daddr = peer->key.addr.v6,
		.flowi6_proto = IPPROTO_UDP,
		.fl6_dport = peer->key.port,
		.fl6_sport = sport,
	};
	struct dst_entry *dst;

	if (!inst->sock6)
		return ILP_DROP_NO_ROUTE;
	dst = ipv6_stub->ipv6_dst_lookup_flow(inst->net, inst->sock6->sk, &fl6,
					      NULL);
	if (IS_ERR(dst))
		return ILP_DROP_NO_ROUTE;
	udp_tunnel6_xmit_skb(dst, inst->sock6->sk, skb, dst->dev, &fl6.saddr,
			     &fl6.daddr, 0, ip6_dst_hoplimit(dst), 0, sport,
			     peer->key.port, false);
	return 0;
}
#endif

/**
 * ilp_tx - seal @skb for @peer and send it
 * @inst: the instance
 * @peer: the next hop
 * @skb: data is the ILP header and payload; consumed in every case
 * @hash: flow hash, for the UDP source port
 *
 * Returns 0 or the drop reason (the caller counts it).
 */
int ilp_tx(struct ilp_instance *inst, struct ilp_peer *peer,
	   struct sk_buff *skb, u32 hash)
{
	struct ilpw_psp_layout layout;
	struct ilpw_psp psp = {};
	struct ilp_tx_sa *tx;
	unsigned int len;
	int reason;

	tx = rcu_dereference(peer->tx);
	if (!tx) {
		reason = ILP_DROP_NO_TX_SA;
		goto drop;
	}
	psp.next_hdr = ILPW_PSP_NEXTHDR_ILP;
	psp.version = tx->version;
	psp.spi = tx->spi;
	psp.iv = ilp_tx_next_iv(tx);
	if (!psp.iv) {
		reason = ILP_DROP_NO_TX_SA;
		goto drop;
	}
	if (skb_cow_head(skb, ILP_TX_HEADROOM)) {
		reason = ILP_DROP_NOMEM;
		goto drop;
	}
	len = skb->len;
	__skb_push(skb, ILPW_PSP_HDR_LEN);
	if (ilpw_psp_build(skb->data, skb->len + ILPW_PSP_ICV_LEN, &psp, len,
			   &layout)) {
		reason = ILP_DROP_TOO_BIG;
		goto drop;
	}
	if (ilp_psp_seal(tx->aead, skb, &psp, &layout)) {
		reason = ILP_DROP_NOMEM;
		goto drop;
	}

	skb_dst_drop(skb);
	skb->ip_summed = CHECKSUM_NONE;
	if (peer->key.family == AF_INET)
		reason = ilp_tx_v4(inst, peer, skb, ilp_tx_src_port(inst->net, hash));
#if IS_ENABLED(CONFIG_IPV6)
	else
		reason = ilp_tx_v6(inst, peer, skb, ilp_tx_src_port(inst->net, hash));
#else
	else
		reason = ILP_DROP_NO_ROUTE;
#endif
	if (reason)
		goto drop;
	return 0;

drop:
	kfree_skb(skb);
	return reason;
}
