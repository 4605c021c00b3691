/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ilp.h - declarations shared by the files of ilp.ko
 *
 * Lock order (outermost first): genl_mutex (held around every netlink
 * command and dump) > ilp_net->cfg_lock > ilp_dcache->lock >
 * ilp_net->sock_lock > ilp_stats->base_lock.
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
#include <net/dst_cache.h>
#include <net/net_namespace.h>
#include <net/genetlink.h>
#include <net/sock.h>

#include "psp.h"
#include "stats.h"

struct ilp_instance;

/**
 * struct ilp_net - ILP state of one network namespace
 * @cfg_lock: serialises configuration: the instance, keys, SAs, peers
 * @inst: the namespace's instance, or NULL; RCU for the packet path
 * @listener: netlink port of the upcall listener, 0 for none
 * @upcall_quota: per-CPU token buckets bounding the upcalls of each CPU
 * @upcall_rate: tokens per second (0: no per-CPU bound); @upcall_burst: most held
 * @dying: the instance the namespace's exit unpublished, freed by its exit_batch
 * @sock_lock: protects @socks, @nsocks and @sock_gen, and changes of @binds
 * @binds: bound AF_ILP sockets by (service, connection); RCU for receive
 * @socks: every AF_ILP socket of the namespace (struct ilp_sock.node)
 * @nsocks: number of entries in @socks
 * @sock_gen: bumped on every change of @socks, for consistent dumps
 * @stats: counters, see stats.h
 */
struct ilp_upcall_quota {
	unsigned long stamp;
	u32 tokens;
};

struct ilp_net {
	struct mutex cfg_lock;
	struct ilp_instance __rcu *inst;
	u32 listener;
	struct ilp_upcall_quota __percpu *upcall_quota;
	u32 upcall_rate;
	u32 upcall_burst;
	struct ilp_instance *dying;
	struct mutex sock_lock;
	struct rhashtable binds;
	struct hlist_head socks;
	unsigned int nsocks;
	unsigned int sock_gen;
	struct ilp_stats stats;
};

/* What a bound socket is found by; compared with memcmp(). */
struct ilp_bind_key {
	u32 service;
	u32 pad;
	u64 conn;	/* ILP_CONN_ANY: every connection of @service */
};

/**
 * struct ilp_sock - an AF_ILP socket
 * @sk: the socket; must stay first (sk_alloc allocates ilp_sock)
 * @node: entry in ilp_net->socks
 * @bind_node: entry in ilp_net->binds while @bound
 * @bound, @bkey: the (service, connection) the socket receives
 * @connected, @dest: the default destination (connect())
 * @recv_metadata: ILP_SO_RECVMETADATA
 * @metadata, @metadata_len: sticky TLVs (ILP_SO_METADATA); socket lock
 *
 * @bound and @bkey change under the socket lock and sock_lock both.
 */
struct ilp_sock {
	struct sock sk;
	struct hlist_node node;
	struct rhash_head bind_node;
	struct ilp_bind_key bkey;
	bool bound;
	bool connected;
	bool recv_metadata;
	struct sockaddr_ilp dest;
	u8 *metadata;
	u16 metadata_len;
};


static inline struct ilp_sock *ilp_sk(const struct sock *sk)
{
	return container_of(sk, struct ilp_sock, sk);
}

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
 * struct ilp_rx_sa - a receive SA: an SPI this node allocated
 * @node: in ilp_instance->rx_sas, keyed by @spi
 * @spi: the SPI (top bit: master key slot)
 * @version: PSP version the SA was allocated for
 * @peer: the previous hop it was allocated for: its address, port 0, as
 *	struct ilp_flow_key.prev holds it; packets from another are dropped
 * @aead: its prepared transform, so no key set-up runs per packet
 * @list: for removal in bulk, under cfg_lock
 * @auth_tokens: authentication failures it may still cost (sa.c); read
 *	by every packet, written only by failures and refills
 * @auth_stamp: jiffies of the last refill of @auth_tokens
 * @traffic: the packets it opened, per CPU
 */
struct ilp_rx_sa {
	struct rhash_head node;
	u32 spi;
	u8 version;
	struct ilp_peer_key peer;
	struct ilp_psp_aead *aead;
	struct list_head list;
	atomic_t auth_tokens;
	unsigned long auth_stamp;
	struct ilp_traffic __percpu *traffic;
};

/**
 * struct ilp_tx_sa - the SA a peer gave us for sending to it
 * @spi: its SPI; @version: PSP version; @aead: prepared transform
 * @iv: per-CPU IV counters: the IV is the CPU number in the top bits (as
 *	many as nr_cpu_ids needs) and the CPU's counter in the low
 *	@ctr_bits, so IVs never repeat and no cache line is shared between
 *	CPUs.  Handed on to the SA that replaces this one with the same SPI.
 * @iv_max: the last counter value (2^@ctr_bits - 1); then the SA is spent
 * @iv_warn: the counter value at which userspace is told (ILP_CMD_SA_EXHAUSTING)
 * @ctr_bits: bits of the counter
 * @events: ILP_TX_SA_WARNED once told
 */
struct ilp_tx_sa {
	u32 spi;
	u8 version;
	u8 ctr_bits;
	struct ilp_psp_aead *aead;
	u64 __percpu *iv;
	u64 iv_max;
	u64 iv_warn;
	unsigned long events;
};

#define ILP_TX_SA_WARNED	0

/**
 * struct ilp_flow_key - what the decision cache is keyed by
 * @prev: the previous hop: its address; the port is always 0, because a
 *	sender's UDP source port is a flow hash, not part of its identity
 * @service: service ID; @conn: connection ID
 *
 * Compared with memcmp(): zero the whole struct before filling it.
 */
struct ilp_flow_key {
	struct ilp_peer_key prev;
	u32 service;
	u32 pad;
	u64 conn;
};

/*
 * What the receive path leaves in skb->cb for recvmsg: the previous hop
 * (the outer source) and where the payload starts.  Data is the ILP
 * header and payload.
 */
struct ilp_skb_cb {
	struct ilp_peer_key prev;
	u16 hdr_len;
};

#define ILP_SKB_CB(skb) ((struct ilp_skb_cb *)(skb)->cb)

/**
 * struct ilp_actions - a decision
 * @drop: drop the packet (and ignore @fwd and @deliver)
 * @deliver: also deliver it to the local socket bound to its flow
 * @n_fwd: number of next hops in @fwd; none and no @drop also drops
 * @fwd: next hops; each gets a copy sealed with its transmit SA
 */
struct ilp_actions {
	bool drop;
	bool deliver;
	u8 n_fwd;
	struct ilp_peer_key fwd[ILP_MAX_FORWARD];
};

/**
 * struct ilp_dc_entry - one decision in the cache
 * @node: in ilp_dcache->table
 * @key: the flow
 * @packets, @bytes: hits; shared, not per-CPU (docs/decision-cache.md:
 *	a flow arrives on one CPU, and per-CPU counters at a million entries
 *	on hundreds of CPUs would take gigabytes)
 * @used: jiffies of the last hit (0: never)
 * @referenced: hit since the eviction hand last passed (CLOCK)
 * @lru: position in ilp_dcache->clock; dc_lock
 * @rcu: for freeing after readers, once off @lru
 * @acts: the decision; last, and allocated only up to its @acts.n_fwd
 *	next hops: pass it by pointer, never copy it whole
 */
struct ilp_dc_entry {
	struct rhash_head node;
	struct ilp_flow_key key;
	atomic64_t packets;
	atomic64_t bytes;
	unsigned long used;
	u8 referenced;
	union {
		struct list_head lru;
		struct rcu_head rcu;
	};
	struct ilp_actions acts;
};

/**
 * struct ilp_dcache - the decision cache of an instance
 * @table: entries by flow; lock-free lookups under RCU
 * @lock: serialises writers (all in process context)
 * @clock: every entry, oldest first, for second-chance eviction
 * @count: entries; @capacity: the most it holds
 * @gen: changes whenever @clock does, for dumps (never 0)
 */
struct ilp_dcache {
	struct rhashtable table;
	struct mutex lock;
	struct list_head clock;
	u32 count;
	u32 capacity;
	u32 gen;
};

/*
 * Dumps of a list that changes between two parts of the dump mark the
 * later part NLM_F_DUMP_INTR: the list's generation goes in cb->seq,
 * which must not be 0 (0 means "not tracked").
 */
static inline void ilp_gen_bump(u32 *gen)
{
	if (!++*gen)
		*gen = 1;
}

/**
 * struct ilp_peer - a node this one exchanges ILP packets with
 * @node: in ilp_instance->peers
 * @key: address and port
 * @direct: a host that local sockets may send to without an SN
 * @tx: transmit SA or NULL; replaced under RCU
 * @list: for removal in bulk, under cfg_lock
 * @dst_cache: the route to the peer, per CPU (tx.c), so that a packet
 *	does not cost a route lookup
 * @tx_traffic: the packets sealed for it under any of its SAs, per CPU
 */
struct ilp_peer {
	struct rhash_head node;
	struct ilp_peer_key key;
	bool direct;
	struct ilp_tx_sa __rcu *tx;
	struct list_head list;
	struct dst_cache dst_cache;
	struct ilp_traffic __percpu *tx_traffic;
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
 * @dc: the decision cache
 * @gen: changes whenever @rx_sa_list or @peer_list does (cfg_lock), for dumps
 * @sn: the host's default SN (its association), or NULL; RCU, cfg_lock
 * @gone: unpublished a grace period ago (instance.c): nothing reads the
 *	tables any more, so their teardown frees without synchronize_net()
 * @key_generated: which slots hold a key the kernel generated; cfg_lock
 * @tx_spis: every (peer, SPI) installed as a transmit SA (peer.c); cfg_lock
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
	struct ilp_dcache dc;
	u32 gen;
	struct ilp_assoc __rcu *sn;
	bool gone;
	bool key_generated[2];
	struct rhashtable tx_spis;
};

/* A host's association with an SN: where its sockets send by default. */
struct ilp_assoc {
	struct ilp_peer_key sn;
	struct rcu_head rcu;
};

/* The configuration of @inst (its SAs, peers, keys) is under cfg_lock. */
#define ilp_assert_cfg_locked(inst) \
	lockdep_assert_held(&ilp_pernet((inst)->net)->cfg_lock)

/*
 * ... or, once @inst is gone, nobody's: a namespace's exit frees its
 * instance from exit_batch, a grace period after unpublishing it, with no
 * lock to take (ilp_instance_free()).
 */
#define ilp_assert_cfg_locked_or_gone(inst) \
	lockdep_assert((inst)->gone || \
		       lockdep_is_held(&ilp_pernet((inst)->net)->cfg_lock))


/* instance.c */
int ilp_instance_new(struct net *net, u16 port, struct netlink_ext_ack *extack);
int ilp_instance_del(struct net *net, struct netlink_ext_ack *extack);
void ilp_instance_destroy(struct ilp_net *in);
struct ilp_instance *ilp_instance_unpublish(struct ilp_net *in);
void ilp_instance_close_sockets(struct ilp_instance *inst);
void ilp_instance_free(struct ilp_instance *inst);
struct ilp_instance *ilp_instance_get_locked(struct ilp_net *in);
int ilp_instance_set_sn(struct ilp_instance *inst, const struct ilp_peer_key *sn);

/* sa.c */
int ilp_sa_init(struct ilp_instance *inst);
void ilp_sa_destroy(struct ilp_instance *inst);
int ilp_key_set(struct ilp_instance *inst, unsigned int slot, const u8 *key,
		u32 first_spi, bool make_active, struct netlink_ext_ack *extack);
int ilp_sa_alloc(struct ilp_instance *inst, u8 version,
		 const struct ilp_peer_key *peer, u32 *spi, u8 *key,
		 struct netlink_ext_ack *extack);
int ilp_sa_del(struct ilp_instance *inst, u32 spi,
	       struct netlink_ext_ack *extack);
struct ilp_rx_sa *ilp_rx_sa_lookup(struct ilp_instance *inst, u32 spi);
bool ilp_rx_sa_may_open(struct ilp_rx_sa *sa);
void ilp_rx_sa_auth_failed(struct ilp_rx_sa *sa);

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

int ilp_peer_set_direct(struct ilp_instance *inst, const struct ilp_peer_key *key,
			bool direct, struct netlink_ext_ack *extack);
struct ilp_peer *ilp_peer_lookup(struct ilp_instance *inst,
				 const struct ilp_peer_key *key);

/* dcache.c */
int ilp_dc_init(struct ilp_dcache *dc);
void ilp_dc_destroy(struct ilp_dcache *dc);
struct ilp_dc_entry *ilp_dc_lookup(struct ilp_dcache *dc,
				   const struct ilp_flow_key *key);
struct ilp_dc_entry *ilp_dc_find_locked(struct ilp_dcache *dc,
					const struct ilp_flow_key *key);
void ilp_dc_hit(struct ilp_dc_entry *e, unsigned int len);
int ilp_dc_add(struct ilp_net *in, struct ilp_dcache *dc,
	       const struct ilp_flow_key *key, const struct ilp_actions *acts);
int ilp_dc_del(struct ilp_dcache *dc, const struct ilp_flow_key *key);
void ilp_dc_flush(struct ilp_dcache *dc);
unsigned int ilp_dc_del_peer(struct ilp_dcache *dc,
			     const struct ilp_peer_key *peer);
int ilp_dc_set_capacity(struct ilp_net *in, struct ilp_dcache *dc, u32 cap);
void ilp_dc_entry_stats(struct ilp_dc_entry *e, u64 *packets, u64 *bytes);

/* rx.c */
int ilp_udp_encap_rcv(struct sock *sk, struct sk_buff *skb);
int ilp_udp_encap_err_lookup(struct sock *sk, struct sk_buff *skb);

/* execute.c */
void ilp_execute(struct ilp_net *in, struct ilp_instance *inst,
		 struct sk_buff *skb, const struct ilp_flow_key *key,
		 const struct ilp_actions *acts, u8 dsfield);

/* tx.c */
int ilp_tx(struct ilp_instance *inst, struct ilp_peer *peer,
	   struct sk_buff *skb, u32 hash);
int ilp_tx_fwd(struct ilp_instance *inst, struct ilp_peer *peer,
	       struct sk_buff *skb, u32 hash, u8 dsfield, bool copy);

/* upcall.c */
void ilp_upcall(struct ilp_net *in, struct net *net, struct sk_buff *skb,
		const struct ilp_flow_key *key, __be16 sport);
int ilp_upcall_init(void);
void ilp_upcall_exit(void);
bool ilp_upcalls_enabled(void);
void ilp_upcall_stop(void);

/* main.c */
extern int ilp_family;

/* netns.c */
struct ilp_net *ilp_pernet(const struct net *net);
int ilp_netns_init(void);
void ilp_netns_exit(void);

/* af_ilp.c */
int ilp_af_init(void);
void ilp_af_exit(void);

/* sock.c: bind, connect, names, options */
int ilp_sock_bind(struct socket *sock, struct sockaddr *uaddr, int len);
int ilp_sock_connect(struct socket *sock, struct sockaddr *uaddr, int len,
		     int flags);
int ilp_sock_getname(struct socket *sock, struct sockaddr *uaddr, int peer);
int ilp_sock_shutdown(struct socket *sock, int how);
int ilp_sock_setsockopt(struct socket *sock, int level, int optname,
			sockptr_t optval, unsigned int optlen);
int ilp_sock_getsockopt(struct socket *sock, int level, int optname,
			char __user *optval, int __user *optlen);
int ilp_sock_autobind(struct ilp_sock *isk, u32 service, u64 conn);
void ilp_sock_unbind(struct ilp_sock *isk);
void ilp_sock_destruct(struct sock *sk);
int ilp_sockaddr_check(const struct sockaddr *uaddr, int len);
struct ilp_sock *ilp_sock_lookup(struct ilp_net *in, u32 service, u64 conn);
int ilp_binds_init(struct ilp_net *in);
void ilp_binds_destroy(struct ilp_net *in);

/* sock_send.c: from sendmsg() to the first hop */
int ilp_sock_sendmsg(struct socket *sock, struct msghdr *msg, size_t len);
int ilp_metadata_check(const u8 *tlv, size_t len);

/* sock_recv.c: local delivery and recvmsg() */
bool ilp_deliver(struct ilp_net *in, struct sk_buff *skb,
		 const struct ilp_flow_key *key, u16 hdr_len);
bool ilp_deliver_addressed(struct ilp_net *in, struct net *net,
			   struct sk_buff *skb, const struct ilp_flow_key *key,
			   u16 hdr_len);
int ilp_sock_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
		     int flags);

/* netlink.c */
extern struct genl_family ilp_genl_family;
void ilp_nl_sa_exhausting(struct net *net, const struct ilp_peer *peer,
			  const struct ilp_tx_sa *tx);
int ilp_genl_init(void);
void ilp_genl_exit(void);

#endif /* _ILP_H */
