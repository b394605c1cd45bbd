/*
 * l7_stats - counters per listener, route, pool and member.
 *
 * Each counted object has one block of counters per worker (struct l7_ctr,
 * cache-line aligned). A worker only ever adds to its own block with relaxed
 * atomics, so the data path takes no lock and shares no cache line; readers
 * (control socket, metrics endpoint) sum the blocks. Objects live in a
 * registry keyed by kind and name, so counters carry across reloads (a
 * Prometheus counter must not go back); a removed object leaves its small
 * entry behind until shutdown, and comes back with its totals if re-added.
 * The registry lock is taken when a worker adopts a snapshot and by
 * readers, never per request.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "l7_stats.h"

#define L7_STATS_HASH	1024		/* registry buckets, a power of two */

static const unsigned l7_stats_bounds[L7_STATS_NBOUNDS] = { L7_STATS_BOUNDS_MS };
static const char *const l7_stats_kinds[L7_STATS_NKINDS] = { "listener", "route", "pool",
	"member" };

static pthread_mutex_t l7_stats_lock = PTHREAD_MUTEX_INITIALIZER;
static struct l7_sobj *l7_stats_tab[L7_STATS_HASH];	/* guarded by l7_stats_lock */
static unsigned l7_stats_nworkers;

/* Each worker writes only its own block (w[index]): a relaxed load and store,
 * not a locked read-modify-write (a dozen per request); readers still see
 * whole values. */
#define CTR_ADD(c, f, v) \
	atomic_store_explicit(&(c)->f, atomic_load_explicit(&(c)->f, memory_order_relaxed) + (v), \
			      memory_order_relaxed)
#define CTR_GET(c, f) atomic_load_explicit(&(c)->f, memory_order_relaxed)

int
l7_stats_init(unsigned nworkers)
{
	if (nworkers == 0)
		return -EINVAL;
	l7_stats_nworkers = nworkers;
	return 0;
}

void
l7_stats_free_all(void)
{
	size_t i;

	pthread_mutex_lock(&l7_stats_lock);
	for (i = 0; i < L7_STATS_HASH; i++) {
		while (l7_stats_tab[i] != NULL) {
			struct l7_sobj *o = l7_stats_tab[i];

			l7_stats_tab[i] = o->next;
			free(o->name);
			free(o->w);
			free(o);
		}
	}
	l7_stats_nworkers = 0;
	pthread_mutex_unlock(&l7_stats_lock);
}

static size_t
l7_stats_bucket(enum l7_stats_kind kind, const char *name)
{
	return (size_t)conf_hash64(name, strlen(name), (uint64_t)kind) & (L7_STATS_HASH - 1);
}

/* Finds (or, with create, makes) kind/name. Lock held. NULL on OOM or not
 * found. */
static struct l7_sobj *
l7_stats_get(enum l7_stats_kind kind, const char *name, int create)
{
	size_t b = l7_stats_bucket(kind, name);
	struct l7_sobj *o;

	for (o = l7_stats_tab[b]; o != NULL; o = o->next)
		if (o->kind == kind && strcmp(o->name, name) == 0)
			return o;
	if (!create || l7_stats_nworkers == 0)
		return NULL;
	o = calloc(1, sizeof(*o));
	if (o == NULL)
		return NULL;
	o->kind = kind;
	o->name = strdup(name);
	o->w = aligned_alloc(_Alignof(struct l7_ctr), l7_stats_nworkers * sizeof(struct l7_ctr));
	if (o->name == NULL || o->w == NULL) {
		free(o->name);
		free(o->w);
		free(o);
		return NULL;
	}
	memset(o->w, 0, l7_stats_nworkers * sizeof(struct l7_ctr));
	o->next = l7_stats_tab[b];
	l7_stats_tab[b] = o;
	return o;
}

void
l7_stats_map_free(struct l7_stats_map **mp)
{
	struct l7_stats_map *m = *mp;
	size_t i;

	*mp = NULL;
	if (m == NULL)
		return;
	if (m->members != NULL)
		for (i = 0; i < m->npools; i++)
			free(m->members[i]);
	free(m->members);
	free(m->nmembers);
	free(m->listeners);
	free(m->routes);
	free(m->pools);
	free(m);
}

struct l7_stats_map *
l7_stats_map_new(const struct conf *c)
{
	struct l7_stats_map *m = calloc(1, sizeof(*m));
	size_t i, j;
	int ok = 1;

	if (m == NULL)
		return NULL;
	m->npools = c->npools;
	m->listeners = calloc(c->nlisteners + 1, sizeof(*m->listeners));
	m->routes = calloc(c->nroutes + 1, sizeof(*m->routes));
	m->pools = calloc(c->npools + 1, sizeof(*m->pools));
	m->members = calloc(c->npools + 1, sizeof(*m->members));
	m->nmembers = calloc(c->npools + 1, sizeof(*m->nmembers));
	if (!m->listeners || !m->routes || !m->pools || !m->members || !m->nmembers)
		goto fail;
	for (i = 0; i < c->npools; i++) {
		m->nmembers[i] = c->pools[i].nmembers;
		m->members[i] = calloc(c->pools[i].nmembers + 1, sizeof(**m->members));
		if (m->members[i] == NULL)
			goto fail;
	}
	pthread_mutex_lock(&l7_stats_lock);
	for (i = 0; ok && i < c->nlisteners; i++)
		ok = (m->listeners[i] = l7_stats_get(L7_STATS_LISTENER, c->listeners[i].name, 1)) != NULL;
	for (i = 0; ok && i < c->nroutes; i++)
		ok = (m->routes[i] = l7_stats_get(L7_STATS_ROUTE, c->routes[i].name, 1)) != NULL;
	for (i = 0; ok && i < c->npools; i++) {
		ok = (m->pools[i] = l7_stats_get(L7_STATS_POOL, c->pools[i].name, 1)) != NULL;
		for (j = 0; ok && j < c->pools[i].nmembers; j++)
			ok = (m->members[i][j] = l7_stats_get(L7_STATS_MEMBER,
							       c->pools[i].members[j].id, 1)) != NULL;
	}
	pthread_mutex_unlock(&l7_stats_lock);
	if (ok)
		return m;
fail:
	l7_stats_map_free(&m);
	return NULL;
}

/* ---- data path: worker w only ---- */

void
l7_stats_conn_open(struct l7_stats_req *r, unsigned w, const struct l7_stats_map *m,
		   size_t lindex)
{
	memset(r, 0, sizeof(*r));
	if (m == NULL || w >= l7_stats_nworkers)
		return;
	r->conn_lsn = m->listeners[lindex];
	CTR_ADD(&r->conn_lsn->w[w], active, 1);
}

void
l7_stats_req_begin(struct l7_stats_req *r, unsigned w, const struct l7_stats_map *m,
		   size_t lindex)
{
	if (r->open)	/* the previous one never ended: count it as cut */
		l7_stats_req_end(r, w, -1, 0, 0, 0, 0);
	r->lsn = r->route = r->pool = NULL;
	r->members = NULL;
	r->routed = false;
	if (m == NULL || w >= l7_stats_nworkers)
		return;
	r->open = true;
	r->lsn = m->listeners[lindex];
	CTR_ADD(&r->lsn->w[w], requests, 1);
}

void
l7_stats_req_route(struct l7_stats_req *r, unsigned w, const struct l7_stats_map *m,
		   long route, long pool)
{
	if (!r->open || m == NULL || r->routed)
		return;
	r->routed = true;
	if (route >= 0) {
		r->route = m->routes[route];
		CTR_ADD(&r->route->w[w], requests, 1);
		CTR_ADD(&r->route->w[w], active, 1);
	}
	if (pool >= 0) {
		r->pool = m->pools[pool];
		r->members = m->members[pool];
		r->nmembers = m->nmembers[pool];
		CTR_ADD(&r->pool->w[w], requests, 1);
		CTR_ADD(&r->pool->w[w], active, 1);
	}
}

/* Counts the outcome of one request on one object's block. */
static void
l7_stats_outcome(struct l7_ctr *c, int status, uint64_t bin, uint64_t bout, uint64_t ms)
{
	int cls = status / 100;
	size_t b = 0;

	if (cls < 1 || cls > 5)
		cls = 0;
	CTR_ADD(c, responses[cls], 1);
	CTR_ADD(c, bytes_in, bin);
	CTR_ADD(c, bytes_out, bout);
	if (cls == 0)
		return;	/* no answer: no latency to observe */
	while (b < L7_STATS_NBOUNDS && ms > l7_stats_bounds[b])
		b++;
	CTR_ADD(c, hist[b], 1);
	CTR_ADD(c, latency_ms_sum, ms);
}

void
l7_stats_req_end(struct l7_stats_req *r, unsigned w, long member, int status, uint64_t bytes_in, uint64_t bytes_out,
		 uint64_t latency_ms)
{
	if (!r->open)
		return;
	r->open = false;
	l7_stats_outcome(&r->lsn->w[w], status, bytes_in, bytes_out, latency_ms);
	if (r->route != NULL) {
		l7_stats_outcome(&r->route->w[w], status, bytes_in, bytes_out, latency_ms);
		CTR_ADD(&r->route->w[w], active, -1);
	}
	if (r->pool != NULL) {
		l7_stats_outcome(&r->pool->w[w], status, bytes_in, bytes_out, latency_ms);
		CTR_ADD(&r->pool->w[w], active, -1);
	}
	if (r->members != NULL && member >= 0 && (size_t)member < r->nmembers) {
		struct l7_ctr *c = &r->members[member]->w[w];

		CTR_ADD(c, requests, 1);
		l7_stats_outcome(c, status, bytes_in, bytes_out, latency_ms);
	}
	r->lsn = r->route = r->pool = NULL;
	r->members = NULL;
}

void
l7_stats_conn_close(struct l7_stats_req *r, unsigned w)
{
	if (r->open)
		l7_stats_req_end(r, w, -1, 0, 0, 0, 0);
	if (r->conn_lsn != NULL)
		CTR_ADD(&r->conn_lsn->w[w], active, -1);
	r->conn_lsn = NULL;
}

/* ---- read side ---- */

/* Lock held. */
static void
l7_stats_sum_obj(const struct l7_sobj *o, struct l7_stats_sum *s)
{
	unsigned w;
	size_t i;

	memset(s, 0, sizeof(*s));
	for (w = 0; w < l7_stats_nworkers; w++) {
		const struct l7_ctr *c = &o->w[w];

		s->requests += CTR_GET(c, requests);
		for (i = 0; i < 6; i++)
			s->responses[i] += CTR_GET(c, responses[i]);
		s->bytes_in += CTR_GET(c, bytes_in);
		s->bytes_out += CTR_GET(c, bytes_out);
		s->active += CTR_GET(c, active);
		for (i = 0; i < L7_STATS_NBUCKETS; i++)
			s->hist[i] += CTR_GET(c, hist[i]);
		s->latency_ms_sum += CTR_GET(c, latency_ms_sum);
	}
}

int
l7_stats_sum(enum l7_stats_kind kind, const char *name, struct l7_stats_sum *out)
{
	struct l7_sobj *o;

	pthread_mutex_lock(&l7_stats_lock);
	o = l7_stats_get(kind, name, 0);
	if (o != NULL)
		l7_stats_sum_obj(o, out);
	pthread_mutex_unlock(&l7_stats_lock);
	return o != NULL ? 0 : -ENOENT;
}

/* Calls fn for every object of c whose kind is in mask (bit 1 << kind). */
static int
l7_stats_each(const struct conf *c, unsigned mask,
	      int (*fn)(enum l7_stats_kind, const char *name, const char *pool,
			const struct l7_stats_sum *, void *), void *arg)
{
	struct l7_stats_sum s;
	size_t i, j;
	int rc = 0;

#define L7_STATS_VISIT(kind, name, pool) do {					\
		if ((mask & (1u << (kind))) && l7_stats_sum((kind), (name), &s) == 0) \
			rc |= fn((kind), (name), (pool), &s, arg);		\
	} while (0)
	for (i = 0; i < c->nlisteners; i++)
		L7_STATS_VISIT(L7_STATS_LISTENER, c->listeners[i].name, NULL);
	for (i = 0; i < c->nroutes; i++)
		L7_STATS_VISIT(L7_STATS_ROUTE, c->routes[i].name, NULL);
	for (i = 0; i < c->npools; i++)
		L7_STATS_VISIT(L7_STATS_POOL, c->pools[i].name, NULL);
	for (i = 0; i < c->npools; i++)
		for (j = 0; j < c->pools[i].nmembers; j++)
			L7_STATS_VISIT(L7_STATS_MEMBER, c->pools[i].members[j].id, c->pools[i].name);
#undef L7_STATS_VISIT
	return rc;
}

static int
l7_stats_json_one(enum l7_stats_kind kind, const char *name, const char *pool,
		  const struct l7_stats_sum *s, void *arg)
{
	static const char *const sect[L7_STATS_NKINDS] = { "listeners", "routes", "pools",
		"members" };
	json_t *root = arg, *o, *resp, *hist;
	size_t i;

	(void)pool;
	resp = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "1xx", (json_int_t)s->responses[1],
			 "2xx", (json_int_t)s->responses[2], "3xx", (json_int_t)s->responses[3],
			 "4xx", (json_int_t)s->responses[4], "5xx", (json_int_t)s->responses[5],
			 "none", (json_int_t)s->responses[0]);
	hist = json_array();
	for (i = 0; hist != NULL && i < L7_STATS_NBUCKETS; i++)
		json_array_append_new(hist, json_pack("{s:o,s:I}", "le_ms", i < L7_STATS_NBOUNDS ?
						      json_integer(l7_stats_bounds[i]) :
						      json_string("+Inf"),
						      "count", (json_int_t)s->hist[i]));
	o = json_pack("{s:I,s:o,s:I,s:I,s:{s:o,s:I}}", "requests", (json_int_t)s->requests,
		      "responses", resp, "bytes_in", (json_int_t)s->bytes_in,
		      "bytes_out", (json_int_t)s->bytes_out, "latency", "buckets", hist,
		      "sum_ms", (json_int_t)s->latency_ms_sum);
	if (o == NULL)
		return -1;
	if (kind != L7_STATS_MEMBER)	/* a member's is tandemctl status's "active" */
		json_object_set_new(o, "active", json_integer((json_int_t)s->active));
	return json_object_set_new(json_object_get(root, sect[kind]), name, o);
}

json_t *
l7_stats_counters_json(const struct conf *c)
{
	json_t *root = json_pack("{s:{},s:{},s:{},s:{}}", "listeners", "routes", "pools",
				 "members");

	if (root != NULL && l7_stats_each(c, ~0u, l7_stats_json_one, root) != 0)
		json_decref(root);
	else
		return root;
	return NULL;
}

/* Writes a label value with \, " and newline escaped (Prometheus text). */
static int
l7_stats_label(struct buf *b, const char *k, const char *v)
{
	int rc = buf_appendf(b, "%s=\"", k);

	for (; rc == 0 && *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			rc = buf_appendf(b, "\\%c", *v);
		else if (*v == '\n')
			rc = buf_appendf(b, "\\n");
		else
			rc = buf_append(b, v, 1);
	}
	return rc | buf_appendf(b, "\"");
}

/* The labels of one object, without braces. */
static int
l7_stats_labels(struct buf *b, enum l7_stats_kind kind, const char *name, const char *pool)
{
	if (kind == L7_STATS_MEMBER)
		return l7_stats_label(b, "pool", pool) | buf_appendf(b, ",") |
		       l7_stats_label(b, "member", name);
	return l7_stats_label(b, l7_stats_kinds[kind], name);
}

/* Pass 1..6 over the objects writes one metric family each, so that each
 * family's samples follow its # TYPE line as the format requires. */
struct l7_stats_prom {
	struct buf *b;
	int family;
};

static int
l7_stats_prom_one(enum l7_stats_kind kind, const char *name, const char *pool,
		  const struct l7_stats_sum *s, void *arg)
{
	struct l7_stats_prom *p = arg;
	const char *k = l7_stats_kinds[kind];
	struct buf *b = p->b;
	uint64_t cum = 0;
	int rc = 0;
	size_t i;

#define L7_LBL() (rc |= l7_stats_labels(b, kind, name, pool))
	switch (p->family) {
	case 0:	/* requests (a member's comes from tandem_member_requests_total) */
		if (kind == L7_STATS_MEMBER)
			break;
		rc |= buf_appendf(b, "tandem_%s_requests_total{", k);
		L7_LBL();
		rc |= buf_appendf(b, "} %llu\n", (unsigned long long)s->requests);
		break;
	case 1:
		for (i = 1; i <= 5; i++) {
			rc |= buf_appendf(b, "tandem_%s_responses_total{", k);
			L7_LBL();
			rc |= buf_appendf(b, ",class=\"%zuxx\"} %llu\n", i,
					  (unsigned long long)s->responses[i]);
		}
		break;
	case 2:
		rc |= buf_appendf(b, "tandem_%s_bytes_in_total{", k);
		L7_LBL();
		rc |= buf_appendf(b, "} %llu\n", (unsigned long long)s->bytes_in);
		break;
	case 3:
		rc |= buf_appendf(b, "tandem_%s_bytes_out_total{", k);
		L7_LBL();
		rc |= buf_appendf(b, "} %llu\n", (unsigned long long)s->bytes_out);
		break;
	case 4:	/* a member's active is tandem_member_active */
		if (kind == L7_STATS_MEMBER)
			break;
		rc |= buf_appendf(b, "tandem_%s_%s{", k, kind == L7_STATS_LISTENER ?
				  "connections_active" : "requests_active");
		L7_LBL();
		rc |= buf_appendf(b, "} %lld\n", (long long)s->active);
		break;
	case 5:
		for (i = 0; i < L7_STATS_NBUCKETS; i++) {
			cum += s->hist[i];
			rc |= buf_appendf(b, "tandem_%s_request_duration_seconds_bucket{", k);
			L7_LBL();
			if (i < L7_STATS_NBOUNDS)
				rc |= buf_appendf(b, ",le=\"%g\"} %llu\n", l7_stats_bounds[i] / 1000.0,
						  (unsigned long long)cum);
			else
				rc |= buf_appendf(b, ",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
		}
		rc |= buf_appendf(b, "tandem_%s_request_duration_seconds_sum{", k);
		L7_LBL();
		rc |= buf_appendf(b, "} %.3f\n", s->latency_ms_sum / 1000.0);
		rc |= buf_appendf(b, "tandem_%s_request_duration_seconds_count{", k);
		L7_LBL();
		rc |= buf_appendf(b, "} %llu\n", (unsigned long long)cum);
		break;
	}
#undef L7_LBL
	return rc;
}

int
l7_stats_prometheus(const struct conf *c, struct buf *b)
{
	static const char *const fam[] = { "requests_total counter", "responses_total counter",
		"bytes_in_total counter", "bytes_out_total counter", NULL,
		"request_duration_seconds histogram" };
	struct l7_stats_prom p = { .b = b };
	enum l7_stats_kind k;
	int rc = 0;

	for (k = L7_STATS_LISTENER; k < L7_STATS_NKINDS; k++) {
		for (p.family = 0; p.family < 6; p.family++) {
			if ((p.family == 0 || p.family == 4) && k == L7_STATS_MEMBER)
				continue;
			if (fam[p.family] != NULL)
				rc |= buf_appendf(b, "# TYPE tandem_%s_%s\n", l7_stats_kinds[k],
						  fam[p.family]);
			else
				rc |= buf_appendf(b, "# TYPE tandem_%s_%s gauge\n", l7_stats_kinds[k],
						  k == L7_STATS_LISTENER ? "connections_active" :
						  "requests_active");
			rc |= l7_stats_each(c, 1u << k, l7_stats_prom_one, &p) != 0 ? -1 : 0;
		}
	}
	return rc < 0 ? -1 : 0;
}
