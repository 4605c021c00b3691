/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stats.h - per-namespace counters
 *
 * Counters are per-CPU (no shared cache line on the packet path) and read
 * by summing the CPUs.  A reset does not write to other CPUs' counters,
 * which would race with their updates; it records the current sums as a
 * baseline that later reads subtract, the way "iptables -Z" appears to
 * zero counters that keep running underneath.
 */
#ifndef _ILP_STATS_H
#define _ILP_STATS_H

#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/u64_stats_sync.h>
#include <linux/ilp.h>

enum ilp_counter {
	ILP_CNT_SOCKETS_CREATED,
	ILP_CNT_SOCKETS_REFUSED,
	ILP_CNT_RX_PACKETS,
	ILP_CNT_RX_BYTES,
	ILP_CNT_CACHE_HIT,
	ILP_CNT_CACHE_MISSED,
	ILP_CNT_CACHE_LOST,
	ILP_CNT_CACHE_EVICTED,
	ILP_CNT_CACHE_THROTTLED,
	ILP_CNT_TX_PACKETS,
	ILP_CNT_DELIVERED,
	ILP_CNT_SENT,
	/* one counter per enum ilp_drop_reason, in order */
	ILP_CNT_DROP_FIRST,
	ILP_CNT_MAX = ILP_CNT_DROP_FIRST + __ILP_DROP_MAX,
};

struct ilp_pcpu_stats {
	u64_stats_t cnt[ILP_CNT_MAX];
	struct u64_stats_sync syncp;
};

/**
 * struct ilp_stats - the counters of one namespace
 * @pcpu: per-CPU counters, written only by their own CPU
 * @base_lock: protects @base
 * @base: sums at the last reset
 */
struct ilp_stats {
	struct ilp_pcpu_stats __percpu *pcpu;
	struct mutex base_lock;
	u64 base[ILP_CNT_MAX];
};

int ilp_stats_init(struct ilp_stats *st);
void ilp_stats_free(struct ilp_stats *st);
void ilp_stats_read(struct ilp_stats *st, u64 out[ILP_CNT_MAX]);
void ilp_stats_reset(struct ilp_stats *st);

/* Any context; the caller need not disable preemption. */
static inline void ilp_stats_add(struct ilp_stats *st, unsigned int c, u64 n)
{
	struct ilp_pcpu_stats *s = get_cpu_ptr(st->pcpu);
	unsigned long flags;

	flags = u64_stats_update_begin_irqsave(&s->syncp);
	u64_stats_add(&s->cnt[c], n);
	u64_stats_update_end_irqrestore(&s->syncp, flags);
	put_cpu_ptr(st->pcpu);
}

static inline void ilp_stats_inc(struct ilp_stats *st, unsigned int c)
{
	ilp_stats_add(st, c, 1);
}

static inline void ilp_stats_drop(struct ilp_stats *st,
				  enum ilp_drop_reason reason)
{
	ilp_stats_add(st, ILP_CNT_DROP_FIRST + reason, 1);
}

/*
 * Traffic through one SA or peer: per-CPU packets and bytes, allocated
 * with it (slow path) and added to on the packet path.
 */
struct ilp_traffic {
	u64_stats_t packets;
	u64_stats_t bytes;
	struct u64_stats_sync syncp;
};

static inline struct ilp_traffic __percpu *ilp_traffic_new(void)
{
	struct ilp_traffic __percpu *t;
	int cpu;

	t = alloc_percpu_gfp(struct ilp_traffic, GFP_KERNEL_ACCOUNT);
	if (t)
		for_each_possible_cpu(cpu)
			u64_stats_init(&per_cpu_ptr(t, cpu)->syncp);
	return t;
}

/* Any context; the caller need not disable preemption. */
static inline void ilp_traffic_add(struct ilp_traffic __percpu *t, unsigned int len)
{
	struct ilp_traffic *s = get_cpu_ptr(t);
	unsigned long flags;

	flags = u64_stats_update_begin_irqsave(&s->syncp);
	u64_stats_inc(&s->packets);
	u64_stats_add(&s->bytes, len);
	u64_stats_update_end_irqrestore(&s->syncp, flags);
	put_cpu_ptr(t);
}

void ilp_traffic_read(struct ilp_traffic __percpu *t, u64 *packets, u64 *bytes);

#endif /* _ILP_STATS_H */
