#ifndef TANDEM_CONF_H
#define TANDEM_CONF_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "conf-t.h"
#include "errs-t.h"

/*
 * conf - the Tandem configuration file: JSON in, validated struct conf out.
 * Pure: no sockets, no files (except conf_load_file), safe from any thread.
 * Shared by tandemd (reload, --check) and tandem-admin (validate on apply).
 */

/* Parses and validates text. Returns a new conf (free with conf_free) or NULL,
 * in which case every problem found was added to errs with its JSON path. */
struct conf *conf_parse(const char *text, size_t len, struct errs *errs);

/* Reads path and parses it; a read error is reported in errs with path "$". */
struct conf *conf_load_file(const char *path, struct errs *errs);

/* Frees the conf and everything in it; sets *cp to NULL. */
void conf_free(struct conf **cp);

/* Finds an object by name; NULL when absent. Borrowed pointers. */
struct conf_pool *conf_pool_find(const struct conf *c, const char *name);
struct conf_listener *conf_listener_find(const struct conf *c, const char *name);

/* Finds an L4 service by name; NULL when absent. Borrowed pointer. */
const struct conf_l4_service *conf_l4_service_find(const struct conf *c, const char *name);
/* Field validators shared with tandem-admin, so both refuse the same input.
 * Each returns 1 when valid. A name is 1-63 of [A-Za-z0-9._-] starting with a
 * letter or digit; a route host is letters, digits, '.', '-', '_' (no port);
 * a path prefix starts with '/' and has no spaces or control characters. */
int conf_name_valid(const char *s);
int conf_host_valid(const char *h);
int conf_path_valid(const char *p);

/* Parses "10.0.0.0/8", "::1" or "2001:db8::/32" into out (IPv4 mapped into
 * IPv6). 0 or -EINVAL. */
int conf_cidr_parse(const char *s, struct conf_cidr *out);
/* 1 when the IPv4-mapped or IPv6 address addr lies in one of set's networks. */
int conf_cidr_contains(const struct conf_cidrs *set, const uint8_t addr[16]);
/* Parses the metrics address "127.0.0.1:9145" or "[::1]:9145" into ss/sl.
 * 0, -EPERM when it is not a loopback address, -EINVAL when malformed.
 * Pure; any thread (conf_process.c). */
int conf_metrics_addr(const char *addrport, struct sockaddr_storage *ss, socklen_t *sl);
/* A 64-bit hash of data (FNV-1a with a finaliser); stable across builds,
 * used for sticky cookies and Maglev, so never change it. */
uint64_t conf_hash64(const void *data, size_t len, uint64_t seed);

/* The L7 fields each object accepts besides the foundation's (conf_l7.c,
 * doc/l7.md); tandem-admin stores them per object as one JSON object. */
#define CONF_L7_LISTENER_KEYS "timeouts", "limits", "forwarding", "request_id", "access_log", "tls", \
	"http2", "accept_proxy"
#define CONF_L7_MEMBER_KEYS "backup", "drain"
#define CONF_L7_POOL_KEYS "algorithm", "hash", "sticky_cookie", "slow_start_ms", \
	"max_connections_per_member", "queue", "retries", "retry_budget_percent", \
	"passive", "health_check", "proxy_protocol", "upstream_protocol", "tls", \
	"max_streams_per_connection"
#define CONF_L7_ROUTE_KEYS "match", "action", "redirect", "respond", "deny", \
	"request_headers", "response_headers", "rewrite_prefix"

/* Validates the L7 fields of one object on its own, as conf_parse would
 * inside a whole config: kind is "listener", "pool", "member" or "route";
 * o holds only L7 fields, except that a route's may also hold "pool" and
 * "path_prefix" (the action checks them). Errors go to errs with paths
 * relative to the object ("$.health_check.rise"). Returns 0 when valid.
 * Pure; any thread. */
int conf_l7_validate(const char *kind, json_t *o, struct errs *errs);

/* The file of a certificate store entry that tandem-admin writes for
 * tandemd: DIR/NAME.crt (chain), DIR/NAME.key, DIR/NAME.ca (CA bundle).
 * 0, or -1 when out is too short. */
int conf_tls_file(const char *dir, const char *name, const char *ext, char *out, size_t len);

/* Limits every program agrees on. */
#define CONF_L7_MAX_HEAD 16384	/* largest request head a listener may allow */
#define CONF_L7_MAX_URI 8192	/* longest request target a listener may allow */
#define CONF_NAME_MAX 63
#define CONF_HOST_MAX 253
#define CONF_PATH_MAX 1024
#define CONF_WEIGHT_MAX 256
#define CONF_L4_WEIGHT_MAX 65535
#define CONF_L4_SERVICES_MAX 100000
#define CONF_MAX_FILE (16 * 1024 * 1024)
/* "tls.ticket_key_lifetime": 0, or this range in seconds (a week at most,
 * like tandemd --ticket-key-lifetime). */
#define CONF_TICKET_LIFETIME_MIN 5
#define CONF_TICKET_LIFETIME_MAX (7 * 86400)

#endif
