/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ilp.h - declarations shared by the files of ilp.ko
 *
 * Lock order (outermost first): genl_mutex (held around every netlink
 * command and dump) > ilp_net->cfg_lock > ilp_net->sock_lock >
 * ilp_stats->base_lock.
 *
 * The packet path takes no lock: it reads the instance, its receive SAs
 * and its peers under rcu_read_lock() (softirq); writers hold cfg_lock
 * and free what they replace after synchronize_net().
 */
#ifndef _ILP_H
#define _ILP_H

#include <linux/mutex.h>
#include <linux/list.h>
#include <linux/in6.h>
#include <linux/rhashtable.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "psp.h"
#include "stats.h"

struct ilp_instance;

/**
 * struct ilp_net - ILP state of one network namespace
 * @cfg_lock: serialises configuration: the instance, keys, SAs, peers
 * @inst: the namespace's instance, or NULL; RCU for the packet path
 * @sock_lock: protects @socks, @nsocks and @sock_gen
 * @socks: every AF_ILP socket of the namespace (struct ilp_sock.node)
 * @nsocks: number of entries in @socks
 * @sock_gen: bumped on every change of @socks, for consistent dumps
 * @stats: counters, see stats.h
 */
struct ilp_net {
	struct mutex cfg_lock;
	struct ilp_instance __rcu *inst;
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

/**
 * struct ilp_rx_sa - a receive SA: an SPI this node allocated
 * @node: in ilp_instance->rx_sas, keyed by @spi
 * @spi: the SPI (top bit: master key slot)
 * @version: PSP version the SA was allocated for
 * @aead: its prepared transform, so no key set-up runs per packet
 * @list: for removal in bulk, under cfg_lock
 */
struct ilp_rx_sa {
	struct rhash_head node;
	u32 spi;
	u8 version;
	struct ilp_psp_aead *aead;
	struct list_head list;
};

/**
 * struct ilp_peer_key - how a peer is found: address and UDP port
 *
 * Compared with memcmp(): always zero the whole struct before filling it.
 */
struct ilp_peer_key {
	u16 family;
	__be16 port;
	union {
		__be32 v4;
		struct in6_addr v6;
	} addr;
};

/**
 * struct ilp_tx_sa - the SA a peer gave us for sending to it
 * @spi: its SPI; @version: PSP version; @aead: prepared transform
 */
struct ilp_tx_sa {
	u32 spi;
	u8 version;
	struct ilp_psp_aead *aead;
};

/**
 * struct ilp_peer - a node this one exchanges ILP packets with
 * @node: in ilp_instance->peers
 * @key: address and port
 * @tx: transmit SA or NULL; replaced under RCU
 * @list: for removal in bulk, under cfg_lock
 */
struct ilp_peer {
	struct rhash_head node;
	struct ilp_peer_key key;
	struct ilp_tx_sa __rcu *tx;
	struct list_head list;
};

/**
 * struct ilp_instance - the ILP endpoint of one network namespace
 * @net: its namespace
 * @port: UDP port (host order)
 * @sock4, @sock6: UDP encapsulation sockets (@sock6 NULL without IPv6)
 * @master: the two master keys (NULL: slot empty); cfg_lock
 * @key_present: which slots hold a key, read by the packet path
 * @active: the slot new SPIs come from; cfg_lock
 * @next_spi: next SPI number per slot; never reused under one key
 * @rx_sas: receive SAs by SPI (RCU); @rx_sa_list, @nr_rx_sas: cfg_lock
 * @peers: peers by address and port (RCU); @peer_list: cfg_lock
 */
struct ilp_instance {
	struct net *net;
	u16 port;
	struct socket *sock4;
	struct socket *sock6;
	struct ilp_psp_master *master[2];
	bool key_present[2];
	u8 active;
	u32 next_spi[2];
	struct rhashtable rx_sas;
	struct list_head rx_sa_list;
	unsigned int nr_rx_sas;
	struct rhashtable peers;
	struct list_head peer_list;
};

#define ILP_MAX_RX_SAS	65536

/* instance.c */
int ilp_instance_new(struct net *net, u16 port, struct netlink_ext_ack *extack);
int ilp_instance_del(struct net *net, struct netlink_ext_ack *extack);
void ilp_instance_destroy(struct ilp_net *in);
struct ilp_instance *ilp_instance_get_locked(struct ilp_net *in);

/* sa.c */
int ilp_sa_init(struct ilp_instance *inst);
void ilp_sa_destroy(struct ilp_instance *inst);
int ilp_key_set(struct ilp_instance *inst, unsigned int slot, const u8 *key,
		bool make_active, struct netlink_ext_ack *extack);
int ilp_sa_alloc(struct ilp_instance *inst, u8 version, u32 *spi, u8 *key,
		 struct netlink_ext_ack *extack);
struct ilp_rx_sa *ilp_rx_sa_lookup(struct ilp_instance *inst, u32 spi);

/* peer.c */
int ilp_peer_init(struct ilp_instance *inst);
void ilp_peer_destroy(struct ilp_instance *inst);
int ilp_peer_add(struct ilp_instance *inst, const struct ilp_peer_key *key,
		 struct netlink_ext_ack *extack);
int ilp_peer_set_tx(struct ilp_instance *inst, const struct ilp_peer_key *key,
		    u32 spi, u8 version, const u8 *sa_key,
		    struct netlink_ext_ack *extack);
int ilp_peer_del(struct ilp_instance *inst, const struct ilp_peer_key *key,
		 struct netlink_ext_ack *extack);

/* rx.c */
int ilp_udp_encap_rcv(struct sock *sk, struct sk_buff *skb);

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
