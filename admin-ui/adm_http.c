/*
 * adm_http - libmicrohttpd glue: collects the request body, builds a
 * struct adm_req for the API, serves the console's static files, and puts
 * the security headers on every answer.
 *
 * Static files are opened relative to an O_PATH descriptor of the www
 * directory, after rejecting any path with a "." or ".." segment, a
 * backslash or a NUL, so a request can never name a file outside it.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "adm_api.h"
#include "adm_http.h"
#include "jh.h"
#include "log.h"

#define ADM_API_PREFIX "/api/v1"
#define ADM_MAX_BODY (1024 * 1024)

struct adm_http {
	struct MHD_Daemon *d;
	struct adm *a;
	int wwwfd;			/* O_PATH of the www dir, or -1 */
};

/* Per-request state kept between MHD's calls. */
struct adm_conn {
	char *body;
	size_t len;
	int too_big;
};

int
adm_listen_parse(const char *spec, struct sockaddr_storage *sa, int *is_loopback)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
	char host[128];
	const char *colon;
	char *end;
	long port;
	size_t n;

	memset(sa, 0, sizeof(*sa));
	if (spec[0] == '[') {
		const char *rb = strchr(spec, ']');

		if (rb == NULL || rb[1] != ':')
			return -EINVAL;
		n = (size_t)(rb - spec - 1);
		if (n >= sizeof(host))
			return -EINVAL;
		memcpy(host, spec + 1, n);
		colon = rb + 1;
	} else {
		colon = strrchr(spec, ':');
		if (colon == NULL || (size_t)(colon - spec) >= sizeof(host))
			return -EINVAL;
		n = (size_t)(colon - spec);
		memcpy(host, spec, n);
	}
	host[n] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || end == colon + 1 || port < 1 || port > 65535)
		return -EINVAL;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*is_loopback = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*is_loopback = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
		return 0;
	}
	return -EINVAL;
}

static void
adm_security_headers(struct MHD_Response *r)
{
	MHD_add_response_header(r, "Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
}

static enum MHD_Result
adm_send_text(struct MHD_Connection *conn, unsigned status, const char *ctype, const char *text)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", ctype);
	adm_security_headers(r);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static void
adm_client_addr(struct MHD_Connection *conn, char *out, size_t outlen)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(out, outlen, "unknown");
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)outlen);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)outlen);
}

static enum MHD_Result
adm_serve_api(struct adm_http *h, struct MHD_Connection *conn, const char *url,
	      const char *method, struct adm_conn *ac)
{
	struct adm_req rq = { 0 };
	struct adm_resp rs = { 0 };
	struct MHD_Response *r;
	enum MHD_Result ret;
	char client[INET6_ADDRSTRLEN + 1], *text = NULL;
	char ra[32];

	adm_client_addr(conn, client, sizeof(client));
	rq.method = method;
	rq.path = url + strlen(ADM_API_PREFIX);
	rq.session_token = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, ADM_COOKIE);
	rq.csrf = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CSRF-Token");
	rq.client = client;
	rq.bearer = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	if (rq.bearer != NULL && strncmp(rq.bearer, "Bearer ", 7) == 0)
		rq.bearer += 7;
	else
		rq.bearer = NULL;
	rq.body = ac->body;
	rq.body_len = ac->len;
	if (ac->too_big)
		adm_resp_error(&rs, 413, "too_large", "request body larger than 1 MiB", NULL);
	else
		adm_api_handle(h->a, &rq, &rs);
	if (rs.body != NULL) {
		text = json_dumps(rs.body, JSON_COMPACT | JSON_SORT_KEYS);
		if (text == NULL) {
			adm_resp_release(&rs);
			return MHD_NO;
		}
	}
	/* MHD frees text with the response; an empty body is static. */
	if (text != NULL)
		r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	else
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (r == NULL) {
		free(text);
		adm_resp_release(&rs);
		return MHD_NO;
	}
	if (text != NULL)
		MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	adm_security_headers(r);
	if (rs.set_cookie != NULL)
		MHD_add_response_header(r, "Set-Cookie", rs.set_cookie);
	if (rs.retry_after > 0) {
		snprintf(ra, sizeof(ra), "%ld", rs.retry_after);
		MHD_add_response_header(r, "Retry-After", ra);
	}
	log_debug("%s %s -> %u", method, url, rs.status);
	ret = MHD_queue_response(conn, rs.status, r);
	MHD_destroy_response(r);
	adm_resp_release(&rs);
	return ret;
}

static const char *
adm_content_type(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".mjs", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".json", "application/json" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".ico", "image/x-icon" },
		{ ".txt", "text/plain; charset=utf-8" },
		{ ".woff2", "font/woff2" },
	};
	const char *dot = strrchr(path, '.');
	size_t i;

	for (i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

/* True when url is safe to resolve under the www dir. */
static int
adm_static_path_ok(const char *url)
{
	const char *p = url;

	if (url[0] != '/' || strchr(url, '\\') != NULL)
		return 0;
	while (*p != '\0') {
		const char *seg = p + 1, *next = strchr(seg, '/');
		size_t n = next ? (size_t)(next - seg) : strlen(seg);

		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return 0;
		if (next == NULL)
			break;
		p = next;
	}
	return 1;
}

static enum MHD_Result
adm_serve_static(struct adm_http *h, struct MHD_Connection *conn, const char *url,
		 const char *method)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char rel[1024];
	struct stat sb;
	int fd;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return adm_send_text(conn, 405, "text/plain", "method not allowed\n");
	if (h->wwwfd < 0 || !adm_static_path_ok(url))
		return adm_send_text(conn, 404, "text/plain", "not found\n");
	if (snprintf(rel, sizeof(rel), "%s%s", url + 1,
		     url[strlen(url) - 1] == '/' ? "index.html" : "") >= (int)sizeof(rel))
		return adm_send_text(conn, 404, "text/plain", "not found\n");
	fd = openat(h->wwwfd, rel, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		if (fd >= 0)
			close(fd);
		return adm_send_text(conn, 404, "text/plain", "not found\n");
	}
	r = MHD_create_response_from_fd((size_t)sb.st_size, fd);
	if (r == NULL) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", adm_content_type(rel));
	/* The console changes with each release; revalidate every time. */
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	adm_security_headers(r);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
adm_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	   const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct adm_http *h = cls;
	struct adm_conn *ac = *con_cls;
	int is_api;

	(void)version;
	is_api = strncmp(url, ADM_API_PREFIX, strlen(ADM_API_PREFIX)) == 0 &&
		 (url[strlen(ADM_API_PREFIX)] == '/' || url[strlen(ADM_API_PREFIX)] == '\0');
	if (ac == NULL) {
		ac = calloc(1, sizeof(*ac));
		if (ac == NULL)
			return MHD_NO;
		*con_cls = ac;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		if (!ac->too_big && is_api && ac->len + n <= ADM_MAX_BODY) {
			char *nb = realloc(ac->body, ac->len + n + 1);

			if (nb == NULL)
				return MHD_NO;
			ac->body = nb;
			memcpy(ac->body + ac->len, upload_data, n);
			ac->len += n;
			ac->body[ac->len] = '\0';
		} else {
			ac->too_big = 1;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (is_api)
		return adm_serve_api(h, conn, url, method, ac);
	return adm_serve_static(h, conn, url, method);
}

static void
adm_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	      enum MHD_RequestTerminationCode toe)
{
	struct adm_conn *ac = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (ac != NULL) {
		if (ac->body != NULL)	/* uploads and pushes carry private keys */
			explicit_bzero(ac->body, ac->len);
		free(ac->body);
		free(ac);
		*con_cls = NULL;
	}
}

static void
adm_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	log_vmsg(LOG_WARNING, fmt, ap);
}

struct adm_http *
adm_http_start(struct adm *a, const char *spec, const char *key_pem, const char *cert_pem)
{
	struct sockaddr_storage sa;
	struct adm_http *h;
	unsigned flags;
	int loop;

	if (adm_listen_parse(spec, &sa, &loop) < 0) {
		log_err("invalid listen address \"%s\"", spec);
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	h->a = a;
	h->wwwfd = a->www_dir ? open(a->www_dir, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
	if (h->wwwfd < 0)
		log_warn("console files not found (%s); serving the API only",
			 a->www_dir ? a->www_dir : "no --www");
	/* One internal thread: every callback runs there, so the database
	 * handle has a single user and needs no locking. */
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
	if (sa.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (key_pem != NULL)
		flags |= MHD_USE_TLS;
	if (key_pem != NULL)
		h->d = MHD_start_daemon(flags, 0, NULL, NULL, adm_access, h,
					MHD_OPTION_EXTERNAL_LOGGER, adm_mhd_log, NULL,
					MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
					MHD_OPTION_HTTPS_MEM_KEY, key_pem,
					MHD_OPTION_HTTPS_MEM_CERT, cert_pem,
					MHD_OPTION_NOTIFY_COMPLETED, adm_completed, NULL,
					MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
					MHD_OPTION_CONNECTION_LIMIT, (unsigned)128,
					MHD_OPTION_END);
	else
		h->d = MHD_start_daemon(flags, 0, NULL, NULL, adm_access, h,
					MHD_OPTION_EXTERNAL_LOGGER, adm_mhd_log, NULL,
					MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
					MHD_OPTION_NOTIFY_COMPLETED, adm_completed, NULL,
					MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
					MHD_OPTION_CONNECTION_LIMIT, (unsigned)128,
					MHD_OPTION_END);
	if (h->d == NULL) {
		log_err("cannot listen on %s (address in use, or TLS setup failed)", spec);
		if (h->wwwfd >= 0)
			close(h->wwwfd);
		free(h);
		return NULL;
	}
	return h;
}

void
adm_http_stop(struct adm_http **hp)
{
	struct adm_http *h = *hp;

	if (h == NULL)
		return;
	MHD_stop_daemon(h->d);
	if (h->wwwfd >= 0)
		close(h->wwwfd);
	free(h);
	*hp = NULL;
}
