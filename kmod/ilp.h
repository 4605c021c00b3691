/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ilp.h - declarations shared by the files of ilp.ko
 *
 * Lock order (outermost first): genl_mutex (held around every netlink
 * command and dump) > ilp_net->sock_lock > ilp_stats->base_lock.
 */
#ifndef _ILP_H
#define _ILP_H

#include <linux/mutex.h>
#include <linux/list.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "stats.h"

/**
 * struct ilp_net - ILP state of one network namespace
 * @sock_lock: protects @socks, @nsocks and @sock_gen
 * @socks: every AF_ILP socket of the namespace (struct ilp_sock.node)
 * @nsocks: number of entries in @socks
 * @sock_gen: bumped on every change of @socks, for consistent dumps
 * @stats: counters, see stats.h
 */
struct ilp_net {
	struct mutex sock_lock;
	struct hlist_head socks;
	unsigned int nsocks;
	unsigned int sock_gen;
	struct ilp_stats stats;
};

/**
 * struct ilp_sock - an AF_ILP socket
 * @sk: the socket; must stay first (sk_alloc allocates ilp_sock)
 * @node: entry in ilp_net->socks
 */
struct ilp_sock {
	struct sock sk;
	struct hlist_node node;
};

static inline struct ilp_sock *ilp_sk(const struct sock *sk)
{
	return container_of(sk, struct ilp_sock, sk);
}

/* main.c */
extern int ilp_family;

/* netns.c */
struct ilp_net *ilp_pernet(const struct net *net);
int ilp_netns_init(void);
void ilp_netns_exit(void);

/* af_ilp.c */
int ilp_af_init(void);
void ilp_af_exit(void);

/* netlink.c */
int ilp_genl_init(void);
void ilp_genl_exit(void);

#endif /* _ILP_H */
