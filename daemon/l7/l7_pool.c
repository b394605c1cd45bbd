/*
 * l7_pool - runtime state of pools and members, and round-robin picking.
 *
 * The registry is a plain list under a mutex: it is searched only when a
 * worker adopts a snapshot (l7_pool_map_new) or the control socket asks for
 * status, never per request. States are never freed while workers run, so a
 * map can hand out raw pointers; removed members leave a small entry behind
 * until l7_pool_registry_free() at shutdown.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "l7_pool.h"

static pthread_mutex_t l7_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct l7_member_state *l7_members;	/* guarded by l7_pool_lock */
static struct l7_pool_state *l7_pools;		/* guarded by l7_pool_lock */

/* Finds or creates the state of member id. Lock held. NULL on OOM. */
static struct l7_member_state *
l7_member_get(const char *id, int create)
{
	struct l7_member_state *ms;

	for (ms = l7_members; ms != NULL; ms = ms->next)
		if (strcmp(ms->id, id) == 0)
			return ms;
	if (!create)
		return NULL;
	ms = calloc(1, sizeof(*ms));
	if (ms == NULL)
		return NULL;
	ms->id = strdup(id);
	if (ms->id == NULL) {
		free(ms);
		return NULL;
	}
	atomic_init(&ms->backoff_ms, L7_POOL_BACKOFF_MIN_MS);
	pthread_mutex_init(&ms->reason_lock, NULL);
	snprintf(ms->reason, sizeof(ms->reason), "new member");
	atomic_init(&ms->changed_at, (uint64_t)time(NULL));
	ms->next = l7_members;
	l7_members = ms;
	return ms;
}

static struct l7_pool_state *
l7_pool_get(const char *name)
{
	struct l7_pool_state *ps;

	for (ps = l7_pools; ps != NULL; ps = ps->next)
		if (strcmp(ps->name, name) == 0)
			return ps;
	ps = calloc(1, sizeof(*ps));
	if (ps == NULL)
		return NULL;
	ps->name = strdup(name);
	if (ps->name == NULL) {
		free(ps);
		return NULL;
	}
	atomic_init(&ps->retry_tokens, 1000);	/* ten retries to start with */
	ps->next = l7_pools;
	l7_pools = ps;
	return ps;
}

void
l7_pool_map_free(struct l7_pool_map **mp)
{
	struct l7_pool_map *m = *mp;
	size_t i;

	if (m == NULL)
		return;
	if (m->members != NULL)
		for (i = 0; i < m->conf->npools; i++)
			free(m->members[i]);
	free(m->members);
	free(m->pools);
	free(m);
	*mp = NULL;
}

struct l7_pool_map *
l7_pool_map_new(const struct conf *c)
{
	struct l7_pool_map *m = calloc(1, sizeof(*m));
	size_t i, j;

	if (m == NULL)
		return NULL;
	m->conf = c;
	m->pools = calloc(c->npools + 1, sizeof(*m->pools));
	m->members = calloc(c->npools + 1, sizeof(*m->members));
	if (m->pools == NULL || m->members == NULL)
		goto fail;
	pthread_mutex_lock(&l7_pool_lock);
	for (i = 0; i < c->npools; i++) {
		const struct conf_pool *p = &c->pools[i];

		m->pools[i] = l7_pool_get(p->name);
		m->members[i] = calloc(p->nmembers + 1, sizeof(*m->members[i]));
		if (m->pools[i] == NULL || m->members[i] == NULL)
			goto fail_locked;
		for (j = 0; j < p->nmembers; j++) {
			m->members[i][j] = l7_member_get(p->members[j].id, 1);
			if (m->members[i][j] == NULL)
				goto fail_locked;
		}
	}
	pthread_mutex_unlock(&l7_pool_lock);
	return m;
fail_locked:
	pthread_mutex_unlock(&l7_pool_lock);
fail:
	l7_pool_map_free(&m);
	return NULL;
}

/* Whether member i is healthy and configured to take new requests. */
static inline int
l7_pool_healthy(const struct conf_pool *pool, struct l7_member_state *const *states, size_t i)
{
	const struct conf_member *m = &pool->members[i];

	return m->enabled && m->weight > 0 && !m->l7.drain &&
	       !atomic_load_explicit(&states[i]->down, memory_order_relaxed) &&
	       !atomic_load_explicit(&states[i]->hc_down, memory_order_relaxed);
}

/* Healthy, in the tier in use (primaries or backups), not tried yet for
 * this request and below the pool's per-member connection limit. */
static inline int
l7_pool_eligible(const struct conf_pool *pool, struct l7_member_state *const *states,
		 size_t i, bool backup, uint64_t tried, int *full)
{
	const struct conf_member *m = &pool->members[i];

	if (m->l7.backup != backup || !l7_pool_healthy(pool, states, i) ||
	    (i < 64 && ((tried >> i) & 1u)))
		return 0;
	if (pool->l7.max_conns_per_member > 0 &&
	    atomic_load_explicit(&states[i]->active, memory_order_relaxed) >=
	    pool->l7.max_conns_per_member) {
		*full = 1;
		return 0;
	}
	return 1;
}

/* Weight after slow start: from a tenth to the full weight over
 * slow_start_ms after the member came back. Scaled by 10 to stay integral. */
static inline uint64_t
l7_pool_weight(const struct conf_pool *pool, const struct l7_member_state *ms, size_t i,
	       uint64_t now)
{
	uint64_t w = (uint64_t)pool->members[i].weight * 10, since, ss = pool->l7.slow_start_ms;

	if (ss == 0)
		return w;
	since = atomic_load_explicit(&ms->up_since, memory_order_relaxed);
	if (since == 0 || now >= since + ss)
		return w;
	w = w * (now - since) / ss;
	return w < (uint64_t)pool->members[i].weight ? pool->members[i].weight : w;
}

static inline uint64_t
l7_rng(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

/* (active + 1) / weight of a against b: < 0 when a is less loaded. */
static inline int
l7_pool_load_cmp(struct l7_member_state *const *states, const uint64_t *w, size_t a, size_t b)
{
	uint64_t la = (atomic_load_explicit(&states[a]->active, memory_order_relaxed) + 1) * w[b];
	uint64_t lb = (atomic_load_explicit(&states[b]->active, memory_order_relaxed) + 1) * w[a];

	return la < lb ? -1 : la > lb;
}

int
l7_pool_choose(const struct l7_pool_map *map, const struct conf_pool *pool, struct l7_pick *pk)
{
	struct l7_member_state **states = map->members[pool->index];
	struct l7_pool_state *ps = map->pools[pool->index];
	size_t n = pool->nmembers, i, k, count = 0, best = SIZE_MAX;
	uint64_t wbuf[64], *w = wbuf;
	bool backup = false;
	int full = 0, rc = L7_PICK_NONE;

	if (n == 0)
		return L7_PICK_NONE;
	/* A down member whose back-off expired gets one request as a probe:
	 * whichever caller wins the compare-and-swap on retry_at. */
	for (i = 0; i < n; i++) {
		struct l7_member_state *ms = states[i];
		const struct conf_member *m = &pool->members[i];
		uint_fast64_t at;

		if (!m->enabled || m->weight == 0 || m->l7.drain || (i < 64 && ((pk->tried >> i) & 1u)) ||
		    !atomic_load_explicit(&ms->down, memory_order_relaxed) ||
		    atomic_load_explicit(&ms->hc_down, memory_order_relaxed))
			continue;
		at = atomic_load_explicit(&ms->retry_at, memory_order_relaxed);
		if (at <= pk->now_ms &&
		    atomic_compare_exchange_strong(&ms->retry_at, &at,
						   pk->now_ms + atomic_load(&ms->backoff_ms)))
			return (int)i;
	}
	/* Backups serve only while no primary is healthy (one that already
	 * failed this request does not count). */
	for (i = 0; i < n; i++)
		if (!pool->members[i].l7.backup && l7_pool_healthy(pool, states, i) &&
		    !(i < 64 && ((pk->tried >> i) & 1u)))
			break;
	backup = i == n;
	if (pk->sticky >= 0 && (size_t)pk->sticky < n &&
	    l7_pool_eligible(pool, states, (size_t)pk->sticky, backup, pk->tried, &full))
		return pk->sticky;
	if (n > 64) {
		w = malloc(n * sizeof(*w));
		if (w == NULL)
			return L7_PICK_NONE;
	}
	for (i = 0; i < n; i++) {
		w[i] = 0;
		if (l7_pool_eligible(pool, states, i, backup, pk->tried, &full)) {
			w[i] = l7_pool_weight(pool, states[i], i, pk->now_ms);
			count++;
		}
	}
	if (count == 0) {
		rc = full ? L7_PICK_FULL : L7_PICK_NONE;
		goto out;
	}
	switch (pool->l7.lb) {
	case CONF_LB_CONSISTENT_HASH:
		if (pk->has_hash && pool->l7.maglev != NULL) {
			size_t msz = pool->l7.maglev_size, slot = pk->hash % msz;

			/* walk on from the key's slot: a key moves only when its
			 * member is unavailable */
			for (k = 0; k < msz; k++, slot = slot + 1 == msz ? 0 : slot + 1)
				if (w[pool->l7.maglev[slot]] > 0) {
					best = pool->l7.maglev[slot];
					break;
				}
			break;
		}
		/* no key (header or cookie missing): round robin */
		/* fall through */
	case CONF_LB_ROUND_ROBIN:
		/* Round robin over the eligible members, so that a member after
		 * a skipped one does not inherit its share. */
		k = atomic_fetch_add_explicit(&ps->rr, 1, memory_order_relaxed) % count;
		for (i = 0; i < n; i++)
			if (w[i] > 0 && k-- == 0) {
				best = i;
				break;
			}
		break;
	case CONF_LB_WEIGHTED_ROUND_ROBIN: {
		/* nginx's smooth WRR, on this worker's own weights */
		int64_t total = 0;

		for (i = 0; i < n; i++) {
			if (w[i] == 0)
				continue;
			pk->swrr[i] += (int64_t)w[i];
			total += (int64_t)w[i];
			if (best == SIZE_MAX || pk->swrr[i] > pk->swrr[best])
				best = i;
		}
		pk->swrr[best] -= total;
		break;
	}
	case CONF_LB_LEAST_CONNECTIONS: {
		/* start at a rotating offset so ties spread */
		size_t off = atomic_fetch_add_explicit(&ps->rr, 1, memory_order_relaxed) % n;

		for (k = 0; k < n; k++) {
			i = (off + k) % n;
			if (w[i] > 0 && (best == SIZE_MAX || l7_pool_load_cmp(states, w, i, best) < 0))
				best = i;
		}
		break;
	}
	case CONF_LB_POWER_OF_TWO: {
		size_t a = l7_rng(pk->rng) % count, b = count > 1 ? l7_rng(pk->rng) % (count - 1) : 0;
		size_t ia = SIZE_MAX, ib = SIZE_MAX;

		if (count > 1 && b >= a)
			b++;
		for (i = 0, k = 0; i < n; i++) {
			if (w[i] == 0)
				continue;
			if (k == a)
				ia = i;
			if (k == b)
				ib = i;
			k++;
		}
		best = ia;
		if (count > 1 && ib != SIZE_MAX && l7_pool_load_cmp(states, w, ib, ia) < 0)
			best = ib;
		break;
	}
	}
	rc = best == SIZE_MAX ? L7_PICK_NONE : (int)best;
out:
	if (w != wbuf)
		free(w);
	return rc;
}

int
l7_pool_pick(const struct l7_pool_map *map, const struct conf_pool *pool,
	     uint64_t tried, uint64_t now_ms)
{
	int64_t *swrr = calloc(pool->nmembers + 1, sizeof(*swrr));
	uint64_t rng = now_ms + 1;
	struct l7_pick pk = { .tried = tried, .now_ms = now_ms, .sticky = -1, .swrr = swrr,
			      .rng = &rng };
	int rc;

	if (swrr == NULL)
		return -1;
	rc = l7_pool_choose(map, pool, &pk);
	free(swrr);
	return rc < 0 ? -1 : rc;
}

/* Records why ms changed state, for status. Any thread (rare: changes only). */
static void
l7_pool_reason(struct l7_member_state *ms, const char *prefix, const char *why)
{
	pthread_mutex_lock(&ms->reason_lock);
	snprintf(ms->reason, sizeof(ms->reason), "%s%s", prefix, why ? why : "");
	pthread_mutex_unlock(&ms->reason_lock);
	atomic_store(&ms->changed_at, (uint64_t)time(NULL));
}

/* Ejects ms for its current back-off, which then doubles. */
static void
l7_pool_eject(struct l7_member_state *ms, uint64_t now_ms, unsigned base_ms, const char *why)
{
	unsigned b = atomic_load(&ms->backoff_ms), max = base_ms * 30, nb;

	if (b < base_ms)
		b = base_ms;
	nb = b * 2 > max ? max : b * 2;
	atomic_store(&ms->retry_at, now_ms + b);
	atomic_store(&ms->backoff_ms, nb);
	if (!atomic_exchange(&ms->down, true)) {
		log_notice("member %s DOWN (%s), retry in %u ms", ms->id, why, b);
		l7_pool_reason(ms, "ejected: ", why);
	} else {
		log_info("member %s still down (%s), retry in %u ms", ms->id, why, b);
	}
}

static void
l7_pool_recover(struct l7_member_state *ms, uint64_t now_ms, unsigned base_ms, const char *why)
{
	atomic_store(&ms->backoff_ms, base_ms);
	if (atomic_exchange(&ms->down, false)) {
		atomic_store(&ms->up_since, now_ms ? now_ms : 1);
		log_notice("member %s UP (%s)", ms->id, why);
		l7_pool_reason(ms, "", why);
	}
}

void
l7_pool_member_report(struct l7_member_state *ms, int ok, uint64_t now_ms, const char *why)
{
	atomic_fetch_add_explicit(&ms->failures, ok ? 0 : 1, memory_order_relaxed);
	if (ok)
		l7_pool_recover(ms, now_ms, L7_POOL_BACKOFF_MIN_MS, "connect succeeded");
	else
		l7_pool_eject(ms, now_ms, L7_POOL_BACKOFF_MIN_MS, why);
}

void
l7_pool_connect_result(struct l7_member_state *ms, const struct conf_pool *pool, int ok,
		       uint64_t now_ms, const char *why)
{
	unsigned n, thr = pool->l7.eject_connect_failures;

	if (ok) {
		atomic_store_explicit(&ms->consec_connect_fail, 0, memory_order_relaxed);
		l7_pool_recover(ms, now_ms, pool->l7.eject_base_ms, "connect succeeded");
		return;
	}
	atomic_fetch_add_explicit(&ms->failures, 1, memory_order_relaxed);
	n = atomic_fetch_add_explicit(&ms->consec_connect_fail, 1, memory_order_relaxed) + 1;
	if (thr > 0 && n >= thr) {
		char msg[128];

		snprintf(msg, sizeof(msg), "%s (%u consecutive connect failure%s)", why, n,
			 n == 1 ? "" : "s");
		l7_pool_eject(ms, now_ms, pool->l7.eject_base_ms, msg);
	}
}

void
l7_pool_status_result(struct l7_member_state *ms, const struct conf_pool *pool, int status,
		      uint64_t now_ms)
{
	unsigned n, thr = pool->l7.eject_5xx;

	if (status < 500) {
		if (atomic_load_explicit(&ms->consec_5xx, memory_order_relaxed) != 0)
			atomic_store_explicit(&ms->consec_5xx, 0, memory_order_relaxed);
		return;
	}
	atomic_fetch_add_explicit(&ms->resp_5xx, 1, memory_order_relaxed);
	n = atomic_fetch_add_explicit(&ms->consec_5xx, 1, memory_order_relaxed) + 1;
	if (thr > 0 && n >= thr) {
		char msg[64];

		snprintf(msg, sizeof(msg), "%u consecutive 5xx responses", n);
		atomic_store_explicit(&ms->consec_5xx, 0, memory_order_relaxed);
		l7_pool_eject(ms, now_ms, pool->l7.eject_base_ms, msg);
	}
}

void
l7_pool_health_result(struct l7_member_state *ms, const struct conf_pool *pool, int ok,
		      uint64_t now_ms, const char *why)
{
	const struct conf_health_check *hc = &pool->l7.hc;

	atomic_fetch_add_explicit(&ms->hc_checks, 1, memory_order_relaxed);
	if (ok) {
		ms->hc_fall_cnt = 0;
		if (atomic_load(&ms->hc_down) && ++ms->hc_rise_cnt >= hc->rise) {
			ms->hc_rise_cnt = 0;
			atomic_store(&ms->up_since, now_ms ? now_ms : 1);
			atomic_store(&ms->hc_down, false);
			/* a passing check also ends a passive ejection */
			atomic_store(&ms->down, false);
			log_notice("member %s UP (health check passed %u times)", ms->id, hc->rise);
			l7_pool_reason(ms, "health check passing", NULL);
		}
		return;
	}
	atomic_fetch_add_explicit(&ms->hc_failures, 1, memory_order_relaxed);
	ms->hc_rise_cnt = 0;
	if (!atomic_load(&ms->hc_down) && ++ms->hc_fall_cnt >= hc->fall) {
		ms->hc_fall_cnt = 0;
		atomic_store(&ms->hc_down, true);
		log_notice("member %s DOWN (health check: %s, %u times)", ms->id, why, hc->fall);
		l7_pool_reason(ms, "health check failed: ", why);
	}
}

int
l7_pool_retry_take(struct l7_pool_state *ps, const struct conf_pool *pool)
{
	if (pool->l7.retries == 0)
		return 0;
	if (atomic_fetch_sub_explicit(&ps->retry_tokens, 100, memory_order_relaxed) < 100) {
		atomic_fetch_add_explicit(&ps->retry_tokens, 100, memory_order_relaxed);
		return 0;
	}
	atomic_fetch_add_explicit(&ps->retries, 1, memory_order_relaxed);
	return 1;
}

void
l7_pool_retry_earn(struct l7_pool_state *ps, const struct conf_pool *pool)
{
	/* each request earns retry_budget_pct hundredths; the bucket holds
	 * at most 100 retries, so a long quiet spell cannot bank a storm */
	if (atomic_load_explicit(&ps->retry_tokens, memory_order_relaxed) < 10000)
		atomic_fetch_add_explicit(&ps->retry_tokens, (int)pool->l7.retry_budget_pct,
					  memory_order_relaxed);
}

const char *
l7_pool_member_state_name(const struct conf_member *m, const struct l7_member_state *ms)
{
	if (!m->enabled)
		return "disabled";
	if (ms != NULL && atomic_load(&ms->hc_down))
		return "down";
	if (ms != NULL && atomic_load(&ms->down))
		return "down";
	if (m->l7.drain || m->weight == 0)
		return "draining";
	return "up";
}

const char *
l7_pool_algorithm_name(enum conf_lb lb)
{
	switch (lb) {
	case CONF_LB_ROUND_ROBIN: return "round_robin";
	case CONF_LB_WEIGHTED_ROUND_ROBIN: return "weighted_round_robin";
	case CONF_LB_LEAST_CONNECTIONS: return "least_connections";
	case CONF_LB_POWER_OF_TWO: return "power_of_two";
	case CONF_LB_CONSISTENT_HASH: return "consistent_hash";
	}
	return "?";
}

json_t *
l7_pool_status_json(const struct conf *c)
{
	json_t *arr = json_array();
	size_t i, j;

	if (arr == NULL)
		return NULL;
	pthread_mutex_lock(&l7_pool_lock);
	for (i = 0; i < c->npools; i++) {
		const struct conf_pool *p = &c->pools[i];
		json_t *po = json_object(), *ma = json_array();

		if (po == NULL || ma == NULL) {
			json_decref(po);
			json_decref(ma);
			continue;
		}
		json_object_set_new(po, "name", json_string(p->name));
		json_object_set_new(po, "algorithm", json_string(l7_pool_algorithm_name(p->l7.lb)));
		json_object_set_new(po, "health_check", json_string(p->l7.hc.type == CONF_HC_HTTP ? "http" :
					p->l7.hc.type == CONF_HC_GRPC ? "grpc" :
					p->l7.hc.type == CONF_HC_TCP ? "tcp" : "none"));
		for (j = 0; j < p->nmembers; j++) {
			const struct conf_member *m = &p->members[j];
			const struct l7_member_state *ms = l7_member_get(m->id, 0);
			json_t *mo = json_object();

			if (mo == NULL)
				continue;
			json_object_set_new(mo, "id", json_string(m->id));
			json_object_set_new(mo, "address", json_string(m->address));
			json_object_set_new(mo, "port", json_integer(m->port));
			json_object_set_new(mo, "weight", json_integer(m->weight));
			json_object_set_new(mo, "enabled", json_boolean(m->enabled));
			json_object_set_new(mo, "state", json_string(l7_pool_member_state_name(m, ms)));
			json_object_set_new(mo, "active", json_integer(ms ? (json_int_t)atomic_load(&ms->active) : 0));
			json_object_set_new(mo, "requests", json_integer(ms ? (json_int_t)atomic_load(&ms->requests) : 0));
			json_object_set_new(mo, "connect_failures", json_integer(ms ? (json_int_t)atomic_load(&ms->failures) : 0));
			json_object_set_new(mo, "backup", json_boolean(m->l7.backup));
			json_object_set_new(mo, "drain", json_boolean(m->l7.drain));
			if (ms != NULL) {
				json_object_set_new(mo, "responses_5xx", json_integer((json_int_t)atomic_load(&ms->resp_5xx)));
				json_object_set_new(mo, "health_checks", json_integer((json_int_t)atomic_load(&ms->hc_checks)));
				json_object_set_new(mo, "health_check_failures", json_integer((json_int_t)atomic_load(&ms->hc_failures)));
				json_object_set_new(mo, "changed_at", json_integer((json_int_t)atomic_load(&ms->changed_at)));
				pthread_mutex_lock(&((struct l7_member_state *)ms)->reason_lock);
				json_object_set_new(mo, "reason", json_string(ms->reason));
				pthread_mutex_unlock(&((struct l7_member_state *)ms)->reason_lock);
			}
			json_array_append_new(ma, mo);
		}
		json_object_set_new(po, "members", ma);
		json_array_append_new(arr, po);
	}
	pthread_mutex_unlock(&l7_pool_lock);
	return arr;
}

void
l7_pool_registry_free(void)
{
	pthread_mutex_lock(&l7_pool_lock);
	while (l7_members != NULL) {
		struct l7_member_state *ms = l7_members;

		l7_members = ms->next;
		free(ms->id);
		pthread_mutex_destroy(&ms->reason_lock);
		free(ms);
	}
	while (l7_pools != NULL) {
		struct l7_pool_state *ps = l7_pools;

		l7_pools = ps->next;
		free(ps->name);
		free(ps);
	}
	pthread_mutex_unlock(&l7_pool_lock);
}
