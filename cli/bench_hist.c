/* SPDX-License-Identifier: MIT */
/* bench_hist.c -- sock bench: a log-bucketed latency histogram */

#include "bench.h"

#include <string.h>

void bench_hist_reset(struct bench_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min_ns = UINT64_MAX;
}

/*
 * Below BENCH_HIST_SUB a value is its own bucket.  Above, its top
 * BENCH_HIST_SUB_BITS + 1 bits pick the bucket: sub in [SUB, 2 SUB) is the
 * value shifted right until it fits, and each shift starts a new row of
 * SUB buckets, so a bucket is never wider than 1/SUB of its values.
 */
static unsigned int bucket_of(uint64_t v)
{
	unsigned int msb, shift;

	if (v < BENCH_HIST_SUB)
		return (unsigned int)v;
	if (v >> BENCH_HIST_MAX_BITS)
		v = (UINT64_C(1) << BENCH_HIST_MAX_BITS) - 1;
	msb = 63u - (unsigned int)__builtin_clzll(v);
	shift = msb - BENCH_HIST_SUB_BITS;
	return shift * BENCH_HIST_SUB + (unsigned int)(v >> shift);
}

/* The middle of the values bucket i holds. */
static uint64_t value_of(unsigned int i)
{
	unsigned int shift;
	uint64_t sub;

	if (i < BENCH_HIST_SUB)
		return i;
	shift = i / BENCH_HIST_SUB - 1;
	sub = i - shift * BENCH_HIST_SUB;
	return (sub << shift) + ((UINT64_C(1) << shift) >> 1);
}

void bench_hist_add(struct bench_hist *h, uint64_t ns)
{
	h->bucket[bucket_of(ns)]++;
	h->count++;
	h->sum_ns += ns;
	if (ns < h->min_ns)
		h->min_ns = ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

void bench_hist_merge(struct bench_hist *into, const struct bench_hist *from)
{
	unsigned int i;

	if (!from->count)
		return;
	for (i = 0; i < BENCH_HIST_BUCKETS; i++)
		into->bucket[i] += from->bucket[i];
	into->count += from->count;
	into->sum_ns += from->sum_ns;
	if (from->min_ns < into->min_ns)
		into->min_ns = from->min_ns;
	if (from->max_ns > into->max_ns)
		into->max_ns = from->max_ns;
}

uint64_t bench_hist_quantile(const struct bench_hist *h, double q)
{
	uint64_t want, seen = 0, v;
	unsigned int i;

	if (!h->count)
		return 0;
	want = (uint64_t)(q * (double)h->count + 0.5);
	if (want < 1)
		want = 1;
	if (want > h->count)
		want = h->count;
	for (i = 0; i < BENCH_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= want)
			break;
	}
	v = value_of(i);
	if (v < h->min_ns)
		v = h->min_ns;
	if (v > h->max_ns)
		v = h->max_ns;
	return v;
}
