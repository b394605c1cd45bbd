#ifndef TANDEM_LIM_T_H
#define TANDEM_LIM_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Types of the rate-rule engine (daemon/limit): the mergeable sliding-window
 * counter table (lim_counter), JWT verification (lim_jwt), CIDR tries
 * (lim_cidr), the ban list (lim_ban) and the rules themselves (lim_rule).
 */

/* Nodes of an HA pair: each key has one grow-only slot per node and window. */
#define LIM_NODES		2
/* Limits on a rule's window. */
#define LIM_PERIOD_MIN_MS	1000u
#define LIM_PERIOD_MAX_MS	86400000u
/* Longest composed key (bytes hashed for one rule and request). */
#define LIM_KEY_MAX		1024

struct lim_table;
struct lim_cidr;
struct lim_ban;
struct lim_jwt_verifier;
struct lim_rules;
struct lim_store;

/* Table options (lim_table_new). */
struct lim_table_opts {
	uint32_t period_ms;	/* window length, LIM_PERIOD_MIN_MS..LIM_PERIOD_MAX_MS */
	uint32_t max_keys;	/* memory cap: keys kept before LRU-ish eviction (>= 64) */
	uint32_t nshards;	/* power of two, 1..4096; 0 picks 64 */
	uint32_t node;		/* this node's slot, 0..LIM_NODES-1 */
	uint64_t seed[2];	/* SipHash key: the same on both nodes of a pair */
};

/* Result of one decision (lim_table_hit / lim_table_peek). */
struct lim_result {
	bool allow;
	uint32_t limit;		/* the rule's N (RateLimit-Limit) */
	uint32_t remaining;	/* admissions left now (RateLimit-Remaining) */
	uint32_t reset_s;	/* seconds until the current window ends (RateLimit-Reset) */
	uint32_t retry_after_s;	/* when denied: seconds until one more is admitted (>= 1) */
	uint32_t estimate;	/* the sliding estimate after this request, rounded down */
};

/* Table statistics (lim_table_stats). */
struct lim_table_stats {
	uint64_t keys;		/* live entries (expired ones not yet swept included) */
	uint64_t slots;		/* allocated slots over all shards */
	uint64_t bytes;		/* bytes of slot memory */
	uint64_t evictions;	/* keys dropped at the memory cap */
	uint64_t expired;	/* keys swept after their windows passed */
	uint64_t merged;	/* remote records applied */
	uint64_t dup_batches;	/* delta batches dropped as already applied */
};

/* Errors of JWT verification, precise enough for a log line. */
enum lim_jwt_err {
	LIM_JWT_OK = 0,
	LIM_JWT_E_SIZE,		/* token longer than LIM_JWT_MAX or empty */
	LIM_JWT_E_FORMAT,	/* not three dot-separated parts */
	LIM_JWT_E_BASE64,	/* a part is not strict base64url */
	LIM_JWT_E_HEADER,	/* header is not a JSON object with a string "alg" */
	LIM_JWT_E_ALG,		/* "alg" differs from the algorithm pinned by the rule */
	LIM_JWT_E_CRIT,		/* header carries "crit" (no extension is understood) */
	LIM_JWT_E_KID,		/* no key with the token's "kid" */
	LIM_JWT_E_SIGNATURE,	/* signature does not verify */
	LIM_JWT_E_PAYLOAD,	/* payload is not a JSON object */
	LIM_JWT_E_EXPIRED,	/* exp + leeway <= now */
	LIM_JWT_E_NOT_YET,	/* nbf - leeway > now */
	LIM_JWT_E_TIME_CLAIM,	/* exp or nbf is not a number */
	LIM_JWT_E_NO_CLAIM,	/* the wanted claim is absent or not a string/integer */
	LIM_JWT_E_CLAIM_SIZE,	/* the claim does not fit the caller's buffer */
	LIM_JWT_E_INTERNAL,	/* OpenSSL or allocation failure */
};

enum lim_jwt_alg {
	LIM_JWT_HS256 = 1,
	LIM_JWT_RS256,
	LIM_JWT_ES256,
};

#define LIM_JWT_MAX		8192	/* longest token accepted */

/* ---- rules (lim_rule) ---- */

#define LIM_RULES_MAX		1000
#define LIM_VERDICT_LOG		8	/* rule outcomes kept per request for the access log */

/* What the proxy must do with the request. */
enum lim_action {
	LIM_ACT_PASS = 0,	/* forward it (possibly adding RateLimit headers) */
	LIM_ACT_REJECT,		/* answer status with body now */
	LIM_ACT_TARPIT,		/* hold the request tarpit_ms, then answer status */
	LIM_ACT_BAN,		/* answer status; the client is now banned ban_s seconds
				 * (already in the store's ban set; mirror it to L4) */
	LIM_ACT_LOG,		/* config only: over the limit is logged, never denied */
};

/* One rule's outcome for the access log. */
enum lim_outcome {
	LIM_OUT_ADMIT = 1,	/* matched, under the limit (or an access rule satisfied) */
	LIM_OUT_DENY,		/* matched and denied: this rule decided the verdict */
	LIM_OUT_SHADOW,		/* would have denied, but the rule is in shadow mode */
	LIM_OUT_LOGGED,		/* over the limit; the rule's action is log only */
	LIM_OUT_NO_KEY,		/* matched, no key (or invalid JWT), rule skipped */
	LIM_OUT_BANNED,		/* client was already banned */
	LIM_OUT_CIDR_ALLOW,	/* client in allow_cidrs: rules bypassed */
	LIM_OUT_CIDR_DENY,	/* client in deny_cidrs */
	LIM_OUT_WAF,		/* a WAF check denied (v->waf_id says which) */
	LIM_OUT_WAF_SHADOW,	/* a WAF check in shadow mode would have denied */
};

/* One row of a rule's top keys (lim_rules_top). */
#define LIM_TOP_KEY 96			/* bytes of a composed key kept for the view */
struct lim_top_row {
	unsigned char key[LIM_TOP_KEY];	/* the composed key's first bytes (rendered by lim_rule) */
	size_t key_len;
	uint64_t hits, denials;		/* space-saving estimates (may overcount) */
};

/* A header of the request, borrowed from the proxy's buffer. */
struct lim_hdr {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

/* The request as the rules see it; every pointer is borrowed for the call. */
struct lim_request {
	const char *listener;		/* listener name (NUL-terminated) or NULL */
	const char *route;		/* name of the route it was routed to, or NULL */
	const char *host;		/* Host without port, any case */
	size_t host_len;
	const char *method;
	size_t method_len;
	const char *path;		/* path only, without '?' and the query */
	size_t path_len;
	const char *query;		/* after '?', raw (not percent-decoded) */
	size_t query_len;
	int af;				/* AF_INET or AF_INET6 */
	uint8_t addr[16];		/* client address (4 bytes used for AF_INET) */
	const struct lim_hdr *headers;
	size_t nheaders;
	uint64_t body_len;		/* declared body length (Content-Length), 0 if none */
	bool chunked;			/* body length unknown (chunked) */
	void *md;			/* the caller's pcre2_match_data (32 pairs), or NULL */
};

struct lim_verdict_entry {
	uint16_t rule;			/* index in the rule set; UINT16_MAX for lists and bans */
	uint8_t outcome;		/* enum lim_outcome */
	uint8_t jwt_err;		/* enum lim_jwt_err when the key was a JWT claim */
};

struct lim_verdict {
	enum lim_action action;
	uint16_t status;		/* for REJECT, TARPIT and BAN */
	const char *body;		/* borrowed from the rules (may be NULL) */
	size_t body_len;
	uint32_t tarpit_ms;
	uint32_t ban_s;
	const char *rule;		/* name of the deciding rule, or NULL */
	/* RateLimit header values: of the deciding rule on a deny, else of the
	 * matched rule with the fewest remaining */
	bool has_ratelimit;
	uint32_t rl_limit, rl_remaining, rl_reset, retry_after;
	const char *waf_id;		/* id of the WAF check that denied, or NULL */
	const char *waf_why;		/* what it found: "uri", "body", "pattern", ... */
	const char *waf_shadow_id;	/* a WAF check in shadow mode that would have denied */
	size_t nlog;			/* entries in log; more are dropped (nlog_dropped) */
	size_t nlog_dropped;
	struct lim_verdict_entry log[LIM_VERDICT_LOG];
};

#endif
