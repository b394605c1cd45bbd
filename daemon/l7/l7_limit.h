#ifndef TANDEM_L7_LIMIT_H
#define TANDEM_L7_LIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "l7_http1-t.h"
#include "lim-t.h"

/*
 * l7_limit - the proxy's side of the rate rules and WAF checks
 * (daemon/limit, doc/limits.md): turns a parsed request head into a
 * struct lim_request, evaluates the snapshot's rules, and formats the
 * verdict for the response and the access log. No state of its own.
 */

/* Evaluates r (borrowed, bound; NULL = no rules: v says pass) for the head
 * m in buf, received on listener and routed to route (NULL: no route), from
 * client (IPv4-mapped IPv6). md: the worker's pcre2 match data. Worker. */
void l7_limit_eval(const struct lim_rules *r, const char *listener, const char *route,
		   const char *buf, const struct l7_http1_msg *m, const uint8_t client[16],
		   void *md, struct lim_verdict *v);

/* Writes the access log fragment of v: `,"limit":{...}` (nothing when no
 * rule matched) into out (NUL-terminated, cut to fit). Returns its length. */
size_t l7_limit_log(const struct lim_rules *r, const struct lim_verdict *v, char *out, size_t cap);

/* Headers for a forwarded (admitted) response: "RateLimit-Limit: ..\r\n"
 * "RateLimit-Remaining" and "RateLimit-Reset" of the most restrictive
 * matched rule with "ratelimit_headers": "always", into buf (cap >= 96).
 * Returns their length, 0 when none apply. */
size_t l7_limit_admit_headers(const struct lim_verdict *v, char *buf, size_t cap);

/* 1 when the response field h (in buf) is one l7_limit_admit_headers
 * writes: the backend's own are dropped when ours are added. */
int l7_limit_is_ratelimit_field(const char *buf, const struct l7_http1_header *h);

/* 1 when the client (IPv4-mapped) is banned now: the accept path closes it. */
int l7_limit_banned(const uint8_t client[16]);

#endif
