/*
 * bench/limiter - microbenchmark of one limiter decision (fingerprint the
 * key, find or insert it in the sharded table, roll the window, decide,
 * count) with 1 and 2 threads over 10, 100,000 and 10,000,000 keys, plus
 * bytes per key; a CIDR lookup over 10 and 100,000 prefixes; and one whole
 * lim_rules_eval with five rules and a 100,000-entry deny list.
 *
 * Usage: limiter [seconds per case (default 2)] [max keys (default 10000000)] [table]
 * ("table": the counter-table cases only)
 * Each thread picks keys uniformly at random (xorshift), so with 10 million
 * keys nearly every decision misses the CPU caches. The table is filled
 * before timing, so the timed decisions are the steady state of a busy
 * table (lookups of existing keys, windows rolling as the clock moves).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errs.h"
#include "lim_cidr.h"
#include "lim_counter.h"
#include "lim_rule.h"

static double
clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* Each job on its own pair of cache lines: with the two jobs adjacent in an
 * array, one thread's per-decision store to its job landed on the line the
 * other thread reads its table pointer from (false sharing in the bench
 * itself). The loop keeps its counters in locals for the same reason. */
struct job {
	struct lim_table *t;
	uint64_t nkeys, seed, ops, admitted;
	double secs, elapsed, cpu;	/* wall and this thread's CPU seconds */
	pthread_barrier_t *bar;
} __attribute__((aligned(128)));

static inline uint64_t
xs(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static void *
worker(void *arg)
{
	struct job *j = arg;
	struct lim_table *t = j->t;
	uint64_t s = j->seed, ops = 0, admitted = 0, nkeys = j->nkeys, clock0 = 1700000000000ULL;
	unsigned char key[17] = { AF_INET6 };
	struct lim_result r;
	double t0, t1, c0;

	pthread_barrier_wait(j->bar);
	t0 = now_s();
	c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	do {
		int i;

		for (i = 0; i < 4096; i++) {
			uint64_t k = xs(&s) % nkeys;

			memcpy(key + 1, &k, 8);	/* a 17-byte key: family + IPv6 /64 */
			lim_table_hit(t, lim_table_key(t, key, sizeof(key)), 100, 0,
				      clock0 + (ops + (uint64_t)i) / 64, &r);
			admitted += r.allow;
		}
		ops += 4096;
		t1 = now_s();
	} while (t1 - t0 < j->secs);
	j->cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
	j->ops = ops;
	j->admitted = admitted;
	j->elapsed = t1 - t0;
	return NULL;
}

/* A table of nkeys keys, each inserted once. */
static struct lim_table *
bench_fill(uint64_t nkeys)
{
	/* a cap 1/8 above the key count: shards fill unevenly, and a cap met
	 * exactly would turn the run into an eviction benchmark */
	struct lim_table_opts o = { .period_ms = 60000,
				    .max_keys = nkeys < 64 ? 64 : (uint32_t)(nkeys + nkeys / 8),
				    .nshards = 256, .seed = { 1, 2 } };
	unsigned char key[17] = { AF_INET6 };
	struct lim_result r;
	uint64_t k;
	int err;
	struct lim_table *t = lim_table_new(&o, &err);

	if (t == NULL) {
		fprintf(stderr, "table: %d\n", err);
		exit(1);
	}
	for (k = 0; k < nkeys; k++) {	/* fill: every key present before timing */
		memcpy(key + 1, &k, 8);
		lim_table_hit(t, lim_table_key(t, key, sizeof(key)), 100, 0, 1700000000000ULL, &r);
	}
	return t;
}

/* threads workers on one table, or with own set each on a table of its own
 * (the control: two cores busy at once with nothing shared). */
static void
bench_table(uint64_t nkeys, int threads, int own, double secs)
{
	struct lim_table_stats st;
	struct job j[2];
	pthread_barrier_t bar;
	pthread_t th[2];
	uint64_t ops = 0;
	double ns_thread = 0, ns_cpu = 0;
	int i;
	struct lim_table *t = bench_fill(nkeys), *t2 = own ? bench_fill(nkeys) : NULL;

	pthread_barrier_init(&bar, NULL, (unsigned)threads);
	for (i = 0; i < threads; i++) {
		j[i] = (struct job){ .t = i == 1 && t2 != NULL ? t2 : t, .nkeys = nkeys, .seed = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1),
				     .secs = secs, .bar = &bar };
		pthread_create(&th[i], NULL, worker, &j[i]);
	}
	for (i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		ops += j[i].ops;
		ns_thread += j[i].elapsed * 1e9 / (double)j[i].ops;
		ns_cpu += j[i].cpu * 1e9 / (double)j[i].ops;
	}
	lim_table_stats(t, &st);
	printf("| %'10llu | %d%s | %6.1f | %6.1f | %6.2f | %llu | %.1f | %llu |\n", (unsigned long long)nkeys, threads,
	       own ? " (own tables)" : "", ns_thread / threads, ns_cpu / threads, (double)ops / j[0].elapsed / 1e6, (unsigned long long)st.keys,
	       (double)st.bytes / (double)st.keys, (unsigned long long)st.evictions);
	pthread_barrier_destroy(&bar);
	lim_table_free(&t);
	lim_table_free(&t2);
}

static void
bench_cidr(size_t n, double secs)
{
	struct lim_cidr *c = lim_cidr_new();
	uint64_t s = 88172645463325252ULL, ops = 0, hits = 0;
	uint8_t a[4];
	uint32_t v;
	size_t i;
	double t0, t1;

	for (i = 0; i < n; i++) {	/* random /24../32 prefixes */
		uint32_t x = (uint32_t)xs(&s), plen = 24 + (uint32_t)(xs(&s) % 9);

		x &= plen == 32 ? ~0u : ~(~0u >> plen);
		a[0] = (uint8_t)(x >> 24);
		a[1] = (uint8_t)(x >> 16);
		a[2] = (uint8_t)(x >> 8);
		a[3] = (uint8_t)x;
		lim_cidr_add(c, AF_INET, a, plen, 1);
	}
	if (n >= 1024)
		lim_cidr_freeze(c);	/* as lim_rule does for long lists */
	t0 = now_s();
	do {
		int k;

		for (k = 0; k < 4096; k++) {
			uint32_t x = (uint32_t)xs(&s);

			memcpy(a, &x, 4);
			hits += (uint64_t)lim_cidr_lookup(c, AF_INET, a, &v);
		}
		ops += 4096;
		t1 = now_s();
	} while (t1 - t0 < secs);
	printf("| %'zu | %.1f | %zu |\n", n, (t1 - t0) * 1e9 / (double)ops, lim_cidr_bytes(c));
	(void)hits;
	lim_cidr_free(&c);
}

/* lim_rules_eval with five rules and a deny list of ndeny prefixes. */
static void
bench_eval(size_t ndeny, double secs)
{
	size_t cap = 1024 + ndeny * 24, i, n;
	char *json = malloc(cap);
	uint64_t s = 1, ops = 0;
	struct lim_rules *r;
	struct lim_store *st;
	struct lim_request q;
	struct lim_verdict v;
	struct lim_hdr h[3] = {
		{ "Host", 4, "example.com", 11 },
		{ "X-API-Key", 9, "key-123", 7 },
		{ "Cookie", 6, "a=b; sid=xyz", 12 },
	};
	static const uint64_t seed[2] = { 1, 2 };
	struct errs e;
	double t0, t1;

	n = (size_t)snprintf(json, cap, "{\"deny_cidrs\": [");
	for (i = 0; i < ndeny; i++)
		n += (size_t)snprintf(json + n, cap - n, "%s\"100.%zu.%zu.0/24\"", i ? "," : "",
				      (i >> 8) & 255, i & 255);
	if (ndeny == 0)
		n = (size_t)snprintf(json, cap, "{\"deny_cidrs\": [\"192.0.2.0/24\"");
	snprintf(json + n, cap - n, "], \"rules\": ["
		 "{\"name\": \"ban\", \"limit\": {\"requests\": 1000000, \"period_s\": 10}, \"action\": {\"type\": \"ban\", \"duration_s\": 600}},"
		 "{\"name\": \"login\", \"match\": {\"path\": \"/login\"}, \"limit\": {\"requests\": 5, \"period_s\": 60}},"
		 "{\"name\": \"search\", \"match\": {\"path\": \"/search\"}, \"key\": [{\"type\": \"header\", \"name\": \"X-API-Key\"}], \"limit\": {\"requests\": 50, \"period_s\": 60}},"
		 "{\"name\": \"api\", \"match\": {\"path_prefix\": \"/api/\"}, \"key\": [{\"type\": \"header\", \"name\": \"X-API-Key\"}], \"limit\": {\"requests\": 1000000, \"period_s\": 60}},"
		 "{\"name\": \"session\", \"key\": [{\"type\": \"cookie\", \"name\": \"sid\"}, {\"type\": \"client_ip\"}], \"limit\": {\"requests\": 1000000, \"period_s\": 1}}"
		 "]}");
	errs_init(&e);
	r = lim_rules_parse_text(json, strlen(json), &e);
	st = lim_store_new(0, seed, 200000);
	if (r == NULL || st == NULL || lim_rules_bind(r, st) != 0) {
		fprintf(stderr, "eval setup failed (%zu errors: %s)\n", e.count, e.count ? e.items[0].message : "");
		exit(1);
	}
	memset(&q, 0, sizeof(q));
	q.af = AF_INET;
	q.method = "GET";
	q.method_len = 3;
	q.path = "/api/items";
	q.path_len = 10;
	q.query = "";
	q.host = "example.com";
	q.host_len = 11;
	q.headers = h;
	q.nheaders = 3;
	t0 = now_s();
	do {
		int k;

		for (k = 0; k < 4096; k++) {
			uint32_t x = (uint32_t)(xs(&s) % 100000) | 0x0a000000u;	/* 100,000 clients in 10/8 */

			x = htonl(x);
			memcpy(q.addr, &x, 4);
			lim_rules_eval(r, &q, 1700000000000ULL + ops / 100, &v);
		}
		ops += 4096;
		t1 = now_s();
	} while (t1 - t0 < secs);
	printf("| %'zu | %.1f |\n", ndeny, (t1 - t0) * 1e9 / (double)ops);
	lim_rules_free(&r);
	lim_store_free(&st);
	errs_release(&e);
	free(json);
}

int
main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2.0;
	uint64_t maxk = argc > 2 ? strtoull(argv[2], NULL, 10) : 10000000ULL;
	static const uint64_t sizes[] = { 10, 100000, 10000000 };
	size_t i;
	int t;

	printf("entry size: %zu bytes\n\n", lim_table_entry_size());
	printf("| keys | threads | ns/decision per thread (wall) | ns/decision per thread (thread CPU time) | M decisions/s total | keys held | bytes/key (slots incl. empty) | evictions |\n");
	printf("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
	for (i = 0; i < 3; i++)
		for (t = 1; t <= 2; t++)
			if (sizes[i] <= maxk)
				bench_table(sizes[i], t, 0, secs);
	for (i = 0; i < 2; i++)
		if (sizes[i] <= maxk)
			bench_table(sizes[i], 2, 1, secs);
	if (argc > 3 && strcmp(argv[3], "table") == 0)
		return 0;	/* the table cases only (repeated runs) */
	printf("\n| CIDR prefixes | ns/lookup | trie bytes |\n| ---: | ---: | ---: |\n");
	bench_cidr(10, secs);
	bench_cidr(100000, secs);
	printf("\n| deny-list prefixes | ns per lim_rules_eval (5 rules) |\n| ---: | ---: |\n");
	bench_eval(0, secs);
	bench_eval(100000, secs);
	return 0;
}
