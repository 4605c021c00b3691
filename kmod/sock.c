// SPDX-License-Identifier: GPL-2.0
/*
 * sock.c - AF_ILP sockets: addresses, bind, connect, options, shutdown
 *
 * A socket receives the packets of the (service, connection) it is bound
 * to, or of every connection of a service when bound with ILP_CONN_ANY.
 * The bindings of a namespace live in one rhashtable that the receive
 * path reads under RCU; bind and release change it under sock_lock.
 * sendmsg() and recvmsg() are in sock_send.c and sock_recv.c.
 */
#include <linux/capability.h>
#include <linux/net.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/ilp.h>
#include <net/sock.h>

#include "ilp.h"

static const struct rhashtable_params ilp_bind_params = {
	.key_len = sizeof(struct ilp_bind_key),
	.key_offset = offsetof(struct ilp_sock, bkey),
	.head_offset = offsetof(struct ilp_sock, bind_node),
	.automatic_shrinking = true,
};

int ilp_binds_init(struct ilp_net *in)
{
	return rhashtable_init(&in->binds, &ilp_bind_params);
}

void ilp_binds_destroy(struct ilp_net *in)
{
	/* Every socket holds its namespace: none is bound any more. */
	rhashtable_destroy(&in->binds);
}

/**
 * ilp_sock_lookup - the socket bound to a flow, with a reference
 * @in: the namespace's ILP state
 * @service: service ID
 * @conn: connection ID
 *
 * An exact (service, connection) binding wins over (service, any).
 * Under rcu_read_lock(); the caller puts the socket with sock_put().
 */
struct ilp_sock *ilp_sock_lookup(struct ilp_net *in, u32 service, u64 conn)
{
	struct ilp_bind_key k = { .service = service, .conn = conn };
	struct ilp_sock *isk;

	isk = rhashtable_lookup(&in->binds, &k, ilp_bind_params);
	if (!isk && conn != ILP_CONN_ANY) {
		k.conn = ILP_CONN_ANY;
		isk = rhashtable_lookup(&in->binds, &k, ilp_bind_params);
	}
	/* A socket being released may still be found until a grace period. */
	if (isk && !refcount_inc_not_zero(&isk->sk.sk_refcnt))
		isk = NULL;
	return isk;
}

/* Socket lock held. */
static int ilp_sock_do_bind(struct ilp_sock *isk, u32 service, u64 conn)
{
	struct ilp_net *in = ilp_pernet(sock_net(&isk->sk));
	int err;

	if (isk->bound)
		return -EINVAL;
	mutex_lock(&in->sock_lock);
	isk->bkey = (struct ilp_bind_key){ .service = service, .conn = conn };
	err = rhashtable_lookup_insert_fast(&in->binds, &isk->bind_node,
					    ilp_bind_params);
	if (!err)
		isk->bound = true;
	mutex_unlock(&in->sock_lock);
	return err == -EEXIST ? -EADDRINUSE : err;
}

void ilp_sock_unbind(struct ilp_sock *isk)
{
	struct ilp_net *in = ilp_pernet(sock_net(&isk->sk));

	if (!isk->bound)
		return;
	mutex_lock(&in->sock_lock);
	rhashtable_remove_fast(&in->binds, &isk->bind_node, ilp_bind_params);
	isk->bound = false;
	mutex_unlock(&in->sock_lock);
}

/**
 * ilp_sock_autobind - bind an unbound socket before it sends
 * @isk: the socket (lock held)
 * @service: the destination's service
 * @conn: the destination's connection, or ILP_CONN_ANY for a new one
 *
 * Replies come back on the (service, connection) the socket sent on, so a
 * socket that sends first is bound to it; a new connection gets a random
 * ID, as the host that opens a connection chooses it (docs/protocol.md).
 */
int ilp_sock_autobind(struct ilp_sock *isk, u32 service, u64 conn)
{
	int tries = 8, err;

	if (isk->bound)
		return 0;
	do {
		u64 c = conn;

		while (c == ILP_CONN_ANY)
			c = get_random_u64();
		err = ilp_sock_do_bind(isk, service, c);
	} while (err == -EADDRINUSE && conn == ILP_CONN_ANY && --tries);
	return err;
}

/* Length and family; the rest is the caller's. */
int ilp_sockaddr_check(const struct sockaddr *uaddr, int len)
{
	if (len < (int)sizeof(struct sockaddr_ilp))
		return -EINVAL;
	if (uaddr->sa_family != ilp_family)
		return -EAFNOSUPPORT;
	return 0;
}

int ilp_sock_bind(struct socket *sock, struct sockaddr *uaddr, int len)
{
	struct sockaddr_ilp *a = (struct sockaddr_ilp *)uaddr;
	struct sock *sk = sock->sk;
	int err;

	err = ilp_sockaddr_check(uaddr, len);
	if (err)
		return err;
	if (!a->silp_service || a->silp_service == U32_MAX)
		return -EINVAL;
	if (a->silp_service <= ILP_SERVICE_RESERVED_MAX &&
	    !ns_capable(sock_net(sk)->user_ns, CAP_NET_BIND_SERVICE))
		return -EACCES;
	lock_sock(sk);
	err = ilp_sock_do_bind(ilp_sk(sk), a->silp_service, a->silp_conn);
	release_sock(sk);
	return err;
}

static bool ilp_inaddr_valid(const struct ilp_inaddr *a, bool optional)
{
	switch (a->family) {
	case AF_INET:
		return true;
	case AF_INET6:
		return IS_ENABLED(CONFIG_IPV6);
	case 0:
		return optional;
	default:
		return false;
	}
}

/* A destination: a service and a host; the SN is optional. */
static int ilp_dest_check(const struct sockaddr_ilp *a)
{
	if (!a->silp_service || a->silp_service == U32_MAX)
		return -EINVAL;
	if (!ilp_inaddr_valid(&a->silp_host, false) ||
	    !ilp_inaddr_valid(&a->silp_sn, true))
		return -EAFNOSUPPORT;
	return 0;
}

int ilp_sock_connect(struct socket *sock, struct sockaddr *uaddr, int len,
		     int flags)
{
	struct sockaddr_ilp *a = (struct sockaddr_ilp *)uaddr;
	struct ilp_sock *isk = ilp_sk(sock->sk);
	int err;

	if (len >= (int)sizeof(uaddr->sa_family) &&
	    uaddr->sa_family == AF_UNSPEC) {
		/* As for UDP: AF_UNSPEC dissolves the association. */
		lock_sock(&isk->sk);
		isk->connected = false;
		sock->state = SS_UNCONNECTED;
		release_sock(&isk->sk);
		return 0;
	}
	err = ilp_sockaddr_check(uaddr, len);
	if (err)
		return err;
	err = ilp_dest_check(a);
	if (err)
		return err;
	lock_sock(&isk->sk);
	err = ilp_sock_autobind(isk, a->silp_service, a->silp_conn);
	if (!err) {
		isk->dest = *a;
		/* The connection the socket was bound to, if it chose one. */
		if (isk->bkey.service == a->silp_service)
			isk->dest.silp_conn = isk->bkey.conn;
		isk->connected = true;
		sock->state = SS_CONNECTED;
	}
	release_sock(&isk->sk);
	return err;
}

int ilp_sock_getname(struct socket *sock, struct sockaddr *uaddr, int peer)
{
	struct sockaddr_ilp *a = (struct sockaddr_ilp *)uaddr;
	struct ilp_sock *isk = ilp_sk(sock->sk);
	int err = sizeof(*a);

	lock_sock(&isk->sk);
	if (peer) {
		if (!isk->connected)
			err = -ENOTCONN;
		else
			*a = isk->dest;
	} else {
		memset(a, 0, sizeof(*a));
		a->silp_family = ilp_family;
		if (isk->bound) {
			a->silp_service = isk->bkey.service;
			a->silp_conn = isk->bkey.conn;
		}
	}
	release_sock(&isk->sk);
	return err;
}

int ilp_sock_shutdown(struct socket *sock, int how)
{
	struct sock *sk = sock->sk;

	/* SHUT_RD, SHUT_WR, SHUT_RDWR are 0, 1, 2; the masks are one more. */
	how++;
	if (how & ~SHUTDOWN_MASK || !how)
		return -EINVAL;
	lock_sock(sk);
	WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | how);
	release_sock(sk);
	/* Wake readers and writers blocked on the socket. */
	sk->sk_state_change(sk);
	return 0;
}

int ilp_sock_setsockopt(struct socket *sock, int level, int optname,
			sockptr_t optval, unsigned int optlen)
{
	struct ilp_sock *isk = ilp_sk(sock->sk);
	u8 *md = NULL;
	int val, err = 0;

	if (level != SOL_ILP)
		return -ENOPROTOOPT;
	switch (optname) {
	case ILP_SO_RECVMETADATA:
		if (optlen < sizeof(int))
			return -EINVAL;
		if (copy_from_sockptr(&val, optval, sizeof(val)))
			return -EFAULT;
		lock_sock(&isk->sk);
		isk->recv_metadata = !!val;
		release_sock(&isk->sk);
		return 0;
	case ILP_SO_METADATA:
		if (optlen > ILP_METADATA_MAX)
			return -EMSGSIZE;
		if (optlen) {
			md = memdup_sockptr(optval, optlen);
			if (IS_ERR(md))
				return PTR_ERR(md);
			err = ilp_metadata_check(md, optlen);
			if (err) {
				kfree(md);
				return err;
			}
		}
		lock_sock(&isk->sk);
		swap(isk->metadata, md);
		isk->metadata_len = optlen;
		release_sock(&isk->sk);
		kfree(md);
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

int ilp_sock_getsockopt(struct socket *sock, int level, int optname,
			char __user *optval, int __user *optlen)
{
	struct ilp_sock *isk = ilp_sk(sock->sk);
	int len, val, err = 0;

	if (level != SOL_ILP)
		return -ENOPROTOOPT;
	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	switch (optname) {
	case ILP_SO_RECVMETADATA:
		if (len < (int)sizeof(int))
			return -EINVAL;
		val = READ_ONCE(isk->recv_metadata);
		len = sizeof(int);
		if (copy_to_user(optval, &val, len))
			return -EFAULT;
		break;
	case ILP_SO_METADATA:
		lock_sock(&isk->sk);
		if (len < isk->metadata_len)
			err = -ERANGE;
		else if (copy_to_user(optval, isk->metadata, isk->metadata_len))
			err = -EFAULT;
		len = isk->metadata_len;
		release_sock(&isk->sk);
		if (err)
			return err;
		break;
	default:
		return -ENOPROTOOPT;
	}
	return put_user(len, optlen);
}

/* The last reference is gone; packets queued after release go too. */
void ilp_sock_destruct(struct sock *sk)
{
	struct ilp_sock *isk = ilp_sk(sk);

	skb_queue_purge(&sk->sk_receive_queue);
	kfree(isk->metadata);
	isk->metadata = NULL;
}
