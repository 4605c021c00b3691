// SPDX-License-Identifier: GPL-2.0
/*
 * stats.c - per-namespace counters: allocation, summing and reset
 */
#include "stats.h"

int ilp_stats_init(struct ilp_stats *st)
{
	int cpu;

	st->pcpu = alloc_percpu(struct ilp_pcpu_stats);
	if (!st->pcpu)
		return -ENOMEM;
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(st->pcpu, cpu)->syncp);
	mutex_init(&st->base_lock);
	memset(st->base, 0, sizeof(st->base));
	return 0;
}

void ilp_stats_free(struct ilp_stats *st)
{
	free_percpu(st->pcpu);
	st->pcpu = NULL;
	mutex_destroy(&st->base_lock);
}

static void ilp_stats_sum(const struct ilp_stats *st, u64 sum[ILP_CNT_MAX])
{
	int cpu, i;

	memset(sum, 0, sizeof(u64) * ILP_CNT_MAX);
	for_each_possible_cpu(cpu) {
		const struct ilp_pcpu_stats *s = per_cpu_ptr(st->pcpu, cpu);
		u64 v[ILP_CNT_MAX];
		unsigned int start;

		do {
			start = u64_stats_fetch_begin(&s->syncp);
			for (i = 0; i < ILP_CNT_MAX; i++)
				v[i] = u64_stats_read(&s->cnt[i]);
		} while (u64_stats_fetch_retry(&s->syncp, start));
		for (i = 0; i < ILP_CNT_MAX; i++)
			sum[i] += v[i];
	}
}

/**
 * ilp_stats_read - counters since the last reset
 * @st: the namespace's counters
 * @out: filled with one value per enum ilp_counter
 *
 * Process context (takes @st->base_lock).
 */
void ilp_stats_read(struct ilp_stats *st, u64 out[ILP_CNT_MAX])
{
	int i;

	mutex_lock(&st->base_lock);
	ilp_stats_sum(st, out);
	for (i = 0; i < ILP_CNT_MAX; i++)
		out[i] -= st->base[i];
	mutex_unlock(&st->base_lock);
}

/**
 * ilp_traffic_read - the sums of an SA's or a peer's traffic counters
 * @t: the per-CPU counters
 * @packets: the packets, out
 * @bytes: their bytes, out
 *
 * Any context.  Not reset by ilp_stats_reset(): they live and go with
 * their SA or peer.
 */
void ilp_traffic_read(struct ilp_traffic __percpu *t, u64 *packets, u64 *bytes)
{
	int cpu;

	*packets = 0;
	*bytes = 0;
	for_each_possible_cpu(cpu) {
		const struct ilp_traffic *s = per_cpu_ptr(t, cpu);
		unsigned int start;
		u64 p, b;

		do {
			start = u64_stats_fetch_begin(&s->syncp);
			p = u64_stats_read(&s->packets);
			b = u64_stats_read(&s->bytes);
		} while (u64_stats_fetch_retry(&s->syncp, start));
		*packets += p;
		*bytes += b;
	}
}

/**
 * ilp_stats_reset - make the counters read zero from now on
 * @st: the namespace's counters
 *
 * Process context (takes @st->base_lock).
 */
void ilp_stats_reset(struct ilp_stats *st)
{
	mutex_lock(&st->base_lock);
	ilp_stats_sum(st, st->base);
	mutex_unlock(&st->base_lock);
}
