// SPDX-License-Identifier: GPL-2.0
/*
 * sock_send.c - sendmsg() on AF_ILP sockets: from an application's
 * datagram to a sealed packet on its first hop
 *
 * The first hop is the SN the address names, else the destination host
 * itself when it is a peer marked direct (same subnet, docs/ilp.7), else
 * the instance's default SN (the host's association).  The ILP header
 * carries the service and connection, the sending host (ILP_TLV_SRC_HOST,
 * so that the far end can answer) and, through an SN, the destination
 * host (ILP_TLV_DST_HOST), then the application's metadata TLVs.
 */
#include <linux/jhash.h>
#include <linux/net.h>
#include <linux/ilp.h>
#include <net/ip6_route.h>
#include <net/ipv6_stubs.h>
#include <net/route.h>
#include <net/sock.h>

#include "ilp.h"

/* Outer headers in front of the ILP header, and the ICV behind it. */
#define ILP_SEND_HEADROOM (LL_MAX_HEADER + sizeof(struct ipv6hdr) + \
			   sizeof(struct udphdr) + ILPW_PSP_HDR_LEN)
/* ILP's own TLVs: two host addresses, IPv6 at most. */
#define ILP_OWN_TLV_MAX (2 * (ILPW_TLV_HDR_LEN + 20))

/**
 * ilp_metadata_check - is @tlv a valid metadata area an application may send
 * @tlv: TLVs as they go on the wire
 * @len: their length
 *
 * Whole TLVs, each padded to 4 bytes, none of ILP's own types.
 */
int ilp_metadata_check(const u8 *tlv, size_t len)
{
	struct ilpw_hdr h = { .tlv = tlv, .tlv_len = len };
	struct ilpw_tlv_iter it;
	struct ilpw_tlv t;
	int r;

	if (len % 4 || len > ILP_METADATA_MAX)
		return len % 4 ? -EINVAL : -EMSGSIZE;
	ilpw_tlv_iter_init(&it, &h);
	while ((r = ilpw_tlv_next(&it, &t)) > 0) {
		u16 type = t.type & ~ILP_TLV_CRITICAL;

		if (type && type <= ILP_TLV_OWN_MAX)
			return -EINVAL;
	}
	return r ? -EINVAL : 0;
}

static void ilp_key_from_inaddr(struct ilp_peer_key *k, const struct ilp_inaddr *a)
{
	memset(k, 0, sizeof(*k));
	k->family = a->family;
	k->port = a->port ? a->port : htons(ILP_UDP_PORT);
	if (a->family == AF_INET)
		k->addr.v4 = a->addr.v4;
	else
		memcpy(&k->addr.v6, a->addr.v6, sizeof(k->addr.v6));
}

static int ilp_put_host_tlv(u8 *buf, size_t cap, size_t *off, u16 type,
			    const struct ilp_peer_key *k)
{
	u8 v[18];
	u16 alen = k->family == AF_INET ? 4 : 16;

	memcpy(v, &k->addr, alen);
	memcpy(v + alen, &k->port, 2);
	return ilpw_tlv_put(buf, cap, off, type, v, alen + 2) ? -EMSGSIZE : 0;
}

/*
 * The first hop for @dest and whether it is the destination itself.
 * Under rcu_read_lock().
 */
/* The same node: family, address and port. */
static bool ilp_same_node(const struct ilp_peer_key *a, const struct ilp_peer_key *b)
{
	if (a->family != b->family || a->port != b->port)
		return false;
	if (a->family == AF_INET)
		return a->addr.v4 == b->addr.v4;
	return ipv6_addr_equal(&a->addr.v6, &b->addr.v6);
}

static struct ilp_peer *ilp_first_hop(struct ilp_instance *inst,
				      const struct sockaddr_ilp *dest,
				      bool *direct)
{
	struct ilp_peer_key k;
	struct ilp_assoc *assoc;
	struct ilp_peer *p;

	*direct = false;
	if (dest->silp_sn.family) {
		ilp_key_from_inaddr(&k, &dest->silp_sn);
		return ilp_peer_lookup(inst, &k);
	}
	ilp_key_from_inaddr(&k, &dest->silp_host);
	p = ilp_peer_lookup(inst, &k);
	if (p && READ_ONCE(p->direct)) {
		*direct = true;
		return p;
	}
	assoc = rcu_dereference(inst->sn);
	return assoc ? ilp_peer_lookup(inst, &assoc->sn) : NULL;
}

/*
 * This host's address toward @peer, as the route to it picks, and that
 * route's MTU.  Under rcu_read_lock().
 */
static int ilp_source(struct ilp_instance *inst, const struct ilp_peer *peer,
		      struct ilp_peer_key *src, unsigned int *mtu)
{
	struct socket *sock6 __maybe_unused;

	memset(src, 0, sizeof(*src));
	src->family = peer->key.family;
	src->port = htons(inst->port);
	if (peer->key.family == AF_INET) {
		struct flowi4 fl4 = {
			.daddr = peer->key.addr.v4,
			.flowi4_proto = IPPROTO_UDP,
		};
		struct rtable *rt = ip_route_output_key(inst->net, &fl4);

		if (IS_ERR(rt))
			return -ENETUNREACH;
		src->addr.v4 = fl4.saddr;
		*mtu = dst_mtu(&rt->dst);
		ip_rt_put(rt);
		return 0;
	}
#if IS_ENABLED(CONFIG_IPV6)
	/* Set at creation, cleared only a grace period after unpublishing. */
	sock6 = inst->sock6;
	if (sock6) {
		struct flowi6 fl6 = {
			.daddr = peer->key.addr.v6,
			.flowi6_proto = IPPROTO_UDP,
		};
		struct dst_entry *dst;

		dst = ipv6_stub->ipv6_dst_lookup_flow(inst->net, sock6->sk,
						      &fl6, NULL);
		if (IS_ERR(dst))
			return -ENETUNREACH;
		src->addr.v6 = fl6.saddr;
		*mtu = dst_mtu(dst);
		dst_release(dst);
		return 0;
	}
#endif
	return -ENETUNREACH;
}

/* The errno a transmit drop reason means to the sender. */
static int ilp_tx_errno(int reason)
{
	switch (reason) {
	case ILP_DROP_NO_TX_SA:
		return -ENOKEY;
	case ILP_DROP_NO_ROUTE:
		return -ENETUNREACH;
	case ILP_DROP_TOO_BIG:
		return -EMSGSIZE;
	default:
		return -ENOBUFS;
	}
}

/* Metadata from an ILP_CMSG_METADATA control message, if any. */
static int ilp_cmsg_metadata(struct msghdr *msg, const u8 **md, size_t *len)
{
	struct cmsghdr *cmsg;

	for_each_cmsghdr(cmsg, msg) {
		if (!CMSG_OK(msg, cmsg))
			return -EINVAL;
		if (cmsg->cmsg_level != SOL_ILP ||
		    cmsg->cmsg_type != ILP_CMSG_METADATA)
			return -EINVAL;
		*md = CMSG_DATA(cmsg);
		*len = cmsg->cmsg_len - CMSG_LEN(0);
	}
	return 0;
}

/* The outer IP header of a packet to @peer. */
static unsigned int ilp_outer_len(const struct ilp_peer *peer)
{
	return (peer->key.family == AF_INET ? sizeof(struct iphdr) :
					      sizeof(struct ipv6hdr)) +
	       sizeof(struct udphdr) + ILPW_PSP_HDR_LEN + ILPW_PSP_ICV_LEN;
}

/* Socket lock held; consumes @skb.  Returns bytes sent or an errno. */
static int ilp_send_skb(struct ilp_sock *isk, struct sk_buff *skb,
			const struct sockaddr_ilp *dest, u64 conn,
			const u8 *md, size_t md_len)
{
	struct net *net = sock_net(&isk->sk);
	struct ilp_net *in = ilp_pernet(net);
	size_t payload = skb->len, off = 0, hdr_len;
	struct ilp_peer_key src, dst;
	struct ilp_instance *inst;
	struct ilp_peer *peer;
	unsigned int mtu;
	bool direct;
	u8 *tlv;
	int err;

	local_bh_disable();
	rcu_read_lock();
	inst = rcu_dereference(in->inst);
	if (!inst) {
		err = -ENETDOWN;
		goto out;
	}
	peer = ilp_first_hop(inst, dest, &direct);
	if (!peer) {
		err = -ENETUNREACH;
		goto out;
	}
	if (!rcu_access_pointer(peer->tx)) {
		err = -ENOKEY;
		goto out;
	}
	err = ilp_source(inst, peer, &src, &mtu);
	if (err)
		goto out;

	/*
	 * The TLVs go where the header will be: in front of the payload.
	 * No destination host for a direct peer, nor for the first hop
	 * itself (a packet for a service of the SN, a group's): the packet
	 * is for that node, and its copies for whoever the SN decides.
	 */
	tlv = skb->data - ILP_OWN_TLV_MAX - md_len;
	err = ilp_put_host_tlv(tlv, ILP_OWN_TLV_MAX, &off, ILP_TLV_SRC_HOST, &src);
	ilp_key_from_inaddr(&dst, &dest->silp_host);
	if (!err && !direct && !ilp_same_node(&dst, &peer->key))
		err = ilp_put_host_tlv(tlv, ILP_OWN_TLV_MAX, &off,
				       ILP_TLV_DST_HOST, &dst);
	if (err)
		goto out;
	hdr_len = ILPW_HDR_LEN + off + md_len;
	if (hdr_len + payload + ilp_outer_len(peer) > mtu ||
	    hdr_len / 4 > ILPW_HDR_MAX_WORDS) {
		err = -EMSGSIZE;
		goto out;
	}
	/* Own TLVs then metadata, contiguous just before the payload. */
	memmove(skb->data - off - md_len, tlv, off);
	if (md_len)
		memcpy(skb->data - md_len, md, md_len);
	__skb_push(skb, hdr_len);
	if (ilpw_hdr_build(skb->data, hdr_len, 0, dest->silp_service, conn,
			   skb->data + ILPW_HDR_LEN, off + md_len, &hdr_len)) {
		err = -EMSGSIZE;
		goto out;
	}
	err = ilp_tx(inst, peer, skb,
		     jhash_3words(dest->silp_service, (u32)conn,
				  (u32)(conn >> 32), 0));
	skb = NULL;
	if (err) {
		ilp_stats_drop(&in->stats, err);
		err = ilp_tx_errno(err);
	} else {
		ilp_stats_inc(&in->stats, ILP_CNT_SENT);
		ilp_stats_inc(&in->stats, ILP_CNT_TX_PACKETS);
		err = payload;
	}
out:
	rcu_read_unlock();
	local_bh_enable();
	kfree_skb(skb);
	return err;
}

int ilp_sock_sendmsg(struct socket *sock, struct msghdr *msg, size_t len)
{
	DECLARE_SOCKADDR(struct sockaddr_ilp *, addr, msg->msg_name);
	struct sock *sk = sock->sk;
	struct ilp_sock *isk = ilp_sk(sk);
	struct sockaddr_ilp dest;
	const u8 *md = NULL;
	size_t md_len = 0;
	struct sk_buff *skb;
	u64 conn;
	int err;

	if (msg->msg_flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL | MSG_CMSG_COMPAT))
		return -EOPNOTSUPP;
	if (len > U16_MAX)
		return -EMSGSIZE;
	if (addr) {
		err = ilp_sockaddr_check((struct sockaddr *)addr, msg->msg_namelen);
		if (err)
			return err;
		dest = *addr;
		if (!dest.silp_service || dest.silp_service == U32_MAX)
			return -EINVAL;
		if ((dest.silp_host.family != AF_INET &&
		     dest.silp_host.family != AF_INET6) ||
		    (dest.silp_sn.family && dest.silp_sn.family != AF_INET &&
		     dest.silp_sn.family != AF_INET6))
			return -EAFNOSUPPORT;
	}
	if (msg->msg_controllen) {
		err = ilp_cmsg_metadata(msg, &md, &md_len);
		if (err)
			return err;
		if (md) {
			err = ilp_metadata_check(md, md_len);
			if (err)
				return err;
		}
	}

	lock_sock(sk);
	if (sk->sk_shutdown & SEND_SHUTDOWN) {
		err = -EPIPE;
		goto out;
	}
	if (!addr) {
		if (!isk->connected) {
			err = -EDESTADDRREQ;
			goto out;
		}
		dest = isk->dest;
	}
	err = ilp_sock_autobind(isk, dest.silp_service, dest.silp_conn);
	if (err)
		goto out;
	/*
	 * A socket sends only on what it receives: its service, and its
	 * connection when bound to one.  Otherwise it could speak on another
	 * socket's connection, whose replies that socket would get.
	 */
	if (dest.silp_service != isk->bkey.service ||
	    (isk->bkey.conn != ILP_CONN_ANY && dest.silp_conn != ILP_CONN_ANY &&
	     dest.silp_conn != isk->bkey.conn)) {
		err = -EINVAL;
		goto out;
	}
	/* No connection named: the one the socket is bound to, if any. */
	conn = dest.silp_conn;
	if (conn == ILP_CONN_ANY) {
		if (isk->bkey.service != dest.silp_service ||
		    isk->bkey.conn == ILP_CONN_ANY) {
			err = -EINVAL;
			goto out;
		}
		conn = isk->bkey.conn;
	}
	if (!md) {
		md = isk->metadata;
		md_len = isk->metadata_len;
	}

	skb = sock_alloc_send_skb(sk, ILP_SEND_HEADROOM + ILPW_HDR_LEN +
				  ILP_OWN_TLV_MAX + md_len + len +
				  ILPW_PSP_ICV_LEN,
				  msg->msg_flags & MSG_DONTWAIT, &err);
	if (!skb)
		goto out;
	skb_reserve(skb, ILP_SEND_HEADROOM + ILPW_HDR_LEN + ILP_OWN_TLV_MAX +
		    md_len);
	err = memcpy_from_msg(skb_put(skb, len), msg, len);
	if (err) {
		kfree_skb(skb);
		goto out;
	}
	err = ilp_send_skb(isk, skb, &dest, conn, md, md_len);
out:
	release_sock(sk);
	return err;
}
