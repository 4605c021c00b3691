// SPDX-License-Identifier: GPL-2.0
/*
 * rx.c - the receive path: from the UDP socket to an authenticated,
 * decrypted ILP packet
 *
 * Runs in softirq under rcu_read_lock(), from the UDP encapsulation hook.
 * Order of the checks is that of docs/protocol.md; each drop is counted
 * under its reason and nothing unauthenticated goes further.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/skbuff.h>
#include <linux/udp.h>
#include <net/dsfield.h>
#include <net/udp.h>

#include "ilp.h"

/* The wire code's reasons and the uapi's drop reasons are one list. */
static enum ilp_drop_reason ilp_wire_drop(enum ilpw_err err)
{
	BUILD_BUG_ON(ILPW_E_PSP_TRUNC - 1 != ILP_DROP_PSP_TRUNC);
	BUILD_BUG_ON(ILPW_E_TLV_CRITICAL - 1 != ILP_DROP_TLV_CRITICAL);
	return (enum ilp_drop_reason)(err - 1);
}

static void ilp_rx_drop(struct ilp_net *in, struct sk_buff *skb,
			enum ilp_drop_reason reason)
{
	ilp_stats_drop(&in->stats, reason);
	kfree_skb(skb);
}

/* Makes the first @len bytes of @skb linear, or as many as it has. */
static bool ilp_pull(struct sk_buff *skb, unsigned int len)
{
	return pskb_may_pull(skb, min(len, skb->len));
}

/* Callers of the ILP header parser: no critical TLV is known yet. */
static enum ilp_drop_reason ilp_rx_ilp_header(struct sk_buff *skb,
					      unsigned int psp_len,
					      struct ilpw_hdr *hdr,
					      bool *ok)
{
	unsigned int words_len;
	enum ilpw_err err;

	*ok = false;
	if (!ilp_pull(skb, psp_len + ILPW_HDR_LEN))
		return ILP_DROP_NOMEM;
	if (skb->len >= psp_len + ILPW_HDR_LEN) {
		const u8 *h = skb->data + psp_len;

		words_len = 4 * ((unsigned int)h[2] << 8 | h[3]);
		if (!ilp_pull(skb, psp_len + words_len))
			return ILP_DROP_NOMEM;
	}
	err = ilpw_hdr_parse(skb->data + psp_len, skb->len - psp_len, hdr,
			     NULL, NULL);
	if (err)
		return ilp_wire_drop(err);
	*ok = true;
	return 0;
}

/*
 * The outer DS field (DSCP and ECN) the packet arrived with.  The ILP
 * packet inside has no ECN field of its own, so what the outer header
 * says is its ECN state, which forwarding carries on to the next hop's
 * outer header (RFC 6040 normal mode: a CE mark is never lost).
 */
static u8 ilp_rx_dsfield(struct sk_buff *skb)
{
	if (ip_hdr(skb)->version == 4)
		return ipv4_get_dsfield(ip_hdr(skb));
	return ipv6_get_dsfield(ipv6_hdr(skb));
}

/*
 * The previous hop, as the cache keys it: the outer source address only.
 * The UDP source port is the sender's flow hash (for ECMP), not part of
 * its identity; it is reported to the listener for information.
 */
static void ilp_rx_prev(struct sk_buff *skb, struct ilp_peer_key *prev)
{
	memset(prev, 0, sizeof(*prev));
	if (ip_hdr(skb)->version == 4) {
		prev->family = AF_INET;
		prev->addr.v4 = ip_hdr(skb)->saddr;
	} else {
		prev->family = AF_INET6;
		prev->addr.v6 = ipv6_hdr(skb)->saddr;
	}
}

/**
 * ilp_udp_encap_rcv - a datagram arrived on the instance's UDP port
 * @sk: the instance's UDP socket
 * @skb: the datagram, data at the UDP header
 *
 * Called under rcu_read_lock() in softirq.  Always consumes @skb.
 *
 * Return: 0 (to the UDP layer: the datagram was taken).
 */
int ilp_udp_encap_rcv(struct sock *sk, struct sk_buff *skb)
{
	struct ilp_net *in = ilp_pernet(sock_net(sk));
	struct ilpw_psp_layout layout;
	struct ilp_instance *inst;
	enum ilp_drop_reason why;
	struct ilp_flow_key key;
	struct ilp_dc_entry *e;
	__be16 sport;
	u8 dsfield;
	struct ilp_rx_sa *sa;
	struct ilpw_psp psp;
	struct ilpw_hdr hdr;
	enum ilpw_err err;
	unsigned int len;
	bool ok;

	inst = rcu_dereference_sk_user_data(sk);
	if (!inst || !pskb_may_pull(skb, sizeof(struct udphdr)))
		goto drop_nomem;
	memset(&key, 0, sizeof(key));
	ilp_rx_prev(skb, &key.prev);
	dsfield = ilp_rx_dsfield(skb);
	sport = udp_hdr(skb)->source;
	__skb_pull(skb, sizeof(struct udphdr));

	/* The PSP header, VC included, must be linear for the parser. */
	if (!ilp_pull(skb, ILPW_PSP_HDR_LEN + ILPW_PSP_VC_LEN))
		goto drop_nomem;
	err = ilpw_psp_parse(skb->data, skb->len, &psp, &layout);
	if (err) {
		ilp_rx_drop(in, skb, ilp_wire_drop(err));
		return 0;
	}
	if (!READ_ONCE(inst->key_present[psp.spi >> 31])) {
		ilp_rx_drop(in, skb, ILP_DROP_PSP_NO_KEY);
		return 0;
	}
	sa = ilp_rx_sa_lookup(inst, psp.spi);
	if (!sa || sa->version != psp.version) {
		ilp_rx_drop(in, skb, ILP_DROP_PSP_UNKNOWN_SPI);
		return 0;
	}
	/* The SA authenticates one previous hop: the one it was made for. */
	if (memcmp(&sa->peer, &key.prev, sizeof(key.prev))) {
		net_dbg_ratelimited("ilp: SPI 0x%08x from another address than its peer's\n",
				    psp.spi);
		ilp_rx_drop(in, skb, ILP_DROP_SA_PEER);
		return 0;
	}
	/* Forgeries under this SA have used up their AES-GCM passes. */
	if (!ilp_rx_sa_may_open(sa)) {
		ilp_rx_drop(in, skb, ILP_DROP_PSP_AUTH_LIMITED);
		return 0;
	}
	switch (ilp_psp_open(sa->aead, skb, &psp, &layout)) {
	case 0:
		break;
	case -EBADMSG:
		ilp_rx_sa_auth_failed(sa);
		ilp_rx_drop(in, skb, ILP_DROP_PSP_AUTH);
		return 0;
	default:
		goto drop_nomem;
	}

	len = skb->len;
	why = ilp_rx_ilp_header(skb, layout.hdr_len, &hdr, &ok);
	if (!ok) {
		ilp_rx_drop(in, skb, why);
		return 0;
	}
	ilp_stats_inc(&in->stats, ILP_CNT_RX_PACKETS);
	ilp_stats_add(&in->stats, ILP_CNT_RX_BYTES, len);
	/* Per SA, what was sealed: the ILP header and payload. */
	ilp_traffic_add(sa->traffic, len - layout.hdr_len);

	key.service = hdr.service;
	key.conn = hdr.conn;
	__skb_pull(skb, layout.hdr_len);
	e = ilp_dc_lookup(&inst->dc, &key);
	if (e) {
		ilp_stats_inc(&in->stats, ILP_CNT_CACHE_HIT);
		ilp_dc_hit(e, skb->len);
		ilp_execute(in, inst, skb, &key, &e->acts, dsfield);
	} else if (!ilp_deliver_addressed(in, inst->net, skb, &key, hdr.hdr_len)) {
		/* Not for a local socket, or relayed traffic: the daemon decides. */
		ilp_upcall(in, inst->net, skb, &key, sport);
	}
	return 0;

drop_nomem:
	ilp_rx_drop(in, skb, ILP_DROP_NOMEM);
	return 0;
}

/**
 * ilp_udp_encap_err_lookup - whether an ICMP error is about our packet
 * @sk: the instance's UDP socket
 * @skb: the ICMP error; its network header is that of the packet we sent
 *	(as the error quotes it), its transport header that packet's UDP
 *	header
 *
 * The UDP layer finds an encapsulation socket for an ICMP error by the
 * quoted packet's destination port (our source port is a flow hash), so
 * errors about peers on the instance's own port come here.  Taking one
 * (returning 0) makes the UDP layer apply it to the route with this
 * socket: for "fragmentation needed" (IPv4) and "packet too big" (IPv6)
 * the path MTU to the peer, which tx.c then checks forwarded packets
 * against and AF_ILP sends see as EMSGSIZE.  Without this, an IPv6 error
 * would teach the route nothing and an IPv4 one would be counted as an
 * ICMP input error.
 *
 * Softirq, under rcu_read_lock().
 *
 * Return: 0 for an error about a packet to one of our peers, -ENOENT for
 * anything else.
 */
int ilp_udp_encap_err_lookup(struct sock *sk, struct sk_buff *skb)
{
	struct ilp_instance *inst = rcu_dereference_sk_user_data(sk);
	struct ilp_peer_key peer;

	if (!inst)
		return -ENOENT;
	memset(&peer, 0, sizeof(peer));
	peer.port = udp_hdr(skb)->dest;
	if (ip_hdr(skb)->version == 4) {
		peer.family = AF_INET;
		peer.addr.v4 = ip_hdr(skb)->daddr;
	} else {
		peer.family = AF_INET6;
		peer.addr.v6 = ipv6_hdr(skb)->daddr;
	}
	if (!ilp_peer_lookup(inst, &peer))
		return -ENOENT;
	net_dbg_ratelimited("ilp: ICMP error about a packet to peer port %u\n",
			    ntohs(peer.port));
	return 0;
}
