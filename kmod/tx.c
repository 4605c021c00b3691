// SPDX-License-Identifier: GPL-2.0
/*
 * tx.c - the transmit path: seal an ILP packet with a peer's transmit SA
 * and send it over the instance's UDP socket
 *
 * Called with rcu_read_lock() held and BHs disabled (softirq on the
 * forwarding path, or netlink's EXECUTE, or an AF_ILP send).
 *
 * Each peer caches its route (struct ilp_peer.dst_cache, per CPU), so a
 * packet costs a route lookup only when the routes change; the UDP source
 * port still carries the flow hash, for the ECMP of the routers on the
 * way.  The outer headers get exactly the room the route's device asks
 * for (LL_RESERVED_SPACE), so a forwarded packet, which arrived with that
 * much in front of its PSP header, is sealed in its own buffer without a
 * new head.
 *
 * The outer IPv4 header has DF set: an ILP packet is not fragmented on
 * the way.  A packet longer than its route's MTU (the path MTU the ICMP
 * errors of the routers taught the route, rx.c) is dropped here and
 * counted (ILP_DROP_MTU); AF_ILP senders get EMSGSIZE before that.
 *
 * DSCP and ECN: a forwarded packet leaves with the DS field it arrived
 * with (RFC 6040 normal mode, decapsulation then encapsulation: a CE mark
 * survives to the next hop, ECT stays ECT); a packet from a local socket
 * leaves with 0, Not-ECT (nothing above it reacts to CE).
 */
#include <linux/jhash.h>
#include <net/dst_cache.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/ipv6_stubs.h>
#include <net/route.h>
#include <net/udp_tunnel.h>

#include "ilp.h"

/*
 * The next IV of @tx on this CPU: the CPU number above the counter's
 * tx->ctr_bits (peer.c sizes them for nr_cpu_ids), so CPUs never share
 * an IV nor a cache line.  0 when this CPU's counter is spent: it stays
 * at its end, never wraps.  Userspace hears once when one nears it.
 */
static u64 ilp_tx_next_iv(struct ilp_instance *inst, struct ilp_peer *peer,
			  struct ilp_tx_sa *tx)
{
	u64 *ctr = this_cpu_ptr(tx->iv);
	u64 n = *ctr + 1;

	if (unlikely(n >= tx->iv_warn)) {
		if (n > tx->iv_max)
			return 0;
		if (!test_and_set_bit(ILP_TX_SA_WARNED, &tx->events))
			ilp_nl_sa_exhausting(inst->net, peer, tx);
	}
	*ctr = n;
	return (u64)smp_processor_id() << tx->ctr_bits | n;
}

/* A source port from the flow hash, for ECMP, in the local port range. */
static __be16 ilp_tx_src_port(struct net *net, u32 hash)
{
	int lo, hi;

	inet_get_local_port_range(net, &lo, &hi);
	return htons((u16)((((u64)hash * (hi - lo)) >> 32) + lo));
}

/**
 * struct ilp_tx_route - where a sealed packet goes
 * @dst: the route, one reference held
 * @saddr: the source address it gives (v4 or v6, per the peer's family)
 */
struct ilp_tx_route {
	struct dst_entry *dst;
	union {
		__be32 v4;
		struct in6_addr v6;
	} saddr;
};

/* Bytes of outer IP and UDP header, and of PSP framing, around a packet. */
static unsigned int ilp_tx_overhead(const struct ilp_peer *peer)
{
	return (peer->key.family == AF_INET ? sizeof(struct iphdr) :
					      sizeof(struct ipv6hdr)) +
	       sizeof(struct udphdr) + ILPW_PSP_HDR_LEN + ILPW_PSP_ICV_LEN;
}

/*
 * Room in front of the ILP header for PSP, UDP, IP and the link layer of
 * @r's device, plus what the route itself adds (dst->header_len).
 */
static unsigned int ilp_tx_headroom(const struct ilp_peer *peer,
				    const struct ilp_tx_route *r)
{
	return LL_RESERVED_SPACE(r->dst->dev) + r->dst->header_len +
	       ilp_tx_overhead(peer) - ILPW_PSP_ICV_LEN;
}

/* The route to @peer, from its cache or looked up (and cached). */
static int ilp_tx_route(struct ilp_instance *inst, struct ilp_peer *peer,
			struct ilp_tx_route *r)
{
	if (peer->key.family == AF_INET) {
		struct flowi4 fl4 = {
			.daddr = peer->key.addr.v4,
			.flowi4_proto = IPPROTO_UDP,
			.fl4_dport = peer->key.port,
			.fl4_sport = htons(inst->port),
		};
		struct rtable *rt;

		rt = dst_cache_get_ip4(&peer->dst_cache, &r->saddr.v4);
		if (!rt) {
			rt = ip_route_output_key(inst->net, &fl4);
			if (IS_ERR(rt))
				return ILP_DROP_NO_ROUTE;
			r->saddr.v4 = fl4.saddr;
			dst_cache_set_ip4(&peer->dst_cache, &rt->dst, fl4.saddr);
		}
		r->dst = &rt->dst;
		return 0;
	}
#if IS_ENABLED(CONFIG_IPV6)
	r->dst = dst_cache_get_ip6(&peer->dst_cache, &r->saddr.v6);
	if (!r->dst) {
		struct flowi6 fl6 = {
			.daddr = peer->key.addr.v6,
			.flowi6_proto = IPPROTO_UDP,
			.fl6_dport = peer->key.port,
			.fl6_sport = htons(inst->port),
		};
		struct dst_entry *dst;

		if (!inst->sock6)
			return ILP_DROP_NO_ROUTE;
		dst = ipv6_stub->ipv6_dst_lookup_flow(inst->net,
						      inst->sock6->sk, &fl6,
						      NULL);
		if (IS_ERR(dst))
			return ILP_DROP_NO_ROUTE;
		r->saddr.v6 = fl6.saddr;
		dst_cache_set_ip6(&peer->dst_cache, dst, &fl6.saddr);
		r->dst = dst;
	}
	return 0;
#else
	return ILP_DROP_NO_ROUTE;
#endif
}

/* Sends the sealed @skb along @r (whose reference it takes). */
static int ilp_tx_xmit(struct ilp_instance *inst, struct ilp_peer *peer,
		       struct sk_buff *skb, struct ilp_tx_route *r,
		       __be16 sport, u8 dsfield)
{
	if (peer->key.family == AF_INET) {
		udp_tunnel_xmit_skb(container_of(r->dst, struct rtable, dst),
				    inst->sock4->sk,
				    skb, r->saddr.v4, peer->key.addr.v4,
				    dsfield, ip4_dst_hoplimit(r->dst),
				    htons(IP_DF), sport, peer->key.port, false,
				    false);
		return 0;
	}
#if IS_ENABLED(CONFIG_IPV6)
	udp_tunnel6_xmit_skb(r->dst, inst->sock6->sk, skb, r->dst->dev,
			     &r->saddr.v6, &peer->key.addr.v6, dsfield,
			     ip6_dst_hoplimit(r->dst), 0, sport,
			     peer->key.port, false);
	return 0;
#else
	return ILP_DROP_NO_ROUTE;
#endif
}

/*
 * Seals @plain for @peer and sends it: in place, consuming @plain, or
 * (@copy) into a new buffer, leaving @plain as it was.
 */
static int ilp_tx_one(struct ilp_instance *inst, struct ilp_peer *peer,
		      struct sk_buff *plain, u32 hash, u8 dsfield, bool copy)
{
	struct sk_buff *skb = copy ? NULL : plain;
	struct ilpw_psp_layout layout;
	struct ilpw_psp psp = {};
	struct ilp_tx_route r;
	struct ilp_tx_sa *tx;
	unsigned int len, room;
	int reason;

	tx = rcu_dereference(peer->tx);
	if (!tx) {
		reason = ILP_DROP_NO_TX_SA;
		goto drop;
	}
	reason = ilp_tx_route(inst, peer, &r);
	if (reason)
		goto drop;
	len = plain->len;
	if (len + ilp_tx_overhead(peer) > dst_mtu(r.dst)) {
		net_dbg_ratelimited("ilp: %u bytes for a route MTU of %u\n",
				    len + ilp_tx_overhead(peer),
				    dst_mtu(r.dst));
		reason = ILP_DROP_MTU;
		goto drop_dst;
	}
	psp.next_hdr = ILPW_PSP_NEXTHDR_ILP;
	psp.version = tx->version;
	psp.spi = tx->spi;
	psp.iv = ilp_tx_next_iv(inst, peer, tx);
	if (!psp.iv) {
		reason = ILP_DROP_TX_IV_SPENT;
		goto drop_dst;
	}
	room = ilp_tx_headroom(peer, &r);
	if (copy) {
		skb = alloc_skb(room + len + ILPW_PSP_ICV_LEN, GFP_ATOMIC);
		if (!skb) {
			reason = ILP_DROP_NOMEM;
			goto drop_dst;
		}
		skb_reserve(skb, room - ILPW_PSP_HDR_LEN);
		skb_put(skb, ILPW_PSP_HDR_LEN);
	} else {
		if (skb_cow_head(skb, room)) {
			reason = ILP_DROP_NOMEM;
			goto drop_dst;
		}
		__skb_push(skb, ILPW_PSP_HDR_LEN);
	}
	if (ilpw_psp_build(skb->data, ILPW_PSP_HDR_LEN + len + ILPW_PSP_ICV_LEN,
			   &psp, len, &layout)) {
		reason = ILP_DROP_TOO_BIG;
		goto drop_dst;
	}
	if (copy ? ilp_psp_seal_copy(tx->aead, skb, plain, &psp, &layout) :
		   ilp_psp_seal(tx->aead, skb, &psp, &layout)) {
		reason = ILP_DROP_NOMEM;
		goto drop_dst;
	}

	ilp_traffic_add(peer->tx_traffic, len);
	skb_dst_drop(skb);
	skb->ip_summed = CHECKSUM_NONE;
	return ilp_tx_xmit(inst, peer, skb, &r,
			   ilp_tx_src_port(inst->net, hash), dsfield);

drop_dst:
	dst_release(r.dst);
drop:
	kfree_skb(skb);
	return reason;
}

/**
 * ilp_tx - seal @skb for @peer and send it
 * @inst: the instance
 * @peer: the next hop
 * @skb: data is the ILP header and payload; consumed in every case
 * @hash: flow hash, for the UDP source port
 *
 * For packets that start here (AF_ILP sockets): DS field 0, Not-ECT.
 * Under rcu_read_lock() with BHs disabled.
 *
 * Return: 0 or the drop reason (the caller counts it).
 */
int ilp_tx(struct ilp_instance *inst, struct ilp_peer *peer,
	   struct sk_buff *skb, u32 hash)
{
	return ilp_tx_one(inst, peer, skb, hash, 0, false);
}

/**
 * ilp_tx_fwd - seal a forwarded packet for one of its next hops and send it
 * @inst: the instance
 * @peer: the next hop
 * @skb: data is the ILP header and payload (decrypted)
 * @hash: flow hash, for the UDP source port
 * @dsfield: the DS field (DSCP and ECN) the packet arrived with
 * @copy: seal a copy out of place, leaving @skb untouched (for all but
 *	one of several next hops, or when @skb is shared with a local
 *	delivery); else seal @skb in place and consume it
 *
 * Under rcu_read_lock() with BHs disabled.
 *
 * Return: 0 or the drop reason (the caller counts it).
 */
int ilp_tx_fwd(struct ilp_instance *inst, struct ilp_peer *peer,
	       struct sk_buff *skb, u32 hash, u8 dsfield, bool copy)
{
	return ilp_tx_one(inst, peer, skb, hash, dsfield, copy);
}
