/*
 * lim_ban - banned client addresses with an end time.
 *
 * Invariants: an address lives in the LIM_BAN_PROBE slots after its home
 * slot (no chains beyond that window, so nothing is ever deleted: an expired
 * ban is a free slot). Addresses are stored as 16 bytes, IPv4 mapped into
 * IPv6 (::ffff:a.b.c.d), so one table serves both families.
 */
#include "config.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lim_ban.h"
#include "lim_counter.h"

#define LIM_BAN_SHARDS	16
#define LIM_BAN_PROBE	16

struct lim_ban_slot {
	uint8_t addr[16];
	uint64_t until_ms;	/* 0: free */
};

struct lim_ban_shard {
	pthread_mutex_t lock;
	struct lim_ban_slot *s;
	uint32_t n;
} __attribute__((aligned(64)));

struct lim_ban {
	struct lim_ban_shard sh[LIM_BAN_SHARDS];
	uint64_t seed[2];
	atomic_uint_least64_t changes;	/* lim_ban_changes: the peer link scans on change only */
};

struct lim_ban *
lim_ban_new(uint32_t max)
{
	struct lim_ban *b = aligned_alloc(64, sizeof(*b));
	uint32_t i, per;

	if (b == NULL)
		return NULL;
	memset(b, 0, sizeof(*b));
	b->seed[0] = (uint64_t)(uintptr_t)b ^ 0x62616e73ULL;
	b->seed[1] = 0x7461616e64656d00ULL;
	per = (max < 64 ? 64 : max) / LIM_BAN_SHARDS + LIM_BAN_PROBE;
	for (i = 0; i < LIM_BAN_SHARDS; i++) {
		pthread_mutex_init(&b->sh[i].lock, NULL);
		b->sh[i].n = per;
		b->sh[i].s = calloc(per, sizeof(*b->sh[i].s));
		if (b->sh[i].s == NULL) {
			lim_ban_free(&b);
			return NULL;
		}
	}
	return b;
}

void
lim_ban_free(struct lim_ban **bp)
{
	struct lim_ban *b = *bp;
	uint32_t i;

	if (b == NULL)
		return;
	for (i = 0; i < LIM_BAN_SHARDS; i++) {
		free(b->sh[i].s);
		pthread_mutex_destroy(&b->sh[i].lock);
	}
	free(b);
	*bp = NULL;
}

static void
lim_ban_norm(int af, const uint8_t *addr, uint8_t out[16])
{
	if (af == AF_INET) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, addr, 4);
	} else {
		memcpy(out, addr, 16);
	}
}

static struct lim_ban_shard *
lim_ban_home(struct lim_ban *b, const uint8_t a[16], uint32_t *home)
{
	uint64_t h = lim_siphash(b->seed, a, 16);
	struct lim_ban_shard *sh = &b->sh[h >> 60];

	*home = (uint32_t)(((h & 0xffffffffu) * (sh->n - LIM_BAN_PROBE)) >> 32);
	return sh;
}

void
lim_ban_add(struct lim_ban *b, int af, const uint8_t *addr, uint64_t until_ms)
{
	uint8_t a[16];
	uint32_t home, i, pick = UINT32_MAX;
	struct lim_ban_shard *sh;

	lim_ban_norm(af, addr, a);
	sh = lim_ban_home(b, a, &home);
	pthread_mutex_lock(&sh->lock);
	for (i = home; i < home + LIM_BAN_PROBE; i++) {
		if (sh->s[i].until_ms != 0 && memcmp(sh->s[i].addr, a, 16) == 0) {
			pick = i;
			break;
		}
		if (pick == UINT32_MAX || sh->s[i].until_ms < sh->s[pick].until_ms)
			pick = i;	/* free, else the ban ending first */
	}
	if (sh->s[pick].until_ms == 0 || memcmp(sh->s[pick].addr, a, 16) != 0 ||
	    sh->s[pick].until_ms < until_ms) {
		memcpy(sh->s[pick].addr, a, 16);
		sh->s[pick].until_ms = until_ms;
		atomic_fetch_add_explicit(&b->changes, 1, memory_order_release);
	}
	pthread_mutex_unlock(&sh->lock);
}

uint64_t
lim_ban_changes(struct lim_ban *b)
{
	return atomic_load_explicit(&b->changes, memory_order_acquire);
}

uint64_t
lim_ban_check(struct lim_ban *b, int af, const uint8_t *addr, uint64_t now_ms)
{
	uint8_t a[16];
	uint32_t home, i;
	uint64_t until = 0;
	struct lim_ban_shard *sh;

	lim_ban_norm(af, addr, a);
	sh = lim_ban_home(b, a, &home);
	pthread_mutex_lock(&sh->lock);
	for (i = home; i < home + LIM_BAN_PROBE; i++)
		if (sh->s[i].until_ms > now_ms && memcmp(sh->s[i].addr, a, 16) == 0) {
			until = sh->s[i].until_ms;
			break;
		}
	pthread_mutex_unlock(&sh->lock);
	return until;
}

void
lim_ban_foreach(struct lim_ban *b, uint64_t now_ms, lim_ban_fn fn, void *arg)
{
	uint32_t k, i;

	for (k = 0; k < LIM_BAN_SHARDS; k++) {
		pthread_mutex_lock(&b->sh[k].lock);
		for (i = 0; i < b->sh[k].n; i++)
			if (b->sh[k].s[i].until_ms > now_ms)
				fn(b->sh[k].s[i].addr, b->sh[k].s[i].until_ms, arg);
		pthread_mutex_unlock(&b->sh[k].lock);
	}
}
