/*
 * lim_counter - sharded table of mergeable sliding-window counters.
 *
 * Invariants:
 * - An entry is 32 bytes, 32-byte aligned (one cache line): fingerprint, the
 *   index of its current window, the millisecond of its last local touch
 *   (LRU-ish eviction and the delta export's "changed since" mark), and count[window][node] for the current and the
 *   previous window. fp == 0 marks an empty slot.
 * - A node only ever increments its own slot; a remote node's slot only ever
 *   takes max(local, remote) for the same window. The state of (key, node,
 *   window) is therefore the largest value anyone reported for it, which is
 *   why merges commute and are idempotent.
 * - Shards are open-addressing tables with linear probing, load <= 3/4, and
 *   backward-shift deletion (no tombstones). A shard grows by doubling up to
 *   the slots its share of max_keys needs, then evicts the least recently
 *   touched of a few sampled keys ("LRU-ish", as Redis does).
 * - The shard is chosen by the fingerprint's high bits, the slot by its low
 *   32 bits, so the two are independent.
 * - Fingerprints are even: bit 0 of a stored fp is the entry's lock. Whoever
 *   writes an occupied slot holds its lock; moving or clearing slots, and
 *   growing, also need the shard lock. A shard at its final size (nslots ==
 *   max_slots) never reallocates, so lim_table_hit finds an existing key there
 *   without the shard lock and takes only the entry's lock, on the line it
 *   writes anyway: two workers then no longer pass the shard lock's cache line
 *   back and forth on every decision (that transfer was most of the
 *   two-thread cost). Everything else takes the shard lock, then the entry's.
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <sched.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>

#include "lim_counter.h"

#define LIM_MAGIC		0x4d494c54u	/* "TLIM" little endian */
#define LIM_FMT_VERSION		1u
#define LIM_KIND_DELTA		1u
#define LIM_KIND_FULL		2u
#define LIM_HDR_LEN		32u
#define LIM_DELTA_REC		20u	/* fp, win, cur, prev */
#define LIM_FULL_REC		32u	/* fp, win, tick, count[2][2] */
#define LIM_SUM_LEN		8u
#define LIM_EVICT_SAMPLES	8
#define LIM_DUP_RING		64
#define LIM_TABLE_MAGIC		0x11a7ab1eu

struct lim_entry {
	uint64_t fp;			/* even; bit 0 set: locked */
	uint32_t win;			/* window index of c[0] */
	uint32_t tick;			/* (uint32_t)now_ms of the last local touch */
	uint32_t c[2][LIM_NODES];	/* [0] current window, [1] previous */
} __attribute__((aligned(32)));	/* arrays start on a line: never across two lines */

/* A test-and-test-and-set lock: critical sections are a probe and a few
 * stores (a rehash at worst), far shorter than a futex round trip, and
 * unlike a mutex it costs one atomic op when uncontended. A waiter that spins
 * long yields, so a preempted holder is not starved. */
#if defined(__x86_64__) || defined(__i386__)
#define LIM_CPU_RELAX() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define LIM_CPU_RELAX() __asm__ __volatile__("yield" ::: "memory")
#else
#define LIM_CPU_RELAX() __asm__ __volatile__("" ::: "memory")
#endif

/* Fetch a line for writing (exclusive), so the store that follows does not
 * need a second cross-core round trip. x86 PREFETCHW is a no-op hint on CPUs
 * without it; elsewhere the compiler's write prefetch. */
#if defined(__x86_64__) || defined(__i386__)
#define LIM_PREFETCHW(p) __asm__ __volatile__("prefetchw %0" :: "m"(*(const char *)(p)))
#else
#define LIM_PREFETCHW(p) __builtin_prefetch((p), 1)
#endif

struct lim_lock {
	int v;
};

static inline void
lim_lock(struct lim_lock *l)
{
	unsigned spins = 0;

	while (__atomic_exchange_n(&l->v, 1, __ATOMIC_ACQUIRE) != 0) {
		while (__atomic_load_n(&l->v, __ATOMIC_RELAXED) != 0) {
			if (++spins > 1000) {
				sched_yield();
				spins = 0;
			} else {
				LIM_CPU_RELAX();
			}
		}
	}
}

static inline void
lim_unlock(struct lim_lock *l)
{
	__atomic_store_n(&l->v, 0, __ATOMIC_RELEASE);
}

#define LIM_ELOCK 1ULL

/* A caller's fingerprint made even (bit 0 is the entry lock), never 0. */
static inline uint64_t
lim_fpn(uint64_t fp)
{
	fp &= ~LIM_ELOCK;
	return fp ? fp : 2;
}

/* The key of slot e (0: empty), lock bit masked. */
static inline uint64_t
lim_efp(const struct lim_entry *e)
{
	return __atomic_load_n(&e->fp, __ATOMIC_RELAXED) & ~LIM_ELOCK;
}

/* Takes e's lock while it holds want (any key when want is 0). Returns 0, or
 * -1 when the slot is empty or holds another key (moved or replaced). */
static int
lim_elock(struct lim_entry *e, uint64_t want)
{
	for (;;) {
		uint64_t f = __atomic_load_n(&e->fp, __ATOMIC_RELAXED);

		if (f == 0 || (want != 0 && (f & ~LIM_ELOCK) != want))
			return -1;
		/* seq_cst (the same instruction on x86): lim_tick's read of the
		 * floor must not move before it */
		if ((f & LIM_ELOCK) == 0 &&
		    __atomic_compare_exchange_n(&e->fp, &f, f | LIM_ELOCK, false, __ATOMIC_SEQ_CST,
						__ATOMIC_RELAXED))
			return 0;
		LIM_CPU_RELAX();
	}
}

static inline void
lim_eunlock(struct lim_entry *e)
{
	__atomic_store_n(&e->fp, lim_efp(e), __ATOMIC_RELEASE);
}

/* Copies slot src (locked by the caller) to *dst, key unlocked. */
static void
lim_eget(struct lim_entry *dst, const struct lim_entry *src)
{
	dst->fp = lim_efp(src);
	dst->win = src->win;
	dst->tick = src->tick;
	memcpy(dst->c, src->c, sizeof(dst->c));
}

/* Writes slot dst (locked by the caller, or empty) from src's fields with key
 * fp, publishing it unlocked: the fields first, then the key. */
static void
lim_eput(struct lim_entry *dst, const struct lim_entry *src, uint64_t fp)
{
	dst->win = src->win;
	dst->tick = src->tick;
	memcpy(dst->c, src->c, sizeof(dst->c));
	__atomic_store_n(&dst->fp, fp, __ATOMIC_RELEASE);
}

/* Two cache lines: the slot array and its size sit in a read-mostly line
 * (written only when the shard grows), apart from the lock's line, so
 * lim_table_hit reads them without the lock and without a transfer. */
struct lim_shard {
	struct lim_entry *e;	/* read-mostly: changed only by lim_grow */
	struct lim_entry *final;	/* the max_slots array in the table's slab, or NULL */
	uint32_t nslots;	/* stored after e (release), read before it (acquire) */
	uint32_t max_count;	/* this shard's share of max_keys */
	uint32_t max_slots;	/* slots needed for max_count at load 3/4 */
	struct lim_lock lock __attribute__((aligned(64)));	/* written under it: */
	uint32_t count;
	uint64_t rng;
	uint64_t evictions, expired, merged;
} __attribute__((aligned(64)));

struct lim_table {
	uint32_t magic;
	uint32_t period_ms;
	uint32_t node;
	uint32_t shard_shift;	/* 64 - log2(nshards), 64 for one shard */
	uint32_t floor;		/* tick of the latest export's now (0: none yet) */
	uint32_t nshards;
	uint64_t seed[2];
	struct lim_lock dup_lock;	/* batch-id rings: control path only */
	uint64_t dup_ids[LIM_NODES][LIM_DUP_RING];
	uint32_t dup_n[LIM_NODES];
	uint64_t dup_batches;
	struct lim_shard *shards;
	void *slab;		/* final shard arrays on huge pages (mmap), or NULL */
	size_t slab_len;
};

/* Tables whose final arrays pass this size get them in one slab of huge
 * pages: at 100,000 keys a decision's random lookup otherwise also misses the
 * TLB (a two-level page walk under KVM), ~10% of its cost. */
#define LIM_SLAB_MIN	(4u << 20)
#define LIM_HUGE	(2u << 20)

/* ---- SipHash-1-3 (Aumasson & Bernstein; the variant Rust's HashMap uses):
 * keyed, so clients cannot choose colliding keys without the seed ---- */

#define ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do { \
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
} while (0)

static inline uint64_t
lim_load64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

uint64_t
lim_siphash(const uint64_t k[2], const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t v0 = 0x736f6d6570736575ULL ^ k[0], v1 = 0x646f72616e646f6dULL ^ k[1];
	uint64_t v2 = 0x6c7967656e657261ULL ^ k[0], v3 = 0x7465646279746573ULL ^ k[1];
	uint64_t b = (uint64_t)len << 56, m;
	size_t i, left = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		m = lim_load64(p + i);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; j < left; j++)
		b |= (uint64_t)p[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- slots ---- */

static inline uint32_t
lim_home(const struct lim_shard *s, uint64_t fp)
{
	return (uint32_t)(((uint64_t)(uint32_t)fp * s->nslots) >> 32);
}

static inline struct lim_shard *
lim_shard_of(struct lim_table *t, uint64_t fp)
{
	return &t->shards[t->shard_shift >= 64 ? 0 : fp >> t->shard_shift];
}

static inline uint32_t
lim_window(const struct lim_table *t, uint64_t now_ms)
{
	return (uint32_t)(now_ms / t->period_ms);
}

static inline int
lim_expired(const struct lim_entry *e, uint32_t win)
{
	return win >= e->win && win - e->win >= 2;
}

/* Moves e forward to window w (w >= e->win): the current window becomes the
 * previous one, or both are cleared when two or more windows passed. */
static void
lim_roll(struct lim_entry *e, uint32_t w)
{
	int n;

	if (w <= e->win)
		return;
	for (n = 0; n < LIM_NODES; n++) {
		e->c[1][n] = w - e->win == 1 ? e->c[0][n] : 0;
		e->c[0][n] = 0;
	}
	e->win = w;
}

/* Ticks are milliseconds modulo 2^32 (49.7 days), compared as serial numbers
 * (RFC 1982): live entries are at most two windows (two days) old, so the
 * difference between two live ticks always fits an int32. */
static inline int
lim_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

/* Backward-shift deletion at slot i (Knuth 6.4 algorithm R); the caller
 * holds the shard lock and slot i's lock. A moved entry is locked at its old
 * slot before it is published at the new one, so at any moment at most one
 * unlocked copy of a key exists for lim_table_hit to find. */
static void
lim_delete(struct lim_shard *s, uint32_t i)
{
	uint32_t j = i, k;
	uint64_t f;

	for (;;) {
		j = j + 1 == s->nslots ? 0 : j + 1;
		f = lim_efp(&s->e[j]);
		if (f == 0)
			break;
		k = lim_home(s, f);
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		lim_elock(&s->e[j], 0);
		lim_eput(&s->e[i], &s->e[j], f);
		i = j;
	}
	memset(s->e[i].c, 0, sizeof(s->e[i].c));
	s->e[i].win = s->e[i].tick = 0;
	__atomic_store_n(&s->e[i].fp, 0, __ATOMIC_RELEASE);
	s->count--;
}

/* Places an entry known to be absent (rehash). */
static void
lim_place(struct lim_entry *a, uint32_t n, const struct lim_entry *src)
{
	uint64_t fp = lim_efp(src);
	uint32_t i = (uint32_t)(((uint64_t)(uint32_t)fp * n) >> 32);	/* lim_home */

	while (a[i].fp != 0)
		i = i + 1 == n ? 0 : i + 1;
	a[i] = *src;
	a[i].fp = fp;
}

/* A zeroed slot array on a cache-line boundary (calloc's 16-byte alignment
 * put every other 32-byte entry across two lines), or the shard's final array
 * in the slab when it has one (mmap'd, so already zero). */
static struct lim_entry *
lim_slots_alloc(struct lim_shard *s, uint64_t n)
{
	size_t sz = (size_t)n * sizeof(struct lim_entry);
	struct lim_entry *a;

	if (n == s->max_slots && s->final != NULL)
		return s->final;
	a = aligned_alloc(64, (sz + 63) & ~(size_t)63);
	if (a != NULL)
		memset(a, 0, sz);
	return a;
}

static void
lim_slots_free(struct lim_shard *s, struct lim_entry *a)
{
	if (a != s->final)
		free(a);
}

/* Reserves the slab for every shard's final array (64-byte aligned slices),
 * when it is large enough to gain from huge pages. Pages are only touched when
 * a shard reaches its final size, i.e. when the table is filling up anyway.
 * Without the slab (small tables, or mmap failing) arrays come from malloc. */
static void
lim_slab_init(struct lim_table *t)
{
	size_t len = 0, off = 0;
	unsigned char *p;
	uint32_t i;

	for (i = 0; i < t->nshards; i++)
		len += ((size_t)t->shards[i].max_slots * sizeof(struct lim_entry) + 63) & ~(size_t)63;
	if (len < LIM_SLAB_MIN)
		return;
	len = (len + LIM_HUGE - 1) & ~(size_t)(LIM_HUGE - 1);
	/* one huge page more, to start the slices on a huge-page boundary */
	p = mmap(NULL, len + LIM_HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (p == MAP_FAILED)
		return;
	t->slab = p;
	t->slab_len = len + LIM_HUGE;
	p += (LIM_HUGE - ((uintptr_t)p & (LIM_HUGE - 1))) & (LIM_HUGE - 1);
#ifdef MADV_HUGEPAGE
	(void)madvise(p, len, MADV_HUGEPAGE);	/* a hint: 4 KiB pages work too */
#endif
	for (i = 0; i < t->nshards; i++) {
		t->shards[i].final = (struct lim_entry *)(void *)(p + off);
		off += ((size_t)t->shards[i].max_slots * sizeof(struct lim_entry) + 63) & ~(size_t)63;
	}
}

/* Doubles the shard (up to max_slots), dropping expired entries on the way.
 * Returns 0 or -ENOMEM (the old table stays). Only a shard below max_slots
 * grows, and lim_table_hit's unlocked path never touches one, so nobody but
 * the shard lock's holder can be using the old array. */
static int
lim_grow(struct lim_shard *s, uint32_t win)
{
	uint64_t want = (uint64_t)s->nslots * 2;
	struct lim_entry *old = s->e, *ne;
	uint32_t oldn = s->nslots, i;

	/* the last step goes straight to max_slots when doubling would pass 2/3
	 * of it: a shard at its final size takes lim_table_hit's unlocked path,
	 * and a step of less than 1.5x would soon be followed by another */
	if (want * 3 > (uint64_t)s->max_slots * 2)
		want = s->max_slots;
	ne = lim_slots_alloc(s, want);
	if (ne == NULL)
		return -ENOMEM;
	s->count = 0;
	for (i = 0; i < oldn; i++) {
		if (old[i].fp == 0)
			continue;
		if (lim_expired(&old[i], win)) {
			s->expired++;
		} else {
			lim_place(ne, (uint32_t)want, &old[i]);
			s->count++;
		}
	}
	/* published filled: lim_table_hit reads nslots (acquire), then e */
	__atomic_store_n(&s->e, ne, __ATOMIC_RELAXED);
	__atomic_store_n(&s->nslots, (uint32_t)want, __ATOMIC_RELEASE);
	lim_slots_free(s, old);
	return 0;
}

static uint64_t
lim_rand(struct lim_shard *s)
{
	uint64_t x = s->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	s->rng = x;
	return x;
}

/* Drops the least recently touched of a few sampled keys (expired first).
 * The samples' ticks are read without their locks: a heuristic. */
static void
lim_evict(struct lim_shard *s, uint32_t win)
{
	uint32_t best = UINT32_MAX, i, k;

	for (k = 0; k < LIM_EVICT_SAMPLES; k++) {
		i = (uint32_t)(((lim_rand(s) & 0xffffffffu) * s->nslots) >> 32);
		if (lim_efp(&s->e[i]) == 0)
			continue;
		if (best == UINT32_MAX || lim_expired(&s->e[i], win) ||
		    lim_before(s->e[i].tick, s->e[best].tick))
			best = i;
		if (lim_expired(&s->e[best], win))
			break;
	}
	if (best == UINT32_MAX) {	/* sampled only holes: take the next key */
		best = (uint32_t)(((lim_rand(s) & 0xffffffffu) * s->nslots) >> 32);
		while (lim_efp(&s->e[best]) == 0)
			best = best + 1 == s->nslots ? 0 : best + 1;
	}
	lim_elock(&s->e[best], 0);
	if (lim_expired(&s->e[best], win))
		s->expired++;
	else
		s->evictions++;
	lim_delete(s, best);
}

/* Finds fp; with create, inserts it (growing or evicting as needed). Returns
 * the entry, unlocked, or NULL (absent and !create). The shard lock is held.
 * An expired entry met on the probe is reused for a new key so dead keys do
 * not lengthen chains between sweeps. */
static struct lim_entry *
lim_find(struct lim_shard *s, uint64_t fp, uint32_t win, int create)
{
	uint32_t i, reuse;

again:
	reuse = UINT32_MAX;
	for (i = lim_home(s, fp); lim_efp(&s->e[i]) != 0; i = i + 1 == s->nslots ? 0 : i + 1) {
		if (lim_efp(&s->e[i]) == fp)
			return &s->e[i];
		if (reuse == UINT32_MAX && lim_expired(&s->e[i], win))
			reuse = i;
	}
	if (!create)
		return NULL;
	if (reuse != UINT32_MAX) {
		lim_elock(&s->e[reuse], 0);
		if (!lim_expired(&s->e[reuse], win)) {	/* revived meanwhile */
			lim_eunlock(&s->e[reuse]);
			goto again;
		}
		s->expired++;
		i = reuse;
	} else {
		if ((uint64_t)(s->count + 1) * 4 > (uint64_t)s->nslots * 3 &&
		    s->nslots < s->max_slots && lim_grow(s, win) == 0)
			goto again;
		if (s->count >= s->max_count ||
		    (uint64_t)(s->count + 1) * 4 > (uint64_t)s->nslots * 3) {
			lim_evict(s, win);
			goto again;
		}
		s->count++;
	}
	{
		struct lim_entry ne = { .win = win };

		lim_eput(&s->e[i], &ne, fp);
	}
	return &s->e[i];
}

/* ---- table ---- */

struct lim_table *
lim_table_new(const struct lim_table_opts *o, int *err)
{
	struct lim_table *t = NULL;
	uint32_t ns = o->nshards ? o->nshards : 64, i, per;
	int rc = -EINVAL;

	if (o->period_ms < LIM_PERIOD_MIN_MS || o->period_ms > LIM_PERIOD_MAX_MS ||
	    o->max_keys < 64 || ns > 4096 || (ns & (ns - 1)) != 0 || o->node >= LIM_NODES)
		goto fail;
	while (ns > 1 && o->max_keys / ns < 16)	/* keep shards meaningful */
		ns /= 2;
	rc = -ENOMEM;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		goto fail;
	t->magic = LIM_TABLE_MAGIC;
	t->period_ms = o->period_ms;
	t->node = o->node;
	t->nshards = ns;
	t->shard_shift = 64 - (uint32_t)__builtin_ctz(ns);
	t->seed[0] = o->seed[0];
	t->seed[1] = o->seed[1];
	t->shards = aligned_alloc(64, sizeof(*t->shards) * ns);
	if (t->shards == NULL)
		goto fail_t;
	memset(t->shards, 0, sizeof(*t->shards) * ns);
	per = (o->max_keys + ns - 1) / ns;
	for (i = 0; i < ns; i++) {
		struct lim_shard *s = &t->shards[i];

		s->max_count = per;
		s->max_slots = (uint32_t)(((uint64_t)per * 4 + 2) / 3) + 1;
		s->nslots = 16 * 3 > s->max_slots * 2 ? s->max_slots : 16;	/* as lim_grow */
		s->rng = 0x9e3779b97f4a7c15ULL * (i + 1);
	}
	lim_slab_init(t);
	for (i = 0; i < ns; i++) {
		struct lim_shard *s = &t->shards[i];

		s->e = lim_slots_alloc(s, s->nslots);
		if (s->e == NULL) {
			t->nshards = i;
			goto fail_t;
		}
	}
	return t;
fail_t:
	lim_table_free(&t);
fail:
	*err = rc;
	return NULL;
}

void
lim_table_free(struct lim_table **tp)
{
	struct lim_table *t = *tp;
	uint32_t i;

	if (t == NULL)
		return;
	for (i = 0; t->shards != NULL && i < t->nshards; i++)
		lim_slots_free(&t->shards[i], t->shards[i].e);
	if (t->slab != NULL)
		munmap(t->slab, t->slab_len);
	free(t->shards);
	t->magic = 0;
	free(t);
	*tp = NULL;
}

uint64_t
lim_table_key(const struct lim_table *t, const void *key, size_t len)
{
	return lim_fpn(lim_siphash(t->seed, key, len));
}

/* The tick a local touch stores: now, or the latest export's now when that is
 * later. A worker may read its clock, lose the CPU, and count after an export
 * has already passed the key: the export's now (the next mark) then still
 * covers it, so no change is ever left out of every delta. Read under the
 * entry's lock, after it (see lim_table_export). */
static inline uint32_t
lim_tick(struct lim_table *t, uint64_t now_ms)
{
	uint32_t f = __atomic_load_n(&t->floor, __ATOMIC_SEQ_CST);

	return f != 0 && lim_before((uint32_t)now_ms, f) ? f : (uint32_t)now_ms;
}

/* Fills r from entry e (NULL: a key never seen) at now_ms, in window w
 * (= now_ms / period, computed once by the caller); counts one request in
 * this node's slot when admitted and count is set. Two divisions in all:
 * the caller's window and the estimate here. */
static void
lim_decide(struct lim_table *t, struct lim_entry *e, uint32_t limit, uint32_t burst,
	   uint64_t now_ms, uint64_t w, int count, struct lim_result *r)
{
	uint64_t P = t->period_ms, el, prev = 0, cur = 0, ceil_, num, est;
	int n;

	if (limit == 0)
		limit = 1;
	el = now_ms - w * P;
	if (e != NULL) {
		if (w < e->win) {	/* another thread saw a later clock: use its window start */
			w = e->win;
			el = 0;
		}
		lim_roll(e, (uint32_t)w);
		for (n = 0; n < LIM_NODES; n++) {
			cur += e->c[0][n];
			prev += e->c[1][n];
		}
		/* store only on change: a denied decision on a hot key then
		 * leaves the entry's line shared between the cores */
		if (count) {
			uint32_t tk = lim_tick(t, now_ms);

			if (e->tick != tk)
				e->tick = tk;
		}
	}
	ceil_ = prev <= limit ? (uint64_t)limit + burst : limit;
	num = prev * (P - el) + cur * P;	/* estimate x P */
	r->limit = limit;
	r->reset_s = (uint32_t)((P - el + 999) / 1000);
	if (num + P <= ceil_ * P) {
		r->allow = true;
		if (count && e != NULL && e->c[0][t->node] < UINT32_MAX)
			e->c[0][t->node]++;
		num += P;
		est = num / P;
		/* whole admissions left: ceil - ceil(num / P) */
		r->remaining = (uint32_t)(ceil_ - est - (num - est * P != 0));
		r->retry_after_s = 0;
	} else {
		uint64_t wait;

		r->allow = false;
		r->remaining = 0;
		est = num / P;
		if (cur + 1 <= ceil_) {
			/* prev's weight must shrink to ceil - 1 - cur */
			uint64_t keep = (ceil_ - 1 - cur) * P / prev;
			wait = P - keep > el ? P - keep - el : 1;
		} else {
			/* next window: cur becomes prev (> limit, so no burst) */
			uint64_t c2 = cur > limit ? limit : (uint64_t)limit + burst;
			uint64_t keep = (c2 - 1) * P / cur;
			wait = (P - el) + (P > keep ? P - keep : 0);
		}
		r->retry_after_s = (uint32_t)((wait + 999) / 1000);
		if (r->retry_after_s == 0)
			r->retry_after_s = 1;
	}
	r->estimate = (uint32_t)(est > UINT32_MAX ? UINT32_MAX : est);
}

void
lim_table_hit(struct lim_table *t, uint64_t fp, uint32_t limit, uint32_t burst,
	      uint64_t now_ms, struct lim_result *r)
{
	struct lim_shard *s;
	struct lim_entry *e, *a;
	uint32_t w = lim_window(t, now_ms), n, i, k;
	uint64_t f;

	fp = lim_fpn(fp);
	s = lim_shard_of(t, fp);
	/* unlocked path: an existing key in a shard that no longer grows */
	n = __atomic_load_n(&s->nslots, __ATOMIC_ACQUIRE);
	if (n == s->max_slots) {
		a = __atomic_load_n(&s->e, __ATOMIC_RELAXED);
		i = (uint32_t)(((uint64_t)(uint32_t)fp * n) >> 32);
		LIM_PREFETCHW(&a[i]);	/* the line is about to be written */
		for (k = 0; k < n; k++, i = i + 1 == n ? 0 : i + 1) {
			f = lim_efp(&a[i]);
			if (f == 0)
				break;
			if (f != fp)
				continue;
			if (lim_elock(&a[i], fp) != 0)
				break;	/* moved meanwhile: take the locked path */
			lim_decide(t, &a[i], limit, burst, now_ms, w, 1, r);
			lim_eunlock(&a[i]);
			return;
		}
	}
	lim_lock(&s->lock);
	e = lim_find(s, fp, w, 1);
	lim_elock(e, fp);
	lim_decide(t, e, limit, burst, now_ms, w, 1, r);
	lim_eunlock(e);
	lim_unlock(&s->lock);
}

/* Copies fp's entry into *copy under both locks; 0, or -1 when absent. */
static int
lim_copy(struct lim_table *t, uint64_t fp, uint32_t w, struct lim_entry *copy)
{
	struct lim_shard *s = lim_shard_of(t, fp);
	struct lim_entry *e;

	lim_lock(&s->lock);
	e = lim_find(s, fp, w, 0);
	if (e != NULL) {
		lim_elock(e, fp);
		lim_eget(copy, e);
		lim_eunlock(e);
	}
	lim_unlock(&s->lock);
	return e != NULL ? 0 : -1;
}

void
lim_table_peek(struct lim_table *t, uint64_t fp, uint32_t limit, uint32_t burst,
	       uint64_t now_ms, struct lim_result *r)
{
	struct lim_entry copy;
	uint32_t w = lim_window(t, now_ms);
	int found = lim_copy(t, lim_fpn(fp), w, &copy) == 0;

	/* roll a copy: peeking changes nothing */
	lim_decide(t, found ? &copy : NULL, limit, burst, now_ms, w, 0, r);
}

uint64_t
lim_table_count(struct lim_table *t, uint64_t fp, uint64_t now_ms)
{
	struct lim_entry copy;
	uint64_t sum = 0;
	int n;

	if (lim_copy(t, lim_fpn(fp), lim_window(t, now_ms), &copy) != 0)
		return 0;
	lim_roll(&copy, lim_window(t, now_ms));
	for (n = 0; n < LIM_NODES; n++)
		sum += copy.c[0][n];
	return sum;
}

size_t
lim_table_expire(struct lim_table *t, uint64_t now_ms)
{
	uint32_t win = lim_window(t, now_ms), i, k;
	size_t n = 0;

	for (k = 0; k < t->nshards; k++) {
		struct lim_shard *s = &t->shards[k];

		lim_lock(&s->lock);
		for (i = 0; i < s->nslots;) {
			if (lim_efp(&s->e[i]) != 0 && lim_expired(&s->e[i], win) &&
			    lim_elock(&s->e[i], 0) == 0) {
				if (!lim_expired(&s->e[i], win)) {	/* touched meanwhile */
					lim_eunlock(&s->e[i]);
					i++;
					continue;
				}
				lim_delete(s, i);	/* re-examine i: a later entry moved in */
				s->expired++;
				n++;
			} else {
				i++;
			}
		}
		lim_unlock(&s->lock);
	}
	return n;
}

uint32_t
lim_table_mark(uint64_t now_ms)
{
	return (uint32_t)now_ms;
}

/* ---- export / apply ---- */

struct lim_wbuf {
	unsigned char *p;
	size_t len, cap;
	int oom;
};

static void
lim_put(struct lim_wbuf *b, uint64_t v, size_t nbytes)
{
	size_t i;

	if (b->len + nbytes > b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 4096;
		unsigned char *np;

		while (nc < b->len + nbytes)
			nc *= 2;
		np = b->oom ? NULL : realloc(b->p, nc);
		if (np == NULL) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
	for (i = 0; i < nbytes; i++)
		b->p[b->len++] = (unsigned char)(v >> (8 * i));
}

static uint64_t
lim_get(const unsigned char *p, size_t nbytes)
{
	uint64_t v = 0;

	while (nbytes-- > 0)
		v = (v << 8) | p[nbytes];
	return v;
}

/* Checksum of a batch: SipHash under a fixed key (corruption, not forgery:
 * the peer link authenticates). */
static uint64_t
lim_sum(const unsigned char *p, size_t len)
{
	static const uint64_t k[2] = { 0x7461616e64656d31ULL, 0x6c696d6974657231ULL };

	return lim_siphash(k, p, len);
}

long
lim_table_export(struct lim_table *t, bool full, uint32_t mark, uint64_t batch_id,
		 uint64_t now_ms, unsigned char **buf, size_t *len)
{
	struct lim_wbuf b = { 0 };
	uint32_t win = lim_window(t, now_ms), i, k, n;
	uint64_t nrec = 0;

	/* The floor first, then the scan: a touch that lands after the scan
	 * passed its key reads this floor (or a later one), so the next delta,
	 * whose mark is this now, carries it. */
	{
		uint32_t v = (uint32_t)now_ms, f = __atomic_load_n(&t->floor, __ATOMIC_SEQ_CST);

		while ((f == 0 || lim_before(f, v)) &&
		       !__atomic_compare_exchange_n(&t->floor, &f, v, false, __ATOMIC_SEQ_CST,
						    __ATOMIC_SEQ_CST))
			;
	}
	lim_put(&b, LIM_MAGIC, 4);
	lim_put(&b, LIM_FMT_VERSION, 2);
	lim_put(&b, full ? LIM_KIND_FULL : LIM_KIND_DELTA, 2);
	lim_put(&b, t->period_ms, 4);
	lim_put(&b, t->node, 4);
	lim_put(&b, batch_id, 8);
	lim_put(&b, 0, 4);	/* record count, patched below */
	lim_put(&b, 0, 4);	/* reserved */
	for (k = 0; k < t->nshards; k++) {
		struct lim_shard *s = &t->shards[k];

		lim_lock(&s->lock);
		for (i = 0; i < s->nslots; i++) {
			struct lim_entry e;

			/* a delta skips untouched keys without their locks:
			 * unlocked (read first) and older than mark means any
			 * touch still to come reads the new floor */
			if (!full && (__atomic_load_n(&s->e[i].fp, __ATOMIC_SEQ_CST) & LIM_ELOCK) == 0 &&
			    lim_before(__atomic_load_n(&s->e[i].tick, __ATOMIC_RELAXED), mark))
				continue;
			if (lim_elock(&s->e[i], 0) != 0)
				continue;	/* empty */
			lim_eget(&e, &s->e[i]);
			lim_eunlock(&s->e[i]);
			if (lim_expired(&e, win))
				continue;
			lim_roll(&e, win);
			if (full) {
				lim_put(&b, e.fp, 8);
				lim_put(&b, e.win, 4);
				lim_put(&b, e.tick, 4);
				for (n = 0; n < LIM_NODES; n++) {
					lim_put(&b, e.c[0][n], 4);
					lim_put(&b, e.c[1][n], 4);
				}
			} else {
				if (lim_before(e.tick, mark) || (e.c[0][t->node] == 0 && e.c[1][t->node] == 0))
					continue;
				lim_put(&b, e.fp, 8);
				lim_put(&b, e.win, 4);
				lim_put(&b, e.c[0][t->node], 4);
				lim_put(&b, e.c[1][t->node], 4);
			}
			nrec++;
		}
		lim_unlock(&s->lock);
	}
	if (!b.oom) {
		for (i = 0; i < 4; i++)
			b.p[24 + i] = (unsigned char)(nrec >> (8 * i));
		lim_put(&b, lim_sum(b.p, b.len), 8);
	}
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*buf = b.p;
	*len = b.len;
	return (long)nrec;
}

/* Merges node's counts (cur for window win, prev for win - 1) into fp. */
static void
lim_merge(struct lim_table *t, uint64_t fp, uint32_t win, uint32_t node, uint32_t cur,
	  uint32_t prev, uint32_t tick)
{
	struct lim_shard *s = lim_shard_of(t, fp);
	struct lim_entry *e;

	lim_lock(&s->lock);
	e = lim_find(s, fp, win, 1);
	lim_elock(e, fp);
	if (win > e->win)
		lim_roll(e, win);
	if (win == e->win) {
		if (cur > e->c[0][node])
			e->c[0][node] = cur;
		if (prev > e->c[1][node])
			e->c[1][node] = prev;
	} else if (win + 1 == e->win && cur > e->c[1][node]) {
		e->c[1][node] = cur;
	}
	/* the tick marks local changes (what a delta resends): a remote
	 * update leaves it, or every key counted on both nodes would bounce
	 * between them for as long as it lives; a key new here takes the
	 * apply time, so eviction does not see it as the oldest */
	if (e->tick == 0)
		e->tick = tick;
	lim_eunlock(e);
	s->merged++;
	lim_unlock(&s->lock);
}

/* Returns 1 when (node, id) was already applied, else records it. */
static int
lim_dup_check(struct lim_table *t, uint32_t node, uint64_t id)
{
	int i, dup = 0;

	lim_lock(&t->dup_lock);
	for (i = 0; i < LIM_DUP_RING && i < (int)t->dup_n[node]; i++)
		if (t->dup_ids[node][i] == id)
			dup = 1;
	if (dup)
		t->dup_batches++;
	else
		t->dup_ids[node][t->dup_n[node]++ % LIM_DUP_RING] = id;
	lim_unlock(&t->dup_lock);
	return dup;
}

int
lim_table_apply(struct lim_table *t, const unsigned char *buf, size_t len, uint64_t now_ms)
{
	uint32_t kind, node, nrec, i, n, win, tick, now_win;
	uint64_t batch, fp;
	size_t rl;
	const unsigned char *p;

	if (len < LIM_HDR_LEN + LIM_SUM_LEN || lim_get(buf, 4) != LIM_MAGIC ||
	    lim_get(buf + 4, 2) != LIM_FMT_VERSION)
		return -EINVAL;
	kind = (uint32_t)lim_get(buf + 6, 2);
	node = (uint32_t)lim_get(buf + 12, 4);
	batch = lim_get(buf + 16, 8);
	nrec = (uint32_t)lim_get(buf + 24, 4);
	if ((kind != LIM_KIND_DELTA && kind != LIM_KIND_FULL) || node >= LIM_NODES ||
	    lim_get(buf + 8, 4) != t->period_ms || lim_get(buf + 28, 4) != 0)
		return -EINVAL;
	rl = kind == LIM_KIND_FULL ? LIM_FULL_REC : LIM_DELTA_REC;
	if ((len - LIM_HDR_LEN - LIM_SUM_LEN) / rl != nrec ||
	    (len - LIM_HDR_LEN - LIM_SUM_LEN) % rl != 0 ||
	    lim_get(buf + len - LIM_SUM_LEN, 8) != lim_sum(buf, len - LIM_SUM_LEN))
		return -EINVAL;
	if (lim_dup_check(t, node, batch))
		return 0;
	tick = (uint32_t)now_ms;
	now_win = lim_window(t, now_ms);
	for (i = 0, p = buf + LIM_HDR_LEN; i < nrec; i++, p += rl) {
		fp = lim_get(p, 8);
		win = (uint32_t)lim_get(p + 8, 4);
		if (fp == 0)
			continue;	/* never a valid key: ignore rather than corrupt */
		fp = lim_fpn(fp);
		/* counts for windows that have passed are worth nothing, and a
		 * window beyond the next one means a clock far off: neither may
		 * take a slot or roll a key forward */
		if (win + 2 <= now_win || win > now_win + 1)
			continue;
		if (kind == LIM_KIND_DELTA) {
			lim_merge(t, fp, win, node, (uint32_t)lim_get(p + 12, 4),
				  (uint32_t)lim_get(p + 16, 4), tick);
		} else {
			for (n = 0; n < LIM_NODES; n++)
				lim_merge(t, fp, win, n, (uint32_t)lim_get(p + 16 + 8 * n, 4),
					  (uint32_t)lim_get(p + 20 + 8 * n, 4), tick);
		}
	}
	return 1;
}

void
lim_table_stats(struct lim_table *t, struct lim_table_stats *st)
{
	uint32_t k;

	memset(st, 0, sizeof(*st));
	for (k = 0; k < t->nshards; k++) {
		struct lim_shard *s = &t->shards[k];

		lim_lock(&s->lock);
		st->keys += s->count;
		st->slots += s->nslots;
		st->evictions += s->evictions;
		st->expired += s->expired;
		st->merged += s->merged;
		lim_unlock(&s->lock);
	}
	st->bytes = st->slots * sizeof(struct lim_entry);
	lim_lock(&t->dup_lock);
	st->dup_batches = t->dup_batches;
	lim_unlock(&t->dup_lock);
}

size_t
lim_table_entry_size(void)
{
	return sizeof(struct lim_entry);
}
