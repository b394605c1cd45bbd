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
 * and fall. Workers only read the verdict (an atomic flag).
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
#include "l7_health.h"
#include "l7_pool.h"

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
	bool connected;
	char buf[L7_HC_BUF];
	char req[512];
	size_t reqlen;
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

static void
l7_hc_close(struct l7_hc *hc)
{
	if (hc->fd < 0)
		return;
	loop_io_del(l7_hc_loop, &hc->io);
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

static void
l7_hc_io(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct l7_hc *hc = io->data;
	char why[96];
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
	if (hc->pool->l7.hc.type == CONF_HC_TCP) {
		l7_hc_done(hc, 1, NULL);
		return;
	}
	if (hc->sent < hc->reqlen) {
		n = send(hc->fd, hc->req + hc->sent, hc->reqlen - hc->sent, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			snprintf(why, sizeof(why), "send: %s", strerror(errno));
			l7_hc_done(hc, 0, why);
			return;
		}
		if (n > 0)
			hc->sent += (size_t)n;
		if (hc->sent == hc->reqlen)
			loop_io_mod(l7_hc_loop, &hc->io, EPOLLIN);
		return;	/* level-triggered: EPOLLIN brings us back */
	}
	n = recv(hc->fd, hc->buf + hc->len, L7_HC_BUF - 1 - hc->len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		snprintf(why, sizeof(why), "recv: %s", strerror(errno));
		l7_hc_done(hc, 0, why);
		return;
	}
	hc->len += (size_t)n;
	v = l7_hc_judge(hc, n == 0, why, sizeof(why));
	if (v >= 0)
		l7_hc_done(hc, v, why);
}

static void
l7_hc_start(struct loop *l, struct loop_timer *t)
{
	struct l7_hc *hc = t->data;
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
	hc->connected = false;
	rc = connect(fd, (const struct sockaddr *)&hc->m->sa, hc->m->salen);
	if (rc < 0 && errno != EINPROGRESS) {
		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		close(fd);
		hc->fd = -1;
		l7_hc_done(hc, 0, why);
		return;
	}
	if (loop_io_add(l, &hc->io, fd, EPOLLOUT, l7_hc_io, hc) < 0) {
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
						 p->l7.hc.host ? p->l7.hc.host : m->address);

				hc->reqlen = n > 0 && (size_t)n < sizeof(hc->req) ? (size_t)n : 0;
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
