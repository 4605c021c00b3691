// SPDX-License-Identifier: GPL-2.0
/*
 * netns.c - per-network-namespace state
 *
 * ILP is namespace-aware like any protocol: sockets, counters (and later
 * instances, peers and the decision cache) belong to one namespace and
 * are torn down with it.
 */
#include <linux/netdevice.h>
#include <net/netns/generic.h>

#include "ilp.h"

static unsigned int ilp_net_id __read_mostly;

struct ilp_net *ilp_pernet(const struct net *net)
{
	return net_generic(net, ilp_net_id);
}

static int __net_init ilp_net_init(struct net *net)
{
	struct ilp_net *in = ilp_pernet(net);
	int err;

	mutex_init(&in->cfg_lock);
	RCU_INIT_POINTER(in->inst, NULL);
	mutex_init(&in->sock_lock);
	INIT_HLIST_HEAD(&in->socks);
	in->nsocks = 0;
	in->sock_gen = 1;
	in->upcall_rate = ILP_UPCALL_DEFAULT_RATE;
	in->upcall_burst = ILP_UPCALL_DEFAULT_BURST;
	in->upcall_quota = alloc_percpu(struct ilp_upcall_quota);
	if (!in->upcall_quota)
		return -ENOMEM;
	err = ilp_stats_init(&in->stats);
	if (err)
		goto err_quota;
	err = ilp_binds_init(in);
	if (err)
		goto err_stats;
	return 0;

err_stats:
	ilp_stats_free(&in->stats);
err_quota:
	free_percpu(in->upcall_quota);
	return err;
}

static void __net_exit ilp_net_exit(struct net *net)
{
	struct ilp_net *in = ilp_pernet(net);

	mutex_lock(&in->cfg_lock);
	ilp_instance_destroy(in);
	mutex_unlock(&in->cfg_lock);
	/* Every socket holds a reference on its namespace. */
	WARN_ON_ONCE(!hlist_empty(&in->socks));
	ilp_binds_destroy(in);
	ilp_stats_free(&in->stats);
	free_percpu(in->upcall_quota);
	mutex_destroy(&in->sock_lock);
	mutex_destroy(&in->cfg_lock);
}

static struct pernet_operations ilp_net_ops = {
	.init = ilp_net_init,
	.exit = ilp_net_exit,
	.id = &ilp_net_id,
	.size = sizeof(struct ilp_net),
};

int ilp_netns_init(void)
{
	return register_pernet_subsys(&ilp_net_ops);
}

void ilp_netns_exit(void)
{
	unregister_pernet_subsys(&ilp_net_ops);
}
