/*
 * lim_run - the limiter state of the running daemon and the ban mirror.
 *
 * Why a thread for the mirror: l4_nft_ban_add is one netlink transaction
 * (milliseconds) and the L7 workers must never block, so a BAN verdict only
 * queues the address here. The queue is a fixed ring under a mutex (bans are
 * rare: one per banned client and ban), drained by one thread.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lim_ban.h"
#include "lim_counter.h"
#include "lim_rule.h"
#include "lim_run.h"
#include "log.h"

#define LIM_RUN_QUEUE 1024

struct lim_run_item {
	char addr[INET6_ADDRSTRLEN];
	unsigned seconds;
};

static struct {
	struct lim_store *store;
	lim_run_mirror_fn mirror;
	pthread_t thread;
	bool started, stop;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct lim_run_item q[LIM_RUN_QUEUE];
	size_t head, len;
	unsigned long mirrored, errors, dropped;
	char last_error[200];
} lim_run = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void *
lim_run_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lim_run.lock);
	while (!lim_run.stop) {
		struct lim_run_item it;
		char err[200] = "";
		int rc;

		if (lim_run.len == 0) {
			pthread_cond_wait(&lim_run.cond, &lim_run.lock);
			continue;
		}
		it = lim_run.q[lim_run.head];
		lim_run.head = (lim_run.head + 1) % LIM_RUN_QUEUE;
		lim_run.len--;
		pthread_mutex_unlock(&lim_run.lock);
		rc = lim_run.mirror ? lim_run.mirror(it.addr, it.seconds, err, sizeof(err)) : 0;
		if (rc == 0)
			log_notice("limits: banned %s for %u s (nftables)", it.addr, it.seconds);
		else if (rc == -ENOENT)
			log_debug("limits: %s banned in L7 only (no nftables table: l4.filter not configured)",
				  it.addr);
		else
			log_warn("limits: cannot ban %s in nftables: %s", it.addr, err[0] ? err : strerror(-rc));
		pthread_mutex_lock(&lim_run.lock);
		if (rc == 0) {
			lim_run.mirrored++;
		} else if (rc != -ENOENT) {
			lim_run.errors++;
			snprintf(lim_run.last_error, sizeof(lim_run.last_error), "%s: %s", it.addr,
				 err[0] ? err : strerror(-rc));
		}
	}
	pthread_mutex_unlock(&lim_run.lock);
	return NULL;
}

int
lim_run_start(uint32_t node, const uint64_t seed[2], uint32_t max_keys, lim_run_mirror_fn mirror)
{
	int rc;

	lim_run.store = lim_store_new(node, seed, max_keys);
	if (lim_run.store == NULL)
		return -ENOMEM;
	lim_run.mirror = mirror;
	lim_run.stop = false;
	rc = pthread_create(&lim_run.thread, NULL, lim_run_main, NULL);
	if (rc != 0) {
		lim_store_free(&lim_run.store);
		return -rc;
	}
	lim_run.started = true;
	return 0;
}

void
lim_run_stop(void)
{
	if (lim_run.started) {
		pthread_mutex_lock(&lim_run.lock);
		lim_run.stop = true;
		pthread_cond_signal(&lim_run.cond);
		pthread_mutex_unlock(&lim_run.lock);
		pthread_join(lim_run.thread, NULL);
		lim_run.started = false;
	}
	lim_store_free(&lim_run.store);
	lim_run.len = lim_run.head = 0;
}

struct lim_store *
lim_run_store(void)
{
	return lim_run.store;
}

uint64_t
lim_run_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
lim_run_bind(struct lim_rules *r)
{
	return lim_run.store != NULL ? lim_rules_bind(r, lim_run.store) : 0;
}

void
lim_run_banned(int af, const uint8_t *addr, uint32_t seconds)
{
	struct lim_run_item *it;

	if (!lim_run.started)
		return;
	pthread_mutex_lock(&lim_run.lock);
	if (lim_run.len == LIM_RUN_QUEUE) {
		lim_run.dropped++;
	} else {
		it = &lim_run.q[(lim_run.head + lim_run.len) % LIM_RUN_QUEUE];
		inet_ntop(af, addr, it->addr, sizeof(it->addr));
		it->seconds = seconds ? seconds : 1;
		lim_run.len++;
		pthread_cond_signal(&lim_run.cond);
	}
	pthread_mutex_unlock(&lim_run.lock);
}

void
lim_run_ban_apply(int af, const uint8_t *addr, uint64_t until_ms)
{
	uint64_t now = lim_run_now_ms(), had;

	if (lim_run.store == NULL || until_ms <= now)
		return;
	had = lim_ban_check(lim_store_bans(lim_run.store), af, addr, now);
	lim_ban_add(lim_store_bans(lim_run.store), af, addr, until_ms);
	if (had < until_ms)
		lim_run_banned(af, addr, (uint32_t)((until_ms - now + 999) / 1000));
}

uint64_t
lim_run_ban_check(int af, const uint8_t *addr, uint64_t now_ms)
{
	return lim_run.store != NULL ? lim_ban_check(lim_store_bans(lim_run.store), af, addr, now_ms) : 0;
}

static void
lim_run_expire_one(const char *name, uint32_t period_ms, struct lim_table *t, void *arg)
{
	(void)name;
	(void)period_ms;
	lim_table_expire(t, *(const uint64_t *)arg);
}

void
lim_run_expire(uint64_t now_ms)
{
	if (lim_run.store != NULL)
		lim_store_foreach(lim_run.store, lim_run_expire_one, &now_ms);
}

static void
lim_run_count_ban(const uint8_t addr[16], uint64_t until_ms, void *arg)
{
	(void)addr;
	(void)until_ms;
	(*(size_t *)arg)++;
}

json_t *
lim_run_status_json(void)
{
	size_t bans = 0;
	json_t *o;

	if (lim_run.store == NULL)
		return NULL;
	lim_ban_foreach(lim_store_bans(lim_run.store), lim_run_now_ms(), lim_run_count_ban, &bans);
	pthread_mutex_lock(&lim_run.lock);
	o = json_pack("{s:I,s:I,s:I,s:I,s:s}", "bans_active", (json_int_t)bans,
		      "mirrored", (json_int_t)lim_run.mirrored, "mirror_errors", (json_int_t)lim_run.errors,
		      "mirror_dropped", (json_int_t)lim_run.dropped, "last_error", lim_run.last_error);
	pthread_mutex_unlock(&lim_run.lock);
	return o;
}
