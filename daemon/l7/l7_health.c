/*
 * l7_health - active health checks of pool members, on a thread of its own.
 *
 * The health thread runs its own loop, never the workers': a check that
 * hangs or a slow member costs the data path nothing. At every snapshot
 * generation it rebuilds its list of checks from the pools that have a
 * health_check (the member states, and so rise/fall counts and the up/down
 * verdict, carry across reloads by member id), and clears the verdict of
 * members whose pool no longer checks them. Each check connects (TCP), or
 * connects and sends "GET path HTTP/1.1" with Connection: close (HTTP),
 * reads the status line and, when a body match is asked for, the body up
 * to 16 KiB; the result goes to l7_pool_health_result(), which applies rise
 * and fall. Workers only read the verdict (an atomic flag). Pools with
 * "tls" are checked over TLS with the pool's own context (verification,
 * name, client certificate): a TCP check then passes once the handshake
 * does, so a member whose certificate no longer verifies is taken out.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "snapshot.h"
#include "buf.h"
#include "l7_h2sess.h"
#include "l7_h2up.h"
#include "l7_health.h"
#include "l7_http1.h"
#include "l7_io.h"
#include "l7_pool.h"
#include "l7_tls_up.h"

#define L7_HC_MAGIC	0x4c374843u	/* "L7HC" */
#define L7_HC_BUF	16384

struct l7_hc {
	unsigned magic;
	struct loop_io io;
	struct loop_timer timer;	/* next check, or the running check's timeout */
	int fd;				/* -1 between checks */
	const struct conf_pool *pool;	/* in l7_hc_snap */
	const struct conf_member *m;
	struct l7_member_state *ms;
	size_t sent, len;
	bool connected, grpc_started;
	char buf[L7_HC_BUF];
	char req[512];
	size_t reqlen;
	struct l7_h2up *h2;		/* GRPC: the HTTP/2 session of the running check */
	struct l7_h2up_st *st;		/* and its one stream */
	struct buf h2out;		/* its frames not yet sent */
	struct l7_io tio;		/* plain, or TLS for pools with "tls" */
	struct l7_hc *next;
};

static struct loop *l7_hc_loop;
static pthread_t l7_hc_thread;
static bool l7_hc_started;
static unsigned long l7_hc_gen;
static struct snapshot *l7_hc_snap;	/* the checks below point into it */
static struct l7_pool_map *l7_hc_map;
static struct l7_hc *l7_hc_list;
static uint64_t l7_hc_rng = 0x2545f4914f6cdd1dull;

static void l7_hc_start(struct loop *l, struct loop_timer *t);

/* The gRPC check's request as HTTP/1.1 for l7_h2up: POST
 * /grpc.health.v1.Health/Check with one length-prefixed message,
 * HealthCheckRequest{service} (field 1, a string: 0a LEN bytes). */
static void
l7_hc_grpc_request(struct l7_hc *hc, const struct conf_pool *p, const struct conf_member *m)
{
	size_t sl = strlen(p->l7.hc.service), ml = sl ? sl + 2 : 0;
	int n = snprintf(hc->req, sizeof(hc->req),
			 "POST /grpc.health.v1.Health/Check HTTP/1.1\r\nHost: %s\r\n"
			 "Content-Type: application/grpc\r\nUser-Agent: tandem-health\r\n"
			 "Content-Length: %zu\r\n\r\n", p->l7.hc.host ? p->l7.hc.host : m->address,
			 5 + ml);
	char *b;

	hc->reqlen = 0;
	if (n < 0 || (size_t)n + 5 + ml > sizeof(hc->req))
		return;
	b = hc->req + n;
	b[0] = 0;	/* not compressed */
	b[1] = b[2] = b[3] = 0;
	b[4] = (char)ml;
	if (sl > 0) {
		b[5] = 0x0a;
		b[6] = (char)sl;
		memcpy(b + 7, p->l7.hc.service, sl);
	}
	hc->reqlen = (size_t)n + 5 + ml;
}

static void
l7_hc_close(struct l7_hc *hc)
{
	l7_h2up_close(&hc->st);
	l7_h2up_free(&hc->h2);
	buf_release(&hc->h2out);
	if (hc->fd < 0)
		return;
	loop_io_del(l7_hc_loop, &hc->io);
	l7_io_free(&hc->tio);
	close(hc->fd);
	hc->fd = -1;
}

/* Ends the running check with a verdict and schedules the next one. */
static void
l7_hc_done(struct l7_hc *hc, int ok, const char *why)
{
	l7_hc_close(hc);
	l7_pool_health_result(hc->ms, hc->pool, ok, loop_now(l7_hc_loop), why);
	if (loop_timer_set(l7_hc_loop, &hc->timer, hc->pool->l7.hc.interval_ms, l7_hc_start, hc) < 0)
		log_err("health: out of memory scheduling %s", hc->ms->id);
}

static void
l7_hc_timeout(struct loop *l, struct loop_timer *t)
{
	(void)l;
	l7_hc_done(t->data, 0, "timeout");
}

/* Judges an HTTP answer in hc->buf; -1 while more bytes are needed. */
static int
l7_hc_judge(struct l7_hc *hc, int eof, char *why, size_t wlen)
{
	const struct conf_health_check *c = &hc->pool->l7.hc;
	char *eol;
	int status;

	hc->buf[hc->len] = '\0';
	eol = strstr(hc->buf, "\r\n");
	if (eol == NULL) {
		if (eof || hc->len >= L7_HC_BUF - 1) {
			snprintf(why, wlen, "no status line");
			return 0;
		}
		return -1;
	}
	if (sscanf(hc->buf, "HTTP/1.%*1[01] %3d", &status) != 1) {
		snprintf(why, wlen, "not an HTTP/1.x response");
		return 0;
	}
	if (c->expect_status ? status != c->expect_status : (status < 200 || status > 399)) {
		snprintf(why, wlen, "status %d", status);
		return 0;
	}
	if (c->expect_body == NULL)
		return 1;
	if (strstr(hc->buf, c->expect_body) != NULL)
		return 1;
	if (eof || hc->len >= L7_HC_BUF - 1) {
		snprintf(why, wlen, "body without \"%.40s\"", c->expect_body);
		return 0;
	}
	return -1;
}

/* Judges a gRPC health answer (HTTP/1.1 text from l7_h2up) once it is
 * complete: status 200, grpc-status 0 and, when a message came, status
 * SERVING (HealthCheckResponse field 1 = 1: bytes 08 01). */
static int
l7_hc_judge_grpc(struct l7_hc *hc, char *why, size_t wlen)
{
	static const char serving[] = { 0, 0, 0, 0, 2, 8, 1 };
	const char *gs;
	int status, code;

	hc->buf[hc->len] = '\0';
	if (sscanf(hc->buf, "HTTP/1.1 %3d", &status) != 1 || status != 200) {
		snprintf(why, wlen, "status %d", status);
		return 0;
	}
	/* the message is binary (NUL bytes): search the whole answer */
	gs = memmem(hc->buf, hc->len, "\r\ngrpc-status: ", 15);
	if (gs == NULL || sscanf(gs + 15, "%d", &code) != 1) {
		snprintf(why, wlen, "no grpc-status");
		return 0;
	}
	if (code != 0) {
		snprintf(why, wlen, "grpc-status %d", code);
		return 0;
	}
	if (memmem(hc->buf, hc->len, serving, sizeof(serving)) == NULL) {
		snprintf(why, wlen, "not SERVING");
		return 0;
	}
	return 1;
}

/* Whether the check speaks HTTP/2 (l7_h2up): the gRPC type always, an
 * HTTP check when the pool's members speak HTTP/2. */
static int
l7_hc_h2(const struct l7_hc *hc)
{
	return hc->pool->l7.hc.type == CONF_HC_GRPC ||
	       (hc->pool->l7.hc.type == CONF_HC_HTTP && hc->pool->l7.upstream_h2);
}

/* One step of an HTTP/2 check: request in, frames out, answer back (over
 * the check's transport: h2c, or h2 inside TLS). */
static void
l7_hc_io_h2(struct l7_hc *hc)
{
	struct buf rb = { .data = hc->buf, .cap = L7_HC_BUF - 1, .rpos = 0, .wpos = hc->len };
	struct buf in;
	char inb[4096], why[96];
	ssize_t n;

	if (hc->sent < hc->reqlen) {
		n = l7_h2up_take(hc->st, hc->req + hc->sent, hc->reqlen - hc->sent);
		if (n > 0)
			hc->sent += (size_t)n;
	}
	if (l7_h2up_output(hc->h2, &hc->h2out) < 0)
		goto broken;
	n = buf_len(&hc->h2out) > 0 ? l7_io_write_buf(&hc->tio, &hc->h2out) : 0;
	if (n < 0 && n != -EAGAIN) {
		snprintf(why, sizeof(why), "send: %s", strerror((int)-n));
		l7_hc_done(hc, 0, why);
		return;
	}
	/* TLS: read until dry (a record held inside OpenSSL raises no event) */
	do {
		in = (struct buf){ .data = inb, .cap = sizeof(inb) };
		n = l7_io_read_buf(&hc->tio, &in);
		if (n == 0 || (n < 0 && n != -EAGAIN)) {
			snprintf(why, sizeof(why), "recv: %s",
				 n == 0 ? "closed by the member" : strerror((int)-n));
			l7_hc_done(hc, 0, why);
			return;
		}
		if (n > 0 && l7_h2up_input(hc->h2, inb, (size_t)n) < 0)
			goto broken;
	} while (n > 0);
	if (l7_h2up_response(hc->st, &rb) < 0)
		goto broken;
	hc->len = rb.wpos;
	if (l7_h2up_done(hc->st)) {	/* the answer is complete */
		int v = hc->pool->l7.hc.type == CONF_HC_GRPC ? l7_hc_judge_grpc(hc, why, sizeof(why))
			: l7_hc_judge(hc, 1, why, sizeof(why));

		l7_hc_done(hc, v, why);
		return;
	}
	if (hc->len >= L7_HC_BUF - 1) {
		l7_hc_done(hc, 0, "answer too large");
		return;
	}
	if (l7_h2up_output(hc->h2, &hc->h2out) < 0)	/* SETTINGS ack, WINDOW_UPDATE */
		goto broken;
	loop_io_mod(l7_hc_loop, &hc->io, l7_io_events(&hc->tio, true, buf_len(&hc->h2out) > 0));
	return;
broken:
	l7_hc_done(hc, 0, "HTTP/2 error or stream reset");
}

static void
l7_hc_io(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct l7_hc *hc = io->data;
	char why[256];
	ssize_t n;
	int err = 0, v;
	socklen_t elen = sizeof(err);

	(void)l;
	(void)events;
	if (!hc->connected) {
		if (getsockopt(hc->fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
			err = errno;
		if (err != 0) {
			snprintf(why, sizeof(why), "connect: %s", strerror(err));
			l7_hc_done(hc, 0, why);
			return;
		}
		hc->connected = true;
	}
	v = l7_io_handshake(&hc->tio);	/* plain: done at once */
	if (v == 0) {
		loop_io_mod(l7_hc_loop, &hc->io, hc->tio.hs_wait);
		return;
	}
	if (v < 0) {
		l7_tls_up_why(hc->tio.tls, why, sizeof(why));
		if (hc->pool->l7.upstream_h2)
			l7_h2sess_tls_why(why, sizeof(why));
		l7_hc_done(hc, 0, why);
		return;
	}
	if (hc->pool->l7.hc.type == CONF_HC_TCP) {
		l7_hc_done(hc, 1, NULL);
		return;
	}
	if (l7_hc_h2(hc)) {
		/* h2 over TLS: a member that did not pick h2 cannot answer */
		if (hc->tio.tls != NULL && !hc->grpc_started &&
		    (l7_io_alpn(&hc->tio) == NULL || strcmp(l7_io_alpn(&hc->tio), "h2") != 0)) {
			l7_hc_done(hc, 0, "the member did not select h2 in TLS ALPN");
			return;
		}
		hc->grpc_started = true;
		l7_hc_io_h2(hc);
		return;
	}
	while (hc->sent < hc->reqlen) {
		n = l7_io_send(&hc->tio, hc->req + hc->sent, hc->reqlen - hc->sent);
		if (n == -EAGAIN) {
			loop_io_mod(l7_hc_loop, &hc->io, l7_io_events(&hc->tio, false, true));
			return;
		}
		if (n < 0) {
			snprintf(why, sizeof(why), "send: %s", strerror((int)-n));
			l7_hc_done(hc, 0, why);
			return;
		}
		hc->sent += (size_t)n;
	}
	/* TLS: read until the socket is dry, a record inside OpenSSL raises
	 * no event (level-triggered: EPOLLIN brings us back) */
	for (;;) {
		n = l7_io_recv(&hc->tio, hc->buf + hc->len, L7_HC_BUF - 1 - hc->len);
		if (n == -EAGAIN) {
			loop_io_mod(l7_hc_loop, &hc->io, l7_io_events(&hc->tio, true, false));
			return;
		}
		if (n < 0) {
			snprintf(why, sizeof(why), "recv: %s", strerror((int)-n));
			l7_hc_done(hc, 0, why);
			return;
		}
		hc->len += (size_t)n;
		v = l7_hc_judge(hc, n == 0, why, sizeof(why));
		if (v >= 0) {
			l7_hc_done(hc, v, why);
			return;
		}
	}
}

static void
l7_hc_start(struct loop *l, struct loop_timer *t)
{
	struct l7_hc *hc = t->data;
	struct l7_tls_up *up;
	struct l7_tls_conn *tc;
	char why[96];
	int fd, rc;

	fd = socket(hc->m->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		/* our own shortage (fds): not the member's fault, try later */
		loop_timer_set(l, &hc->timer, hc->pool->l7.hc.interval_ms, l7_hc_start, hc);
		return;
	}
	hc->fd = fd;
	hc->sent = hc->len = 0;
	hc->connected = hc->grpc_started = false;
	if (l7_hc_h2(hc) &&
	    ((hc->h2 = l7_h2up_new(1)) == NULL || (hc->st = l7_h2up_open(hc->h2, hc)) == NULL ||
	     buf_init(&hc->h2out, 16384) < 0)) {
		l7_h2up_close(&hc->st);
		l7_h2up_free(&hc->h2);	/* the fd is not watched yet */
		buf_release(&hc->h2out);
		close(fd);
		hc->fd = -1;
		loop_timer_set(l, &hc->timer, hc->pool->l7.hc.interval_ms, l7_hc_start, hc);
		return;
	}
	up = l7_hc_snap->uptls != NULL ? l7_hc_snap->uptls[hc->pool->index] : NULL;
	tc = up != NULL ? l7_tls_up_conn_new(up, fd, (size_t)(hc->m - hc->pool->members),
					     hc->m->address) : NULL;
	if (up != NULL && tc == NULL) {
		close(fd);	/* our shortage again */
		hc->fd = -1;
		loop_timer_set(l, &hc->timer, hc->pool->l7.hc.interval_ms, l7_hc_start, hc);
		return;
	}
	l7_io_init_conn(&hc->tio, fd, tc);
	rc = connect(fd, (const struct sockaddr *)&hc->m->sa, hc->m->salen);
	if (rc < 0 && errno != EINPROGRESS) {
		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		l7_io_free(&hc->tio);
		close(fd);
		hc->fd = -1;
		l7_hc_done(hc, 0, why);
		return;
	}
	if (loop_io_add(l, &hc->io, fd, EPOLLOUT, l7_hc_io, hc) < 0) {
		l7_io_free(&hc->tio);
		close(fd);
		hc->fd = -1;
		loop_timer_set(l, &hc->timer, hc->pool->l7.hc.interval_ms, l7_hc_start, hc);
		return;
	}
	loop_timer_set(l, &hc->timer, hc->pool->l7.hc.timeout_ms, l7_hc_timeout, hc);
}

static void
l7_hc_free_all(void)
{
	while (l7_hc_list != NULL) {
		struct l7_hc *hc = l7_hc_list;

		l7_hc_list = hc->next;
		l7_hc_close(hc);
		loop_timer_cancel(l7_hc_loop, &hc->timer);
		hc->magic = 0;
		free(hc);	/* io removed above: no event of this pass refers to it */
	}
	l7_pool_map_free(&l7_hc_map);
	snapshot_release(&l7_hc_snap);
}

/* Adopts a new snapshot: one check per enabled member of every checked pool. */
static void
l7_hc_prepare(struct loop *l, void *data)
{
	struct snapshot *s;
	size_t i, j;

	(void)data;
	if (snapshot_generation() == l7_hc_gen)
		return;
	s = snapshot_acquire();
	if (s == NULL)
		return;
	l7_hc_gen = s->generation;
	l7_hc_free_all();
	l7_hc_snap = s;
	l7_hc_map = l7_pool_map_new(s->conf);
	if (l7_hc_map == NULL) {
		log_err("health: out of memory adopting generation %lu", s->generation);
		l7_hc_gen = 0;	/* try again next pass */
		snapshot_release(&l7_hc_snap);
		return;
	}
	for (i = 0; i < s->conf->npools; i++) {
		const struct conf_pool *p = &s->conf->pools[i];

		for (j = 0; j < p->nmembers; j++) {
			const struct conf_member *m = &p->members[j];
			struct l7_member_state *ms = l7_hc_map->members[i][j];
			struct l7_hc *hc;

			if (p->l7.hc.type == CONF_HC_NONE || !m->enabled) {
				/* not checked (any more): no stale verdict */
				if (atomic_exchange(&ms->hc_down, false))
					log_notice("member %s: health check removed, counted up", ms->id);
				continue;
			}
			hc = calloc(1, sizeof(*hc));
			if (hc == NULL) {
				log_err("health: out of memory for %s", ms->id);
				continue;
			}
			hc->magic = L7_HC_MAGIC;
			hc->fd = -1;
			hc->pool = p;
			hc->m = m;
			hc->ms = ms;
			if (p->l7.hc.type == CONF_HC_HTTP) {
				int n = snprintf(hc->req, sizeof(hc->req),
						 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: tandem-health\r\n"
						 "Connection: close\r\n\r\n", p->l7.hc.path,
						 p->l7.hc.host ? p->l7.hc.host : p->l7.tls.server_name ?
						 p->l7.tls.server_name : m->address);

				hc->reqlen = n > 0 && (size_t)n < sizeof(hc->req) ? (size_t)n : 0;
			} else if (p->l7.hc.type == CONF_HC_GRPC) {
				l7_hc_grpc_request(hc, p, m);
			}
			hc->next = l7_hc_list;
			l7_hc_list = hc;
			/* spread the first checks over one interval */
			l7_hc_rng ^= l7_hc_rng << 13;
			l7_hc_rng ^= l7_hc_rng >> 7;
			l7_hc_rng ^= l7_hc_rng << 17;
			loop_timer_set(l, &hc->timer, l7_hc_rng % (p->l7.hc.interval_ms / 4 + 1),
				       l7_hc_start, hc);
		}
	}
}

static void *
l7_hc_main(void *arg)
{
	int rc;

	(void)arg;
	rc = loop_run(l7_hc_loop);
	if (rc < 0)
		log_err("health: loop failed: %s", strerror(-rc));
	l7_hc_free_all();
	return NULL;
}

int
l7_health_start(void)
{
	int rc;

	l7_hc_loop = loop_new();
	if (l7_hc_loop == NULL)
		return -errno;
	loop_prepare_set(l7_hc_loop, l7_hc_prepare, NULL);
	rc = -pthread_create(&l7_hc_thread, NULL, l7_hc_main, NULL);
	if (rc < 0) {
		loop_free(&l7_hc_loop);
		return rc;
	}
	l7_hc_started = true;
	return 0;
}

void
l7_health_wake(void)
{
	if (l7_hc_loop != NULL)
		loop_wake(l7_hc_loop);
}

void
l7_health_stop(void)
{
	if (!l7_hc_started)
		return;
	loop_stop(l7_hc_loop);
	pthread_join(l7_hc_thread, NULL);
	loop_free(&l7_hc_loop);
	l7_hc_started = false;
}
