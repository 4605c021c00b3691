// SPDX-License-Identifier: GPL-2.0
/*
 * instance.c - the ILP instance of a network namespace: its UDP
 * encapsulation sockets and the tables hanging off it
 *
 * Like a device, an instance is made and destroyed through netlink, one
 * per namespace.  Received datagrams go to rx.c through encap_rcv.
 */
#include <linux/random.h>
#include <linux/slab.h>
#include <net/udp_tunnel.h>

#include "ilp.h"

struct ilp_instance *ilp_instance_get_locked(struct ilp_net *in)
{
	return rcu_dereference_protected(in->inst, lockdep_is_held(&in->cfg_lock));
}

static int ilp_open_socket(struct ilp_instance *inst, bool ipv6,
			   struct socket **out)
{
	struct udp_tunnel_sock_cfg tcfg = {
		.sk_user_data = inst,
		.encap_type = 1,
		.encap_rcv = ilp_udp_encap_rcv,
		.encap_err_lookup = ilp_udp_encap_err_lookup,
	};
	struct udp_port_cfg cfg = {
		.local_udp_port = htons(inst->port),
	};
	struct socket *sock;
	int err;

	if (ipv6) {
		cfg.family = AF_INET6;
		cfg.local_ip6 = in6addr_any;
		cfg.ipv6_v6only = 1;
	} else {
		cfg.family = AF_INET;
		cfg.local_ip.s_addr = htonl(INADDR_ANY);
	}
	err = udp_sock_create(inst->net, &cfg, &sock);
	if (err)
		return err;
	setup_udp_tunnel_sock(inst->net, sock, &tcfg);
	*out = sock;
	return 0;
}

/**
 * ilp_instance_close_sockets - release the instance's UDP sockets
 * @inst: the instance
 *
 * Only when no sender can be using them: on a failed creation, or a grace
 * period after ilp_instance_unpublish().  Senders read @inst->sock4 and
 * @inst->sock6 under RCU and transmit on them, so the pointers stay valid
 * until then.
 */
void ilp_instance_close_sockets(struct ilp_instance *inst)
{
	if (inst->sock6)
		udp_tunnel_sock_release(inst->sock6);
	if (inst->sock4)
		udp_tunnel_sock_release(inst->sock4);
	inst->sock4 = NULL;
	inst->sock6 = NULL;
}

#ifdef ILP_INJECT_LEAK
#define ILP_INJECTED_LEAK_LEN	96
#endif

int ilp_instance_new(struct net *net, u16 port, struct netlink_ext_ack *extack)
{
	struct ilp_net *in = ilp_pernet(net);
	struct ilp_instance *inst;
	int err;

	lockdep_assert_held(&in->cfg_lock);
	if (ilp_instance_get_locked(in)) {
		NL_SET_ERR_MSG(extack, "this network namespace already has an ILP instance");
		return -EEXIST;
	}

#ifdef ILP_INJECT_LEAK
	/* Planted for the debug-kernel selftest: kmemleak must report this. */
	{
		u8 *lost = kzalloc(ILP_INJECTED_LEAK_LEN, GFP_KERNEL);

		if (lost)
			WRITE_ONCE(lost[0], 1);
	}
#endif
	inst = kzalloc(sizeof(*inst), GFP_KERNEL_ACCOUNT);
	if (!inst)
		return -ENOMEM;
	inst->net = net;
	/* A random start: a dump spanning a delete and re-create sees a change. */
	inst->gen = get_random_u32() | 1;
	inst->port = port;
	err = ilp_sa_init(inst);
	if (err)
		goto err_free;
	err = ilp_peer_init(inst);
	if (err)
		goto err_sa;
	err = ilp_dc_init(&inst->dc);
	if (err)
		goto err_peer;

	err = ilp_open_socket(inst, false, &inst->sock4);
	if (err) {
		NL_SET_ERR_MSG(extack, "cannot open the IPv4 UDP socket (port in use?)");
		goto err_dc;
	}
#if IS_ENABLED(CONFIG_IPV6)
	/* IPv6 may be disabled in this namespace: then IPv4 only. */
	err = ilp_open_socket(inst, true, &inst->sock6);
	if (err && err != -EAFNOSUPPORT) {
		NL_SET_ERR_MSG(extack, "cannot open the IPv6 UDP socket (port in use?)");
		goto err_sock;
	}
#endif
	rcu_assign_pointer(in->inst, inst);
	return 0;

#if IS_ENABLED(CONFIG_IPV6)
err_sock:
	ilp_instance_close_sockets(inst);
#endif
err_dc:
	ilp_dc_destroy(&inst->dc);
err_peer:
	ilp_peer_destroy(inst);
err_sa:
	ilp_sa_destroy(inst);
err_free:
	kfree(inst);
	return err;
}

/**
 * ilp_instance_unpublish - take the namespace's instance out of reach
 * @in: the namespace's ILP state (cfg_lock held)
 *
 * Senders no longer find it and datagrams arriving on its sockets no
 * longer reach it; those already using it go on until a grace period
 * passes, after which ilp_instance_close_sockets() and ilp_instance_free()
 * may run.  Returns the instance, or NULL when there was none.
 */
struct ilp_instance *ilp_instance_unpublish(struct ilp_net *in)
{
	struct ilp_instance *inst = ilp_instance_get_locked(in);

	if (!inst)
		return NULL;
	RCU_INIT_POINTER(in->inst, NULL);
	rcu_assign_sk_user_data(inst->sock4->sk, NULL);
	if (inst->sock6)
		rcu_assign_sk_user_data(inst->sock6->sk, NULL);
	return inst;
}

/**
 * ilp_instance_free - free an instance nothing can reach any more
 * @inst: unpublished a grace period ago, its sockets closed
 *
 * Its tables are freed without waiting again (@inst->gone): the grace
 * period that ended every reader of the instance ended every reader of
 * its SAs, peers and cache entries too.
 */
void ilp_instance_free(struct ilp_instance *inst)
{
	if (!inst)
		return;
	WARN_ON_ONCE(inst->sock4 || inst->sock6);
	inst->gone = true;
	ilp_dc_destroy(&inst->dc);
	ilp_peer_destroy(inst);
	ilp_sa_destroy(inst);
	kfree(rcu_dereference_protected(inst->sn, 1));
	kfree(inst);
}

/**
 * ilp_instance_destroy - destroy the namespace's instance, if any
 * @in: the namespace's ILP state (cfg_lock held)
 *
 * One grace period: after it no sender uses the sockets and no packet is
 * in rx.c, so the sockets close and the tables go at once.
 */
void ilp_instance_destroy(struct ilp_net *in)
{
	struct ilp_instance *inst;

	lockdep_assert_held(&in->cfg_lock);
	inst = ilp_instance_unpublish(in);
	if (!inst)
		return;
	synchronize_net();
	ilp_instance_close_sockets(inst);
	ilp_instance_free(inst);
}

/**
 * ilp_instance_set_sn - set or clear the host's default SN
 * @inst: the instance (cfg_lock held)
 * @sn: the SN's address and port, or NULL to clear
 *
 * Sockets sending meanwhile use the old or the new one, never neither.
 */
int ilp_instance_set_sn(struct ilp_instance *inst, const struct ilp_peer_key *sn)
{
	struct ilp_assoc *a = NULL, *old;

	ilp_assert_cfg_locked(inst);
	if (sn) {
		a = kzalloc(sizeof(*a), GFP_KERNEL_ACCOUNT);
		if (!a)
			return -ENOMEM;
		a->sn = *sn;
	}
	old = rcu_replace_pointer(inst->sn, a,
				  lockdep_is_held(&ilp_pernet(inst->net)->cfg_lock));
	if (old)
		kfree_rcu(old, rcu);
	return 0;
}

int ilp_instance_del(struct net *net, struct netlink_ext_ack *extack)
{
	struct ilp_net *in = ilp_pernet(net);

	lockdep_assert_held(&in->cfg_lock);
	if (!ilp_instance_get_locked(in)) {
		NL_SET_ERR_MSG(extack, "no ILP instance in this network namespace");
		return -ENOENT;
	}
	ilp_instance_destroy(in);
	return 0;
}
