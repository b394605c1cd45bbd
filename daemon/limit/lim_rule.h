#ifndef TANDEM_LIM_RULE_H
#define TANDEM_LIM_RULE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "errs-t.h"
#include "lim-t.h"

/*
 * lim_rule - rate rules and static client lists: parse the `rate_rules`
 * config section, bind the rules to run-time counter tables, and evaluate a
 * request to a verdict.
 *
 * Lifetimes: a struct lim_rules belongs to a config snapshot (immutable after
 * lim_rules_bind; freed with it). A struct lim_store holds the run-time state
 * (counter tables by rule name and period, the ban set) and outlives
 * snapshots, so counts survive a reload.
 */

/* Parses the rate_rules section (a JSON object, borrowed; NULL = no rules) at
 * JSON path `path` (e.g. "$.rate_rules"). Reads key files named in it.
 * Returns a new rule set (free with lim_rules_free) or NULL after adding every
 * problem to errs. Config thread. */
struct lim_rules *lim_rules_parse(json_t *section, const char *path, struct errs *errs);

/* Same from JSON text (the section object itself); for tests and fuzzing. */
struct lim_rules *lim_rules_parse_text(const char *text, size_t len, struct errs *errs);

/* Frees the rule set; sets *rp to NULL. Tables stay in their store. */
void lim_rules_free(struct lim_rules **rp);

/* Number of rules, and a rule's name (borrowed), for logs and the API. */
size_t lim_rules_count(const struct lim_rules *r);
const char *lim_rules_name(const struct lim_rules *r, size_t i);

/* Creates the run-time state: node is this node's counter slot, seed the
 * key-hash seed shared by the pair, max_keys the cap per rule table and of
 * the ban set. NULL on out of memory. */
struct lim_store *lim_store_new(uint32_t node, const uint64_t seed[2], uint32_t max_keys);
/* Frees the store and its tables; no rule set bound to it may be used after. */
void lim_store_free(struct lim_store **sp);
/* The table of rule `name` (borrowed), NULL if none is bound; and the ban set. */
struct lim_table *lim_store_table(struct lim_store *s, const char *name);
struct lim_ban *lim_store_bans(struct lim_store *s);

/* Calls fn for every table of the store (name "" for a table replaced by a
 * newer one of the same name whose period changed), under the store's lock:
 * fn must not call lim_store_* or lim_rules_bind. The peer link uses this to
 * export deltas (lim_table_export) and finds a remote table by name with
 * lim_store_table. Any thread. */
typedef void (*lim_store_table_fn)(const char *name, uint32_t period_ms, struct lim_table *t,
				   void *arg);
void lim_store_foreach(struct lim_store *s, lim_store_table_fn fn, void *arg);

/* Calls fn(kind, name, arg) for every listener ("listener") and route
 * ("route") name the rules and WAF checks refer to, so the config can
 * refuse names that do not exist. fn returns 0 to go on. */
typedef int (*lim_rules_ref_fn)(const char *kind, const char *name, void *arg);
int lim_rules_refs(const struct lim_rules *r, lim_rules_ref_fn fn, void *arg);

/* The live view: a new JSON object {"rules": [{"name", "limit", "period_s",
 * "action", "shadow", "hits", "denials", "keys", "evictions",
 * "top_hits": [{"key","hits","denials"}], "top_denials": [...]}],
 * "waf": [{"id","kind","hits",...}]} with at most top rows per list
 * (0..32). Counters of a rule live with its table (kept across reloads).
 * Any thread. */
json_t *lim_rules_stats_json(const struct lim_rules *r, size_t top);

/* Attaches every limited rule to its table in s, creating tables for new
 * rules (a rule keeps its counts across reloads while its name and period
 * stay the same). Returns 0 or -ENOMEM (r is then unusable: drop the reload).
 * Config thread, before the snapshot is published. */
int lim_rules_bind(struct lim_rules *r, struct lim_store *s);

/* Evaluates req at now_ms (the pair's shared clock, ms) against the bound
 * rules: bans, allow list, deny list, then every rule in order; the first
 * rule that denies (not in shadow mode, not log-only) decides and stops the
 * walk. Counts are taken as a side effect. Fills v. Any worker thread. */
void lim_rules_eval(const struct lim_rules *r, const struct lim_request *req, uint64_t now_ms,
		    struct lim_verdict *v);

/* Formats the verdict's response headers ("RateLimit-Limit: 5\r\n..." and
 * "Retry-After" when denied) into buf. Returns the length (0: none) or
 * -ENOSPC. */
int lim_verdict_headers(const struct lim_verdict *v, char *buf, size_t len);

/* "admit", "deny", ... for the access log. */
const char *lim_outcome_name(enum lim_outcome o);

#endif
