// SPDX-License-Identifier: GPL-2.0
/*
 * af_ilp.c - the AF_ILP socket family
 *
 * Applications reach ILP services through socket(AF_ILP, SOCK_DGRAM, 0).
 * This file owns the socket life cycle: creation, the per-namespace list
 * of sockets (for "ilpctl socket show") and release.  Every open socket
 * holds a reference on the module through its proto_ops owner.  The
 * operations are in sock.c (addresses, options), sock_send.c and
 * sock_recv.c.
 */
#include <linux/module.h>
#include <linux/net.h>
#include <linux/socket.h>
#include <linux/ilp.h>
#include <net/sock.h>

#include "ilp.h"

static struct proto ilp_proto = {
	.name = "ILP",
	.owner = THIS_MODULE,
	.obj_size = sizeof(struct ilp_sock),
};

/* Dumps store the generation in cb->seq, where 0 means "do not check". */
static void ilp_sock_list_changed(struct ilp_net *in)
{
	lockdep_assert_held(&in->sock_lock);
	if (!++in->sock_gen)
		in->sock_gen = 1;
}

static void ilp_sock_link(struct ilp_net *in, struct ilp_sock *isk)
{
	mutex_lock(&in->sock_lock);
	hlist_add_head(&isk->node, &in->socks);
	in->nsocks++;
	ilp_sock_list_changed(in);
	mutex_unlock(&in->sock_lock);
}

static void ilp_sock_unlink(struct ilp_net *in, struct ilp_sock *isk)
{
	mutex_lock(&in->sock_lock);
	hlist_del_init(&isk->node);
	in->nsocks--;
	ilp_sock_list_changed(in);
	mutex_unlock(&in->sock_lock);
}

static int ilp_release(struct socket *sock)
{
	struct sock *sk = sock->sk;

	if (!sk)
		return 0;

	ilp_sock_unlink(ilp_pernet(sock_net(sk)), ilp_sk(sk));

	lock_sock(sk);
	/* No new packet finds it; one already found holds a reference. */
	ilp_sock_unbind(ilp_sk(sk));
	WRITE_ONCE(sk->sk_shutdown, SHUTDOWN_MASK);
	sock_orphan(sk);
	sock->sk = NULL;
	release_sock(sk);

	skb_queue_purge(&sk->sk_receive_queue);
	sock_put(sk);
	return 0;
}

/* .family is filled in at load time from the "family" parameter. */
static struct proto_ops ilp_dgram_ops __ro_after_init = {
	.owner = THIS_MODULE,
	.release = ilp_release,
	.bind = ilp_sock_bind,
	.connect = ilp_sock_connect,
	.socketpair = sock_no_socketpair,
	.accept = sock_no_accept,
	.getname = ilp_sock_getname,
	.poll = datagram_poll,
	.ioctl = sock_no_ioctl,
	.listen = sock_no_listen,
	.shutdown = ilp_sock_shutdown,
	.setsockopt = ilp_sock_setsockopt,
	.getsockopt = ilp_sock_getsockopt,
	.sendmsg = ilp_sock_sendmsg,
	.recvmsg = ilp_sock_recvmsg,
	.mmap = sock_no_mmap,
};

static int ilp_create(struct net *net, struct socket *sock, int protocol,
		      int kern)
{
	struct ilp_net *in = ilp_pernet(net);
	struct sock *sk;

	/*
	 * A kernel socket holds no reference on its namespace and could
	 * outlive the namespace's ILP state; nothing in the kernel needs
	 * one yet, so refuse them.
	 */
	if (kern)
		return -EAFNOSUPPORT;
	if (sock->type != SOCK_DGRAM) {
		ilp_stats_inc(&in->stats, ILP_CNT_SOCKETS_REFUSED);
		return -ESOCKTNOSUPPORT;
	}
	if (protocol != ILP_PROTO_DGRAM) {
		ilp_stats_inc(&in->stats, ILP_CNT_SOCKETS_REFUSED);
		return -EPROTONOSUPPORT;
	}

	sk = sk_alloc(net, ilp_family, GFP_KERNEL, &ilp_proto, kern);
	if (!sk)
		return -ENOMEM;

	sock->state = SS_UNCONNECTED;
	sock->ops = &ilp_dgram_ops;
	sock_init_data(sock, sk);
	sk->sk_protocol = protocol;
	sk->sk_destruct = ilp_sock_destruct;
	/* The receive path finds bound sockets under RCU only. */
	sock_set_flag(sk, SOCK_RCU_FREE);
	INIT_HLIST_NODE(&ilp_sk(sk)->node);

	ilp_sock_link(in, ilp_sk(sk));
	ilp_stats_inc(&in->stats, ILP_CNT_SOCKETS_CREATED);
	return 0;
}

static struct net_proto_family ilp_family_ops __ro_after_init = {
	.create = ilp_create,
	.owner = THIS_MODULE,
};

int ilp_af_init(void)
{
	int err;

	if (ilp_family <= AF_UNSPEC || ilp_family >= NPROTO) {
		pr_err("family=%d is not a valid address family number (1..%d)\n",
		       ilp_family, NPROTO - 1);
		return -EINVAL;
	}
	switch (ilp_family) {
	case 13:	/* AF_NETBEUI, never implemented */
	case 18:	/* AF_ASH, never implemented */
	case 19:	/* AF_ECONET, removed in 3.5 */
	case 22:	/* AF_SNA, never implemented */
	case 23:	/* AF_IRDA, removed in 4.17 */
	case 25:	/* AF_WANPIPE, never in mainline */
		break;
	default:
		/*
		 * Code elsewhere in the kernel may take a socket of that
		 * family for its own kind, and its module can no longer load.
		 */
		pr_warn("family=%d belongs to an existing protocol; prefer a retired number (13, 18, 19, 22, 23, 25)\n",
			ilp_family);
	}
	ilp_dgram_ops.family = ilp_family;
	ilp_family_ops.family = ilp_family;

	err = proto_register(&ilp_proto, 1);
	if (err)
		return err;

	err = sock_register(&ilp_family_ops);
	if (err == -EEXIST) {
		pr_err("address family %d is already taken by another protocol; load with family=N naming a free one\n",
		       ilp_family);
		/* modprobe reads EEXIST from init as "already loaded". */
		err = -EBUSY;
	} else if (err) {
		pr_err("cannot register address family %d: %d\n",
		       ilp_family, err);
	}
	if (err) {
		proto_unregister(&ilp_proto);
		return err;
	}
	return 0;
}

void ilp_af_exit(void)
{
	sock_unregister(ilp_family);
	proto_unregister(&ilp_proto);
}
