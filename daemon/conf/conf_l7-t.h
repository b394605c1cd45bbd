#ifndef TANDEM_CONF_L7_T_H
#define TANDEM_CONF_L7_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The L7 tier's part of the configuration (conf_l7.c): listener timeouts and
 * limits, forwarding headers, route matchers and actions, pool balancing and
 * health checks. Embedded by value in the objects of conf-t.h, so the data
 * path reads them without another indirection. Everything lives in the conf
 * arena; compiled regexes are freed by an arena cleanup.
 */

/* An IPv4 or IPv6 network; IPv4 is stored as an IPv4-mapped IPv6 address so
 * one comparison serves both families. */
struct conf_cidr {
	uint8_t addr[16];
	uint8_t bits;		/* 0..128, counted on the mapped form */
};

struct conf_cidrs {
	struct conf_cidr *v;
	size_t n;
};

struct conf_l7_timeouts {
	unsigned client_header_ms;	/* whole request head (slowloris) */
	unsigned client_idle_ms;	/* keep-alive wait between requests */
	unsigned connect_ms;		/* upstream connect */
	unsigned response_ms;		/* upstream silent while we wait on it */
	unsigned total_ms;		/* whole exchange, 0 = none */
	unsigned tunnel_idle_ms;	/* reserved for Upgrade tunnels */
};

/* HTTP/2 on a listener (doc/http2.md): cleartext prior knowledge, and the
 * per-connection limits that also apply to h2 negotiated over TLS. */
struct conf_l7_h2 {
	bool h2c;			/* accept prior-knowledge HTTP/2 beside HTTP/1.1 */
	unsigned max_streams;		/* SETTINGS_MAX_CONCURRENT_STREAMS */
	unsigned max_header_list;	/* bytes (name + value + 32 per field) */
	unsigned window;		/* per-stream receive window, bytes */
	unsigned max_continuations;	/* CONTINUATION frames after one HEADERS */
	/* per connection, per second; over any of them: GOAWAY and close */
	unsigned resets_per_s, pings_per_s, settings_per_s, empty_frames_per_s;
};

/* A listener's TLS termination (conf_tls.c, doc/tls.md). */
#define CONF_TLS_MAX_CERTS 32

enum conf_tls_client {
	CONF_TLS_CLIENT_OFF = 0,
	CONF_TLS_CLIENT_OPTIONAL,	/* ask; a verified certificate's subject is passed on */
	CONF_TLS_CLIENT_REQUIRED,	/* no verified certificate, no handshake */
};

struct conf_l7_tls {
	bool enabled;
	const char **certs;		/* certificate store names; certs[0] is the default */
	size_t ncerts;
	bool alpn_h2, alpn_http11;	/* offered, h2 first */
	bool resumption;		/* session tickets and cache (default on) */
	bool record_layer_openssl;	/* "record_layer": "openssl" (default "tandem") */
	enum conf_tls_client client_auth;
	const char *client_ca;		/* CA bundle name (client_auth) */
	const char *client_header;	/* verified subject to the backend, NULL = off */
};

/* TLS towards a pool's members (conf_tls_up.c, doc/tls.md). */
struct conf_l7_uptls {
	bool enabled;
	bool verify;			/* false only by an explicit "verify": "none" */
	const char *ca;			/* CA bundle name (verify) */
	const char *server_name;	/* SNI and verified name; NULL: the member's address */
	const char *client_cert;	/* certificate store name for mTLS, NULL = none */
	bool session_reuse;		/* resume sessions per member (default on) */
};

struct conf_l7_listener {
	struct conf_l7_timeouts timeouts;
	struct conf_l7_h2 h2;
	unsigned max_connections;	/* 0 = unlimited; per listener, all workers */
	unsigned max_header_bytes;	/* request head larger: 431 */
	unsigned max_uri_bytes;		/* request target longer: 414 */
	bool xff, xfp, xfh, forwarded;	/* X-Forwarded-For/-Proto/-Host, Forwarded */
	struct conf_cidrs trusted;	/* proxies whose forwarding headers we extend */
	const char *access_log;		/* "/file" or "syslog:<pri>:<tag>:<socket>" (l7_alog), NULL = off */
	unsigned access_log_sample;	/* percent of requests logged, 1..100 */
	const char *request_id;		/* header name, NULL = off */
	size_t request_id_len;
	bool accept_proxy;		/* PROXY protocol v1/v2 required from accept_proxy_from */
	struct conf_cidrs accept_proxy_from;	/* downstreams allowed to send it */
	struct conf_route_index *index;	/* route lookup, built by conf_l7 */
	struct conf_l7_tls tls;
};

enum conf_path_kind {
	CONF_PATH_PREFIX = 0,
	CONF_PATH_EXACT,
	CONF_PATH_REGEX,
};

enum conf_match_op {
	CONF_MATCH_PRESENT = 0,
	CONF_MATCH_EQUALS,
	CONF_MATCH_REGEX,
	CONF_MATCH_ABSENT,
};

/* One header or query-parameter condition. */
struct conf_kv_match {
	const char *name;		/* header names are matched case-insensitively */
	size_t name_len;
	enum conf_match_op op;
	const char *value;		/* EQUALS: exact, case-sensitive */
	size_t value_len;
	void *re;			/* REGEX: pcre2_code * */
};

enum conf_action {
	CONF_ACTION_FORWARD = 0,
	CONF_ACTION_REDIRECT,
	CONF_ACTION_RESPOND,
	CONF_ACTION_DENY,
};

enum conf_hdr_op_kind {
	CONF_HDR_SET = 0,		/* replace every field of that name */
	CONF_HDR_ADD,			/* append one more field */
	CONF_HDR_REMOVE,
};

struct conf_hdr_op {
	enum conf_hdr_op_kind op;
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

struct conf_hdr_ops {
	struct conf_hdr_op *v;
	size_t n;
};

struct conf_l7_route {
	size_t rank;			/* position in the listener's match order */
	enum conf_path_kind path_kind;	/* PREFIX uses conf_route.path_prefix */
	const char *path;		/* EXACT: the path; REGEX: the pattern */
	size_t path_len;
	void *path_re;			/* REGEX: pcre2_code * */
	bool wildcard_host;		/* host was "*.suffix": conf_route.host is ".suffix" */
	const char **methods;		/* NULL = any */
	size_t nmethods;
	struct conf_kv_match *headers;
	size_t nheaders;
	struct conf_kv_match *query;
	size_t nquery;
	struct conf_cidrs clients;	/* empty = any client */
	enum conf_action action;
	int status;			/* REDIRECT 301..308, RESPOND any, DENY 4xx/5xx */
	const char *location;		/* REDIRECT: template with {host} {path} {query} {uri} */
	const char *body;		/* RESPOND / DENY body */
	size_t body_len;
	const char *content_type;
	struct conf_hdr_ops req_headers, resp_headers;
	const char *rewrite_prefix;	/* replaces the matched path prefix, NULL = none */
	size_t rewrite_prefix_len;
};

enum conf_lb {
	CONF_LB_ROUND_ROBIN = 0,
	CONF_LB_WEIGHTED_ROUND_ROBIN,	/* smooth WRR, per worker */
	CONF_LB_LEAST_CONNECTIONS,	/* weighted */
	CONF_LB_POWER_OF_TWO,
	CONF_LB_CONSISTENT_HASH,	/* Maglev */
};

enum conf_hash_on {
	CONF_HASH_CLIENT_IP = 0,
	CONF_HASH_HEADER,
	CONF_HASH_COOKIE,
};

enum conf_hc_type {
	CONF_HC_NONE = 0,
	CONF_HC_TCP,
	CONF_HC_HTTP,
	CONF_HC_GRPC,			/* grpc.health.v1.Health/Check over h2c or h2 */
};

struct conf_health_check {
	enum conf_hc_type type;
	const char *path;		/* HTTP */
	const char *host;		/* Host header, default the member address */
	const char *service;		/* GRPC: the service asked about, "" = the server */
	int expect_status;		/* exact, or 0 = any 2xx/3xx */
	const char *expect_body;	/* substring, NULL = none */
	unsigned interval_ms, timeout_ms, rise, fall;
};

struct conf_l7_pool {
	enum conf_lb lb;
	enum conf_hash_on hash_on;
	const char *hash_key;		/* header or cookie name */
	size_t hash_key_len;
	const uint16_t *maglev;		/* CONSISTENT_HASH lookup table */
	size_t maglev_size;
	const char *sticky_cookie;	/* insert a cookie naming the member, NULL = off */
	size_t sticky_cookie_len;
	unsigned slow_start_ms;		/* weight ramps from 1/10 to full */
	unsigned max_conns_per_member;	/* 0 = unlimited, all workers */
	unsigned queue_size;		/* waiting requests per worker when all members are full */
	unsigned queue_timeout_ms;
	unsigned retries;		/* 0 or 1: on another member, idempotent only */
	unsigned retry_budget_pct;	/* retries at most this % of requests */
	unsigned eject_connect_failures;/* consecutive, 0 = never */
	unsigned eject_5xx;		/* consecutive, 0 = never */
	unsigned eject_base_ms;		/* first ejection; doubles per repeat */
	struct conf_health_check hc;
	unsigned proxy_protocol;	/* 0 off, 1 or 2: PROXY header version sent to members */
	bool upstream_h2;		/* HTTP/2 to members: h2c, or h2 with tls (l7_h2sess) */
	unsigned max_streams;		/* HTTP/2: streams per member connection */
	struct conf_l7_uptls tls;	/* TLS towards members */
};

struct conf_l7_member {
	bool backup;			/* used only when no primary is up */
	bool drain;			/* no new requests; current ones finish */
	uint64_t hash;			/* of the member id: sticky cookie value */
};

/* Route index of one virtual host: a byte trie over PREFIX and EXACT paths
 * (each node lists the routes whose path ends there, in rank order) plus the
 * REGEX routes, tried in rank order beside the trie's candidates. */
struct conf_rtrie {
	struct conf_rtrie *child, *sibling;
	unsigned char c;
	struct conf_route **prefix, **exact;
	size_t nprefix, nexact;
};

struct conf_vhost {
	const char *host;		/* exact name, or ".suffix" of a wildcard, or "" */
	size_t host_len;
	struct conf_rtrie root;
	struct conf_route **regex;
	size_t nregex;
};

struct conf_route_index {
	struct conf_vhost *exact;	/* sorted by host */
	size_t nexact;
	struct conf_vhost *wild;	/* longest suffix first */
	size_t nwild;
	struct conf_vhost any;		/* routes without a host */
};

#endif
