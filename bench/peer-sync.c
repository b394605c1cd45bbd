/*
 * bench/peer-sync.c - the peer link's limiter sync lag: two real links on
 * loopback (TLS 1.3, the pair's certificates) in one process, each with its
 * own limiter store. A writer thread counts RATE distinct new keys per
 * second on node A (1 ms ticks); a checker polls node B every millisecond
 * and takes, for each key, the time from its first hit on A until B counts
 * it. Prints p50/p99/max of that lag and the link's own figures.
 *
 * Usage: peer-sync SECONDS RATE
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "errs.h"
#include "lim_counter.h"
#include "lim_rule.h"
#include "peer.h"
#include "peer_sync.h"

static const char rules[] = "{\"rules\": [{\"name\": \"api\", \"limit\": {\"requests\": 1000, \"period_s\": 86400}}]}";

struct node {
	struct lim_rules *r;
	struct lim_store *s;
	struct peer_sync *sync;
	struct peer *p;
};

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
node_start(struct node *n, uint32_t slot, const char *dir, const char *listen, const char *connect)
{
	static const uint64_t seed[2] = { 7, 8 };
	struct peer_opts o = { .listen = listen, .connect = connect, .dir = dir,
			       .sync_ms = getenv("SYNC_MS") ? (unsigned)atoi(getenv("SYNC_MS")) : 0 };
	struct errs e;

	errs_init(&e);
	n->r = lim_rules_parse_text(rules, sizeof(rules) - 1, &e);
	errs_release(&e);
	n->s = lim_store_new(slot, seed, 4000000);
	if (n->r == NULL || n->s == NULL || lim_rules_bind(n->r, n->s) < 0)
		exit(1);
	n->sync = peer_sync_new(n->s, NULL, NULL);
	o.sync = peer_sync_ops(n->sync);
	if (n->sync == NULL || peer_start(&o, &n->p) < 0)
		exit(1);
}

static uint64_t *fps, *born;	/* key i: fingerprint, first hit (us) */
static atomic_size_t written;
static size_t total;
static unsigned rate;

static void *
writer(void *arg)
{
	struct node *a = arg;
	struct lim_table *t = lim_store_table(a->s, "api");
	uint64_t start = now_us();
	size_t i = 0;
	char key[32];

	while (i < total) {
		/* keys due by now at RATE per second */
		size_t due = (size_t)((now_us() - start) * rate / 1000000);
		struct lim_result r;

		for (; i < due && i < total; i++) {
			int n = snprintf(key, sizeof(key), "client-%zu", i);

			fps[i] = lim_table_key(t, key, (size_t)n);
			born[i] = now_us();
			lim_table_hit(t, fps[i], 1000, 0, born[i] / 1000, &r);
			atomic_store(&written, i + 1);
		}
		usleep(1000);
	}
	return NULL;
}

static int
cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

int
main(int argc, char **argv)
{
	char dir[] = "/tmp/tandem-bench-XXXXXX", path[300], msg[256], la[64], lb[64];
	unsigned secs = argc > 1 ? (unsigned)atoi(argv[1]) : 10;
	struct node a = { 0 }, b = { 0 };
	uint64_t *lag;
	size_t seen = 0;
	pthread_t th;
	int port = 21000 + (int)(getpid() % 10000);
	json_t *st;

	rate = argc > 2 ? (unsigned)atoi(argv[2]) : 10000;
	total = (size_t)secs * rate;
	fps = calloc(total, sizeof(*fps));
	born = calloc(total, sizeof(*born));
	lag = calloc(total, sizeof(*lag));
	if (mkdtemp(dir) == NULL || fps == NULL || born == NULL || lag == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/pki", dir);
	if (peer_pki_pair_init(path, "lb-a", "lb-b", msg, sizeof(msg)) < 0)
		return 1;
	snprintf(la, sizeof(la), "127.0.0.1:%d", port);
	snprintf(lb, sizeof(lb), "127.0.0.1:%d", port + 1);
	snprintf(path, sizeof(path), "%s/pki/lb-a", dir);
	node_start(&a, 0, path, la, lb);
	snprintf(path, sizeof(path), "%s/pki/lb-b", dir);
	node_start(&b, 1, path, lb, la);
	while (!peer_synced(a.p) || !peer_synced(b.p))
		usleep(10000);
	pthread_create(&th, NULL, writer, &a);
	/* B counts key `seen` once the batch holding it was applied; batches
	 * apply in order, so checking in order is enough. */
	/* (a day's window: a key's count never rolls away while we wait) */
	while (seen < total) {
		struct lim_table *t = lim_store_table(b.s, "api");

		if (seen < atomic_load(&written) && now_us() - born[seen] > 30000000) {
			fprintf(stderr, "key %zu never reached B\n", seen);
			return 1;
		}
		size_t w = atomic_load(&written);

		while (seen < w && lim_table_count(t, fps[seen], now_us() / 1000) > 0) {
			lag[seen] = now_us() - born[seen];
			seen++;
		}
		usleep(1000);
	}
	pthread_join(th, NULL);
	qsort(lag, total, sizeof(*lag), cmp_u64);
	st = peer_status_json(a.p);
	printf("keys %zu at %u/s over %u s: lag A hit -> B counts: p50 %.1f ms, p99 %.1f ms, max %.1f ms; "
	       "link queue->ack p99 %lld ms, batches %lld\n", total, rate, secs,
	       lag[total / 2] / 1000.0, lag[total * 99 / 100] / 1000.0, lag[total - 1] / 1000.0,
	       json_integer_value(json_object_get(json_object_get(st, "sync"), "lag_p99_ms")),
	       json_integer_value(json_object_get(json_object_get(st, "counters"), "batches_sent")));
	json_decref(st);
	peer_stop(&a.p);
	peer_stop(&b.p);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	return system(path) == 0 ? 0 : 1;
}
