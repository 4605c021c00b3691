// SPDX-License-Identifier: GPL-2.0
/*
 * sock_recv.c - local delivery: from the receive path to an AF_ILP
 * socket, and recvmsg()
 *
 * A packet whose (service, connection) a local socket is bound to is
 * queued on that socket (the exact connection first, then the service's
 * catch-all binding).  The socket's receive buffer bounds what waits: a
 * full buffer drops the packet and counts it, it never grows.
 */
#include <linux/net.h>
#include <linux/ilp.h>
#include <net/addrconf.h>
#include <net/route.h>
#include <net/sock.h>

#include "ilp.h"

/**
 * ilp_deliver - queue a decrypted packet on the socket bound to its flow
 * @in: the namespace's ILP state
 * @skb: data is the ILP header and payload
 * @key: its flow (previous hop, service, connection)
 * @hdr_len: length of the ILP header
 *
 * Softirq, under rcu_read_lock().  Returns false, leaving @skb to the
 * caller, when no socket is bound; otherwise consumes it (queued, or
 * dropped and counted when the socket's buffer is full).
 */
bool ilp_deliver(struct ilp_net *in, struct sk_buff *skb,
		 const struct ilp_flow_key *key, u16 hdr_len)
{
	struct ilp_sock *isk;

	isk = ilp_sock_lookup(in, key->service, key->conn);
	if (!isk)
		return false;
	/* The IP and UDP headers are gone from here on; keep what recvmsg needs. */
	ILP_SKB_CB(skb)->prev = key->prev;
	ILP_SKB_CB(skb)->hdr_len = hdr_len;
	skb_dst_drop(skb);
	if (sock_queue_rcv_skb(&isk->sk, skb)) {
		ilp_stats_drop(&in->stats, ILP_DROP_RCVBUF);
		kfree_skb(skb);
	} else {
		ilp_stats_inc(&in->stats, ILP_CNT_DELIVERED);
	}
	sock_put(&isk->sk);
	return true;
}

/* The ILP_TLV_DST_HOST of @skb (data at the ILP header), if it has one. */
static bool ilp_dst_host(const struct sk_buff *skb, struct ilp_peer_key *dst)
{
	struct ilpw_tlv_iter it;
	struct ilpw_hdr hdr;
	struct ilpw_tlv t;

	if (ilpw_hdr_parse(skb->data, skb->len, &hdr, NULL, NULL))
		return false;
	ilpw_tlv_iter_init(&it, &hdr);
	while (ilpw_tlv_next(&it, &t) > 0) {
		if (t.type != ILP_TLV_DST_HOST)
			continue;
		memset(dst, 0, sizeof(*dst));
		if (t.len == 6)
			dst->family = AF_INET;
		else if (t.len == 18)
			dst->family = AF_INET6;
		memcpy(&dst->addr, t.val, min_t(u16, t.len, 18) - 2);
		return true;
	}
	return false;
}

/*
 * Whether a packet is addressed to this host: it names no destination
 * host (its sender sent it to this node as the destination itself), or
 * its ILP_TLV_DST_HOST is an address of this namespace.  Anything else is
 * traffic an SN relays, which only a decision may deliver locally.
 */
static bool ilp_for_this_host(struct net *net, const struct sk_buff *skb)
{
	struct ilp_peer_key dst;

	if (!ilp_dst_host(skb, &dst))
		return true;
	switch (dst.family) {
	case AF_INET:
		return inet_addr_type(net, dst.addr.v4) == RTN_LOCAL;
#if IS_ENABLED(CONFIG_IPV6)
	case AF_INET6:
		return ipv6_chk_addr(net, &dst.addr.v6, NULL, 0);
#endif
	default:
		return false;
	}
}

/**
 * ilp_deliver_addressed - on a miss, deliver to a bound socket if allowed
 * @in: the namespace's ILP state
 * @net: the namespace
 * @skb: data is the ILP header and payload
 * @key: its flow
 * @hdr_len: length of the ILP header
 *
 * Without a decision a packet reaches a local socket only when it is
 * addressed to this host (ilp(7), "Who receives what"): binding a service
 * on an SN must not hand its user the traffic the SN relays.  Returns
 * false, leaving @skb to the caller (for the upcall), otherwise as
 * ilp_deliver().
 */
bool ilp_deliver_addressed(struct ilp_net *in, struct net *net,
			   struct sk_buff *skb, const struct ilp_flow_key *key,
			   u16 hdr_len)
{
	if (!ilp_for_this_host(net, skb))
		return false;
	return ilp_deliver(in, skb, key, hdr_len);
}

static void ilp_inaddr_from_key(struct ilp_inaddr *a, const struct ilp_peer_key *k)
{
	memset(a, 0, sizeof(*a));
	a->family = k->family;
	a->port = k->port;
	if (k->family == AF_INET)
		a->addr.v4 = k->addr.v4;
	else
		memcpy(a->addr.v6, &k->addr.v6, sizeof(a->addr.v6));
}

/*
 * The sender's address.  A packet sent to this host directly (no
 * ILP_TLV_DST_HOST) came from its previous hop, which its SA
 * authenticated: that is the host, whatever ILP_TLV_SRC_HOST claims.  A
 * packet relayed by an SN (it names its destination host) comes from the
 * host in ILP_TLV_SRC_HOST as that SN vouches for it, and the SN, the
 * authenticated previous hop, is reported too, so that sendto() with this
 * address answers the same way.
 */
static void ilp_recv_name(const struct sk_buff *skb, struct sockaddr_ilp *a)
{
	const struct ilp_skb_cb *cb = ILP_SKB_CB(skb);
	struct ilp_peer_key host = cb->prev, dst;
	bool relayed = ilp_dst_host(skb, &dst);
	struct ilpw_tlv_iter it;
	struct ilpw_hdr hdr;
	struct ilpw_tlv t;

	memset(a, 0, sizeof(*a));
	a->silp_family = ilp_family;
	/* Parsed and checked on receive; cannot fail now. */
	if (ilpw_hdr_parse(skb->data, skb->len, &hdr, NULL, NULL))
		return;
	a->silp_service = hdr.service;
	a->silp_conn = hdr.conn;
	ilpw_tlv_iter_init(&it, &hdr);
	while (relayed && ilpw_tlv_next(&it, &t) > 0) {
		if (t.type != ILP_TLV_SRC_HOST || (t.len != 6 && t.len != 18))
			continue;
		memset(&host, 0, sizeof(host));
		host.family = t.len == 6 ? AF_INET : AF_INET6;
		memcpy(&host.addr, t.val, t.len - 2);
		memcpy(&host.port, t.val + t.len - 2, 2);
		break;
	}
	ilp_inaddr_from_key(&a->silp_host, &host);
	if (memcmp(&host.addr, &cb->prev.addr, sizeof(host.addr)) ||
	    host.family != cb->prev.family)
		ilp_inaddr_from_key(&a->silp_sn, &cb->prev);
	/* The cache keys hops by address; the SN listens on the ILP port. */
	if (a->silp_sn.family && !a->silp_sn.port)
		a->silp_sn.port = htons(ILP_UDP_PORT);
	if (!a->silp_host.port)
		a->silp_host.port = htons(ILP_UDP_PORT);
}

int ilp_sock_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
		     int flags)
{
	DECLARE_SOCKADDR(struct sockaddr_ilp *, addr, msg->msg_name);
	struct sock *sk = sock->sk;
	struct ilp_sock *isk = ilp_sk(sk);
	struct sk_buff *skb;
	unsigned int hdr_len, payload, copied;
	int err;

	if (flags & ~(MSG_DONTWAIT | MSG_PEEK | MSG_TRUNC | MSG_CMSG_COMPAT |
		      MSG_WAITALL))
		return -EOPNOTSUPP;
	skb = skb_recv_datagram(sk, flags, &err);
	if (!skb) {
		/* After SHUT_RD, an empty queue reads as end of file. */
		if (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN)
			return 0;
		return err;
	}
	hdr_len = ILP_SKB_CB(skb)->hdr_len;
	payload = skb->len - hdr_len;
	copied = min_t(size_t, payload, len);
	if (copied < payload)
		msg->msg_flags |= MSG_TRUNC;
	err = skb_copy_datagram_msg(skb, hdr_len, msg, copied);
	if (err)
		goto out;
	sock_recv_timestamp(msg, sk, skb);
	if (addr) {
		ilp_recv_name(skb, addr);
		msg->msg_namelen = sizeof(*addr);
	}
	if (READ_ONCE(isk->recv_metadata)) {
		/* The TLV area as it came: ILP's own TLVs and the sender's. */
		err = put_cmsg(msg, SOL_ILP, ILP_CMSG_METADATA,
			       hdr_len - ILPW_HDR_LEN, skb->data + ILPW_HDR_LEN);
		if (err)
			goto out;
	}
	err = (flags & MSG_TRUNC) ? payload : copied;
out:
	skb_free_datagram(sk, skb);
	return err;
}
