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
#include <string.h>

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

/* Whether member i may take a new request at all (config and this request). */
static inline int
l7_pool_usable(const struct conf_pool *pool, size_t i, uint64_t tried)
{
	const struct conf_member *m = &pool->members[i];

	return m->enabled && m->weight > 0 && !(i < 64 && ((tried >> i) & 1u));
}

int
l7_pool_pick(const struct l7_pool_map *map, const struct conf_pool *pool,
	     uint64_t tried, uint64_t now_ms)
{
	struct l7_member_state **states = map->members[pool->index];
	size_t n = pool->nmembers, i, up = 0, k;

	/* A down member whose back-off expired gets one request as a probe:
	 * whichever caller wins the compare-and-swap on retry_at. */
	for (i = 0; i < n; i++) {
		struct l7_member_state *ms = states[i];
		uint_fast64_t at;

		if (!l7_pool_usable(pool, i, tried))
			continue;
		if (!atomic_load_explicit(&ms->down, memory_order_relaxed)) {
			up++;
			continue;
		}
		at = atomic_load_explicit(&ms->retry_at, memory_order_relaxed);
		if (at <= now_ms &&
		    atomic_compare_exchange_strong(&ms->retry_at, &at,
						   now_ms + atomic_load(&ms->backoff_ms)))
			return (int)i;
	}
	if (up == 0)
		return -1;
	/* Round robin over the members that are up, so that a member after a
	 * skipped one does not inherit its share. */
	k = atomic_fetch_add_explicit(&map->pools[pool->index]->rr, 1, memory_order_relaxed) % up;
	for (i = 0; i < n; i++) {
		if (!l7_pool_usable(pool, i, tried) ||
		    atomic_load_explicit(&states[i]->down, memory_order_relaxed))
			continue;
		if (k-- == 0)
			return (int)i;
	}
	/* a member went down between the two scans: take any that is up */
	for (i = 0; i < n; i++)
		if (l7_pool_usable(pool, i, tried) &&
		    !atomic_load_explicit(&states[i]->down, memory_order_relaxed))
			return (int)i;
	return -1;
}

void
l7_pool_member_report(struct l7_member_state *ms, int ok, uint64_t now_ms, const char *why)
{
	unsigned b, nb;

	if (ok) {
		atomic_store(&ms->backoff_ms, L7_POOL_BACKOFF_MIN_MS);
		if (atomic_exchange(&ms->down, false))
			log_notice("member %s UP (connect succeeded)", ms->id);
		return;
	}
	atomic_fetch_add_explicit(&ms->failures, 1, memory_order_relaxed);
	b = atomic_load(&ms->backoff_ms);
	nb = b * 2 > L7_POOL_BACKOFF_MAX_MS ? L7_POOL_BACKOFF_MAX_MS : b * 2;
	atomic_store(&ms->retry_at, now_ms + b);
	atomic_store(&ms->backoff_ms, nb);
	if (!atomic_exchange(&ms->down, true))
		log_notice("member %s DOWN (%s), retry in %u ms", ms->id, why, b);
	else
		log_info("member %s still down (%s), retry in %u ms", ms->id, why, b);
}

const char *
l7_pool_member_state_name(const struct conf_member *m, const struct l7_member_state *ms)
{
	if (!m->enabled)
		return "disabled";
	if (ms != NULL && atomic_load(&ms->down))
		return "down";
	return "up";
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
