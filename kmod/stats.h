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

enum ilp_counter {
	ILP_CNT_SOCKETS_CREATED,
	ILP_CNT_SOCKETS_REFUSED,
	ILP_CNT_MAX,
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
static inline void ilp_stats_inc(struct ilp_stats *st, enum ilp_counter c)
{
	struct ilp_pcpu_stats *s = get_cpu_ptr(st->pcpu);
	unsigned long flags;

	flags = u64_stats_update_begin_irqsave(&s->syncp);
	u64_stats_inc(&s->cnt[c]);
	u64_stats_update_end_irqrestore(&s->syncp, flags);
	put_cpu_ptr(st->pcpu);
}

#endif /* _ILP_STATS_H */
