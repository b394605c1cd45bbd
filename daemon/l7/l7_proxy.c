/*
 * l7_proxy - the L7 worker threads: accept, parse, route, balance, forward.
 *
 * Each worker owns a loop, its listeners' registrations, its client
 * connections and an idle pool of upstream connections; nothing is shared
 * between workers except the snapshot (immutable, refcounted), the member
 * runtime states (atomics, l7_pool) and the counters (relaxed atomics).
 *
 * A client connection is a small state machine driven by l7_conn_step(),
 * which every I/O event and timer calls: it moves bytes as far as the four
 * fixed-size buffers allow (client in, to upstream, from upstream, client
 * out) and then sets the epoll interest from what it waits for. A side whose
 * destination buffer is full is simply not read: that is the backpressure.
 * Bodies pass through the framing decoder of l7_http1, which says how many
 * bytes belong to the message; they are copied unchanged, never buffered
 * whole.
 *
 * Invariants: at most one request per client connection is in flight, so
 * pipelined requests are answered in order; an upstream connection goes back
 * to the idle pool only after a complete response to a completely sent
 * request with no stray byte after it; while `replayable`, ubuf still holds
 * every request byte sent on the current upstream connection, so a request
 * that meets a stale keep-alive connection is replayed on a fresh one.
 */
#include "config.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "dlist.h"
#include "log.h"
#include "loop.h"
#include "snapshot.h"
#include "l7_alog.h"
#include "l7_freelist.h"
#include "l7_h2.h"
#include "l7_h2sess.h"
#include "l7_h2up.h"
#include "l7_grpc.h"
#include "l7_stats.h"
#include "l7_proxyproto_in.h"
#include "l7_http1.h"
#include "l7_limit.h"
#include "lim_rule.h"
#include "l7_pool.h"
#include "l7_proxy.h"
#include "l7_proxy-t.h"
#include "l7_route.h"
#include "l7_tls.h"
#include "l7_tls_up.h"

static struct l7_worker *l7_workers;
static unsigned l7_nworkers;
static atomic_bool l7_draining;	/* binary upgrade: the new tandemd accepts now */

static inline uint64_t
l7_rng_next(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

/* only the worker writes its stats: load and store, no locked add */
#define STAT_ADD(w, f, v) atomic_store_explicit(&(w)->stats.f, \
		atomic_load_explicit(&(w)->stats.f, memory_order_relaxed) + (v), memory_order_relaxed)
#define STAT_INC(w, f) STAT_ADD(w, f, 1)
#define STAT_DEC(w, f) STAT_ADD(w, f, -1)

static void l7_conn_step(struct l7_conn *c);
static void l7_conn_close(struct l7_conn *c);
static void l7_kick_unqueue(struct l7_conn *c);
static void l7_conn_upstream(struct l7_conn *c);
static void l7_queue_tick(struct loop *l, struct loop_timer *t);
static void l7_conn_closing(struct l7_conn *c);
static void l7_conn_h2_start(struct l7_conn *c);
static void l7_conn_h2_run(struct l7_conn *c, int *progress);
static void l7_conn_log(struct l7_conn *c);
static int l7_conn_log_start(struct l7_conn *c, const char *buf, const struct l7_http1_msg *m);

/* ---- views: a snapshot plus its runtime state map, per worker ---- */

static struct l7_view *
l7_view_new(struct snapshot *s)
{
	struct l7_view *v = calloc(1, sizeof(*v));

	if (v == NULL)
		return NULL;
	v->map = l7_pool_map_new(s->conf);
	v->swrr = calloc(s->conf->npools + 1, sizeof(*v->swrr));
	v->smap = l7_stats_map_new(s->conf);
	if (v->map == NULL || v->swrr == NULL || v->smap == NULL)
		goto fail;
	for (size_t i = 0; i < s->conf->npools; i++) {
		v->swrr[i] = calloc(s->conf->pools[i].nmembers + 1, sizeof(**v->swrr));
		if (v->swrr[i] == NULL)
			goto fail;
	}
	v->snap = s;	/* takes the caller's reference */
	v->refs = 1;
	return v;
fail:
	if (v->swrr != NULL)
		for (size_t i = 0; i < s->conf->npools; i++)
			free(v->swrr[i]);
	free(v->swrr);
	l7_pool_map_free(&v->map);
	l7_stats_map_free(&v->smap);
	free(v);
	return NULL;
}

static void
l7_view_unref(struct l7_view **vp)
{
	struct l7_view *v = *vp;

	*vp = NULL;
	if (v == NULL || --v->refs > 0)
		return;
	for (size_t i = 0; i < v->snap->conf->npools; i++)
		free(v->swrr[i]);
	free(v->swrr);
	l7_pool_map_free(&v->map);
	l7_stats_map_free(&v->smap);
	snapshot_release(&v->snap);
	free(v);
}

static void
l7_free_cb(void *p)
{
	free(p);
}

/* Frees p after this loop pass (another event for it may be pending), or now
 * when the worker is shutting down and the loop no longer runs. pooled: p
 * came from l7_mpool (a stream's request), not malloc. */
static void
l7_free_later_as(struct l7_worker *w, void *p, bool pooled)
{
	void (*fn)(void *) = pooled ? l7_mpool_free : l7_free_cb;

	if (w->stopping) {
		fn(p);
		return;
	}
	/* loop_defer fails only on OOM; leaking one object beats a use-after-free */
	if (loop_defer(w->loop, fn, p) < 0)
		log_warn("worker %u: out of memory deferring a free; leaked %p", w->index, p);
}

static void
l7_free_later(struct l7_worker *w, void *p)
{
	l7_free_later_as(w, p, false);
}

/* ---- upstream connections ---- */

static void
l7_up_close(struct l7_up **upp)
{
	struct l7_up *up = *upp;
	struct l7_worker *w;

	*upp = NULL;
	if (up == NULL)
		return;
	w = up->w;
	if (up->state == L7_UP_IDLE) {
		dlist_remove(&w->idle, &up->ilink);
		w->nidle--;
	}
	loop_timer_cancel(w->loop, &up->timer);
	if (up->sess != NULL) {
		/* a stream: the connection stays for the others */
		l7_h2sess_close(up->sess, &up->st);
	} else {
		loop_io_del(w->loop, &up->io);
		l7_io_free(&up->tio);	/* TLS: close_notify, so the member may keep the session */
		close(up->fd);
	}
	up->magic = 0;
	l7_free_later(w, up);
}

static void
l7_up_idle_timeout(struct loop *l, struct loop_timer *t)
{
	struct l7_up *up = t->data;

	l7_up_close(&up);
}

/* An idle connection that becomes readable was closed by the member or sent
 * something unasked: either way it cannot carry a request. */
static void
l7_up_idle_io(struct l7_up *up)
{
	l7_up_close(&up);
}

static void
l7_up_idle_put(struct l7_worker *w, struct l7_up *up)
{
	struct l7_up *it;
	unsigned n = 0;

	/* count this member's only when the worker holds enough for it to
	 * matter: HTTP/2 fan-out keeps hundreds idle, a scan each was costly */
	if (w->nidle >= L7_UP_IDLE_MAX) {
		DLIST_FOREACH(it, &w->idle, ilink)
			if (it->ms == up->ms)
				n++;
	}
	if (n >= L7_UP_IDLE_MAX || w->stopping ||
	    loop_io_mod(w->loop, &up->io, EPOLLIN) < 0 ||
	    loop_timer_set(w->loop, &up->timer, L7_UP_IDLE_TIMEOUT_MS, l7_up_idle_timeout, up) < 0) {
		l7_up_close(&up);
		return;
	}
	up->state = L7_UP_IDLE;
	up->c = NULL;
	up->reused = true;
	dlist_push_front(&w->idle, &up->ilink);
	w->nidle++;
}

/*
 * Takes the newest idle connection to ms. A connection the member closed
 * while idle is normally gone already (l7_up_idle_io); one whose EOF is
 * still undispatched in this pass is caught here by a MSG_PEEK, but only
 * when peek says so: an idempotent request is replayed on a fresh
 * connection if it meets a stale one (l7_conn_up_broken), which saves a
 * syscall per request on the common path.
 */
static struct l7_up *
l7_up_idle_take(struct l7_worker *w, struct l7_member_state *ms, int peek)
{
	struct dlist_node *n, *next;

	for (n = w->idle.first; n != NULL; n = next) {
		struct l7_up *up = DLIST_ENTRY(n, struct l7_up, ilink);
		char b;
		ssize_t got;

		next = n->next;
		if (up->ms != ms)
			continue;
		dlist_remove(&w->idle, &up->ilink);
		up->state = L7_UP_BUSY;
		w->nidle--;
		loop_timer_cancel(w->loop, &up->timer);
		if (!peek)
			return up;
		/* EOF or stray bytes since it went idle: not reusable */
		got = recv(up->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return up;
		l7_up_close(&up);
	}
	return NULL;
}

/* ---- client connection helpers ---- */

static const struct conf_listener *
l7_conn_listener(const struct l7_conn *c)
{
	return &c->view->snap->conf->listeners[c->lindex];
}

static const struct conf_l7_timeouts *
l7_conn_to(const struct l7_conn *c)
{
	return &l7_conn_listener(c)->l7.timeouts;
}

static void
l7_conn_timeout(struct loop *l, struct loop_timer *t)
{
	struct l7_conn *c = t->data;

	assert(c->magic == L7_CONN_MAGIC);
	if (c->h2 != NULL && c->state != L7_C_CLOSING) {
		/* idle HTTP/2 connection: say GOAWAY, flush it, close */
		l7_h2_conn_goaway(c->h2);
		if (l7_buf_take(&c->w->bufs, &c->obuf) == 0)
			l7_h2_conn_output(c->h2, &c->obuf);
		l7_conn_closing(c);
		l7_conn_step(c);
		return;
	}
	if (c->state == L7_C_HEAD && buf_len(&c->ibuf) > 0 && buf_len(&c->obuf) == 0) {
		/* slow or stuck request head: say so, then close */
		static const char r408[] = "HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain\r\n"
					   "Content-Length: 20\r\nConnection: close\r\n\r\n408 Request Timeout\n";

		log_debug("client=%s: request head timeout", c->peer);
		if (l7_buf_take(&c->w->bufs, &c->obuf) == 0 &&
		    buf_append(&c->obuf, r408, sizeof(r408) - 1) == 0) {
			STAT_INC(c->w, responses[4]);
			/* logged and counted like any answer (slowloris shows) */
			c->route = NULL;
			c->pool = NULL;
			c->reqb.total = 0;
			(void)l7_conn_log_start(c, NULL, NULL);	/* no record (OOM): no log line */
			c->status = 408;
			c->bytes_out = sizeof(r408) - 1;
			l7_conn_log(c);
			c->state = L7_C_CLOSING;
			loop_timer_set(c->w->loop, &c->timer, L7_TIMEOUT_LINGER_MS, l7_conn_timeout, c);
			l7_conn_step(c);
			return;
		}
	}
	l7_conn_close(c);
}

static void
l7_conn_timer(struct l7_conn *c, uint64_t ms)
{
	if (loop_timer_set(c->w->loop, &c->timer, ms, l7_conn_timeout, c) < 0)
		l7_conn_close(c);	/* no timer means no bound on the wait: drop it */
}

/* Waiting for a request: the idle timeout until its first byte, then the
 * head timeout, which keeps running across reads (slowloris). */
static void
l7_conn_wait_head(struct l7_conn *c)
{
	c->state = L7_C_HEAD;
	c->rstate = L7_R_NONE;
	if (buf_len(&c->ibuf) == 0 && c->nreq > 0) {
		c->head_timer = false;
		l7_conn_timer(c, l7_conn_to(c)->client_idle_ms);
	} else {
		c->head_timer = true;
		l7_conn_timer(c, l7_conn_to(c)->client_header_ms);
	}
}

static void
l7_count_status(struct l7_worker *w, int status)
{
	int cls = status / 100;

	if (cls < 1 || cls > 5)
		cls = 0;
	STAT_INC(w, responses[cls]);
}

/* Ends the upstream side of the current exchange; reuse says whether the
 * connection may go back to the idle pool. */
static void
l7_conn_drop_up(struct l7_conn *c, int reuse)
{
	struct l7_up *up = c->up;

	if (up == NULL)
		return;
	c->up = NULL;
	atomic_fetch_sub_explicit(&up->ms->active, 1, memory_order_relaxed);
	up->c = NULL;
	if (reuse && up->sess == NULL)
		l7_up_idle_put(c->w, up);
	else
		l7_up_close(&up);
	/* a slot freed: let queued requests look again after this pass */
	if (!dlist_empty(&c->w->queue) && !c->w->stopping)
		loop_timer_set(c->w->loop, &c->w->qtick, 0, l7_queue_tick, c->w);
}

/* Starts the orderly end: flush obuf, then shut down writing and drain. */
static void
l7_conn_closing(struct l7_conn *c)
{
	c->state = L7_C_CLOSING;
	c->rstate = L7_R_NONE;
	l7_conn_drop_up(c, 0);
	l7_conn_timer(c, l7_conn_to(c)->client_idle_ms);
}

static void l7_queue_remove(struct l7_conn *c);

/* Copies s into out as the inside of a JSON string (", \ and controls
 * escaped), cut to fit; returns the length written. */
static size_t
l7_json_esc(char *out, size_t cap, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	for (i = 0; i < len && o + 7 < cap; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			out[o++] = '\\';
			out[o++] = (char)ch;
		} else if (ch < 0x20 || ch >= 0x7f) {
			out[o++] = '\\';
			out[o++] = 'u';
			out[o++] = '0';
			out[o++] = '0';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		} else {
			out[o++] = (char)ch;
		}
	}
	out[o] = '\0';
	return o;
}

/* Queues the access log line of the request that just ended, when its
 * listener logs and sampling picks it. Never blocks (l7_alog). */
static void
l7_conn_log(struct l7_conn *c)
{
	const struct conf_listener *l;
	char ts[40], host[200], path[520], member[160], rid[90], lim[512];
	struct timespec now;
	struct tm tm;
	uint64_t t = loop_now(c->w->loop);
	size_t cap;
	char *line;
	int n;

	if (!c->log_pending || c->rec == NULL)
		return;
	c->log_pending = false;
	l7_stats_req_end(&c->sr, c->w->index, c->member, c->status, c->msg_head_len + c->reqb.total,
			 c->bytes_out, t - c->t_start);
	l = l7_conn_listener(c);
	if (l->l7.access_log == NULL ||
	    (l->l7.access_log_sample < 100 &&
	     l7_rng_next(&c->w->rng) % 100 >= l->l7.access_log_sample))
		return;
	line = l7_alog_slot(c->w->index, l->l7.access_log, &cap);
	if (line == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	n = (int)strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof(ts) - (size_t)n, ".%03ldZ", now.tv_nsec / 1000000);
	l7_json_esc(host, sizeof(host), c->rec->host, strlen(c->rec->host));
	l7_json_esc(path, sizeof(path), c->rec->path, strlen(c->rec->path));
	l7_json_esc(rid, sizeof(rid), c->rec->rid, strlen(c->rec->rid));
	/* formatted only for lines that are written: most requests are not logged */
	l7_limit_log(c->view->snap->conf->rate_rules, &c->rec->lim, lim, sizeof(lim));
	member[0] = '\0';
	if (c->pool != NULL && c->member >= 0 && (size_t)c->member < c->pool->nmembers)
		l7_json_esc(member, sizeof(member), c->pool->members[c->member].id,
			    strlen(c->pool->members[c->member].id));
	n = snprintf(line, cap, "{\"time\":\"%s\",\"client\":\"%s\",\"listener\":\"%s\","
		     "\"route\":\"%s\",\"host\":\"%s\",\"method\":\"%s\",\"path\":\"%s\","
		     "\"status\":%d,\"bytes_in\":%llu,\"bytes_out\":%llu,\"member\":\"%s\","
		     "\"connect_ms\":%lld,\"first_byte_ms\":%lld,\"total_ms\":%llu,"
		     "\"request_id\":\"%s\"%s}\n",
		     ts, c->client_ip, l->name, c->route ? c->route->name : "", host, c->rec->method,
		     path, c->status,
		     (unsigned long long)(c->msg_head_len + c->reqb.total),
		     (unsigned long long)c->bytes_out, member,
		     c->t_connect ? (long long)(c->t_connect - c->t_start) : -1LL,
		     c->t_first ? (long long)(c->t_first - c->t_start) : -1LL,
		     (unsigned long long)(t - c->t_start), rid, lim);
	if (n < 0 || (size_t)n >= cap) {
		/* cut short: still one valid line, without the long fields */
		snprintf(line, cap, "{\"time\":\"%s\",\"client\":\"%s\",\"listener\":\"%s\","
			 "\"status\":%d,\"truncated\":true}\n", ts, c->client_ip, l->name, c->status);
	}
	l7_alog_commit(c->w->index);
}

/* Starts the access log record of a request (strings copied: the head's
 * buffer is consumed before the request ends). 0, or -1 out of memory. */
static int
l7_conn_log_start(struct l7_conn *c, const char *buf, const struct l7_http1_msg *m)
{
	struct l7_reqrec *rec = c->rec;
	size_t n;

	if (rec == NULL && (rec = c->rec = l7_freelist_get(&c->w->recs)) == NULL)
		return -1;
	c->log_pending = true;
	l7_stats_req_begin(&c->sr, c->w->index, c->view->smap, c->lindex);
	c->t_start = loop_now(c->w->loop);
	c->t_connect = c->t_first = 0;
	c->bytes_out = 0;
	c->status = 0;
	rec->rid[0] = '\0';
	rec->lim.nlog = 0;
	c->msg_head_len = m ? m->head_len : 0;
	if (m == NULL) {
		snprintf(rec->method, sizeof(rec->method), "-");
		snprintf(rec->path, sizeof(rec->path), "-");
		rec->host[0] = '\0';
		return 0;
	}
	n = m->method_s.len < sizeof(rec->method) ? m->method_s.len : sizeof(rec->method) - 1;
	memcpy(rec->method, buf + m->method_s.off, n);
	rec->method[n] = '\0';
	n = m->path.len < sizeof(rec->path) ? m->path.len : sizeof(rec->path) - 1;
	memcpy(rec->path, buf + m->path.off, n);
	rec->path[n] = '\0';
	n = m->authority.len < sizeof(rec->host) ? m->authority.len : sizeof(rec->host) - 1;
	memcpy(rec->host, buf + m->authority.off, n);
	rec->host[n] = '\0';
	return 0;
}

/*
 * Answers the current request ourselves (errors, no route, redirect,
 * respond and deny routes). keep says the request was read whole and the
 * client wants keep-alive, so the connection can carry on; otherwise the
 * answer says Connection: close. extra is more header lines (each ending
 * in CRLF) or NULL; body NULL means "<status> <reason>\n" as text/plain.
 */
static void
l7_conn_respond(struct l7_conn *c, int status, int keep, const char *extra, const char *body,
		size_t blen, const char *ctype)
{
	const char *reason = l7_http1_reason(status);
	char dflt[64];

	if (c->w->stopping || c->last_request)
		keep = 0;
	if (l7_buf_take(&c->w->bufs, &c->obuf) < 0) {
		STAT_INC(c->w, dropped_oom);
		l7_conn_close(c);
		return;
	}
	l7_queue_remove(c);
	l7_conn_drop_up(c, 0);
	c->ubuf.rpos = c->ubuf.wpos = 0;
	c->usent = 0;
	c->rbuf.rpos = c->rbuf.wpos = 0;
	if (body == NULL) {
		snprintf(dflt, sizeof(dflt), "%d %s\n", status, reason);
		body = dflt;
		blen = strlen(dflt);
		ctype = "text/plain";
	}
	if (c->grpc && status >= 300) {
		/* a gRPC client reads grpc-status, not the HTTP status */
		if (l7_grpc_answer(&c->obuf, status, extra) < 0) {
			l7_conn_close(c);
			return;
		}
	} else if (buf_appendf(&c->obuf, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
			"Content-Length: %zu\r\n%s%s\r\n", status, reason, ctype, blen,
			extra ? extra : "",
			keep ? (c->req_minor == 0 ? "Connection: keep-alive\r\n" : "")
			     : "Connection: close\r\n") < 0 ||
	    (c->req_method != L7_HTTP1_M_HEAD && buf_append(&c->obuf, body, blen) < 0)) {
		l7_conn_close(c);	/* client not reading its earlier answers */
		return;
	}
	l7_count_status(c->w, status);
	c->resp_started = true;
	c->status = status;
	c->bytes_out = buf_len(&c->obuf);
	l7_conn_log(c);
	if (keep)
		l7_conn_wait_head(c);
	else
		l7_conn_closing(c);
}

static void
l7_conn_reply(struct l7_conn *c, int status, int keep)
{
	l7_conn_respond(c, status, keep, NULL, NULL, 0, NULL);
}

/* Something broke during an exchange: answer status if no response head
 * went out yet, else cut the connection (the client sees a short body). */
static void
l7_conn_fail(struct l7_conn *c, int status)
{
	if (c->resp_started || c->closed)
		l7_conn_close(c);
	else
		l7_conn_reply(c, status, 0);
}

/* Frees the buffers and the connection; safe to call twice. */
static void
l7_conn_close(struct l7_conn *c)
{
	struct l7_worker *w = c->w;

	if (c->closed)
		return;
	c->closed = true;
	l7_queue_remove(c);
	l7_conn_drop_up(c, 0);
	loop_timer_cancel(w->loop, &c->timer);
	l7_kick_unqueue(c);
	loop_timer_cancel(w->loop, &c->tarpit);
	l7_h2_conn_free(&c->h2);
	if (c->h2s != NULL)	/* clean: the response was handed over whole */
		l7_h2_stream_gone(&c->h2s, c->resp_started && buf_len(&c->obuf) == 0 &&
				   (c->state == L7_C_CLOSING || c->state == L7_C_HEAD));
	if (!c->stream) {
		loop_io_del(w->loop, &c->io);
		l7_io_free(&c->tio);	/* close_notify first, so the session stays resumable */
		close(c->fd);
	}
	free(c->client_subject);
	dlist_remove(&w->conns, &c->link);
	l7_buf_give(&w->bufs, &c->ibuf);
	l7_buf_give(&w->bufs, &c->obuf);
	l7_buf_give(&w->bufs, &c->ubuf);
	l7_buf_give(&w->bufs, &c->rbuf);
	l7_freelist_put(&w->recs, c->rec);
	c->rec = NULL;
	/* the gauge: a close can come outside a step (hang-up, timer, a
	 * stream detached by its carrier) */
	atomic_store_explicit(&w->stats.io_buffers, w->bufs.in_use, memory_order_relaxed);
	if (!c->stream) {	/* a stream is not a connection of its own */
		atomic_fetch_sub_explicit(&c->ls->conns, 1, memory_order_relaxed);
		STAT_DEC(w, active);
	}
	l7_stats_conn_close(&c->sr, w->index);
	l7_view_unref(&c->view);
	c->magic = 0;
	l7_free_later_as(w, c, c->stream);
}

/* ---- upstream connect and its outcome ---- */

static void l7_up_io(struct loop *l, struct loop_io *io, uint32_t events);

static void
l7_up_timeout(struct loop *l, struct loop_timer *t)
{
	struct l7_up *up = t->data;
	struct l7_conn *c = up->c;

	assert(up->magic == L7_UP_MAGIC && c != NULL);
	STAT_INC(c->w, upstream_errors);
	if (up->state == L7_UP_CONNECTING || up->state == L7_UP_TLS) {
		l7_pool_connect_result(up->ms, c->pool, 0, loop_now(l), up->state == L7_UP_TLS ?
				       "TLS handshake timeout" : "connect timeout");
		l7_conn_drop_up(c, 0);
		l7_conn_upstream(c);
	} else {
		log_info("client=%s member=%s: upstream response timeout", c->peer, up->ms->id);
		l7_conn_fail(c, 504);
	}
	if (!c->closed)
		l7_conn_step(c);
}

static void
l7_up_arm(struct l7_up *up, uint64_t ms)
{
	const struct l7_conn *c = up->c;

	if (c != NULL && c->deadline != 0) {
		uint64_t now = loop_now(up->w->loop);

		ms = c->deadline <= now ? 1 : (c->deadline - now < ms ? c->deadline - now : ms);
	}
	if (loop_timer_set(up->w->loop, &up->timer, ms, l7_up_timeout, up) < 0 && up->c != NULL)
		l7_conn_fail(up->c, 502);
}

/* TLS pools: the client side of the member's TLS (l7_tls_up) on up's fd,
 * plain otherwise. A connection that is up already starts its handshake.
 * 0, or -1 on OOM. */
static int
l7_up_tls_init(struct l7_conn *c, struct l7_up *up, const struct conf_member *m)
{
	struct l7_tls_up *u = c->view->snap->uptls != NULL ? c->view->snap->uptls[c->pool->index] : NULL;
	struct l7_tls_conn *t = NULL;

	if (u != NULL && (t = l7_tls_up_conn_new(u, up->fd, (size_t)(m - c->pool->members),
						 m->address)) == NULL)
		return -1;
	l7_io_init_conn(&up->tio, up->fd, t);
	if (t != NULL && up->state == L7_UP_BUSY)
		up->state = L7_UP_TLS;
	return 0;
}

/* Drives a member's TLS handshake; once done the request may go out. A
 * certificate that does not verify answers 502 with the reason in the log:
 * the configuration's or the member's identity is wrong, and every retry
 * would meet it again. Any other failure (reset, no common protocol) counts
 * as a failed connect: the member is reported and another one tried. */
static void
l7_up_tls_handshake(struct l7_conn *c, struct l7_up *up)
{
	char why[256];
	int r = l7_io_handshake(&up->tio);

	if (r == 0)
		return;
	if (r > 0) {
		up->state = L7_UP_BUSY;
		c->rstate = L7_R_HEAD;
		up->wready = true;
		l7_up_arm(up, l7_conn_to(c)->response_ms);
		return;
	}
	STAT_INC(c->w, upstream_errors);
	if (!l7_tls_up_why(up->tio.tls, why, sizeof(why))) {
		l7_pool_connect_result(up->ms, c->pool, 0, loop_now(c->w->loop), why);
		l7_conn_drop_up(c, 0);
		l7_conn_upstream(c);
		return;
	}
	log_warn("client=%s member=%s: upstream %s", c->peer, up->ms->id, why);
	l7_conn_fail(c, 502);
}

/* HTTP/2 pools: a stream on a connection to member m that has room, or
 * on a new one (l7_h2sess). Like l7_up_connect. */
static struct l7_up *
l7_up_h2_attach(struct l7_conn *c, const struct conf_member *m, struct l7_member_state *ms,
		int *oom)
{
	struct l7_worker *w = c->w;
	struct l7_h2sess *s = c->fresh_only ? NULL : l7_h2sess_find(&w->h2s, c->view->snap, ms);
	struct l7_up *up;
	int fresh = s == NULL;

	*oom = 0;
	if (s == NULL) {
		STAT_INC(w, upstream_connects);
		s = l7_h2sess_connect(&w->h2s, c->view->snap, c->pool->index,
				      (size_t)(m - c->pool->members), ms, oom);
		if (s == NULL) {
			if (!*oom)
				STAT_INC(w, upstream_errors);
			return NULL;
		}
	}
	if (!fresh)
		STAT_INC(w, upstream_reuses);	/* a stream on an open connection */
	up = calloc(1, sizeof(*up));
	if (up == NULL || (up->st = l7_h2sess_open(s, up)) == NULL) {
		free(up);
		*oom = 1;
		return NULL;
	}
	up->magic = L7_UP_MAGIC;
	up->w = w;
	up->ms = ms;
	up->fd = -1;
	up->io.fd = -1;		/* the session watches the socket */
	up->sess = s;
	up->reused = !fresh && l7_h2sess_used(s);
	up->state = l7_h2sess_state(s) == L7_H2SESS_READY ? L7_UP_BUSY : L7_UP_CONNECTING;
	return up;
}

/* Opens a connection to member m. Returns the connection (connected or in
 * progress), or NULL: *oom says whether memory ran out (else the member
 * refused and was reported down). */
static struct l7_up *
l7_up_connect(struct l7_conn *c, const struct conf_member *m, struct l7_member_state *ms,
	      int *oom)
{
	struct l7_worker *w = c->w;
	struct l7_up *up = NULL;
	int fd, one = 1, rc;

	if (c->pool->l7.upstream_h2)
		return l7_up_h2_attach(c, m, ms, oom);
	*oom = 0;
	fd = socket(m->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*oom = 1;	/* fd or memory exhaustion here is ours, not the member's */
		return NULL;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	STAT_INC(w, upstream_connects);
	rc = connect(fd, (const struct sockaddr *)&m->sa, m->salen);
	if (rc < 0 && errno != EINPROGRESS) {
		char why[96];

		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		close(fd);
		STAT_INC(w, upstream_errors);
		l7_pool_connect_result(ms, c->pool, 0, loop_now(w->loop), why);
		return NULL;
	}
	up = calloc(1, sizeof(*up));
	if (up == NULL)
		goto oom;
	up->magic = L7_UP_MAGIC;
	up->w = w;
	up->ms = ms;
	up->fd = fd;
	up->state = rc == 0 ? L7_UP_BUSY : L7_UP_CONNECTING;
	if (l7_up_tls_init(c, up, m) < 0)
		goto oom;
	if (loop_io_add(w->loop, &up->io, fd, EPOLLOUT, l7_up_io, up) < 0)
		goto oom;	/* not registered: nothing to remove */
	if (rc == 0) {
		l7_pool_connect_result(ms, c->pool, 1, loop_now(w->loop), NULL);
		up->wready = true;
	}
	return up;
oom:
	if (up != NULL)
		l7_io_free(&up->tio);
	free(up);
	close(fd);
	*oom = 1;
	return NULL;
}

/* The address the client connected to, read once (only PROXY headers use
 * it, so accept does not pay a getsockname for every connection). */
static void
l7_conn_local_addr(struct l7_conn *c)
{
	struct sockaddr_storage ls;
	socklen_t lsl = sizeof(ls);

	if (c->local_port != 0 || getsockname(c->fd, (struct sockaddr *)&ls, &lsl) < 0)
		return;
	if (ls.ss_family == AF_INET) {
		c->local[10] = c->local[11] = 0xff;
		memcpy(c->local + 12, &((struct sockaddr_in *)&ls)->sin_addr, 4);
		c->local_port = ntohs(((struct sockaddr_in *)&ls)->sin_port);
	} else if (ls.ss_family == AF_INET6) {
		memcpy(c->local, &((struct sockaddr_in6 *)&ls)->sin6_addr, 16);
		c->local_port = ntohs(((struct sockaddr_in6 *)&ls)->sin6_port);
	}
}

/* ---- upstream I/O: plain, TLS, or a stream of an HTTP/2 session ---- */

/* Like send(2) (errno set on -1): request bytes to the member. */
static ssize_t
l7_up_send(struct l7_up *up, const char *p, size_t len)
{
	ssize_t n;

	if (up->sess != NULL) {
		/* the frames leave at the end of the loop pass, with other
		 * streams'; when the stream is full, what it holds may leave
		 * now and make room, so that "not now" means the member's
		 * window is shut (its WINDOW_UPDATE wakes us) */
		n = l7_h2up_take(up->st, p, len);
		if (n == 0 && l7_h2sess_flush_now(up->sess) == 0)
			n = l7_h2up_take(up->st, p, len);
		if (l7_h2sess_flush(up->sess) < 0 || n < 0) {
			errno = EPROTO;
			return -1;
		}
		if (n == 0)
			errno = EAGAIN;	/* flow control: the session wakes us */
		return n > 0 ? n : -1;
	}
	if (up->tio.tls != NULL) {
		n = l7_io_send(&up->tio, p, len);
		if (n < 0)
			errno = (int)-n;
		return n < 0 ? -1 : n;
	}
	do
		n = send(up->fd, p, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n;
}

/* TLS: reads records until the socket or rb runs dry, so that a short read
 * means "wait for epoll" as it does for a plain socket (a record held
 * inside OpenSSL would raise no event). Like buf_read_fd. */
static ssize_t
l7_up_tls_recv(struct l7_up *up, struct buf *rb)
{
	ssize_t n, total = 0;

	do {
		n = l7_io_read_buf(&up->tio, rb);
		if (n > 0)
			total += n;
	} while (n > 0 && buf_room(rb) > 0);
	return total > 0 ? total : n;
}

/* Like buf_read_fd (0 EOF, -errno): response bytes from the member. An
 * HTTP/2 stream hands on what its session decoded (the session reads the
 * socket); -EAGAIN until it wakes us again. */
static ssize_t
l7_up_recv(struct l7_up *up, struct buf *rb)
{
	ssize_t n;

	if (up->sess == NULL)
		return up->tio.tls != NULL ? l7_up_tls_recv(up, rb) : buf_read_fd(rb, up->fd);
	if (buf_room(rb) < 64)
		buf_compact(rb);
	if (buf_room(rb) < 64)
		return -ENOSPC;	/* decoded bytes may wait here: keep rready */
	n = l7_h2up_response(up->st, rb);
	if (n > 0)
		l7_h2sess_flush(up->sess);	/* WINDOW_UPDATE for what we took */
	if (n < 0)
		return -ECONNRESET;
	return n > 0 ? n : -EAGAIN;
}

/* A stream's session has news for it (l7_h2sess wake): the connection is
 * up or failed, response bytes came, the request may go on. */
static void
l7_up_h2_wake(void *owner)
{
	struct l7_up *up = owner;
	struct l7_conn *c = up->c;

	assert(up->magic == L7_UP_MAGIC);
	if (c == NULL)
		return;
	if (up->state == L7_UP_CONNECTING) {
		enum l7_h2sess_state st = l7_h2sess_state(up->sess);

		if (st == L7_H2SESS_CONNECTING)
			return;
		if (st == L7_H2SESS_DEAD) {
			/* the connection failed before the request went out (the
			 * session reported it): another member */
			STAT_INC(c->w, upstream_errors);
			l7_conn_drop_up(c, 0);
			l7_conn_upstream(c);
			if (!c->closed)
				l7_conn_step(c);
			return;
		}
		up->state = L7_UP_BUSY;
		c->t_connect = loop_now(c->w->loop);
		c->rstate = L7_R_HEAD;
		l7_up_arm(up, l7_conn_to(c)->response_ms);
	}
	if (l7_h2up_refused(up->st) && c->replayable && c->replays < 2 && buf_len(&c->rbuf) == 0) {
		/* refused or above the member's GOAWAY: never processed, so it
		 * may go again, on another connection */
		log_debug("client=%s member=%s: stream refused, sending again", c->peer, up->ms->id);
		c->replays++;
		c->usent = 0;
		if (c->member < 64)
			c->tried &= ~(1ull << c->member);
		l7_conn_drop_up(c, 0);
		l7_conn_upstream(c);
		if (!c->closed)
			l7_conn_step(c);
		return;
	}
	up->rready = up->wready = true;
	l7_conn_step(c);
}

/* Puts the PROXY protocol header (the pool's version) in front of what ubuf
 * holds, once per request: a replay or a retry on a fresh connection sends
 * it again with the request. 0, or -1 when ubuf has no room. */
static int
l7_conn_proxy_header(struct l7_conn *c)
{
	static const uint8_t sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51,
					 0x55, 0x49, 0x54, 0x0a };
	static const uint8_t v4map[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	char h[128], la[INET6_ADDRSTRLEN];
	struct buf *b = &c->ubuf;
	size_t n;
	int v4;

	l7_conn_local_addr(c);
	v4 = memcmp(c->client, v4map, 12) == 0 && memcmp(c->local, v4map, 12) == 0;

	if (c->pool->l7.proxy_protocol == 1) {
		if (v4)
			inet_ntop(AF_INET, c->local + 12, la, sizeof(la));
		else
			inet_ntop(AF_INET6, c->local, la, sizeof(la));
		n = (size_t)snprintf(h, sizeof(h), "PROXY %s %s %s %u %u\r\n", v4 ? "TCP4" : "TCP6",
				     c->client_ip, la, c->client_port, c->local_port);
	} else {
		memcpy(h, sig, 12);
		h[12] = 0x21;			/* version 2, PROXY */
		h[13] = v4 ? 0x11 : 0x21;	/* TCP over IPv4 / IPv6 */
		h[14] = 0;
		h[15] = v4 ? 12 : 36;
		n = 16;
		memcpy(h + n, v4 ? c->client + 12 : c->client, v4 ? 4 : 16);
		n += v4 ? 4 : 16;
		memcpy(h + n, v4 ? c->local + 12 : c->local, v4 ? 4 : 16);
		n += v4 ? 4 : 16;
		h[n++] = (char)(c->client_port >> 8);
		h[n++] = (char)(c->client_port & 0xff);
		h[n++] = (char)(c->local_port >> 8);
		h[n++] = (char)(c->local_port & 0xff);
	}
	buf_compact(b);
	if (b->cap - b->wpos < n)
		return -1;
	memmove(b->data + n, b->data, b->wpos);
	memcpy(b->data, h, n);
	b->wpos += n;
	c->pp_in_ubuf = true;
	return 0;
}

/* ---- the per-worker queue of requests waiting for a member slot ---- */

/* Waiting in the worker's queue for a member slot? */
static bool
l7_conn_queued(const struct l7_conn *c)
{
	return dlist_linked(&c->w->queue, &c->qlink);
}

static void
l7_queue_remove(struct l7_conn *c)
{
	if (l7_conn_queued(c))
		dlist_remove(&c->w->queue, &c->qlink);
}

static void
l7_queue_timeout(struct loop *l, struct loop_timer *t)
{
	struct l7_conn *c = t->data;

	(void)l;
	assert(c->magic == L7_CONN_MAGIC);
	STAT_INC(c->w, queue_timeouts);
	log_info("client=%s pool=%s: queue timeout, every member is at its connection limit",
		 c->peer, c->pool->name);
	l7_conn_reply(c, 503, c->req_done && c->req_keepalive);
	if (!c->closed)
		l7_conn_step(c);
}

/* Re-tries queued requests in arrival order; stops at the first that must
 * go on waiting, so the queue stays FIFO per worker. */
static void
l7_queue_run(struct l7_worker *w)
{
	while (!dlist_empty(&w->queue)) {
		struct l7_conn *c = DLIST_ENTRY(w->queue.first, struct l7_conn, qlink);

		l7_conn_upstream(c);
		if (l7_conn_queued(c))
			break;	/* still full: it keeps its place */
		if (!c->closed)
			l7_conn_step(c);
	}
}

static void
l7_queue_tick(struct loop *l, struct loop_timer *t)
{
	struct l7_worker *w = t->data;

	(void)l;
	l7_queue_run(w);
	/* slots freed by other workers are only seen by looking again */
	if (!dlist_empty(&w->queue))
		loop_timer_set(w->loop, &w->qtick, L7_QUEUE_TICK_MS, l7_queue_tick, w);
}

/* Takes one of the member's request slots (max 0: unlimited); 0 when the
 * slots are all taken. The choice only read the count: two workers may pick
 * the same member with one slot left, and only one of them may have it. */
static int
l7_member_reserve(struct l7_member_state *ms, unsigned max)
{
	unsigned cur = atomic_load_explicit(&ms->active, memory_order_relaxed);

	do {
		if (max > 0 && cur >= max)
			return 0;
	} while (!atomic_compare_exchange_weak_explicit(&ms->active, &cur, cur + 1,
							memory_order_relaxed, memory_order_relaxed));
	return 1;
}

/* Queues c when its pool allows; 0, or -1 when the queue is full. */
static int
l7_queue_add(struct l7_conn *c)
{
	struct l7_worker *w = c->w;
	struct l7_conn *it;
	unsigned n = 0;

	DLIST_FOREACH(it, &w->queue, qlink)
		if (it->pool == c->pool)
			n++;
	if (n >= c->pool->l7.queue_size)
		return -1;
	if (loop_timer_set(w->loop, &c->timer, c->pool->l7.queue_timeout_ms, l7_queue_timeout, c) < 0)
		return -1;
	if (!loop_timer_armed(&w->qtick))
		loop_timer_set(w->loop, &w->qtick, L7_QUEUE_TICK_MS, l7_queue_tick, w);
	STAT_INC(w, queued);
	dlist_push_back(&w->queue, &c->qlink);
	return 0;
}

/* Finds a member for the current request and attaches a connection to it:
 * an idle one, else a new one; members that refuse are skipped. Waits in
 * the queue when every member is at its connection limit; ends in a 503
 * when no member is left or the queue is full. */
static void
l7_conn_upstream(struct l7_conn *c)
{
	struct l7_worker *w = c->w;
	const struct conf_pool *pool = c->pool;

	for (;;) {
		struct l7_member_state *ms;
		struct l7_up *up;
		int idx, oom;

		c->pick.tried = c->tried;
		c->pick.now_ms = loop_now(w->loop);
		idx = l7_pool_choose(c->view->map, pool, &c->pick);
		if (idx == L7_PICK_FULL && (l7_conn_queued(c) || l7_queue_add(c) == 0)) {
			log_debug("client=%s pool=%s: every member full, queued", c->peer, pool->name);
			return;
		}
		if (idx < 0) {
			log_debug("client=%s pool=%s: no member available", c->peer, pool->name);
			l7_conn_reply(c, 503, c->req_done && c->req_keepalive);
			return;
		}
		ms = c->view->map->members[pool->index][idx];
		if (!l7_member_reserve(ms, pool->l7.max_conns_per_member)) {
			/* another worker took the last slot since the choice */
			if (l7_conn_queued(c) || l7_queue_add(c) == 0)
				return;
			l7_conn_reply(c, 503, c->req_done && c->req_keepalive);
			return;
		}
		if (l7_conn_queued(c)) {
			l7_queue_remove(c);
			loop_timer_cancel(w->loop, &c->timer);
		}
		/* members past 64 are not remembered; a refusal marks them down,
		 * which keeps this loop finite all the same */
		if (idx < 64)
			c->tried |= 1ull << idx;
		c->member = idx;
		/* a PROXY header names one client: such connections are never shared */
		up = c->fresh_only || pool->l7.proxy_protocol || pool->l7.upstream_h2 ? NULL
		     : l7_up_idle_take(w, ms, !(c->idempotent && c->replayable));
		if (up != NULL) {
			STAT_INC(w, upstream_reuses);
		} else {
			up = l7_up_connect(c, &pool->members[idx], ms, &oom);
			if (up == NULL)	/* the slot goes back: no request went out */
				atomic_fetch_sub_explicit(&ms->active, 1, memory_order_relaxed);
			if (up == NULL && oom) {
				STAT_INC(w, dropped_oom);
				l7_conn_fail(c, 503);
				return;
			}
			if (up == NULL)
				continue;
			if (pool->l7.proxy_protocol && !c->pp_in_ubuf && l7_conn_proxy_header(c) < 0) {
				l7_up_close(&up);
				atomic_fetch_sub_explicit(&ms->active, 1, memory_order_relaxed);
				l7_conn_fail(c, 502);
				return;
			}
		}
		up->c = c;
		c->up = up;
		if (up->state != L7_UP_CONNECTING)
			c->t_connect = loop_now(w->loop);
		atomic_fetch_add_explicit(&ms->requests, 1, memory_order_relaxed);	/* active: reserved above */
		up->rready = false;
		up->eof = false;
		up->wr_dead = false;
		if (up->state == L7_UP_CONNECTING || up->state == L7_UP_TLS) {
			c->rstate = L7_R_CONNECTING;
			l7_up_arm(up, l7_conn_to(c)->connect_ms);
		} else {
			/* nothing to read before the request is sent: epoll says when */
			c->rstate = L7_R_HEAD;
			up->wready = true;
			l7_up_arm(up, l7_conn_to(c)->response_ms);
		}
		return;
	}
}

/*
 * The upstream connection broke before a response head: replay on a fresh
 * connection when it was a reused one that may simply have timed out on the
 * member's side (idempotent requests whose bytes we still hold, once), else
 * answer 502.
 */
static void
l7_conn_up_broken(struct l7_conn *c, const char *why)
{
	struct l7_up *up = c->up;
	/* an HTTP/2 stream the member reset was processed there: no replay
	 * unless its whole connection died */
	bool conn_died = up == NULL || up->sess == NULL ||
			 l7_h2sess_state(up->sess) == L7_H2SESS_DEAD;

	STAT_INC(c->w, upstream_errors);
	if (up != NULL && up->reused && conn_died && c->replayable && c->idempotent && c->replays == 0 &&
	    buf_len(&c->rbuf) == 0) {
		log_debug("client=%s member=%s: reused connection %s, replaying", c->peer,
			  up->ms->id, why);
		c->replays++;
		c->fresh_only = true;	/* the replay must not meet another stale one */
		c->usent = 0;
		if (c->member < 64)
			c->tried &= ~(1ull << c->member);
		l7_conn_drop_up(c, 0);
		l7_conn_upstream(c);
		return;
	}
	/* A fresh connection reset before any response byte: the member may
	 * be dying. An idempotent request whose bytes we still hold goes once
	 * to another member, within the pool's retry budget. */
	if (up != NULL && conn_died && c->replayable && c->idempotent && !c->retried &&
	    buf_len(&c->rbuf) == 0 && c->pool != NULL &&
	    l7_pool_retry_take(c->view->map->pools[c->pool->index], c->pool)) {
		log_info("client=%s member=%s: upstream %s, retrying on another member", c->peer,
			 up->ms->id, why);
		STAT_INC(c->w, retries);
		c->retried = true;
		c->usent = 0;
		l7_conn_drop_up(c, 0);
		l7_conn_upstream(c);
		return;
	}
	log_info("client=%s member=%s: upstream %s", c->peer, up ? up->ms->id : "-", why);
	l7_conn_fail(c, 502);
}

static void
l7_up_io(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct l7_up *up = io->data;
	struct l7_conn *c = up->c;
	bool connected = false;

	assert(up->magic == L7_UP_MAGIC);
	if (up->state == L7_UP_IDLE) {
		l7_up_idle_io(up);
		return;
	}
	assert(c != NULL && c->magic == L7_CONN_MAGIC);
	if (up->state == L7_UP_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);

		connected = true;
		if (getsockopt(up->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err != 0) {
			char why[96];

			snprintf(why, sizeof(why), "connect: %s", strerror(err));
			STAT_INC(c->w, upstream_errors);
			l7_pool_connect_result(up->ms, c->pool, 0, loop_now(l), why);
			l7_conn_drop_up(c, 0);
			l7_conn_upstream(c);
			if (!c->closed)
				l7_conn_step(c);
			return;
		}
		l7_pool_connect_result(up->ms, c->pool, 1, loop_now(l), NULL);
		c->t_connect = loop_now(l);
		up->state = up->tio.tls != NULL ? L7_UP_TLS : L7_UP_BUSY;
		if (up->state == L7_UP_BUSY) {
			c->rstate = L7_R_HEAD;
			up->wready = true;
			l7_up_arm(up, l7_conn_to(up->c)->response_ms);
		}
	}
	if (up->state == L7_UP_TLS) {
		l7_up_tls_handshake(c, up);
		if (c->closed)
			return;
	} else if (!connected) {
		bool rr = false, wr = false;

		l7_io_ready(&up->tio, events, &rr, &wr);
		if (rr || (events & (EPOLLHUP | EPOLLERR)))
			up->rready = true;
		if (wr || (events & (EPOLLHUP | EPOLLERR)))
			up->wready = true;
		/* HUP fires whatever the interest: stop watching and let the reads
		 * and writes of the next steps see the EOF or error; what the member
		 * sent before is still read out as the client drains. */
		if (events & (EPOLLHUP | EPOLLERR))
			loop_io_del(l, &up->io);
	}
	l7_conn_step(c);
}

/* ---- request side ---- */

static int
l7_is_hop_by_hop(const char *buf, const struct l7_http1_msg *m, const struct l7_http1_header *h)
{
	return l7_http1_span_eq(buf, h->name, "connection") ||
	       l7_http1_span_eq(buf, h->name, "keep-alive") ||
	       l7_http1_span_eq(buf, h->name, "proxy-connection") ||
	       l7_http1_span_eq(buf, h->name, "te") ||
	       l7_http1_span_eq(buf, h->name, "upgrade") ||
	       l7_http1_conn_lists(buf, m, h);
}

static int
l7_append_field(struct buf *b, const char *buf, const struct l7_http1_header *h)
{
	if (buf_append(b, buf + h->name.off, h->name.len) < 0 ||
	    buf_append(b, ": ", 2) < 0 ||
	    buf_append(b, buf + h->value.off, h->value.len) < 0 ||
	    buf_append(b, "\r\n", 2) < 0)
		return -1;
	return 0;
}

/* Whether a header op list names field h (REMOVE or SET replace it). */
static int
l7_hdr_ops_drop(const struct conf_hdr_ops *ops, const char *buf, const struct l7_http1_header *h)
{
	size_t i;

	for (i = 0; i < ops->n; i++)
		if (ops->v[i].op != CONF_HDR_ADD && h->name.len == ops->v[i].name_len &&
		    strncasecmp(buf + h->name.off, ops->v[i].name, h->name.len) == 0)
			return 1;
	return 0;
}

static int
l7_hdr_ops_append(struct buf *b, const struct conf_hdr_ops *ops)
{
	size_t i;

	for (i = 0; i < ops->n; i++)
		if (ops->v[i].op != CONF_HDR_REMOVE &&
		    buf_appendf(b, "%s: %s\r\n", ops->v[i].name, ops->v[i].value) < 0)
			return -1;
	return 0;
}

static size_t
l7_hdr_ops_size(const struct conf_hdr_ops *ops)
{
	size_t i, n = 0;

	for (i = 0; i < ops->n; i++)
		n += ops->v[i].name_len + ops->v[i].value_len + 4;
	return n;
}

static const struct l7_http1_header *
l7_find_header(const char *buf, const struct l7_http1_msg *m, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < m->nheaders; i++)
		if (m->headers[i].name.len == len &&
		    strncasecmp(buf + m->headers[i].name.off, name, len) == 0)
			return &m->headers[i];
	return NULL;
}

/* Finds cookie name in the Cookie fields of m; *vlen gets the value length. */
static const char *
l7_find_cookie(const char *buf, const struct l7_http1_msg *m, const char *name, size_t nlen,
	       size_t *vlen)
{
	size_t i;

	for (i = 0; i < m->nheaders; i++) {
		const struct l7_http1_header *h = &m->headers[i];
		const char *p, *end;

		if (!l7_http1_span_eq(buf, h->name, "cookie"))
			continue;
		p = buf + h->value.off;
		end = p + h->value.len;
		while (p < end) {
			const char *semi = memchr(p, ';', (size_t)(end - p)), *e = semi ? semi : end;
			const char *eq;

			while (p < e && (*p == ' ' || *p == '\t'))
				p++;
			eq = memchr(p, '=', (size_t)(e - p));
			if (eq != NULL && (size_t)(eq - p) == nlen && memcmp(p, name, nlen) == 0) {
				*vlen = (size_t)(e - eq - 1);
				return eq + 1;
			}
			p = e + 1;
		}
	}
	return NULL;
}

/* Whether the client came over TLS (an HTTP/2 stream: its connection did). */
static int
l7_conn_https(const struct l7_conn *c)
{
	return c->stream ? c->via_tls : l7_io_is_tls(&c->tio);
}

/* Whether the client may hand us forwarding headers and a request id. */
static int
l7_conn_trusted(const struct l7_conn *c)
{
	return conf_cidr_contains(&l7_conn_listener(c)->l7.trusted, c->client);
}

static int
l7_is_forwarding(const char *buf, const struct l7_http1_header *h)
{
	return l7_http1_span_eq(buf, h->name, "x-forwarded-for") ||
	       l7_http1_span_eq(buf, h->name, "x-forwarded-proto") ||
	       l7_http1_span_eq(buf, h->name, "x-forwarded-host") ||
	       l7_http1_span_eq(buf, h->name, "forwarded");
}

/*
 * Writes the request head we send upstream into ubuf: origin-form target
 * (with the route's prefix rewrite), hop-by-hop fields removed, framing
 * fields (CL, TE) untouched, the route's request header edits, forwarding
 * headers and the request id.
 */
static int
l7_conn_write_req_head(struct l7_conn *c, const char *buf, const struct conf_route *r)
{
	const struct l7_http1_msg *m = &c->w->msg;
	const struct conf_l7_listener *ll = &l7_conn_listener(c)->l7;
	const struct conf_hdr_ops *ops = &r->l7.req_headers;
	struct buf *b = &c->ubuf;
	int abs_form = buf[m->target.off] != '/' && buf[m->target.off] != '*';
	int trusted = l7_conn_trusted(c);
	const struct l7_http1_header *xff = NULL, *rid = NULL;
	size_t i;

	if (buf_append(b, buf + m->method_s.off, m->method_s.len) < 0 || buf_append(b, " ", 1) < 0)
		return -1;
	if (abs_form && m->path.len == 0) {
		if (buf_append(b, r->l7.rewrite_prefix ? r->l7.rewrite_prefix : "/",
			       r->l7.rewrite_prefix ? r->l7.rewrite_prefix_len : 1) < 0)
			return -1;
	} else if (r->l7.rewrite_prefix != NULL && m->path.len >= r->path_prefix_len) {
		/* "/api" -> "/v2": "/api/x?q" becomes "/v2/x?q"; never "//" */
		const char *rest = buf + m->path.off + r->path_prefix_len;
		size_t rlen = m->path.len - r->path_prefix_len;

		if (buf_append(b, r->l7.rewrite_prefix, r->l7.rewrite_prefix_len) < 0)
			return -1;
		if (rlen > 0 && rest[0] == '/' && r->l7.rewrite_prefix[r->l7.rewrite_prefix_len - 1] == '/') {
			rest++;
			rlen--;
		}
		if (rlen > 0 && buf_append(b, rest, rlen) < 0)
			return -1;
	} else if (buf_append(b, buf + m->path.off, m->path.len) < 0) {
		return -1;
	}
	/* A 1.0 client cannot read chunked: ask the member for 1.0 as well. */
	if (buf_append(b, m->version_minor ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n", 11) < 0)
		return -1;
	if (abs_form && buf_appendf(b, "Host: %.*s\r\n", (int)m->authority.len,
				    buf + m->authority.off) < 0)
		return -1;
	for (i = 0; i < m->nheaders; i++) {
		const struct l7_http1_header *h = &m->headers[i];

		if (l7_is_hop_by_hop(buf, m, h)) {
			/* an Upgrade request keeps its Upgrade field (and gets
			 * "Connection: Upgrade" below); other hop-by-hop go */
			if (c->upgrade && l7_http1_span_eq(buf, h->name, "upgrade") &&
			    l7_append_field(b, buf, h) < 0)
				return -1;
			continue;
		}
		if (abs_form && l7_http1_span_eq(buf, h->name, "host"))
			continue;
		if (ops->n > 0 && l7_hdr_ops_drop(ops, buf, h))
			continue;
		if (ll->tls.client_header != NULL && h->name.len == strlen(ll->tls.client_header) &&
		    strncasecmp(buf + h->name.off, ll->tls.client_header, h->name.len) == 0)
			continue;	/* only we say who the client certificate names */
		if (ll->request_id != NULL && h->name.len == ll->request_id_len &&
		    strncasecmp(buf + h->name.off, ll->request_id, h->name.len) == 0) {
			if (trusted && rid == NULL)
				rid = h;	/* kept from a trusted source, sent below */
			continue;
		}
		if (l7_is_forwarding(buf, h)) {
			/* a client we do not trust cannot claim another origin */
			if (!trusted)
				continue;
			if (ll->xff && l7_http1_span_eq(buf, h->name, "x-forwarded-for")) {
				xff = h;	/* joined and extended below */
				continue;
			}
		}
		if (l7_append_field(b, buf, h) < 0)
			return -1;
	}
	if (c->upgrade && buf_append(b, "Connection: Upgrade\r\n", 21) < 0)
		return -1;
	else if (!c->upgrade && m->version_minor == 0 &&
		 buf_append(b, "Connection: keep-alive\r\n", 24) < 0)
		return -1;
	if (ll->xff) {
		/* "X-Forwarded-For: a" + "X-Forwarded-For: b" from a trusted
		 * proxy become "a, b, <client>" (RFC 9110 5.3: same list) */
		if (buf_append(b, "X-Forwarded-For: ", 17) < 0)
			return -1;
		for (i = 0; xff != NULL && i < m->nheaders; i++) {
			const struct l7_http1_header *h = &m->headers[i];

			if (l7_http1_span_eq(buf, h->name, "x-forwarded-for") && h->value.len > 0 &&
			    (buf_append(b, buf + h->value.off, h->value.len) < 0 ||
			     buf_append(b, ", ", 2) < 0))
				return -1;
		}
		if (buf_append(b, c->client_ip, strlen(c->client_ip)) < 0 || buf_append(b, "\r\n", 2) < 0)
			return -1;
	}
	if (ll->xfp && !(trusted && l7_find_header(buf, m, "x-forwarded-proto", 17)) &&
	    buf_appendf(b, "X-Forwarded-Proto: %s\r\n", l7_conn_https(c) ? "https" : "http") < 0)
		return -1;
	if (ll->tls.client_header != NULL && c->client_subject != NULL &&
	    buf_appendf(b, "%s: %s\r\n", ll->tls.client_header, c->client_subject) < 0)
		return -1;
	if (ll->xfh && !(trusted && l7_find_header(buf, m, "x-forwarded-host", 16)) &&
	    m->authority.len > 0 &&
	    (buf_append(b, "X-Forwarded-Host: ", 18) < 0 ||
	     buf_append(b, buf + m->authority.off, m->authority.len) < 0 || buf_append(b, "\r\n", 2) < 0))
		return -1;
	if (ll->forwarded && !(trusted && l7_find_header(buf, m, "forwarded", 9)) &&
	    buf_appendf(b, strchr(c->client_ip, ':') ? "Forwarded: for=\"[%s]\";proto=%s\r\n"
						     : "Forwarded: for=%s;proto=%s\r\n", c->client_ip,
			       l7_conn_https(c) ? "https" : "http") < 0)
		return -1;
	if (ll->request_id != NULL) {
		if (rid != NULL) {
			size_t n = rid->value.len < sizeof(c->rec->rid) ? rid->value.len
									 : sizeof(c->rec->rid) - 1;

			memcpy(c->rec->rid, buf + rid->value.off, n);
			c->rec->rid[n] = '\0';
			if (l7_append_field(b, buf, rid) < 0)
				return -1;
		} else {
			uint64_t x = l7_rng_next(&c->w->rng);

			snprintf(c->rec->rid, sizeof(c->rec->rid), "%08x%016llx",
				 (unsigned)(c->w->rid_seq++ & 0xffffffffu), (unsigned long long)x);
			if (buf_appendf(b, "%s: %s\r\n", ll->request_id, c->rec->rid) < 0)
				return -1;
		}
	}
	if (l7_hdr_ops_append(b, ops) < 0)
		return -1;
	return buf_append(b, "\r\n", 2);
}

/* Expands a redirect template: {host} {path} {query} {uri}; others kept. */
static int
l7_conn_location(struct l7_conn *c, const char *buf, const char *tpl, char *out, size_t outlen)
{
	const struct l7_http1_msg *m = &c->w->msg;
	const char *path = buf + m->path.off, *q = memchr(path, '?', m->path.len);
	size_t plen = q ? (size_t)(q - path) : m->path.len, o = 0;
	size_t hl = m->authority.len;
	const char *p;
	int n;

	for (p = tpl; *p != '\0' && o < outlen; p++) {
		const char *v = NULL;
		size_t vl = 0, skip = 0;

		if (strncmp(p, "{host}", 6) == 0) {
			v = buf + m->authority.off;
			vl = hl;
			skip = 6;
		} else if (strncmp(p, "{path}", 6) == 0) {
			v = plen ? path : "/";
			vl = plen ? plen : 1;
			skip = 6;
		} else if (strncmp(p, "{query}", 7) == 0) {
			v = q ? q + 1 : "";
			vl = q ? m->path.len - plen - 1 : 0;
			skip = 7;
		} else if (strncmp(p, "{uri}", 5) == 0) {
			v = m->path.len ? path : "/";
			vl = m->path.len ? m->path.len : 1;
			skip = 5;
		}
		if (v == NULL) {
			out[o++] = *p;
			continue;
		}
		if (o + vl >= outlen)
			return -1;
		memcpy(out + o, v, vl);
		o += vl;
		p += skip - 1;
	}
	if (o >= outlen)
		return -1;
	out[o] = '\0';
	/* the request's bytes were validated by the parser; keep CR/LF out */
	n = (int)strcspn(out, "\r\n");
	return out[n] == '\0' ? 0 : -1;
}

/* Answers a redirect, respond or deny route. */
static void
l7_conn_local_action(struct l7_conn *c, const char *buf, const struct conf_route *r)
{
	const struct conf_l7_route *a = &r->l7;
	int keep = c->req_done && c->req_keepalive;
	char extra[2048];
	size_t n = 0, i;

	/* the request body, if any, is not wanted: only keep the connection
	 * when there is none to skip */
	extra[0] = '\0';
	if (a->action == CONF_ACTION_REDIRECT) {
		char loc[1600];

		if (l7_conn_location(c, buf, a->location, loc, sizeof(loc)) < 0) {
			l7_conn_reply(c, 500, keep);
			return;
		}
		n = (size_t)snprintf(extra, sizeof(extra), "Location: %s\r\n", loc);
	}
	for (i = 0; i < a->resp_headers.n && n < sizeof(extra); i++) {
		const struct conf_hdr_op *op = &a->resp_headers.v[i];

		if (op->op == CONF_HDR_REMOVE)
			continue;
		n += (size_t)snprintf(extra + n, sizeof(extra) - n, "%s: %s\r\n", op->name, op->value);
	}
	if (n >= sizeof(extra)) {
		l7_conn_reply(c, 500, keep);
		return;
	}
	if (a->action == CONF_ACTION_REDIRECT || a->body == NULL)
		l7_conn_respond(c, a->status, keep, extra, NULL, 0, NULL);
	else
		l7_conn_respond(c, a->status, keep, extra, a->body, a->body_len, a->content_type);
}

/* The consistent-hash key and the sticky member of this request. */
static void
l7_conn_pick_init(struct l7_conn *c, const char *buf, const struct conf_pool *pool)
{
	const struct l7_http1_msg *m = &c->w->msg;
	const struct conf_l7_pool *pl = &pool->l7;
	size_t vlen = 0, i;

	c->pick.tried = 0;
	c->pick.has_hash = false;
	c->pick.sticky = -1;
	c->pick.swrr = c->view->swrr[pool->index];
	c->pick.rng = &c->w->rng;
	c->set_sticky = false;
	if (pl->lb == CONF_LB_CONSISTENT_HASH) {
		const char *v = NULL;

		if (pl->hash_on == CONF_HASH_CLIENT_IP) {
			v = (const char *)c->client;
			vlen = 16;
		} else if (pl->hash_on == CONF_HASH_HEADER) {
			const struct l7_http1_header *h = l7_find_header(buf, m, pl->hash_key,
									 pl->hash_key_len);

			if (h != NULL) {
				v = buf + h->value.off;
				vlen = h->value.len;
			}
		} else {
			v = l7_find_cookie(buf, m, pl->hash_key, pl->hash_key_len, &vlen);
		}
		if (v != NULL) {
			c->pick.hash = conf_hash64(v, vlen, 0);
			c->pick.has_hash = true;
		}
	}
	if (pl->sticky_cookie != NULL) {
		const char *v = l7_find_cookie(buf, m, pl->sticky_cookie, pl->sticky_cookie_len, &vlen);
		char hex[17];

		c->set_sticky = true;
		if (v != NULL && vlen == 16) {
			unsigned long long h;

			memcpy(hex, v, 16);
			hex[16] = '\0';
			h = strtoull(hex, NULL, 16);
			for (i = 0; i < pool->nmembers; i++)
				if (pool->members[i].l7.hash == h) {
					c->pick.sticky = (int)i;
					break;
				}
		}
	}
}

/* At a request boundary: move to the worker's newest view, so new routes
 * and pools take effect for the next request of a kept-alive connection. A
 * listener that is gone serves this last request and closes. */
static void
l7_conn_adopt(struct l7_conn *c)
{
	struct l7_view *v = c->w->view;
	size_t i;

	if (atomic_load_explicit(&l7_draining, memory_order_relaxed))
		c->last_request = true;
	if (v == c->view || v == NULL)
		return;
	for (i = 0; i < v->snap->conf->nlisteners; i++)
		if (v->snap->lsocks[i] == c->ls)
			break;
	if (i == v->snap->conf->nlisteners) {
		c->last_request = true;
		return;
	}
	v->refs++;
	l7_view_unref(&c->view);
	c->view = v;
	c->lindex = i;
}

/* Answers the rate rules' deny in c->rec->lim (also after a tarpit's delay). */
static void
l7_conn_limit_answer(struct l7_conn *c)
{
	char extra[256];
	const struct lim_verdict *v = &c->rec->lim;
	int keep = c->req_done && c->req_keepalive && v->action != LIM_ACT_BAN;

	if (lim_verdict_headers(v, extra, sizeof(extra)) < 0)
		extra[0] = '\0';
	STAT_INC(c->w, limit_denied);
	if (v->body != NULL)
		l7_conn_respond(c, v->status, keep, extra, v->body, v->body_len, "text/plain");
	else
		l7_conn_respond(c, v->status, keep, extra, NULL, 0, NULL);
}

static void
l7_conn_tarpit_done(struct loop *l, struct loop_timer *t)
{
	struct l7_conn *c = t->data;

	(void)l;
	assert(c->magic == L7_CONN_MAGIC);
	l7_conn_limit_answer(c);
	if (!c->closed)
		l7_conn_step(c);
}

/* Evaluates the snapshot's rate rules and WAF checks for the routed (or
 * unrouted) request; answers a deny and returns 1, else 0. A tarpit stops
 * reading from the client and answers on a timer (the worker goes on). */
static int
l7_conn_limit(struct l7_conn *c, const char *buf, const struct conf_route *r)
{
	const struct conf_listener *l = l7_conn_listener(c);
	const struct lim_rules *rules = c->view->snap->conf->rate_rules;
	struct l7_worker *w = c->w;
	struct lim_verdict *v = &c->rec->lim;	/* the record: taken by l7_conn_log_start */

	if (rules == NULL) {
		v->action = LIM_ACT_PASS;	/* no stale RateLimit-* from a recycled record */
		v->has_ratelimit = false;
		return 0;
	}
	l7_limit_eval(rules, l->name, r ? r->name : NULL, buf, &w->msg, c->client, w->md, v);
	if (v->action == LIM_ACT_PASS)
		return 0;
	c->route = r;
	buf_consume(&c->ibuf, w->msg.head_len);
	if (v->action == LIM_ACT_TARPIT && v->tarpit_ms > 0) {
		c->state = L7_C_TARPIT;
		if (loop_timer_set(w->loop, &c->tarpit, v->tarpit_ms, l7_conn_tarpit_done, c) == 0)
			return 1;
	}
	l7_conn_limit_answer(c);
	return 1;
}

/* A request head is complete in ibuf: route it and start forwarding. */
static void
l7_conn_request(struct l7_conn *c)
{
	const struct l7_http1_msg *m = &c->w->msg;
	const char *buf = buf_head(&c->ibuf);
	const struct conf_route *r;
	const struct conf_listener *l;
	struct l7_worker *w = c->w;
	struct l7_route_req rq;

	c->nreq++;
	STAT_INC(w, requests);
	loop_timer_cancel(w->loop, &c->timer);
	l7_conn_adopt(c);
	l = l7_conn_listener(c);
	c->req_method = m->method;
	c->req_minor = m->version_minor;
	c->grpc = c->h2s != NULL && l7_grpc_request(buf, m);
	c->req_keepalive = m->keep_alive && !c->last_request;
	c->client_close = !m->keep_alive;
	c->idempotent = m->method == L7_HTTP1_M_GET || m->method == L7_HTTP1_M_HEAD ||
			m->method == L7_HTTP1_M_OPTIONS || m->method == L7_HTTP1_M_PUT ||
			m->method == L7_HTTP1_M_DELETE || m->method == L7_HTTP1_M_TRACE;
	c->resp_started = false;
	c->replayable = true;
	c->replays = 0;
	c->retried = false;
	c->fresh_only = false;
	c->tried = 0;
	c->usent = 0;
	c->route = NULL;
	c->pool = NULL;
	c->deadline = l->l7.timeouts.total_ms ? loop_now(w->loop) + l->l7.timeouts.total_ms : 0;
	c->member = -1;
	c->tunnel = false;
	c->pp_in_ubuf = false;
	if (l7_conn_log_start(c, buf, m) < 0) {
		STAT_INC(w, dropped_oom);
		l7_conn_close(c);
		return;
	}
	l7_http1_body_init(&c->reqb, m);
	c->req_done = c->reqb.done;
	/* WebSocket and other Upgrade requests (GET, HTTP/1.1, no body).
	 * Never h2c: a member that switched would carry the client's further
	 * requests inside a tunnel, past routing and rate rules ("h2c
	 * smuggling"); the fields are dropped as hop-by-hop and the request
	 * is answered in HTTP/1.1, as RFC 9113 3.1 (which deprecated the
	 * upgrade) allows. */
	c->upgrade = m->has_upgrade && !m->upgrade_h2c && (m->conn_tokens & L7_HTTP1_CONN_UPGRADE) &&
		     m->method == L7_HTTP1_M_GET && m->version_minor == 1 && c->req_done;

	/* the listener's own limits, below the parser's ceilings */
	if (m->target.len > l->l7.max_uri_bytes || m->head_len > l->l7.max_header_bytes) {
		STAT_INC(w, bad_requests);
		c->ibuf.rpos = c->ibuf.wpos = 0;
		l7_conn_reply(c, m->target.len > l->l7.max_uri_bytes ? 414 : 431, 0);
		return;
	}
	rq = (struct l7_route_req){
		.host = buf + m->authority.off, .host_len = m->authority.len,
		.path = buf + m->path.off, .path_len = m->path.len,
		.method = buf + m->method_s.off, .method_len = m->method_s.len,
		.buf = buf, .msg = m, .client = c->client, .md = w->md,
	};
	r = l7_route_find(l, &rq);
	if (l7_conn_limit(c, buf, r))
		return;
	if (r == NULL) {
		log_debug("client=%s: no route for %.*s%.*s", c->peer, (int)m->authority.len,
			  buf + m->authority.off, (int)m->path.len, buf + m->path.off);
		buf_consume(&c->ibuf, m->head_len);
		l7_conn_reply(c, 404, c->req_done && c->req_keepalive);
		return;
	}
	c->route = r;
	l7_stats_req_route(&c->sr, w->index, c->view->smap, r - c->view->snap->conf->routes,
			   r->pool != NULL ? (long)r->pool->index : -1);
	if (r->l7.action != CONF_ACTION_FORWARD) {
		l7_conn_local_action(c, buf, r);
		buf_consume(&c->ibuf, m->head_len);
		return;
	}
	if (l7_buf_take(&w->bufs, &c->ubuf) < 0 || l7_buf_take(&w->bufs, &c->rbuf) < 0 ||
	    l7_buf_take(&w->bufs, &c->obuf) < 0) {
		STAT_INC(w, dropped_oom);
		l7_conn_close(c);
		return;
	}
	c->ubuf.rpos = c->ubuf.wpos = 0;
	c->rbuf.rpos = c->rbuf.wpos = 0;
	if (l7_conn_write_req_head(c, buf, r) < 0) {
		buf_consume(&c->ibuf, m->head_len);
		l7_conn_reply(c, 431, 0);
		return;
	}
	c->pool = r->pool;
	l7_conn_pick_init(c, buf, r->pool);
	l7_pool_retry_earn(c->view->map->pools[r->pool->index], r->pool);
	buf_consume(&c->ibuf, m->head_len);
	c->state = L7_C_FORWARD;
	l7_conn_upstream(c);
}

/* ---- response side ---- */

/* "HTTP/1.1 <status> <reason>\r\n" (status has three digits, as the parser
 * checked); reason NULL means our own phrase. Without printf: this runs
 * once per response. */
static int
l7_append_status_line(struct buf *b, int status, const char *reason, size_t rlen)
{
	char st[13] = "HTTP/1.1 000 ";

	st[9] = (char)('0' + status / 100 % 10);
	st[10] = (char)('0' + status / 10 % 10);
	st[11] = (char)('0' + status % 10);
	if (reason == NULL) {
		reason = l7_http1_reason(status);
		rlen = strlen(reason);
	}
	if (buf_append(b, st, sizeof(st)) < 0 || buf_append(b, reason, rlen) < 0 ||
	    buf_append(b, "\r\n", 2) < 0)
		return -1;
	return 0;
}

/* A response head is complete in rbuf: rewrite it into obuf. Returns 1 when
 * done, 0 when obuf has no room yet (retried after the client drains). */
static int
l7_conn_response_head(struct l7_conn *c)
{
	const struct l7_http1_msg *m = &c->w->msg;
	const char *buf = buf_head(&c->rbuf);
	struct buf *o = &c->obuf;
	int final = m->status >= 200;
	/* What rewriting can add: a reason phrase, "Connection: ...", and one
	 * space per field ("a:b" becomes "a: b"). Reserving it up front means
	 * the appends below never compact (which would move obuf under us). */
	const struct conf_hdr_ops *ops = c->route ? &c->route->l7.resp_headers : NULL;
	char rl[128];	/* RateLimit-* of an admitting rule that asks for them */
	size_t nrl = final && c->rec != NULL ? l7_limit_admit_headers(&c->rec->lim, rl, sizeof(rl)) : 0;
	size_t need = m->head_len + 2 * m->nheaders + 128 + nrl + (ops ? l7_hdr_ops_size(ops) : 0) +
		      (c->set_sticky ? c->pool->l7.sticky_cookie_len + 64 : 0), i;

	if (need > o->cap) {
		l7_conn_fail(c, 502);	/* cannot happen with L7_BUF_SIZE; stay safe */
		return 0;
	}
	if (buf_room(o) < need)
		buf_compact(o);
	if (buf_room(o) < need)
		return 0;
	if (final) {
		/* Keep the client only when the message ends by framing and the
		 * request was read whole; a 1.0 client cannot decode chunked. */
		c->client_keep = c->req_keepalive && c->req_done && !c->w->stopping &&
				 m->framing != L7_HTTP1_BODY_UNTIL_CLOSE &&
				 !(c->req_minor == 0 && m->framing == L7_HTTP1_BODY_CHUNKED);
	}
	if (final) {
		c->t_first = loop_now(c->w->loop);
		c->status = m->status;
		c->bytes_out = buf_len(o);	/* subtracted below: only this head counts */
	}
	if (l7_append_status_line(o, m->status, m->reason.len ? buf + m->reason.off : NULL,
				  m->reason.len) < 0)
		goto nospace;
	for (i = 0; i < m->nheaders; i++) {
		const struct l7_http1_header *h = &m->headers[i];

		if (l7_is_hop_by_hop(buf, m, h))
			continue;
		if (final && ops != NULL && ops->n > 0 && l7_hdr_ops_drop(ops, buf, h))
			continue;
		if (nrl > 0 && l7_limit_is_ratelimit_field(buf, h))
			continue;	/* ours replace the backend's */
		if (l7_append_field(o, buf, h) < 0)
			goto nospace;
	}
	if (nrl > 0 && buf_append(o, rl, nrl) < 0)
		goto nospace;
	if (final && ops != NULL && l7_hdr_ops_append(o, ops) < 0)
		goto nospace;
	if (final && c->set_sticky && c->member >= 0 && c->pick.sticky != c->member &&
	    buf_appendf(o, "Set-Cookie: %s=%016llx; Path=/; HttpOnly\r\n", c->pool->l7.sticky_cookie,
			(unsigned long long)c->pool->members[c->member].l7.hash) < 0)
		goto nospace;
	if (final && !c->client_keep && buf_append(o, "Connection: close\r\n", 19) < 0)
		goto nospace;
	if (final && c->client_keep && c->req_minor == 0 &&
	    buf_append(o, "Connection: keep-alive\r\n", 24) < 0)
		goto nospace;
	if (buf_append(o, "\r\n", 2) < 0)
		goto nospace;
	buf_consume(&c->rbuf, m->head_len);
	if (!final)
		return 1;	/* 1xx (100 Continue): the final head follows */
	c->resp_started = true;
	c->bytes_out = buf_len(o) - c->bytes_out;
	c->resp_keepalive = m->keep_alive;
	l7_count_status(c->w, m->status);
	if (c->up != NULL)
		l7_pool_status_result(c->up->ms, c->pool, m->status, loop_now(c->w->loop));
	l7_http1_body_init(&c->respb, m);
	c->rstate = L7_R_BODY;
	return 1;
nospace:
	l7_conn_close(c);	/* the reservation above makes this unreachable */
	return 0;
}

/* The response is complete in obuf: end the exchange and go on with the
 * next request, or close. */
static void
l7_conn_exchange_done(struct l7_conn *c)
{
	struct l7_up *up = c->up;
	int reuse = up != NULL && c->resp_keepalive && c->req_done && !up->eof && !up->wr_dead &&
		    !(c->pool != NULL && c->pool->l7.proxy_protocol) &&
		    (up->sess == NULL || l7_h2up_done(up->st)) &&
		    buf_len(&c->rbuf) == 0 && buf_len(&c->ubuf) == c->usent;

	l7_conn_log(c);
	c->rbuf.rpos = c->rbuf.wpos = 0;
	c->ubuf.rpos = c->ubuf.wpos = 0;
	c->usent = 0;
	l7_conn_drop_up(c, reuse);
	c->rstate = L7_R_NONE;
	if (c->client_keep && c->req_done) {
		l7_conn_wait_head(c);
	} else {
		c->fast_close = c->client_close && c->req_done;
		l7_conn_closing(c);
	}
}

/* ---- the state machine ---- */

/* TLS: drives the handshake (from the read side: it runs before the first
 * request). The header timeout armed at accept bounds it. When done,
 * ALPN decides the protocol: HTTP/2 belongs to the h2 module, which is not
 * in this build yet, so such a connection is closed (a listener offers
 * "h2" only when configured to). */
static void
l7_conn_handshake(struct l7_conn *c, int *progress)
{
	const struct conf_l7_tls *t = &l7_conn_listener(c)->l7.tls;
	const char *alpn;
	char subj[256];
	int r = l7_io_handshake(&c->tio);

	if (r == 0) {
		c->rready = false;
		return;
	}
	if (r < 0) {
		STAT_INC(c->w, tls_failed);
		log_debug("client=%s: TLS handshake failed", c->peer);
		l7_conn_close(c);
		return;
	}
	*progress = 1;
	STAT_INC(c->w, tls_handshakes);
	if (l7_tls_conn_resumed(c->tio.tls))
		STAT_INC(c->w, tls_resumed);
	if (t->client_header != NULL && l7_tls_conn_peer_subject(c->tio.tls, subj, sizeof(subj)))
		c->client_subject = strdup(subj);	/* NULL on OOM: sent without it */
	alpn = l7_io_alpn(&c->tio);
	if (alpn != NULL && strcmp(alpn, "h2") == 0)
		l7_conn_h2_start(c);	/* l7_h2 takes the decrypted bytes */
}

static int
l7_client_wants_read(const struct l7_conn *c)
{
	if (c->rd_eof)
		return 0;
	switch (c->state) {
	case L7_C_HEAD:
	case L7_C_FORWARD:
		/* in FORWARD this reads the body and, ahead, pipelined requests;
		 * an idle connection has no ibuf yet (taken on read) */
		return buf_len(&c->ibuf) < L7_BUF_SIZE;
	case L7_C_CLOSING:
		return c->shut_wr;	/* lingering: read and discard */
	case L7_C_TARPIT:
		return 0;		/* held: nothing more is read until the answer */
	}
	return 0;
}

static void
l7_client_read(struct l7_conn *c, int *progress)
{
	ssize_t n;

	if (!c->rready || !l7_client_wants_read(c))
		return;
	if (c->stream) {
		/* the stream gives ibuf storage (its head's own buffer first) */
		n = l7_h2_stream_fill(c->h2s, &c->ibuf);
		if (n > 0)
			*progress = 1;
		else if (n < 0)
			l7_conn_close(c);	/* the client reset the stream */
		return;
	}
	if (!c->tio.hs_done) {
		l7_conn_handshake(c, progress);
		return;
	}
	if (l7_buf_take(&c->w->bufs, &c->ibuf) < 0) {
		STAT_INC(c->w, dropped_oom);
		l7_conn_close(c);
		return;
	}
	if (c->state == L7_C_CLOSING)
		c->ibuf.rpos = c->ibuf.wpos = 0;
	n = l7_io_read_buf(&c->tio, &c->ibuf);
	if (n > 0) {
		*progress = 1;
		/* Short read: the socket is empty, and epoll (level-triggered)
		 * reports the next bytes; reading again would return EAGAIN. */
		if (buf_room(&c->ibuf) > 0)
			c->rready = false;
		if (c->state == L7_C_HEAD && !c->head_timer) {
			c->head_timer = true;
			l7_conn_timer(c, l7_conn_to(c)->client_header_ms);
		}
	} else if (n == 0) {
		c->rd_eof = true;
		*progress = 1;
	} else if (n == -EAGAIN) {
		c->rready = false;
	} else if (n != -ENOSPC) {
		l7_conn_close(c);	/* reset by peer */
	}
}

static void
l7_client_write(struct l7_conn *c, int *progress)
{
	ssize_t n;

	if (buf_len(&c->obuf) == 0 || !c->wready)
		return;
	n = c->stream ? l7_h2_stream_drain(c->h2s, &c->obuf) : l7_io_write_buf(&c->tio, &c->obuf);
	if (n == 0 && c->stream)
		return;	/* the stream holds all it can: its DATA frames call us back */
	if (n > 0) {
		*progress = 1;
		if (c->up != NULL && c->up->state == L7_UP_BUSY && !c->tunnel)
			l7_up_arm(c->up, l7_conn_to(c)->response_ms);	/* a slow client is progress too */
	} else if (n == -EAGAIN) {
		c->wready = false;
	} else {
		l7_conn_close(c);
	}
}

/* The head could not be parsed: answer status and close. */
static void
l7_conn_bad(struct l7_conn *c, int status)
{
	STAT_INC(c->w, bad_requests);
	log_debug("client=%s: bad request, answering %d", c->peer, status);
	c->req_minor = 1;
	c->req_method = L7_HTTP1_M_OTHER;
	c->route = NULL;
	c->pool = NULL;
	c->reqb.total = 0;
	if (l7_conn_log_start(c, NULL, NULL) < 0) {
		STAT_INC(c->w, dropped_oom);
		l7_conn_close(c);
		return;
	}
	c->ibuf.rpos = c->ibuf.wpos = 0;
	l7_conn_reply(c, status, 0);
}

/* The PROXY protocol header on a listener that accepts it: required from
 * its trusted downstreams, refused from anyone else. Its source address
 * becomes the client's (forwarding headers, client_cidrs, hashing, logs).
 * 1 when done (header consumed or none due), 0 to read more, -1: 400. */
static int
l7_conn_proxy_in(struct l7_conn *c)
{
	const struct conf_l7_listener *ll = &l7_conn_listener(c)->l7;
	struct l7_ppin pp;
	char addr[INET6_ADDRSTRLEN];
	int n;

	if (!conf_cidr_contains(&ll->accept_proxy_from, c->client)) {
		if (!l7_ppin_looks_like(buf_head(&c->ibuf), buf_len(&c->ibuf))) {
			c->pp_wait = false;	/* plain HTTP, as expected */
			return 1;
		}
		if (buf_len(&c->ibuf) < 12 && !c->rd_eof)
			return 0;	/* a prefix: wait to tell */
		log_info("client=%s: PROXY header from an untrusted source", c->peer);
		return -1;
	}
	n = l7_ppin_parse(buf_head(&c->ibuf), buf_len(&c->ibuf), &pp);
	if (n == L7_PPIN_AGAIN)
		return 0;
	if (n < 0) {
		log_info("client=%s: missing or malformed PROXY header", c->peer);
		return -1;
	}
	buf_consume(&c->ibuf, (size_t)n);
	c->pp_wait = false;
	if (pp.family == AF_UNSPEC)
		return 1;	/* LOCAL / UNKNOWN: the peer is the client */
	memcpy(c->client, pp.src, 16);
	memcpy(c->local, pp.dst, 16);
	c->client_port = pp.sport;
	c->local_port = pp.dport;
	if (pp.family == AF_INET)
		inet_ntop(AF_INET, pp.src + 12, addr, sizeof(addr));
	else
		inet_ntop(AF_INET6, pp.src, addr, sizeof(addr));
	snprintf(c->client_ip, sizeof(c->client_ip), "%s", addr);
	snprintf(c->peer, sizeof(c->peer), pp.family == AF_INET ? "%s:%u" : "[%s]:%u", addr,
		 pp.sport);
	return 1;
}

static void
l7_conn_head(struct l7_conn *c, int *progress)
{
	int rc, status = 400;

	if (c->stream && c->nreq > 0) {
		if (buf_len(&c->obuf) == 0)
			l7_conn_close(c);	/* one request per stream, answered */
		return;
	}
	if (!c->stream && c->nreq == 0 && l7_conn_listener(c)->l7.h2.h2c &&
	    buf_len(&c->ibuf) > 0) {
		rc = l7_h2_preface(buf_head(&c->ibuf), buf_len(&c->ibuf));
		if (rc == 1) {
			l7_conn_h2_start(c);
			*progress = 1;
			return;
		}
		if (rc == 0 && !c->rd_eof)
			return;
	}
	if (buf_len(&c->ibuf) == 0) {
		if (c->rd_eof && buf_len(&c->obuf) == 0)
			l7_conn_close(c);
		return;
	}
	if (c->pp_wait) {
		rc = l7_conn_proxy_in(c);
		if (rc == 0) {
			if (c->rd_eof)
				l7_conn_closing(c);
			return;
		}
		*progress = 1;
		if (rc < 0) {
			l7_conn_bad(c, 400);
			return;
		}
		if (buf_len(&c->ibuf) == 0)
			return;
	}
	rc = l7_http1_parse_request(buf_head(&c->ibuf), buf_len(&c->ibuf), &c->w->msg, &status);
	if (rc == L7_HTTP1_AGAIN) {
		/* the listener's limits are below the parser's: refuse as soon
		 * as an incomplete head is over them */
		const struct conf_l7_listener *ll = &l7_conn_listener(c)->l7;
		size_t len = buf_len(&c->ibuf), scan = ll->max_uri_bytes + 32;

		if (len > ll->max_header_bytes ||
		    (len > scan && memchr(buf_head(&c->ibuf), '\n', scan) == NULL)) {
			rc = L7_HTTP1_ERROR;
			status = memchr(buf_head(&c->ibuf), '\n', len < scan ? len : scan) ? 431 : 414;
		}
	}
	if (rc == L7_HTTP1_AGAIN) {
		if (c->rd_eof)
			l7_conn_closing(c);	/* half a request, then EOF */
		return;
	}
	*progress = 1;
	if (rc == L7_HTTP1_ERROR) {
		l7_conn_bad(c, status);
		return;
	}
	l7_conn_request(c);
}

/* Request body: ibuf -> ubuf, as much as the framing and ubuf allow. */
static void
l7_conn_pump_request(struct l7_conn *c, int *progress)
{
	size_t avail;
	ssize_t n;

	if (c->req_done || buf_len(&c->ibuf) == 0)
		return;
	if (buf_room(&c->ubuf) == 0)
		buf_compact(&c->ubuf);
	if (buf_room(&c->ubuf) == 0 && c->usent > 0) {
		/* out of room: stop keeping sent bytes for a replay */
		buf_consume(&c->ubuf, c->usent);
		c->usent = 0;
		c->replayable = false;
		buf_compact(&c->ubuf);
	}
	avail = buf_len(&c->ibuf);
	if (avail > buf_room(&c->ubuf))
		avail = buf_room(&c->ubuf);
	if (avail == 0)
		return;
	n = l7_http1_body_feed(&c->reqb, buf_head(&c->ibuf), avail);
	if (n < 0) {
		STAT_INC(c->w, bad_requests);
		log_debug("client=%s: bad request body framing", c->peer);
		c->rd_eof = true;	/* read nothing more from it */
		l7_conn_fail(c, 400);
		return;
	}
	if (n > 0) {
		memcpy(buf_tail(&c->ubuf), buf_head(&c->ibuf), (size_t)n);
		c->ubuf.wpos += (size_t)n;
		buf_consume(&c->ibuf, (size_t)n);
		*progress = 1;
	}
	c->req_done = c->reqb.done;
}

static void
l7_conn_up_write(struct l7_conn *c, int *progress)
{
	struct l7_up *up = c->up;
	size_t len = buf_len(&c->ubuf);
	ssize_t n;

	if (up != NULL && up->wr_dead) {
		/* the member stopped reading; drop what the client still sends */
		buf_consume(&c->ubuf, len);
		c->usent = 0;
		return;
	}
	if (up == NULL || up->state != L7_UP_BUSY || !up->wready || len <= c->usent)
		return;
	n = l7_up_send(up, buf_head(&c->ubuf) + c->usent, len - c->usent);
	if (n > 0) {
		c->usent += (size_t)n;
		*progress = 1;
		if (!c->tunnel)
			l7_up_arm(up, l7_conn_to(up->c)->response_ms);
	} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		up->wready = false;
	} else if (up->reused && c->replayable && c->idempotent && c->replays == 0 &&
		   buf_len(&c->rbuf) == 0) {
		char why[96];

		snprintf(why, sizeof(why), "write: %s", strerror(errno));
		l7_conn_up_broken(c, why);
		return;
	} else {
		/* A member may answer early (413, 401) and close: keep reading so
		 * that answer still reaches the client; no response means 502. */
		log_debug("client=%s member=%s: upstream write: %s", c->peer, up->ms->id,
			  strerror(errno));
		up->wr_dead = true;
		up->rready = true;
		c->replayable = false;
		buf_consume(&c->ubuf, len);
		c->usent = 0;
		*progress = 1;
		return;
	}
	if (!c->replayable && c->usent > 0) {
		buf_consume(&c->ubuf, c->usent);
		c->usent = 0;
	}
}

static void
l7_conn_up_read(struct l7_conn *c, int *progress)
{
	struct l7_up *up = c->up;
	ssize_t n;

	if (up == NULL || up->state != L7_UP_BUSY || !up->rready || up->eof ||
	    (c->rstate != L7_R_HEAD && c->rstate != L7_R_BODY) ||
	    buf_len(&c->rbuf) >= c->rbuf.cap)
		return;
	n = l7_up_recv(up, &c->rbuf);
	if (n > 0) {
		*progress = 1;
		/* short read: wait for epoll, unless HUP took the fd out of it */
		if (buf_room(&c->rbuf) > 0 && up->io.fd >= 0)
			up->rready = false;
		if (!c->tunnel)
			l7_up_arm(up, l7_conn_to(up->c)->response_ms);
		if (c->replayable) {
			/* the member answered: a replay is no longer possible */
			c->replayable = false;
			buf_consume(&c->ubuf, c->usent);
			c->usent = 0;
		}
	} else if (n == 0) {
		up->eof = true;
		*progress = 1;
	} else if (n == -EAGAIN) {
		up->rready = false;
	} else if (n != -ENOSPC) {
		char why[96];

		snprintf(why, sizeof(why), "read: %s", strerror((int)-n));
		if (c->rstate == L7_R_HEAD) {
			l7_conn_up_broken(c, why);
		} else {
			STAT_INC(c->w, upstream_errors);
			log_info("client=%s member=%s: upstream %s mid-body", c->peer, up->ms->id, why);
			l7_conn_close(c);
		}
	}
}

/* A 101 to an Upgrade request: relay the head (with its Upgrade and
 * Connection fields) and turn the exchange into a tunnel. Returns 1 when
 * done, 0 when obuf has no room yet. */
static int
l7_conn_switch(struct l7_conn *c)
{
	const struct l7_http1_msg *m = &c->w->msg;

	if (buf_room(&c->obuf) < m->head_len)
		buf_compact(&c->obuf);
	if (buf_room(&c->obuf) < m->head_len)
		return 0;
	/* the member's head as sent: it is a complete, parsed 101 */
	if (buf_append(&c->obuf, buf_head(&c->rbuf), m->head_len) < 0) {
		l7_conn_close(c);
		return 0;
	}
	buf_consume(&c->rbuf, m->head_len);
	l7_count_status(c->w, 101);
	c->status = 101;
	c->t_first = loop_now(c->w->loop);
	c->resp_started = true;
	c->tunnel = true;
	c->client_keep = false;
	c->rstate = L7_R_BODY;	/* keeps reading the member */
	loop_timer_cancel(c->w->loop, &c->up->timer);
	l7_conn_timer(c, l7_conn_to(c)->tunnel_idle_ms);
	l7_conn_log(c);
	return 1;
}

static void
l7_conn_parse_response(struct l7_conn *c, int *progress)
{
	int rc, status;

	if (buf_len(&c->rbuf) == 0) {
		if (c->up->eof)
			l7_conn_up_broken(c, "closed the connection without a response");
		return;
	}
	rc = l7_http1_parse_response(buf_head(&c->rbuf), buf_len(&c->rbuf), c->req_method,
				     &c->w->msg, &status);
	if (rc == L7_HTTP1_AGAIN) {
		if (c->up->eof) {
			STAT_INC(c->w, upstream_errors);
			log_info("client=%s member=%s: upstream closed mid-head", c->peer, c->up->ms->id);
			l7_conn_fail(c, 502);
		}
		return;
	}
	if (rc == L7_HTTP1_DONE && c->w->msg.status == 101 && c->upgrade) {
		if (l7_conn_switch(c))
			*progress = 1;
		return;
	}
	if (rc == L7_HTTP1_ERROR || c->w->msg.status == 101) {
		/* 101 to a request that did not ask to upgrade: a protocol error */
		STAT_INC(c->w, upstream_errors);
		log_info("client=%s member=%s: invalid response head", c->peer, c->up->ms->id);
		l7_conn_fail(c, 502);
		return;
	}
	if (l7_conn_response_head(c))
		*progress = 1;
}

/* Response body: rbuf -> obuf; ends the exchange when the framing does. */
static void
l7_conn_pump_response(struct l7_conn *c, int *progress)
{
	struct buf *o = &c->obuf;
	size_t avail = buf_len(&c->rbuf);
	ssize_t n;

	if (avail > 0 && !c->respb.done) {
		if (buf_room(o) < avail)
			buf_compact(o);
		if (avail > buf_room(o))
			avail = buf_room(o);
		n = l7_http1_body_feed(&c->respb, buf_head(&c->rbuf), avail);
		if (n < 0) {
			STAT_INC(c->w, upstream_errors);
			log_info("client=%s member=%s: bad response body framing", c->peer,
				 c->up->ms->id);
			l7_conn_close(c);	/* the head went out: cut to signal the error */
			return;
		}
		if (n > 0) {
			memcpy(buf_tail(o), buf_head(&c->rbuf), (size_t)n);
			o->wpos += (size_t)n;
			c->bytes_out += (uint64_t)n;
			buf_consume(&c->rbuf, (size_t)n);
			*progress = 1;
		}
	}
	if (!c->respb.done && c->up->eof && buf_len(&c->rbuf) == 0 &&
	    !l7_http1_body_eof(&c->respb)) {
		STAT_INC(c->w, upstream_errors);
		log_info("client=%s member=%s: upstream closed mid-body", c->peer, c->up->ms->id);
		l7_conn_close(c);
		return;
	}
	if (c->respb.done) {
		*progress = 1;
		l7_conn_exchange_done(c);
	}
}

/* Moves up to what fits from src to dst (a tunnel copies bytes unchanged). */
static size_t
l7_tunnel_move(struct buf *src, struct buf *dst)
{
	size_t n = buf_len(src);

	if (n == 0)
		return 0;
	if (buf_room(dst) < n)
		buf_compact(dst);
	if (n > buf_room(dst))
		n = buf_room(dst);
	memcpy(buf_tail(dst), buf_head(src), n);
	dst->wpos += n;
	buf_consume(src, n);
	return n;
}

/* TUNNEL: both directions copied unchanged; either side's end (or an
 * error) ends the tunnel once what the other side still has to receive
 * was written. The idle timeout is the listener's tunnel_idle_ms. */
static void
l7_conn_tunnel(struct l7_conn *c, int *progress)
{
	struct l7_up *up = c->up;
	uint64_t before = c->ubuf.wpos + c->obuf.wpos + c->usent;

	if (up == NULL) {
		l7_conn_closing(c);
		return;
	}
	c->replayable = false;
	if (l7_tunnel_move(&c->ibuf, &c->ubuf) > 0)
		*progress = 1;
	l7_conn_up_write(c, progress);
	if (c->closed || c->up == NULL)
		return;
	l7_conn_up_read(c, progress);
	if (c->closed || c->up == NULL)
		return;
	if (l7_tunnel_move(&c->rbuf, &c->obuf) > 0)
		*progress = 1;
	if ((up->eof && buf_len(&c->rbuf) == 0) ||
	    (c->rd_eof && buf_len(&c->ibuf) == 0 && buf_len(&c->ubuf) == c->usent) ||
	    up->wr_dead) {
		l7_conn_closing(c);	/* flushes obuf, then closes */
		*progress = 1;
		return;
	}
	if (c->ubuf.wpos + c->obuf.wpos + c->usent != before)
		l7_conn_timer(c, l7_conn_to(c)->tunnel_idle_ms);
}

static void
l7_conn_forward(struct l7_conn *c, int *progress)
{
	if (c->tunnel) {
		l7_conn_tunnel(c, progress);
		return;
	}
	l7_conn_pump_request(c, progress);
	if (c->closed || c->state != L7_C_FORWARD)
		return;
	if (!c->req_done && c->rd_eof && buf_len(&c->ibuf) == 0) {
		log_debug("client=%s: closed during the request body", c->peer);
		l7_conn_close(c);
		return;
	}
	l7_conn_up_write(c, progress);
	if (c->closed || c->state != L7_C_FORWARD || c->up == NULL)
		return;
	l7_conn_up_read(c, progress);
	if (c->closed || c->state != L7_C_FORWARD || c->up == NULL)
		return;
	if (c->rstate == L7_R_HEAD)
		l7_conn_parse_response(c, progress);
	if (c->closed || c->state != L7_C_FORWARD || c->up == NULL)
		return;
	if (c->rstate == L7_R_BODY)
		l7_conn_pump_response(c, progress);
}

/* CLOSING: once obuf is flushed, shut down our side and drain the client
 * briefly so that unread bytes do not turn our last answer into a reset. */
static void
l7_conn_linger(struct l7_conn *c, int *progress)
{
	if (buf_len(&c->obuf) > 0)
		return;
	if (c->stream) {	/* one request per stream: nothing to linger for */
		l7_conn_close(c);
		return;
	}
	if (!c->shut_wr && c->fast_close && buf_len(&c->ibuf) == 0) {
		/* The client asked to close and its request was read whole:
		 * nothing more is coming, so close now (the kernel still
		 * delivers our answer, then FIN), as nginx does. */
		l7_conn_close(c);
		return;
	}
	if (!c->shut_wr) {
		c->shut_wr = true;
		l7_io_shutdown(&c->tio);
		c->ibuf.rpos = c->ibuf.wpos = 0;
		l7_conn_timer(c, L7_TIMEOUT_LINGER_MS);
		*progress = 1;
		return;
	}
	if (c->rd_eof)
		l7_conn_close(c);
}

/* Waiting for a request with nothing in flight: give every empty buffer
 * and the request record back to the worker, so that an idle keep-alive
 * connection holds nothing but its struct. A buffer with bytes in it (a
 * pipelined request, an answer the client has not read) stays. */
static void
l7_conn_trim(struct l7_conn *c)
{
	struct l7_worker *w = c->w;

	if (c->state != L7_C_HEAD || c->up != NULL)
		return;
	l7_buf_give_if_empty(&w->bufs, &c->ibuf);
	l7_buf_give_if_empty(&w->bufs, &c->obuf);
	l7_buf_give_if_empty(&w->bufs, &c->ubuf);
	l7_buf_give_if_empty(&w->bufs, &c->rbuf);
	if (!c->log_pending) {
		l7_freelist_put(&w->recs, c->rec);
		c->rec = NULL;
	}
}

static void
l7_conn_interest(struct l7_conn *c)
{
	struct l7_worker *w = c->w;
	uint32_t ev = l7_io_events(&c->tio, l7_client_wants_read(c), buf_len(&c->obuf) > 0);

	if (!c->stream && loop_io_mod(w->loop, &c->io, ev) < 0) {
		l7_conn_close(c);
		return;
	}
	if (c->up != NULL && c->up->io.fd >= 0) {
		struct l7_up *up = c->up;

		ev = 0;
		if (up->state == L7_UP_CONNECTING) {
			ev = EPOLLOUT;
		} else if (up->state == L7_UP_TLS) {
			ev = up->tio.hs_wait;
		} else {
			/* l7_io maps the directions (TLS may read to write) */
			ev = l7_io_events(&up->tio, !up->eof && (c->rstate == L7_R_HEAD ||
							      c->rstate == L7_R_BODY) &&
					  buf_len(&c->rbuf) < c->rbuf.cap,
					  buf_len(&c->ubuf) > c->usent && !up->wr_dead);
		}
		if (loop_io_mod(w->loop, &up->io, ev) < 0)
			l7_conn_fail(c, 502);
	}
}

static void
l7_conn_step(struct l7_conn *c)
{
	struct l7_worker *w = c->w;
	int rounds;

	assert(c->magic == L7_CONN_MAGIC);
	for (rounds = 0; rounds < L7_STEP_ROUNDS && !c->closed; rounds++) {
		int progress = 0;

		l7_client_read(c, &progress);
		if (c->closed)
			return;
		if (c->h2 != NULL && c->state != L7_C_CLOSING)
			l7_conn_h2_run(c, &progress);
		else if (c->state == L7_C_HEAD)
			l7_conn_head(c, &progress);
		else if (c->state == L7_C_FORWARD)
			l7_conn_forward(c, &progress);
		if (c->closed)
			return;
		l7_client_write(c, &progress);
		if (c->closed)
			return;
		if (c->state == L7_C_CLOSING)
			l7_conn_linger(c, &progress);
		if (c->closed || !progress)
			break;
	}
	if (!c->closed) {
		l7_conn_trim(c);
		l7_conn_interest(c);
	}
	atomic_store_explicit(&w->stats.io_buffers, w->bufs.in_use, memory_order_relaxed);
}

static void
l7_conn_io(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct l7_conn *c = io->data;

	assert(c->magic == L7_CONN_MAGIC);
	if (events & (EPOLLHUP | EPOLLERR)) {
		/* reset or closed both ways: nothing we send can arrive */
		log_debug("client=%s: connection reset or hung up", c->peer);
		l7_conn_close(c);
		return;
	}
	l7_io_ready(&c->tio, events, &c->rready, &c->wready);
	l7_conn_step(c);
}

/* ---- HTTP/2: a connection carrying l7_h2, and its streams ---- */

/* The client sent the HTTP/2 preface: from now on l7_h2 owns what the
 * connection reads and writes (the preface itself included). */
static void
l7_conn_h2_start(struct l7_conn *c)
{
	c->h2 = l7_h2_conn_new(&l7_conn_listener(c)->l7.h2, c, &c->w->bufs, &c->w->mp);
	if (c->h2 == NULL) {
		STAT_INC(c->w, dropped_oom);
		l7_conn_close(c);
		return;
	}
	STAT_INC(c->w, h2_connections);
	c->head_timer = true;	/* reading never starts a head timeout again */
	loop_timer_cancel(c->w->loop, &c->timer);
}

static void
l7_conn_h2_run(struct l7_conn *c, int *progress)
{
	size_t olen = buf_len(&c->obuf);
	ssize_t n = 0;

	if (buf_len(&c->ibuf) > 0) {
		n = l7_h2_conn_input(c->h2, buf_head(&c->ibuf), buf_len(&c->ibuf),
				     loop_now(c->w->loop));
		if (n > 0) {
			buf_consume(&c->ibuf, (size_t)n);
			*progress = 1;
		}
	}
	if (n < 0) {
		STAT_INC(c->w, h2_abuse);
		log_info("client=%s: HTTP/2 %s: GOAWAY and close", c->peer, l7_h2_conn_error(c->h2));
		c->ibuf.rpos = c->ibuf.wpos = 0;
	}
	/* frames are written into obuf: take it first (trimmed when empty) */
	if (l7_buf_take(&c->w->bufs, &c->obuf) < 0 || l7_h2_conn_output(c->h2, &c->obuf) < 0)
		n = -1;
	if (buf_len(&c->obuf) != olen)
		*progress = 1;
	if (n < 0 || !l7_h2_conn_alive(c->h2) || c->rd_eof) {
		l7_conn_closing(c);	/* flushes the GOAWAY, then closes */
		*progress = 1;
		return;
	}
	/* the idle timeout runs only while no stream has a request */
	if (l7_h2_conn_nreq(c->h2) > 0)
		loop_timer_cancel(c->w->loop, &c->timer);
	else if (!loop_timer_armed(&c->timer))
		l7_conn_timer(c, l7_conn_to(c)->client_idle_ms);
}

/* On the worker's kick list? */
static bool
l7_conn_kicked(const struct l7_conn *c)
{
	return dlist_linked(&c->w->kicks, &c->klink);
}

static void
l7_kick_unqueue(struct l7_conn *c)
{
	if (l7_conn_kicked(c))
		dlist_remove(&c->w->kicks, &c->klink);
}

/* Runs the connections of this round in the order they were kicked; those
 * kicked meanwhile form the next round, which the re-armed timer runs in
 * the same timer sweep (as a 0 ms timer of their own would). */
static void
l7_kick_cb(struct loop *l, struct loop_timer *t)
{
	struct l7_worker *w = t->data;
	unsigned round = w->kick_round++;

	(void)l;
	while (!dlist_empty(&w->kicks)) {
		struct l7_conn *c = DLIST_ENTRY(w->kicks.first, struct l7_conn, klink);

		if (c->kround != round)
			break;	/* kicked during this round: the next one's */
		assert(c->magic == L7_CONN_MAGIC);
		l7_kick_unqueue(c);
		l7_conn_step(c);
	}
	/* a failed timer (out of memory) leaves the streams to their timeouts */
	if (!dlist_empty(&w->kicks))
		loop_timer_set(w->loop, &w->kick, 0, l7_kick_cb, w);
}

void
l7__h2_request_kick(void *req)
{
	struct l7_conn *c = req;
	struct l7_worker *w = c->w;

	if (c->closed || l7_conn_kicked(c))
		return;
	c->kround = w->kick_round;
	dlist_push_back(&w->kicks, &c->klink);
	if (!loop_timer_armed(&w->kick))
		loop_timer_set(w->loop, &w->kick, 0, l7_kick_cb, w);
}

void
l7__h2_conn_kick(void *owner)
{
	l7__h2_request_kick(owner);
}

void
l7__h2_request_detach(void *req)
{
	struct l7_conn *c = req;

	c->h2s = NULL;
	l7_conn_close(c);
}

/* A stream's request: a connection object without a socket that borrows
 * the carrier's client identity; its "client" reads and writes go to the
 * stream (l7_client_read/l7_client_write). Returns it, or NULL. */
void *
l7__h2_request_new(void *owner, struct l7_h2_stream *s)
{
	struct l7_conn *p = owner;
	struct l7_worker *w = p->w;
	struct l7_conn *c = l7_mpool_calloc(&w->mp, sizeof(*c));	/* freed pooled */

	/* no buffer yet: like a connection's, they come from the worker's
	 * free list when bytes arrive or an answer is built */
	if (c == NULL) {
		STAT_INC(w, dropped_oom);
		return NULL;
	}
	/* the carrier follows reloads too; a listener that went away gets
	 * GOAWAY (this stream is still served) */
	l7_conn_adopt(p);
	if (p->last_request && p->h2 != NULL)
		l7_h2_conn_goaway(p->h2);
	c->magic = L7_CONN_MAGIC;
	c->w = w;
	c->fd = -1;
	c->stream = true;
	c->h2s = s;
	c->lindex = p->lindex;
	c->ls = p->ls;
	c->member = -1;
	l7_conn_local_addr(p);	/* read once per carrier (PROXY headers) */
	memcpy(c->peer, p->peer, sizeof(c->peer));
	memcpy(c->client_ip, p->client_ip, sizeof(c->client_ip));
	memcpy(c->client, p->client, sizeof(c->client));
	memcpy(c->local, p->local, sizeof(c->local));
	c->client_port = p->client_port;
	c->local_port = p->local_port;
	c->via_tls = l7_io_is_tls(&p->tio);
	if (p->client_subject != NULL)
		c->client_subject = strdup(p->client_subject);	/* NULL on OOM: sent without it */
	c->rready = c->wready = true;
	c->view = p->view;
	c->view->refs++;
	dlist_push_front(&w->conns, &c->link);
	STAT_INC(w, h2_streams);
	l7_conn_wait_head(c);
	return c;
}

/* ---- accept ---- */

static void
l7_conn_new(struct l7_worker *w, int fd, struct l7_lsn *ln, const struct sockaddr_storage *ss)
{
	size_t lindex = ln->index;
	struct l7_conn *c = calloc(1, sizeof(*c));
	char addr[INET6_ADDRSTRLEN] = "?";

	if (c == NULL)
		goto oom;
	c->magic = L7_CONN_MAGIC;
	c->w = w;
	c->fd = fd;
	c->lindex = lindex;
	if (w->view->snap->tls != NULL && w->view->snap->tls[lindex] != NULL) {
		if (l7_io_init_tls(&c->tio, fd, w->view->snap->tls[lindex]) < 0)
			goto oom;
	} else {
		l7_io_init_plain(&c->tio, fd);
	}
	c->member = -1;
	c->rready = c->wready = true;
	c->pp_wait = w->view->snap->conf->listeners[lindex].l7.accept_proxy;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, addr, sizeof(addr));
		snprintf(c->peer, sizeof(c->peer), "%s:%u", addr, ntohs(s4->sin_port));
		c->client[10] = c->client[11] = 0xff;
		memcpy(c->client + 12, &s4->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, addr, sizeof(addr));
		snprintf(c->peer, sizeof(c->peer), "[%s]:%u", addr, ntohs(s6->sin6_port));
		memcpy(c->client, &s6->sin6_addr, 16);
	}
	snprintf(c->client_ip, sizeof(c->client_ip), "%s", addr);
	c->client_port = ss->ss_family == AF_INET ? ntohs(((const struct sockaddr_in *)ss)->sin_port)
		: ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	/* TCP_NODELAY comes from the listening socket (l7_worker_listeners);
	 * the local address is read only when a PROXY header needs it */
	if (loop_io_add(w->loop, &c->io, fd, EPOLLIN, l7_conn_io, c) < 0)
		goto oom;
	c->view = w->view;
	c->view->refs++;
	c->ls = ln->ls;
	atomic_fetch_add_explicit(&c->ls->conns, 1, memory_order_relaxed);
	l7_stats_conn_open(&c->sr, w->index, c->view->smap, lindex);
	dlist_push_front(&w->conns, &c->link);
	STAT_INC(w, accepted);
	STAT_INC(w, active);
	l7_conn_wait_head(c);
	return;
oom:
	STAT_INC(w, dropped_oom);
	if (c != NULL) {
		c->tio.failed = true;
		l7_io_free(&c->tio);
		free(c);
	}
	close(fd);
}

static int
l7_accept_banned(const struct sockaddr_storage *ss)
{
	uint8_t a[16] = { 0 };

	if (ss->ss_family == AF_INET) {
		a[10] = a[11] = 0xff;
		memcpy(a + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		memcpy(a, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	} else {
		return 0;
	}
	return l7_limit_banned(a);
}

static void
l7_accept_io(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct l7_lsn *ln = io->data;
	unsigned max;
	int i;

	for (i = 0; i < L7_ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(io->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				log_warn("accept: %s", strerror(errno));
			break;
		}
		if (l7_accept_banned(&ss)) {
			/* banned by a rate rule: not even a response (nftables
			 * drops the SYN when l4.filter is configured) */
			STAT_INC(ln->w, refused_banned);
			close(fd);
			continue;
		}
		max = ln->w->view->snap->conf->listeners[ln->index].l7.max_connections;
		if (max > 0 && atomic_load_explicit(&ln->ls->conns, memory_order_relaxed) >= max) {
			/* over the listener's limit: say so and close (best effort,
			 * never blocks: the socket buffer of a new socket is empty) */
			static const char r503[] = "HTTP/1.1 503 Service Unavailable\r\n"
				"Content-Type: text/plain\r\nContent-Length: 24\r\n"
				"Connection: close\r\n\r\n503 Service Unavailable\n";

			STAT_INC(ln->w, refused_max_conns);
			if (ln->w->view->snap->tls == NULL || ln->w->view->snap->tls[ln->index] == NULL)
				(void)!send(fd, r503, sizeof(r503) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		l7_conn_new(ln->w, fd, ln, &ss);
	}
}

/* ---- snapshot adoption ---- */

/* Makes the worker's listeners match the view's: keeps sockets that persist
 * (same lsock), adds new ones, removes gone ones. */
static void
l7_worker_listeners(struct l7_worker *w, struct l7_view *v)
{
	const struct snapshot *s = v->snap;
	struct l7_lsn **pp = &w->lsns, *ln;
	size_t i;
	int fd, one = 1;

	while ((ln = *pp) != NULL) {
		int found = 0;

		for (i = 0; i < s->conf->nlisteners; i++) {
			if (s->lsocks[i] == ln->ls) {
				ln->index = i;
				found = 1;
				break;
			}
		}
		if (found) {
			pp = &ln->next;
			continue;
		}
		*pp = ln->next;
		loop_io_del(w->loop, &ln->io);
		l7_free_later(w, ln);
	}
	for (i = 0; i < s->conf->nlisteners; i++) {
		for (ln = w->lsns; ln != NULL; ln = ln->next)
			if (ln->ls == s->lsocks[i])
				break;
		if (ln != NULL)
			continue;
		ln = calloc(1, sizeof(*ln));
		if (ln == NULL) {
			log_err("worker %u: out of memory adding listener %s", w->index,
				s->conf->listeners[i].name);
			continue;
		}
		ln->w = w;
		ln->ls = s->lsocks[i];
		ln->index = i;
		/* this worker's own SO_REUSEPORT socket of the listener; accepted
		 * sockets inherit TCP_NODELAY from it (one syscall less each) */
		fd = s->lsocks[i]->fds[w->index % s->lsocks[i]->nfds];
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (loop_io_add(w->loop, &ln->io, fd, EPOLLIN, l7_accept_io, ln) < 0) {
			log_err("worker %u: cannot watch listener %s: %s", w->index,
				s->conf->listeners[i].name, strerror(errno));
			free(ln);
			continue;
		}
		ln->next = w->lsns;
		w->lsns = ln;
	}
}

/* Draining (binary upgrade): stop accepting (the sockets stay open in the
 * new tandemd, which accepts what is queued); idle keep-alive connections
 * get a short last idle period, busy ones close after their next response. */
#define L7_DRAIN_IDLE_MS 2000
static void
l7_worker_unlisten(struct l7_worker *w)
{
	struct l7_conn *c;

	while (w->lsns != NULL) {
		struct l7_lsn *ln = w->lsns;

		w->lsns = ln->next;
		loop_io_del(w->loop, &ln->io);
		l7_free_later(w, ln);
	}
	DLIST_FOREACH(c, &w->conns, link)
		if (c->state == L7_C_HEAD && !c->head_timer && buf_len(&c->ibuf) == 0 &&
		    l7_conn_to(c)->client_idle_ms > L7_DRAIN_IDLE_MS)
			l7_conn_timer(c, L7_DRAIN_IDLE_MS);
}

/* Runs at the top of every loop pass: one atomic load unless a new snapshot
 * was published. */
static void
l7_worker_prepare(struct loop *l, void *data)
{
	struct l7_worker *w = data;
	struct snapshot *s;
	struct l7_view *v;

	/* once a second the free lists give back what the last second did not
	 * need at its peak (l7_freelist.h) */
	if (loop_now(l) >= w->trim_at) {
		w->trim_at = loop_now(l) + 1000;
		l7_freelist_trim(&w->bufs);
		l7_freelist_trim(&w->recs);
		l7_mpool_trim(&w->mp);
	}
	if (w->lsns != NULL && atomic_load_explicit(&l7_draining, memory_order_relaxed))
		l7_worker_unlisten(w);
	if (snapshot_generation() == w->gen)
		return;
	s = snapshot_acquire();
	if (s == NULL)
		return;
	if (s->generation == w->gen) {
		snapshot_release(&s);
		return;
	}
	v = l7_view_new(s);
	if (v == NULL) {
		log_err("worker %u: out of memory adopting generation %lu; retrying", w->index,
			s->generation);
		snapshot_release(&s);
		return;
	}
	l7_worker_listeners(w, v);
	log_info("worker %u: adopted generation %lu", w->index, s->generation);
	w->gen = s->generation;
	l7_view_unref(&w->view);
	w->view = v;
}

static void *
l7_worker_main(void *arg)
{
	struct l7_worker *w = arg;
	int rc;

	rc = loop_run(w->loop);
	if (rc < 0)
		log_err("worker %u: loop failed: %s", w->index, strerror(-rc));
	/* The loop no longer runs: free everything now, not deferred. */
	w->stopping = true;
	w->h2s.stopping = true;
	while (!dlist_empty(&w->conns))
		l7_conn_close(DLIST_ENTRY(w->conns.first, struct l7_conn, link));
	while (!dlist_empty(&w->idle)) {
		struct l7_up *up = DLIST_ENTRY(w->idle.first, struct l7_up, ilink);

		l7_up_close(&up);
	}
	l7_h2sess_free_all(&w->h2s);
	while (w->lsns != NULL) {
		struct l7_lsn *ln = w->lsns;

		w->lsns = ln->next;
		loop_io_del(w->loop, &ln->io);
		free(ln);
	}
	l7_view_unref(&w->view);
	l7_freelist_release(&w->bufs);
	l7_freelist_release(&w->recs);
	l7_mpool_release(&w->mp);
	return NULL;
}

int
l7_workers_start(unsigned n)
{
	unsigned i;
	int rc = 0;

	if (n == 0 || l7_workers != NULL)
		return -EINVAL;
	rc = l7_stats_init(n);
	if (rc == 0)
		rc = l7_alog_start(n);
	if (rc < 0)
		return rc;
	l7_workers = calloc(n, sizeof(*l7_workers));
	if (l7_workers == NULL) {
		l7_alog_stop_all();
		return -ENOMEM;
	}
	l7_nworkers = n;
	for (i = 0; i < n; i++) {
		struct l7_worker *w = &l7_workers[i];

		w->index = i;
		w->md = l7_route_md_new();
		l7_freelist_init(&w->bufs, L7_BUF_SIZE, L7_BUF_FREE_MAX);
		l7_freelist_init(&w->recs, sizeof(struct l7_reqrec), L7_REC_FREE_MAX);
		l7_mpool_init(&w->mp, L7_REC_FREE_MAX);
		if (getrandom(&w->rng, sizeof(w->rng), GRND_NONBLOCK) != sizeof(w->rng))
			w->rng = loop_clock_ms() * 0x9e3779b97f4a7c15ull + i;
		w->loop = loop_new();
		if (w->loop == NULL) {
			rc = -errno;
			goto fail;
		}
		loop_prepare_set(w->loop, l7_worker_prepare, w);
		w->h2s.loop = w->loop;
		w->h2s.wake = l7_up_h2_wake;
		rc = -pthread_create(&w->thread, NULL, l7_worker_main, w);
		if (rc < 0)
			goto fail;
		w->started = true;
	}
	log_info("l7: %u worker%s started", n, n == 1 ? "" : "s");
	return 0;
fail:
	l7_workers_stop();
	return rc;
}

void
l7_workers_stop(void)
{
	unsigned i;

	if (l7_workers == NULL)
		return;
	for (i = 0; i < l7_nworkers; i++)
		if (l7_workers[i].started)
			loop_stop(l7_workers[i].loop);
	for (i = 0; i < l7_nworkers; i++) {
		struct l7_worker *w = &l7_workers[i];

		if (w->started)
			pthread_join(w->thread, NULL);
		loop_free(&w->loop);
		if (w->md != NULL)
			l7_route_md_free(w->md);
	}
	free(l7_workers);
	l7_workers = NULL;
	l7_nworkers = 0;
	l7_alog_stop_all();	/* after the workers: every queued line is written */
	l7_pool_registry_free();
	l7_stats_free_all();
}

void
l7_workers_drain(void)
{
	atomic_store(&l7_draining, true);
	l7_workers_wake();
}

void
l7_workers_wake(void)
{
	unsigned i;

	for (i = 0; i < l7_nworkers; i++)
		if (l7_workers[i].loop != NULL)
			loop_wake(l7_workers[i].loop);
	l7_alog_reopen_files();	/* a reload also reopens the access logs (rotation) */
}

json_t *
l7_pools_status_json(const struct snapshot *s)
{
	if (s == NULL)
		return json_array();
	return l7_pool_status_json(s->conf);
}

/* Counters added by issue 3, summed over workers into o. */
static void
l7_stats_more(json_t *o)
{
	unsigned long v[12] = { 0 }, lo, lt;
	unsigned i;

	for (i = 0; i < l7_nworkers; i++) {
		struct l7_stats *st = &l7_workers[i].stats;

		v[0] += atomic_load_explicit(&st->refused_max_conns, memory_order_relaxed);
		v[1] += atomic_load_explicit(&st->queued, memory_order_relaxed);
		v[2] += atomic_load_explicit(&st->queue_timeouts, memory_order_relaxed);
		v[3] += atomic_load_explicit(&st->retries, memory_order_relaxed);
		v[4] += atomic_load_explicit(&st->tls_handshakes, memory_order_relaxed);
		v[5] += atomic_load_explicit(&st->tls_resumed, memory_order_relaxed);
		v[6] += atomic_load_explicit(&st->tls_failed, memory_order_relaxed);
		v[7] += atomic_load_explicit(&st->h2_connections, memory_order_relaxed);
		v[8] += atomic_load_explicit(&st->h2_streams, memory_order_relaxed);
		v[9] += atomic_load_explicit(&st->h2_abuse, memory_order_relaxed);
		v[10] += atomic_load_explicit(&st->refused_banned, memory_order_relaxed);
		v[11] += atomic_load_explicit(&st->limit_denied, memory_order_relaxed);
	}
	json_object_set_new(o, "tls_handshakes", json_integer((json_int_t)v[4]));
	json_object_set_new(o, "tls_resumed", json_integer((json_int_t)v[5]));
	json_object_set_new(o, "tls_handshake_failures", json_integer((json_int_t)v[6]));
	l7_tls_layer_counts(&lo, &lt);	/* gauges: open connections per record layer */
	json_object_set_new(o, "tls_record_layer_openssl", json_integer((json_int_t)lo));
	json_object_set_new(o, "tls_record_layer_tandem", json_integer((json_int_t)lt));
	json_object_set_new(o, "refused_banned", json_integer((json_int_t)v[10]));
	json_object_set_new(o, "limit_denied", json_integer((json_int_t)v[11]));
	json_object_set_new(o, "refused_max_connections", json_integer((json_int_t)v[0]));
	json_object_set_new(o, "queued", json_integer((json_int_t)v[1]));
	json_object_set_new(o, "queue_timeouts", json_integer((json_int_t)v[2]));
	json_object_set_new(o, "retries", json_integer((json_int_t)v[3]));
	v[0] = 0;
	for (i = 0; i < l7_nworkers; i++)
		v[0] += atomic_load_explicit(&l7_workers[i].stats.io_buffers, memory_order_relaxed);
	json_object_set_new(o, "io_buffers", json_integer((json_int_t)v[0]));
	json_object_set_new(o, "h2_connections", json_integer((json_int_t)v[7]));
	json_object_set_new(o, "h2_streams", json_integer((json_int_t)v[8]));
	json_object_set_new(o, "h2_abuse_closed", json_integer((json_int_t)v[9]));
	l7_alog_counters(&v[0], &v[1]);
	json_object_set_new(o, "access_log_lines", json_integer((json_int_t)v[0]));
	json_object_set_new(o, "access_log_dropped", json_integer((json_int_t)v[1]));
}

json_t *
l7_stats_json(void)
{
	static const char *const cls[6] = { "responses_other", "responses_1xx", "responses_2xx",
					    "responses_3xx", "responses_4xx", "responses_5xx" };
	unsigned long acc = 0, act = 0, req = 0, resp[6] = { 0 }, uerr = 0, ucon = 0, ureuse = 0,
		      bad = 0, oom = 0;
	json_t *o = json_object();
	unsigned i, k;

	if (o == NULL)
		return NULL;
	for (i = 0; i < l7_nworkers; i++) {
		struct l7_stats *st = &l7_workers[i].stats;

		acc += atomic_load_explicit(&st->accepted, memory_order_relaxed);
		act += atomic_load_explicit(&st->active, memory_order_relaxed);
		req += atomic_load_explicit(&st->requests, memory_order_relaxed);
		for (k = 0; k < 6; k++)
			resp[k] += atomic_load_explicit(&st->responses[k], memory_order_relaxed);
		uerr += atomic_load_explicit(&st->upstream_errors, memory_order_relaxed);
		ucon += atomic_load_explicit(&st->upstream_connects, memory_order_relaxed);
		ureuse += atomic_load_explicit(&st->upstream_reuses, memory_order_relaxed);
		bad += atomic_load_explicit(&st->bad_requests, memory_order_relaxed);
		oom += atomic_load_explicit(&st->dropped_oom, memory_order_relaxed);
	}
	json_object_set_new(o, "workers", json_integer(l7_nworkers));
	json_object_set_new(o, "connections_accepted", json_integer((json_int_t)acc));
	json_object_set_new(o, "connections_active", json_integer((json_int_t)act));
	json_object_set_new(o, "requests", json_integer((json_int_t)req));
	for (k = 0; k < 6; k++)
		json_object_set_new(o, cls[k], json_integer((json_int_t)resp[k]));
	json_object_set_new(o, "upstream_errors", json_integer((json_int_t)uerr));
	json_object_set_new(o, "upstream_connects", json_integer((json_int_t)ucon));
	json_object_set_new(o, "upstream_reuses", json_integer((json_int_t)ureuse));
	json_object_set_new(o, "bad_requests", json_integer((json_int_t)bad));
	json_object_set_new(o, "dropped_oom", json_integer((json_int_t)oom));
	l7_stats_more(o);
	return o;
}
