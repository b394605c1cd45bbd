/*
 * l4_health - L4 real server health checks (see l4_health.h).
 *
 * One struct l4_hc per checked real, in a flat array searched by id (a few
 * thousand reals at most are checked; the search runs at sync time only).
 * Each check is a small state machine on one timer:
 *   IDLE     --timer--> connect (non-blocking), timer = timeout  -> CONNECT
 *   CONNECT  --writable--> ok (tcp) or send                      -> READ
 *   READ     --readable--> expect found (send_expect) or the status line
 *                          has the expected code (http): ok; EOF/full: fail
 *   any      --timer--> fail (timeout)
 * and every end closes the socket and re-arms the timer for the interval.
 * Objects that embed a loop_io are freed through loop_defer().
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

#include "l4_health.h"
#include "l4_httpck.h"
#include "log.h"
#include "loop.h"

enum { HC_IDLE = 0, HC_CONNECT, HC_READ };

struct l4_hc {
	char id[160];			/* "service/address:port" */
	char svc[64];			/* the service's name */
	struct conf_l4_check ck;	/* strings copied below */
	char *send, *expect;
	int af;
	unsigned char addr[16];
	uint16_t port;			/* checked port */
	uint16_t rport;			/* the real's port (IPVS dest) */
	int up;
	unsigned oks, fails;		/* consecutive */
	unsigned long checks;
	char last_error[96];
	int state;
	int fd;
	size_t sent;
	char rbuf[1024];
	size_t rlen;
	struct loop_io io;
	struct loop_timer timer;
	int seen;			/* sync mark */
	long long down_since_ms;	/* monotonic; when it went DOWN */
	int removed;			/* DOWN past remove_after: out of IPVS */
};

static struct {
	struct loop *loop;
	l4_health_cb cb;
	void *cb_data;
	struct l4_hc **v;
	size_t n;
	size_t ndown;			/* checks currently DOWN */
} hc;

static void l4_hc_timer(struct loop *l, struct loop_timer *t);

static void
l4_hc_close(struct l4_hc *h)
{
	if (h->fd >= 0) {
		loop_io_del(hc.loop, &h->io);
		close(h->fd);
		h->fd = -1;
	}
	h->state = HC_IDLE;
}

static long long
l4_hc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A real DOWN for remove_after leaves IPVS (its connections are cut by
 * the kernel's expiry, not by us); checked after each failed check, so it
 * happens within one interval of the grace period. 1 when it changed. */
static int
l4_hc_maybe_remove(struct l4_hc *h)
{
	if (h->up || h->removed || h->ck.remove_after_ms == 0 ||
	    l4_hc_now_ms() - h->down_since_ms < (long long)h->ck.remove_after_ms)
		return 0;
	h->removed = 1;
	log_notice("l4: real %s still DOWN after %u ms: removed from IPVS", h->id, h->ck.remove_after_ms);
	return 1;
}

/* Ends one check: counts it, maybe flips the state, re-arms the interval. */
static void
l4_hc_done(struct l4_hc *h, int ok, const char *why)
{
	int was = h->up, removed = 0;

	l4_hc_close(h);
	h->checks++;
	if (ok) {
		h->fails = 0;
		h->oks++;
		h->last_error[0] = '\0';
		if (!h->up && h->oks >= h->ck.rise)
			h->up = 1;
	} else {
		h->oks = 0;
		h->fails++;
		snprintf(h->last_error, sizeof(h->last_error), "%s", why);
		if (h->up && h->fails >= h->ck.fall) {
			h->up = 0;
			h->down_since_ms = l4_hc_now_ms();
		}
		removed = l4_hc_maybe_remove(h);
	}
	loop_timer_set(hc.loop, &h->timer, h->ck.interval_ms, l4_hc_timer, h);
	if (was != h->up && h->up) {
		hc.ndown--;
		log_notice("l4: real %s UP (%u checks passed): weight back%s", h->id, h->oks,
			   h->removed ? ", added back to IPVS" : "");
		h->removed = 0;
	} else if (was != h->up) {
		hc.ndown++;
		log_notice("l4: real %s DOWN (%s; %u checks failed): weight 0", h->id, why, h->fails);
	}
	if ((was != h->up || removed) && hc.cb != NULL)
		hc.cb(hc.cb_data);
}

/* The http check's verdict once the status line ("HTTP/1.1 200 OK\r\n") is
 * in: ok when its code is expect_status. Waits for more while the line may
 * still be incomplete. */
static void
l4_hc_http_status(struct l4_hc *h)
{
	char why[96];
	unsigned code = 0;
	int rc = l4_httpck_status(h->rbuf, h->rlen, &code);

	if (rc == 0)
		return;		/* EOF before a verdict fails in the caller */
	if (rc < 0) {
		l4_hc_done(h, 0, "not an HTTP status line");
		return;
	}
	if (code == h->ck.expect_status) {
		l4_hc_done(h, 1, "");
		return;
	}
	snprintf(why, sizeof(why), "HTTP status %u, expected %u", code, h->ck.expect_status);
	l4_hc_done(h, 0, why);
}

static void
l4_hc_io(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct l4_hc *h = io->data;
	char why[96];

	(void)l;
	(void)events;
	if (h->state == HC_CONNECT) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err != 0) {
			snprintf(why, sizeof(why), "connect: %s", strerror(err));
			l4_hc_done(h, 0, why);
			return;
		}
		if (h->ck.type == CONF_L4_CHECK_TCP) {
			l4_hc_done(h, 1, "");
			return;
		}
		if (h->ck.type == CONF_L4_CHECK_HTTP)
			h->ck.send_len = strlen(h->send);
		h->state = HC_READ;
		h->rlen = 0;
		h->sent = 0;
	}
	if (h->state == HC_READ && h->sent < h->ck.send_len) {
		ssize_t w = send(h->fd, h->send + h->sent, h->ck.send_len - h->sent, MSG_NOSIGNAL);

		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			snprintf(why, sizeof(why), "send: %s", strerror(errno));
			l4_hc_done(h, 0, why);
			return;
		}
		if (w > 0)
			h->sent += (size_t)w;
		loop_io_mod(hc.loop, &h->io, h->sent < h->ck.send_len ? EPOLLOUT : EPOLLIN);
		return;
	}
	if (h->state == HC_READ) {
		ssize_t r = recv(h->fd, h->rbuf + h->rlen, sizeof(h->rbuf) - 1 - h->rlen, 0);

		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0) {
			if (r < 0)
				snprintf(why, sizeof(why), "recv: %s", strerror(errno));
			else if (h->ck.type == CONF_L4_CHECK_HTTP)
				snprintf(why, sizeof(why), "closed before the status line");
			else
				snprintf(why, sizeof(why), "closed before \"%.20s\"", h->expect);
			l4_hc_done(h, 0, why);
			return;
		}
		h->rlen += (size_t)r;
		h->rbuf[h->rlen] = '\0';
		if (h->ck.type == CONF_L4_CHECK_HTTP) {
			l4_hc_http_status(h);
			return;
		}
		if (memmem(h->rbuf, h->rlen, h->expect, h->ck.expect_len) != NULL) {
			l4_hc_done(h, 1, "");
		} else if (h->rlen == sizeof(h->rbuf) - 1) {
			snprintf(why, sizeof(why), "reply without \"%.20s\"", h->expect);
			l4_hc_done(h, 0, why);
		}
	}
}

static void
l4_hc_start(struct l4_hc *h)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char why[96];
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (h->af == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, h->addr, 16);
		s6->sin6_port = htons(h->port);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, h->addr, 4);
		s4->sin_port = htons(h->port);
		sl = sizeof(*s4);
	}
	fd = socket(h->af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, sizeof(why), "socket: %s", strerror(errno));
		l4_hc_done(h, 0, why);
		return;
	}
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		close(fd);
		l4_hc_done(h, 0, why);
		return;
	}
	h->fd = fd;
	h->state = HC_CONNECT;
	if (loop_io_add(hc.loop, &h->io, fd, EPOLLOUT, l4_hc_io, h) < 0) {
		close(fd);
		h->fd = -1;
		l4_hc_done(h, 0, "out of memory");
		return;
	}
	loop_timer_set(hc.loop, &h->timer, h->ck.timeout_ms, l4_hc_timer, h);
}

static void
l4_hc_timer(struct loop *l, struct loop_timer *t)
{
	struct l4_hc *h = t->data;

	(void)l;
	if (h->state == HC_IDLE)
		l4_hc_start(h);
	else
		l4_hc_done(h, 0, "timeout");
}

static void
l4_hc_free_cb(void *p)
{
	struct l4_hc *h = p;

	free(h->send);
	free(h->expect);
	free(h);
}

/* Stops h and frees it after the current pass. */
static void
l4_hc_stop(struct l4_hc *h)
{
	l4_hc_close(h);
	loop_timer_cancel(hc.loop, &h->timer);
	if (loop_defer(hc.loop, l4_hc_free_cb, h) < 0)
		l4_hc_free_cb(h);	/* no event can be pending: the io is gone */
}

void
l4_health_init(struct loop *l, l4_health_cb cb, void *data)
{
	hc.loop = l;
	hc.cb = cb;
	hc.cb_data = data;
}

static int
l4_hc_cmp(const void *a, const void *b)
{
	return strcmp((*(struct l4_hc *const *)a)->id, (*(struct l4_hc *const *)b)->id);
}

/* Finds id among the first n entries, which are sorted by id. */
static struct l4_hc *
l4_hc_find(const char *id, size_t n)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(hc.v[mid]->id, id);

		if (r == 0)
			return hc.v[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Builds the http check's request into h->send (HTTP/1.0, so the server
 * closes; Host: the check's host or the real's address and port). */
static int
l4_hc_http_request(struct l4_hc *h, const struct conf_l4_service *s, const struct conf_l4_real *r)
{
	char host[INET6_ADDRSTRLEN + 16], a[INET6_ADDRSTRLEN];
	uint16_t port = s->check.port ? s->check.port : r->port;
	size_t len;
	char *req;

	if (s->check.host != NULL) {
		snprintf(host, sizeof(host), "%s", s->check.host);
	} else {
		inet_ntop(r->af, r->addr, a, sizeof(a));
		snprintf(host, sizeof(host), r->af == AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
	}
	len = strlen(s->check.method) + strlen(s->check.path) + strlen(host) + 96;
	req = malloc(len);
	if (req == NULL)
		return -1;
	snprintf(req, len, "%s %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: tandem-l4-check\r\n"
		 "Connection: close\r\n\r\n", s->check.method, s->check.path, host);
	free(h->send);
	h->send = req;
	h->ck.send_len = strlen(req);
	return 0;
}

void
l4_health_sync(const struct conf *c)
{
	size_t i, j, k, total = 0, n0 = hc.n;

	if (hc.loop == NULL)
		return;
	for (i = 0; i < hc.n; i++)
		hc.v[i]->seen = 0;
	for (i = 0; i < c->l4.nservices; i++)
		if (c->l4.services[i].check.type != CONF_L4_CHECK_NONE)
			total += c->l4.services[i].nreals;
	if (total > 0) {
		struct l4_hc **nv = realloc(hc.v, (hc.n + total) * sizeof(*nv));

		if (nv == NULL) {
			log_warn("l4: health checks: out of memory; checks unchanged");
			return;
		}
		hc.v = nv;
	}
	for (i = 0; i < c->l4.nservices; i++) {
		const struct conf_l4_service *s = &c->l4.services[i];

		if (s->check.type == CONF_L4_CHECK_NONE)
			continue;
		for (j = 0; j < s->nreals; j++) {
			const struct conf_l4_real *r = &s->reals[j];
			struct l4_hc *h = l4_hc_find(r->id, n0);
			int fresh = h == NULL;

			if (fresh) {
				h = calloc(1, sizeof(*h));
				if (h == NULL)
					continue;
				snprintf(h->id, sizeof(h->id), "%s", r->id);
				h->fd = -1;
				h->up = 1;
				hc.v[hc.n++] = h;
			}
			free(h->send);
			free(h->expect);
			h->ck = s->check;
			h->send = malloc(s->check.send_len + 1);
			h->expect = malloc(s->check.expect_len + 1);
			if (h->send == NULL || h->expect == NULL) {
				h->ck.type = CONF_L4_CHECK_TCP;	/* degrade, never crash */
				h->ck.send_len = h->ck.expect_len = 0;
			} else {
				memcpy(h->send, s->check.send ? s->check.send : "", s->check.send_len + 1);
				memcpy(h->expect, s->check.expect ? s->check.expect : "", s->check.expect_len + 1);
			}
			if (s->check.type == CONF_L4_CHECK_HTTP && l4_hc_http_request(h, s, r) < 0)
				h->ck.type = CONF_L4_CHECK_TCP;	/* degrade, never crash */
			if (h->ck.remove_after_ms == 0)
				h->removed = 0;
			snprintf(h->svc, sizeof(h->svc), "%s", s->name);
			h->af = r->af;
			memcpy(h->addr, r->addr, sizeof(h->addr));
			h->port = s->check.port ? s->check.port : r->port;
			h->rport = r->port;
			h->seen = 1;
			if (fresh)
				loop_timer_set(hc.loop, &h->timer, 0, l4_hc_timer, h);
		}
	}
	for (i = 0, k = 0; i < hc.n; i++) {
		if (hc.v[i]->seen) {
			hc.v[k++] = hc.v[i];
		} else {
			if (!hc.v[i]->up)
				hc.ndown--;
			l4_hc_stop(hc.v[i]);
		}
	}
	hc.n = k;
	if (hc.n > 1)
		qsort(hc.v, hc.n, sizeof(*hc.v), l4_hc_cmp);
}

void
l4_health_apply_svc(struct l4_svc *s)
{
	size_t i, b;

	if (hc.ndown == 0 || s->name == NULL)
		return;
	/* Few reals are down at once: a scan of the checks is cheap. */
	for (i = 0; i < hc.n; i++) {
		const struct l4_hc *h = hc.v[i];

		if (h->up || strcmp(h->svc, s->name) != 0)
			continue;
		for (b = 0; b < s->ndests; b++) {
			struct l4_dest *d = &s->dests[b];

			if (d->af != h->af || d->port != h->rport || memcmp(d->addr, h->addr, 16) != 0)
				continue;
			if (!h->removed) {
				d->weight = 0;
				continue;
			}
			/* past the grace period: not desired at all (order kept) */
			memmove(d, d + 1, (s->ndests - b - 1) * sizeof(*d));
			s->ndests--;
			b--;
		}
	}
}

void
l4_health_apply(struct l4_table *t)
{
	size_t a;

	for (a = 0; hc.ndown > 0 && a < t->n; a++)
		l4_health_apply_svc(&t->svcs[a]);
}

json_t *
l4_health_json(void)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < hc.n; i++) {
		const struct l4_hc *h = hc.v[i];

		json_array_append_new(a, json_pack("{s:s,s:b,s:b,s:I,s:I,s:I,s:s}", "id", h->id, "up", h->up,
						   "removed", h->removed && !h->up,
						   "checks", (json_int_t)h->checks, "fails", (json_int_t)h->fails,
						   "oks", (json_int_t)h->oks, "last_error", h->last_error));
	}
	return a;
}

void
l4_health_shutdown(void)
{
	size_t i;

	for (i = 0; i < hc.n; i++) {
		l4_hc_close(hc.v[i]);
		loop_timer_cancel(hc.loop, &hc.v[i]->timer);
		l4_hc_free_cb(hc.v[i]);
	}
	free(hc.v);
	hc.v = NULL;
	hc.n = 0;
	hc.ndown = 0;
}
