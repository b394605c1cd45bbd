/*
 * l7_metrics - Prometheus text exposition of the L7 counters on a loopback
 * address ("metrics": {"address": "127.0.0.1:9145"} in the config, or
 * tandemd --metrics, which wins).
 *
 * Served from the main thread's loop, never a worker's: each scrape is one
 * short connection (HTTP/1.0, any path), answered with the worker totals and
 * the per-member counters and states of the current snapshot and the
 * per-object counters of l7_stats, then closed.
 * The reads and writes use short socket timeouts, so a stuck scraper costs
 * the control loop at most a second and the data path nothing.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "conf.h"
#include "log.h"
#include "loop.h"
#include "snapshot.h"
#include "l7_metrics.h"
#include "l7_proxy.h"
#include "l7_stats.h"

static struct loop_io l7_metrics_io;
static struct loop *l7_metrics_loop;
static int l7_metrics_fd = -1;
static char l7_metrics_addr[80];	/* what l7_metrics_fd listens on */
static l7_metrics_extra_fn l7_metrics_extra;
static void *l7_metrics_extra_data;

void
l7_metrics_extra_set(l7_metrics_extra_fn fn, void *data)
{
	l7_metrics_extra = fn;
	l7_metrics_extra_data = data;
}

/* Counters in l7_stats_json that are gauges, not counters. */
static int
l7_metrics_is_gauge(const char *k)
{
	return strcmp(k, "workers") == 0 || strcmp(k, "connections_active") == 0 ||
	       strcmp(k, "io_buffers") == 0;
}

static int
l7_metrics_body(struct buf *b)
{
	json_t *st = l7_stats_json(), *pools, *p, *m, *v;
	struct snapshot *s = snapshot_acquire();
	const char *k;
	size_t i, j;
	int rc = 0;

	json_object_foreach(st, k, v) {
		if (!json_is_integer(v))
			continue;
		if (l7_metrics_is_gauge(k))
			rc |= buf_appendf(b, "# TYPE tandem_l7_%s gauge\ntandem_l7_%s %lld\n", k, k,
					  (long long)json_integer_value(v));
		else
			rc |= buf_appendf(b, "# TYPE tandem_l7_%s_total counter\ntandem_l7_%s_total %lld\n",
					  k, k, (long long)json_integer_value(v));
	}
	json_decref(st);
	pools = l7_pools_status_json(s);
	rc |= s != NULL ? l7_stats_prometheus(s->conf, b) : 0;
	if (l7_metrics_extra != NULL)
		rc |= l7_metrics_extra(b, s != NULL ? s->conf : NULL, l7_metrics_extra_data);
	snapshot_release(&s);
	rc |= buf_appendf(b, "# TYPE tandem_member_up gauge\n# TYPE tandem_member_active gauge\n"
			  "# TYPE tandem_member_requests_total counter\n"
			  "# TYPE tandem_member_connect_failures_total counter\n"
			  "# TYPE tandem_member_responses_5xx_total counter\n"
			  "# TYPE tandem_member_health_check_failures_total counter\n");
	json_array_foreach(pools, i, p) {
		const char *pool = json_string_value(json_object_get(p, "name"));

		json_array_foreach(json_object_get(p, "members"), j, m) {
			const char *id = json_string_value(json_object_get(m, "id"));
			const char *state = json_string_value(json_object_get(m, "state"));
			char lab[256];

			/* names and ids are [A-Za-z0-9._-] plus address characters:
			 * nothing to escape in a label value */
			snprintf(lab, sizeof(lab), "{pool=\"%s\",member=\"%s\"}", pool ? pool : "",
				 id ? id : "");
			rc |= buf_appendf(b, "tandem_member_up%s %d\n", lab,
					  state != NULL && strcmp(state, "up") == 0);
			rc |= buf_appendf(b, "tandem_member_active%s %lld\n", lab,
					  (long long)json_integer_value(json_object_get(m, "active")));
			rc |= buf_appendf(b, "tandem_member_requests_total%s %lld\n", lab,
					  (long long)json_integer_value(json_object_get(m, "requests")));
			rc |= buf_appendf(b, "tandem_member_connect_failures_total%s %lld\n", lab,
					  (long long)json_integer_value(json_object_get(m, "connect_failures")));
			rc |= buf_appendf(b, "tandem_member_responses_5xx_total%s %lld\n", lab,
					  (long long)json_integer_value(json_object_get(m, "responses_5xx")));
			rc |= buf_appendf(b, "tandem_member_health_check_failures_total%s %lld\n", lab,
					  (long long)json_integer_value(json_object_get(m, "health_check_failures")));
		}
	}
	json_decref(pools);
	return rc < 0 ? -1 : 0;
}

static void
l7_metrics_accept(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct timeval tv = { .tv_sec = 1, .tv_usec = 0 };
	struct buf body = { 0 };
	char req[2048], head[160];
	int fd, hl;
	ssize_t n;

	(void)l;
	(void)events;
	fd = accept4(io->fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	n = recv(fd, req, sizeof(req), 0);	/* the request itself is not needed */
	(void)n;
	/* about 1.5 KiB per counted object: start at 1 MiB and double (a
	 * config of thousands of routes) up to 64 MiB */
	for (size_t cap = 1 << 20; cap <= (64u << 20); cap *= 2) {
		buf_release(&body);
		if (buf_init(&body, cap) < 0 || l7_metrics_body(&body) == 0)
			break;
		body.rpos = body.wpos = 0;
	}
	if (body.data == NULL || buf_len(&body) == 0) {
		static const char r500[] = "HTTP/1.0 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";

		(void)!send(fd, r500, sizeof(r500) - 1, MSG_NOSIGNAL);
	} else {
		hl = snprintf(head, sizeof(head), "HTTP/1.0 200 OK\r\nContent-Type: text/plain; "
			      "version=0.0.4\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			      buf_len(&body));
		if (send(fd, head, (size_t)hl, MSG_NOSIGNAL) == hl)
			(void)!send(fd, buf_head(&body), buf_len(&body), MSG_NOSIGNAL);
	}
	buf_release(&body);
	close(fd);
}

int
l7_metrics_start(struct loop *l, const char *addrport)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1, rc;

	rc = conf_metrics_addr(addrport, &ss, &sl);
	if (rc < 0)
		return rc;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 64) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	l7_metrics_stop();	/* the old address, if any: the new one is bound */
	if (loop_io_add(l, &l7_metrics_io, fd, EPOLLIN, l7_metrics_accept, NULL) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	l7_metrics_fd = fd;
	l7_metrics_loop = l;
	snprintf(l7_metrics_addr, sizeof(l7_metrics_addr), "%s", addrport);
	log_notice("metrics: Prometheus text on http://%s/", addrport);
	return 0;
}

int
l7_metrics_apply(struct loop *l, const char *addrport)
{
	if (addrport == NULL) {
		if (l7_metrics_fd >= 0)
			log_notice("metrics: no longer served on %s", l7_metrics_addr);
		l7_metrics_stop();
		return 0;
	}
	if (l7_metrics_fd >= 0 && strcmp(addrport, l7_metrics_addr) == 0)
		return 0;	/* unchanged: keep the socket (no gap for scrapers) */
	return l7_metrics_start(l, addrport);
}

void
l7_metrics_stop(void)
{
	if (l7_metrics_fd < 0)
		return;
	loop_io_del(l7_metrics_loop, &l7_metrics_io);
	close(l7_metrics_fd);
	l7_metrics_fd = -1;
	l7_metrics_addr[0] = '\0';
}
