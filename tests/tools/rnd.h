/* SPDX-License-Identifier: GPL-2.0-only */
/* The test tools' pseudo-random numbers: fast, seeded, reproducible. */
#ifndef TOOLS_RND_H
#define TOOLS_RND_H

#include <math.h>
#include <stdint.h>

static inline uint64_t rnd(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

/* log-uniform in [lo, hi] */
static inline long rnd_size(uint64_t *s, long lo, long hi)
{
	double u = (rnd(s) >> 11) * (1.0 / 9007199254740992.0);
	long v = (long)exp(log((double)lo) + u * (log((double)hi + 1) - log((double)lo)));

	return v < lo ? lo : v > hi ? hi : v;
}

#endif
