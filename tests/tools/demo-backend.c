/*
 * demo-backend - a small HTTP/1.1 origin server for the quick start demo and
 * the integration tests. One thread per connection, blocking I/O: simple on
 * purpose, it is not part of the appliance.
 *
 *   GET  /              -> "backend NAME\n" (X-Backend: NAME), keep-alive
 *   GET  /bytes?n=N     -> N bytes of 'x' with Content-Length
 *   GET  /chunked?n=N   -> N chunks "chunk i\n" with Transfer-Encoding: chunked
 *   any  with a body    -> reads it (Content-Length or chunked) and answers
 *                          "backend NAME got N bytes sum S\n" (S = byte sum mod 2^32)
 *   GET  /close         -> answers with Connection: close and closes
 *   GET  .../echo...    -> "backend NAME\n" then the request line and fields as received
 *   GET  /status/NNN    -> status NNN, body "backend NAME status NNN\n"
 *   GET  /sleep?n=MS    -> waits MS milliseconds, then as GET /
 *   GET  with Upgrade   -> 101 Switching Protocols, then echoes every byte back
 *                          (a raw tunnel: enough to test the proxy's WebSocket path)
 * With DEMO_BACKEND_LOG set, every request line is printed to stdout. A
 * PROXY protocol v1 line before a request is printed ("proxy PROXY TCP4 ...").
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *backend_name = "demo";

struct conn {
	int fd;
	char buf[65536];
	size_t len;
};

static int
conn_fill(struct conn *c)
{
	ssize_t n;

	if (c->len == sizeof(c->buf))
		return -1;
	n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
	if (n <= 0)
		return -1;
	c->len += (size_t)n;
	return 0;
}

static void
conn_drop(struct conn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

static int
send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads one CRLF-terminated line into out (without CRLF). */
static int
conn_line(struct conn *c, char *out, size_t outlen)
{
	char *nl;

	while ((nl = memchr(c->buf, '\n', c->len)) == NULL)
		if (conn_fill(c) < 0)
			return -1;
	size_t n = (size_t)(nl - c->buf);
	if (n >= outlen)
		return -1;
	memcpy(out, c->buf, n);
	if (n > 0 && out[n - 1] == '\r')
		n--;
	out[n] = '\0';
	conn_drop(c, (size_t)(nl - c->buf) + 1);
	return 0;
}

/* Consumes exactly n body bytes, adding them to count and sum. */
static int
conn_body(struct conn *c, unsigned long long n, unsigned long long *count, uint32_t *sum)
{
	while (n > 0) {
		size_t take, i;

		if (c->len == 0 && conn_fill(c) < 0)
			return -1;
		take = c->len < n ? c->len : (size_t)n;
		for (i = 0; i < take; i++)
			*sum += (unsigned char)c->buf[i];
		*count += take;
		n -= take;
		conn_drop(c, take);
	}
	return 0;
}

static long
query_n(const char *target)
{
	const char *q = strstr(target, "n=");

	return q ? strtol(q + 2, NULL, 10) : 0;
}

static void *
serve(void *arg)
{
	struct conn *c = arg;
	char line[8192], method[16], target[4096], hdr[512], head[8192];
	size_t hlen;
	int logreq = getenv("DEMO_BACKEND_LOG") != NULL;

	for (;;) {
		unsigned long long clen = 0, count = 0;
		uint32_t sum = 0;
		int chunked = 0, has_body = 0, close_after = 0, http10 = 0, upgrade = 0;

		if (conn_line(c, line, sizeof(line)) < 0)
			break;
		if (line[0] == '\0')
			continue;
		if (strncmp(line, "PROXY ", 6) == 0) {
			/* PROXY protocol v1 from the proxy: shown, then the request */
			printf("proxy %s\n", line);
			fflush(stdout);
			continue;
		}
		if (sscanf(line, "%15s %4095s", method, target) != 2)
			break;
		http10 = strstr(line, "HTTP/1.0") != NULL;
		if (logreq) {
			printf("req %s\n", line);
			fflush(stdout);
		}
		hlen = (size_t)snprintf(head, sizeof(head), "%s\n", line);
		for (;;) {
			if (conn_line(c, line, sizeof(line)) < 0)
				goto out;
			if (line[0] == '\0')
				break;
			if (hlen < sizeof(head))
				hlen += (size_t)snprintf(head + hlen, sizeof(head) - hlen, "%s\n", line);
			if (strncasecmp(line, "content-length:", 15) == 0) {
				clen = strtoull(line + 15, NULL, 10);
				has_body = clen > 0;
			} else if (strncasecmp(line, "transfer-encoding:", 18) == 0 &&
				   strstr(line, "chunked")) {
				chunked = has_body = 1;
			} else if (strncasecmp(line, "connection:", 11) == 0 && strcasestr(line, "close")) {
				close_after = 1;
			} else if (strncasecmp(line, "upgrade:", 8) == 0) {
				upgrade = 1;
			}
		}
		if (chunked) {
			for (;;) {
				unsigned long long sz;

				if (conn_line(c, line, sizeof(line)) < 0)
					goto out;
				sz = strtoull(line, NULL, 16);
				if (sz == 0) {
					do
						if (conn_line(c, line, sizeof(line)) < 0)
							goto out;
					while (line[0] != '\0');
					break;
				}
				if (conn_body(c, sz, &count, &sum) < 0 || conn_line(c, line, sizeof(line)) < 0)
					goto out;
			}
		} else if (clen > 0 && conn_body(c, clen, &count, &sum) < 0) {
			break;
		}
		if (upgrade && !has_body) {
			static const char r101[] = "HTTP/1.1 101 Switching Protocols\r\n"
				"Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
			char echo[4096];
			ssize_t n;

			if (send_all(c->fd, r101, sizeof(r101) - 1) < 0)
				break;
			/* bytes that came with the head first */
			if (c->len > 0 && send_all(c->fd, c->buf, c->len) < 0)
				break;
			c->len = 0;
			while ((n = recv(c->fd, echo, sizeof(echo), 0)) > 0)
				if (send_all(c->fd, echo, (size_t)n) < 0)
					break;
			break;
		}
		if (strcmp(target, "/close") == 0)
			close_after = 1;
		if (http10)
			close_after = 1;
		if (has_body) {
			char body[256];
			int n = snprintf(body, sizeof(body), "backend %s got %llu bytes sum %u\n",
					 backend_name, count, sum);
			int h = snprintf(hdr, sizeof(hdr),
					 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Backend: %s\r\n"
					 "Content-Length: %d\r\n%s\r\n", backend_name, n,
					 close_after ? "Connection: close\r\n" : "");
			if (send_all(c->fd, hdr, (size_t)h) < 0 || send_all(c->fd, body, (size_t)n) < 0)
				break;
		} else if (strncmp(target, "/bytes", 6) == 0) {
			long n = query_n(target), left;
			static const char xs[8192] = { [0 ... 8191] = 'x' };
			int h = snprintf(hdr, sizeof(hdr),
					 "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
					 "X-Backend: %s\r\nContent-Length: %ld\r\n%s\r\n", backend_name, n,
					 close_after ? "Connection: close\r\n" : "");
			if (send_all(c->fd, hdr, (size_t)h) < 0)
				break;
			for (left = n; left > 0 && strcmp(method, "HEAD") != 0;) {
				size_t take = left > (long)sizeof(xs) ? sizeof(xs) : (size_t)left;

				if (send_all(c->fd, xs, take) < 0)
					goto out;
				left -= (long)take;
			}
		} else if (strncmp(target, "/chunked", 8) == 0) {
			long n = query_n(target), i;
			int h = snprintf(hdr, sizeof(hdr),
					 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Backend: %s\r\n"
					 "Transfer-Encoding: chunked\r\n%s\r\n", backend_name,
					 close_after ? "Connection: close\r\n" : "");
			if (send_all(c->fd, hdr, (size_t)h) < 0)
				break;
			for (i = 0; i < n; i++) {
				char chunk[64], data[32];
				int dn = snprintf(data, sizeof(data), "chunk %ld\n", i);
				int cn = snprintf(chunk, sizeof(chunk), "%x\r\n%s\r\n", dn, data);

				if (send_all(c->fd, chunk, (size_t)cn) < 0)
					goto out;
			}
			if (send_all(c->fd, "0\r\n\r\n", 5) < 0)
				break;
		} else {
			char body[8448];
			int status = 200, n, h;

			if (hlen >= sizeof(head))
				hlen = sizeof(head) - 1;
			if (strncmp(target, "/status/", 8) == 0)
				status = atoi(target + 8);
			if (status < 200 || status > 599)
				status = 200;
			if (strncmp(target, "/sleep", 6) == 0)
				usleep((useconds_t)query_n(target) * 1000);
			if (strstr(target, "/echo") != NULL)
				n = snprintf(body, sizeof(body), "backend %s\n%.*s", backend_name,
					     (int)hlen, head);
			else if (status != 200)
				n = snprintf(body, sizeof(body), "backend %s status %d\n", backend_name,
					     status);
			else
				n = snprintf(body, sizeof(body), "backend %s\n", backend_name);
			h = snprintf(hdr, sizeof(hdr),
				     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nX-Backend: %s\r\n"
				     "Content-Length: %d\r\n%s\r\n", status, status == 200 ? "OK" : "Status", backend_name, n,
				     close_after ? "Connection: close\r\n" : "");
			/* head and body in one send, so a killed backend leaves no
			 * half answer behind (the retry tests kill one under load) */
			if (strcmp(method, "HEAD") != 0 && (size_t)h + (size_t)n <= sizeof(head)) {
				memcpy(head, hdr, (size_t)h);
				memcpy(head + h, body, (size_t)n);
				if (send_all(c->fd, head, (size_t)h + (size_t)n) < 0)
					break;
			} else if (send_all(c->fd, hdr, (size_t)h) < 0 ||
				   (strcmp(method, "HEAD") != 0 && send_all(c->fd, body, (size_t)n) < 0)) {
				break;
			}
		}
		if (close_after)
			break;
	}
out:
	close(c->fd);
	free(c);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char addr[64];
	int lfd, one = 1, port;
	char *colon;

	if (argc != 3) {
		fprintf(stderr, "usage: demo-backend ADDRESS:PORT NAME\n");
		return 2;
	}
	snprintf(addr, sizeof(addr), "%s", argv[1]);
	colon = strrchr(addr, ':');
	if (colon == NULL)
		return 2;
	*colon = '\0';
	port = atoi(colon + 1);
	backend_name = argv[2];
	signal(SIGPIPE, SIG_IGN);
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1 || port <= 0 || port > 65535) {
		fprintf(stderr, "demo-backend: bad address %s\n", argv[1]);
		return 2;
	}
	sa.sin_port = htons((uint16_t)port);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 512) < 0) {
		fprintf(stderr, "demo-backend: cannot listen on %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (;;) {
		struct conn *c;
		pthread_t t;
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			/* A listener that can never accept again (its namespace
			 * gone) must not spin a core: give up; a transient error
			 * (out of descriptors) waits a little instead. */
			if (errno == EBADF || errno == EINVAL || errno == ENOTSOCK)
				return 1;
			if (errno != EINTR && errno != ECONNABORTED)
				usleep(10000);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		/* Head and body go out in separate writes: without NODELAY, Nagle
		 * and the peer's delayed ACK would add 40 ms to every response. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (pthread_create(&t, NULL, serve, c) != 0) {
			close(fd);
			free(c);
			continue;
		}
		pthread_detach(t);
	}
}
