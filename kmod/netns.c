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
	in->dying = NULL;
	mutex_init(&in->sock_lock);
	INIT_HLIST_HEAD(&in->socks);
	in->nsocks = 0;
	in->sock_gen = 1;
	in->upcall_rate = ILP_UPCALL_DEFAULT_RATE;
	in->upcall_burst = ILP_UPCALL_DEFAULT_BURST;
	in->upcall_quota = alloc_percpu_gfp(struct ilp_upcall_quota, GFP_KERNEL_ACCOUNT);
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

/*
 * A namespace goes in three steps, the middle one the core's: pre_exit
 * unpublishes its instance, the core waits for a grace period (after
 * which no sender or receiver holds the instance), and exit_batch closes
 * the sockets and frees everything of the whole batch of namespaces with
 * one more grace period between, for datagrams that found a socket just
 * before it closed.  Module unload takes the same path for every
 * namespace at once.
 */
static void __net_exit ilp_net_pre_exit(struct net *net)
{
	struct ilp_net *in = ilp_pernet(net);

	mutex_lock(&in->cfg_lock);
	in->dying = ilp_instance_unpublish(in);
	mutex_unlock(&in->cfg_lock);
}

static void __net_exit ilp_net_free(struct ilp_net *in)
{
	ilp_instance_free(in->dying);
	in->dying = NULL;
	/* Every socket holds a reference on its namespace. */
	WARN_ON_ONCE(!hlist_empty(&in->socks));
	ilp_binds_destroy(in);
	ilp_stats_free(&in->stats);
	free_percpu(in->upcall_quota);
	mutex_destroy(&in->sock_lock);
	mutex_destroy(&in->cfg_lock);
}

static void __net_exit ilp_net_exit_batch(struct list_head *net_list)
{
	bool closed = false;
	struct net *net;

	list_for_each_entry(net, net_list, exit_list) {
		struct ilp_instance *inst = ilp_pernet(net)->dying;

		if (inst) {
			ilp_instance_close_sockets(inst);
			closed = true;
		}
	}
	/* A datagram in rx.c still counts a drop in its namespace's stats. */
	if (closed)
		synchronize_net();
	list_for_each_entry(net, net_list, exit_list)
		ilp_net_free(ilp_pernet(net));
}

static struct pernet_operations ilp_net_ops = {
	.init = ilp_net_init,
	.pre_exit = ilp_net_pre_exit,
	.exit_batch = ilp_net_exit_batch,
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
