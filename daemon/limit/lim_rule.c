/*
 * lim_rule - rate rules: config section parser, binding to counter tables,
 * and the per-request evaluation.
 *
 * Invariants: a parsed rule set lives in one arena (strings, arrays), and the
 * objects that need freeing (CIDR sets, JWT verifiers) are registered as
 * arena cleanups, so lim_rules_free is one call. After lim_rules_bind the set
 * is read-only; lim_rules_eval writes only to the counter tables and the ban
 * set (both locked per shard) and to the caller's verdict.
 *
 * The parser follows conf.c: it walks the whole section, reports every
 * problem with its JSON path, rejects unknown fields, and only returns a
 * rule set when there were none.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "arena.h"
#include "errs.h"
#include "jfield.h"
#include "lim_ban.h"
#include "lim_cidr.h"
#include "lim_counter.h"
#include "lim_jwt.h"
#include "lim_rule.h"
#include "lim__parse.h"
#include "lim_top.h"
#include "lim_waf.h"

#define LIM_NAME_MAX		63
#define LIM_KEYPARTS_MAX	4
#define LIM_LIST_MAX		64	/* hosts, methods, listeners, headers, values per rule */
#define LIM_CLAIM_MAX		256
#define LIM_CIDRS_MAX		1000000
#define LIM_CIDR_FILES_MAX	16
#define LIM_KEYFILE_MAX		(1024 * 1024)

enum lim_key_kind {
	LIM_KEY_CLIENT_IP = 1,
	LIM_KEY_HEADER,
	LIM_KEY_COOKIE,
	LIM_KEY_QUERY,
	LIM_KEY_PATH,
	LIM_KEY_JWT_CLAIM,
};

enum lim_missing {
	LIM_MISSING_SKIP = 0,
	LIM_MISSING_REJECT,
	LIM_MISSING_ANONYMOUS,
};

struct lim_hdr_match {
	struct lim_str name;
	struct lim_str value;	/* s == NULL: presence test */
	bool present;
};

struct lim_keypart {
	enum lim_key_kind kind;
	struct lim_str name;		/* header, cookie, query name; JWT: the header carrying it */
	uint32_t v4_prefix, v6_prefix;	/* client_ip */
	const struct lim_jwt_verifier *jwt;
	const char *claim;
	struct lim_str *values;		/* accepted values (API keys); NULL = any */
	size_t nvalues;
};

struct lim_rule {
	const char *name;
	/* match; an empty list matches everything */
	const char **listeners;
	size_t nlisteners;
	struct lim_str *hosts;
	size_t nhosts;
	struct lim_str *methods;
	size_t nmethods;
	struct lim_str *routes;
	size_t nroutes;
	struct lim_str path;
	bool path_prefix;		/* path.s == NULL: any path */
	void *path_re;			/* pcre2_code, or NULL */
	struct lim_hdr_match *hdrs;
	size_t nhdrs;
	struct lim_cidr *cidrs;		/* NULL: any client */
	/* key */
	struct lim_keypart parts[LIM_KEYPARTS_MAX];
	size_t nparts;
	enum lim_missing missing;
	uint16_t missing_status;
	/* limit (requests == 0: an access rule without a limit) */
	uint32_t requests, period_ms, burst;
	/* action */
	enum lim_action action;
	uint16_t status;
	struct lim_str body;
	uint32_t tarpit_ms, ban_s;
	bool shadow;
	bool hdr_admit;			/* "ratelimit_headers": "always" */
	struct lim_table *table;	/* set by lim_rules_bind */
	struct lim_top *top;		/* counters and top keys, with the table */
};

struct lim_jwt_def {
	const char *name;
	struct lim_jwt_verifier *v;
};

struct lim_rules {
	struct arena *arena;
	struct lim_rule *rules;
	size_t nrules;
	struct lim_jwt_def *jwts;
	size_t njwts;
	struct lim_cidr *allow, *deny;
	struct lim_waf *waf;		/* NULL: no static checks */
	struct lim_store *store;	/* set by lim_rules_bind */
};

struct lim_store_table {
	char name[LIM_NAME_MAX + 1];
	uint32_t period_ms;
	struct lim_table *t;
	struct lim_top *top;
};

struct lim_store {
	pthread_mutex_t lock;		/* config thread vs. API readers */
	uint32_t node, max_keys;
	uint64_t seed[2];
	struct lim_store_table *tables;
	size_t ntables, cap;
	struct lim_ban *bans;
};

/* ---- parser helpers (in the style of conf.c; shared with lim_waf.c) ---- */

struct arena *
lim__ctx_arena(struct lim_ctx *x)
{
	return x->r->arena;
}

void
lim__check_keys(struct lim_ctx *x, json_t *obj, const char *path, const char *const *allowed)
{
	jf_check_keys(x->errs, obj, path, allowed);
}

static int
lim_name_valid(const char *s)
{
	return jf_name_valid(s, LIM_NAME_MAX);
}

/* A string field copied into the arena; NULL when absent or invalid. */
const char *
lim__get_str(struct lim_ctx *x, json_t *obj, const char *path, const char *key, int required,
	    size_t maxlen)
{
	const char *v = jf_str(x->errs, obj, path, key, required);
	char p[PATH_LEN];
	const char *s;

	if (v == NULL)
		return NULL;
	jf_pathf(p, "%s.%s", path, key);
	if (strlen(v) > maxlen) {
		errs_add(x->errs, p, "must be at most %zu bytes", maxlen);
		return NULL;
	}
	s = arena_strdup(x->r->arena, v);
	if (s == NULL)
		errs_add(x->errs, p, "out of memory");
	return s;
}

int
lim__get_int(struct lim_ctx *x, json_t *obj, const char *path, const char *key, long lo, long hi,
	    int required, long dflt, long *out)
{
	return jf_int(x->errs, obj, path, key, lo, hi, required, dflt, out);
}

bool
lim__get_bool(struct lim_ctx *x, json_t *obj, const char *path, const char *key, bool dflt)
{
	bool b;

	jf_bool(x->errs, obj, path, key, dflt, &b);
	return b;
}

/* A list of strings; each checked by valid (NULL = any non-empty). Returns
 * the count (0 when absent) and sets *out to an arena array. */
size_t
lim__get_strs(struct lim_ctx *x, json_t *obj, const char *path, const char *key, size_t max,
	     int (*valid)(const char *), const char *what, struct lim_str **out)
{
	json_t *arr = json_object_get(obj, key), *v;
	char p[PATH_LEN], pi[PATH_LEN];
	size_t i, n = 0;

	*out = NULL;
	jf_pathf(p, "%s.%s", path, key);
	if (arr == NULL)
		return 0;
	if (!json_is_array(arr)) {
		errs_add(x->errs, p, "must be an array");
		return 0;
	}
	if (json_array_size(arr) == 0 || json_array_size(arr) > max) {
		errs_add(x->errs, p, "must hold 1 to %zu entries", max);
		return 0;
	}
	*out = arena_alloc(x->r->arena, json_array_size(arr) * sizeof(**out));
	if (*out == NULL) {
		errs_add(x->errs, p, "out of memory");
		return 0;
	}
	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);

		jf_pathf(pi, "%s[%zu]", p, i);
		if (s == NULL || strlen(s) != json_string_length(v) || *s == '\0' ||
		    json_string_length(v) > 4096 || (valid != NULL && !valid(s))) {
			errs_add(x->errs, pi, "must be %s", what);
			continue;
		}
		(*out)[n].s = arena_strdup(x->r->arena, s);
		(*out)[n].len = json_string_length(v);
		if ((*out)[n].s == NULL) {
			errs_add(x->errs, pi, "out of memory");
			continue;
		}
		n++;
	}
	return n;
}

static int
lim_str_cmp(const void *a, const void *b)
{
	const struct lim_str *x = a, *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->s, y->s, x->len);
}

int
lim__token_valid(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && strchr("!#$%&'*+-.^_`|~", *s) == NULL)
			return 0;
	return 1;
}

static int
lim_host_valid(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '-' && *s != '_')
			return 0;
	return 1;
}

int
lim__value_valid(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int
lim_path_valid(const char *s)
{
	if (*s != '/')
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f || *s == '?' || *s == '#')
			return 0;
	return 1;
}

static void
lim_cidr_cleanup(void *p)
{
	struct lim_cidr *c = p;

	lim_cidr_free(&c);
}

static void
lim_jwt_cleanup(void *p)
{
	struct lim_jwt_verifier *v = p;

	lim_jwt_verifier_free(&v);
}

/* Loads the list files named by obj.fkey (an array of absolute paths) into
 * c. Each is read now: at every check, apply and reload. */
static void
lim_get_cidr_files(struct lim_ctx *x, json_t *files, const char *p, struct lim_cidr *c)
{
	char pi[PATH_LEN];
	json_t *v;
	size_t i;

	if (!json_is_array(files) || json_array_size(files) == 0 ||
	    json_array_size(files) > LIM_CIDR_FILES_MAX) {
		errs_add(x->errs, p, "must be an array of 1 to %d absolute file paths", LIM_CIDR_FILES_MAX);
		return;
	}
	json_array_foreach(files, i, v) {
		const char *f = json_string_value(v);
		struct lim_cidr_err e;
		size_t have = lim_cidr_count(c);

		jf_pathf(pi, "%s[%zu]", p, i);
		if (f == NULL || f[0] != '/' || strlen(f) != json_string_length(v) || strlen(f) > 4096) {
			errs_add(x->errs, pi, "must be an absolute file path");
			continue;
		}
		if (lim_cidr_file_load(c, f, 1, have < LIM_CIDRS_MAX ? LIM_CIDRS_MAX - have : 0, &e) >= 0)
			continue;
		if (e.line == 0)
			errs_add(x->errs, pi, "%s: %s", f, e.msg);
		else if (e.bad > 1)
			errs_add(x->errs, pi, "%s:%lu: %s (%lu bad lines in all)", f, e.line, e.msg, e.bad);
		else
			errs_add(x->errs, pi, "%s:%lu: %s", f, e.line, e.msg);
	}
}

/* A CIDR list (array key, and list files fkey when not NULL) into a new set
 * (registered for cleanup). NULL when both are absent. */
static struct lim_cidr *
lim_get_cidrs(struct lim_ctx *x, json_t *obj, const char *path, const char *key, const char *fkey)
{
	json_t *arr = json_object_get(obj, key), *v;
	json_t *files = fkey != NULL ? json_object_get(obj, fkey) : NULL;
	char p[PATH_LEN], pi[PATH_LEN];
	struct lim_cidr *c;
	size_t i;

	jf_pathf(p, "%s.%s", path, key);
	if (arr == NULL && files == NULL)
		return NULL;
	if (arr != NULL &&
	    (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > LIM_CIDRS_MAX)) {
		errs_add(x->errs, p, "must be an array of 1 to %d CIDR strings", LIM_CIDRS_MAX);
		return NULL;
	}
	c = lim_cidr_new();
	if (c == NULL || arena_cleanup_add(x->r->arena, lim_cidr_cleanup, c) < 0) {
		lim_cidr_free(&c);
		errs_add(x->errs, p, "out of memory");
		return NULL;
	}
	if (files != NULL) {
		char pf[PATH_LEN];

		jf_pathf(pf, "%s.%s", path, fkey);
		lim_get_cidr_files(x, files, pf, c);
	}
	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);
		int rc = s != NULL && strlen(s) == json_string_length(v) ? lim_cidr_add_str(c, s, 1) : -EINVAL;

		if (rc < 0) {
			jf_pathf(pi, "%s[%zu]", p, i);
			errs_add(x->errs, pi, rc == -ENOMEM ? "out of memory" :
				 "must be an IPv4 or IPv6 address or prefix (addr/len, host bits zero)");
		}
	}
	if (lim_cidr_count(c) >= 1024 && lim_cidr_freeze(c) < 0)
		errs_add(x->errs, p, "out of memory");
	return c;
}

/* Reads a key file into the arena (config time). NULL with an error added. */
static char *
lim_read_file(struct lim_ctx *x, const char *p, const char *file, size_t *len)
{
	FILE *f = fopen(file, "re");
	char *buf = NULL;
	size_t n;

	if (f == NULL) {
		errs_add(x->errs, p, "cannot open %s: %s", file, strerror(errno));
		return NULL;
	}
	buf = arena_alloc(x->r->arena, LIM_KEYFILE_MAX + 1);
	if (buf == NULL) {
		errs_add(x->errs, p, "out of memory");
		goto out;
	}
	n = fread(buf, 1, LIM_KEYFILE_MAX + 1, f);
	if (ferror(f) || n > LIM_KEYFILE_MAX) {
		errs_add(x->errs, p, "cannot read %s (or larger than %d bytes)", file, LIM_KEYFILE_MAX);
		buf = NULL;
		goto out;
	}
	buf[n] = '\0';
	*len = n;
out:
	fclose(f);
	return buf;
}

static void
lim_parse_jwts(struct lim_ctx *x, json_t *arr, const char *path)
{
	static const char *const keys[] = { "name", "alg", "secret", "key", "key_file", "leeway_s", NULL };
	char p[PATH_LEN];
	json_t *o;
	size_t i, j;

	jf_pathf(p, "%s.jwt", path);
	if (!json_is_array(arr) || json_array_size(arr) > 64) {
		errs_add(x->errs, p, "must be an array of at most 64 verifiers");
		return;
	}
	x->r->jwts = arena_alloc(x->r->arena, (json_array_size(arr) + 1) * sizeof(*x->r->jwts));
	if (x->r->jwts == NULL) {
		errs_add(x->errs, p, "out of memory");
		return;
	}
	json_array_foreach(arr, i, o) {
		char pi[PATH_LEN], err[256];
		const char *name, *alg, *secret, *key, *file;
		enum lim_jwt_alg a = 0;
		const char *material = NULL;
		size_t mlen = 0;
		long leeway;

		jf_pathf(pi, "%s[%zu]", p, i);
		if (!json_is_object(o)) {
			errs_add(x->errs, pi, "must be an object");
			continue;
		}
		lim__check_keys(x, o, pi, keys);
		name = lim__get_str(x, o, pi, "name", 1, LIM_NAME_MAX);
		alg = lim__get_str(x, o, pi, "alg", 1, 16);
		secret = lim__get_str(x, o, pi, "secret", 0, 4096);
		key = lim__get_str(x, o, pi, "key", 0, LIM_KEYFILE_MAX);
		file = lim__get_str(x, o, pi, "key_file", 0, 4096);
		lim__get_int(x, o, pi, "leeway_s", 0, 3600, 0, 30, &leeway);
		if (name != NULL && !lim_name_valid(name))
			errs_add(x->errs, pi, "name must be 1-63 of [A-Za-z0-9._-]");
		for (j = 0; name != NULL && j < x->r->njwts; j++)
			if (strcmp(x->r->jwts[j].name, name) == 0)
				errs_add(x->errs, pi, "duplicate verifier name \"%s\"", name);
		if (alg != NULL) {
			if (strcmp(alg, "HS256") == 0)
				a = LIM_JWT_HS256;
			else if (strcmp(alg, "RS256") == 0)
				a = LIM_JWT_RS256;
			else if (strcmp(alg, "ES256") == 0)
				a = LIM_JWT_ES256;
			else
				errs_add(x->errs, pi, "alg must be HS256, RS256 or ES256");
		}
		if (a == LIM_JWT_HS256) {
			if (secret == NULL || key != NULL || file != NULL)
				errs_add(x->errs, pi, "HS256 takes \"secret\" (and no key or key_file)");
			material = secret;
			mlen = secret ? strlen(secret) : 0;
		} else if (a != 0) {
			if (secret != NULL || (key == NULL) == (file == NULL))
				errs_add(x->errs, pi, "%s takes exactly one of \"key\" (PEM or JWKS) and \"key_file\"", alg);
			else if (key != NULL) {
				material = key;
				mlen = strlen(key);
			} else {
				char pf[PATH_LEN];

				jf_pathf(pf, "%s.key_file", pi);
				material = lim_read_file(x, pf, file, &mlen);
			}
		}
		if (name == NULL || material == NULL || a == 0)
			continue;
		x->r->jwts[x->r->njwts].v = lim_jwt_verifier_new(a, material, mlen, (uint32_t)leeway, err, sizeof(err));
		if (x->r->jwts[x->r->njwts].v == NULL) {
			errs_add(x->errs, pi, "%s", err);
			continue;
		}
		if (arena_cleanup_add(x->r->arena, lim_jwt_cleanup, x->r->jwts[x->r->njwts].v) < 0) {
			lim_jwt_verifier_free(&x->r->jwts[x->r->njwts].v);
			errs_add(x->errs, pi, "out of memory");
			continue;
		}
		x->r->jwts[x->r->njwts++].name = name;
	}
}

static void
lim_parse_match(struct lim_ctx *x, struct lim_rule *rl, json_t *m, const char *path)
{
	static const char *const keys[] = { "listeners", "routes", "hosts", "path", "path_prefix",
					    "path_regex", "methods", "headers", "client_cidrs", NULL };
	static const char *const hkeys[] = { "name", "value", "present", NULL };
	struct lim_str *ls;
	const char *path_exact, *prefix;
	json_t *harr, *h;
	size_t i;

	if (!json_is_object(m)) {
		errs_add(x->errs, path, "must be an object");
		return;
	}
	lim__check_keys(x, m, path, keys);
	rl->nlisteners = lim__get_strs(x, m, path, "listeners", LIM_LIST_MAX, lim_name_valid,
				      "a listener name", &ls);
	if (rl->nlisteners > 0) {
		rl->listeners = arena_alloc(x->r->arena, rl->nlisteners * sizeof(*rl->listeners));
		for (i = 0; rl->listeners != NULL && i < rl->nlisteners; i++)
			rl->listeners[i] = ls[i].s;
		if (rl->listeners == NULL)
			rl->nlisteners = 0;
	}
	rl->nroutes = lim__get_strs(x, m, path, "routes", LIM_LIST_MAX, lim_name_valid,
				    "a route name", &rl->routes);
	rl->nhosts = lim__get_strs(x, m, path, "hosts", LIM_LIST_MAX, lim_host_valid, "a host name", &rl->hosts);
	rl->nmethods = lim__get_strs(x, m, path, "methods", LIM_LIST_MAX, lim__token_valid, "an HTTP method token",
				    &rl->methods);
	path_exact = lim__get_str(x, m, path, "path", 0, 1024);
	prefix = lim__get_str(x, m, path, "path_prefix", 0, 1024);
	if (path_exact != NULL && prefix != NULL) {
		errs_add(x->errs, path, "path and path_prefix exclude each other");
	} else if (path_exact != NULL || prefix != NULL) {
		char p[PATH_LEN];

		rl->path.s = path_exact ? path_exact : prefix;
		rl->path.len = strlen(rl->path.s);
		rl->path_prefix = prefix != NULL;
		jf_pathf(p, "%s.%s", path, path_exact ? "path" : "path_prefix");
		if (!lim_path_valid(rl->path.s))
			errs_add(x->errs, p, "must start with '/' and hold no spaces, controls, '?' or '#'");
	}
	if (json_object_get(m, "path_regex") != NULL) {
		const char *re = lim__get_str(x, m, path, "path_regex", 1, 4096);
		char p[PATH_LEN];

		jf_pathf(p, "%s.path_regex", path);
		if (path_exact != NULL || prefix != NULL)
			errs_add(x->errs, p, "path, path_prefix and path_regex exclude each other");
		else if (re != NULL)
			rl->path_re = lim__regex(x, re, p);
	}
	harr = json_object_get(m, "headers");
	if (harr != NULL) {
		char p[PATH_LEN];

		jf_pathf(p, "%s.headers", path);
		if (!json_is_array(harr) || json_array_size(harr) == 0 || json_array_size(harr) > LIM_LIST_MAX) {
			errs_add(x->errs, p, "must be an array of 1 to %d header tests", LIM_LIST_MAX);
		} else if ((rl->hdrs = arena_alloc(x->r->arena, json_array_size(harr) * sizeof(*rl->hdrs))) == NULL) {
			errs_add(x->errs, p, "out of memory");
		} else {
			json_array_foreach(harr, i, h) {
				char pi[PATH_LEN];
				struct lim_hdr_match *hm = &rl->hdrs[rl->nhdrs];
				const char *name, *value;

				jf_pathf(pi, "%s[%zu]", p, i);
				if (!json_is_object(h)) {
					errs_add(x->errs, pi, "must be an object");
					continue;
				}
				lim__check_keys(x, h, pi, hkeys);
				name = lim__get_str(x, h, pi, "name", 1, 256);
				value = lim__get_str(x, h, pi, "value", 0, 4096);
				hm->present = lim__get_bool(x, h, pi, "present", true);
				if (name != NULL && (!*name || !lim__token_valid(name)))
					errs_add(x->errs, pi, "name must be a header field name");
				if (value != NULL && !lim__value_valid(value))
					errs_add(x->errs, pi, "value must hold no control characters");
				if (value != NULL && json_object_get(h, "present") != NULL)
					errs_add(x->errs, pi, "value and present exclude each other");
				if (name == NULL)
					continue;
				hm->name.s = name;
				hm->name.len = strlen(name);
				hm->value.s = value;
				hm->value.len = value ? strlen(value) : 0;
				rl->nhdrs++;
			}
		}
	}
	rl->cidrs = lim_get_cidrs(x, m, path, "client_cidrs", NULL);
}

static const struct lim_jwt_verifier *
lim_jwt_find(const struct lim_rules *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->njwts; i++)
		if (strcmp(r->jwts[i].name, name) == 0)
			return r->jwts[i].v;
	return NULL;
}

static void
lim_parse_key(struct lim_ctx *x, struct lim_rule *rl, json_t *arr, const char *path)
{
	static const char *const keys[] = { "type", "name", "ipv4_prefix", "ipv6_prefix", "jwt",
					    "claim", "header", "values", NULL };
	json_t *o;
	size_t i;

	if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > LIM_KEYPARTS_MAX) {
		errs_add(x->errs, path, "must be an array of 1 to %d key parts", LIM_KEYPARTS_MAX);
		return;
	}
	json_array_foreach(arr, i, o) {
		char pi[PATH_LEN];
		struct lim_keypart *k = &rl->parts[rl->nparts];
		const char *type, *name = NULL, *jwt, *claim, *hdr;
		long v4, v6;

		jf_pathf(pi, "%s[%zu]", path, i);
		if (!json_is_object(o)) {
			errs_add(x->errs, pi, "must be an object");
			continue;
		}
		lim__check_keys(x, o, pi, keys);
		type = lim__get_str(x, o, pi, "type", 1, 32);
		if (type == NULL)
			continue;
		if (strcmp(type, "client_ip") == 0) {
			static const char *const ok[] = { "type", "ipv4_prefix", "ipv6_prefix", NULL };

			lim__check_keys(x, o, pi, ok);
			k->kind = LIM_KEY_CLIENT_IP;
			lim__get_int(x, o, pi, "ipv4_prefix", 1, 32, 0, 32, &v4);
			lim__get_int(x, o, pi, "ipv6_prefix", 1, 128, 0, 64, &v6);
			k->v4_prefix = (uint32_t)v4;
			k->v6_prefix = (uint32_t)v6;
		} else if (strcmp(type, "header") == 0 || strcmp(type, "cookie") == 0 ||
			   strcmp(type, "query") == 0) {
			static const char *const ok[] = { "type", "name", "values", NULL };

			lim__check_keys(x, o, pi, ok);
			k->kind = type[0] == 'h' ? LIM_KEY_HEADER : type[0] == 'c' ? LIM_KEY_COOKIE : LIM_KEY_QUERY;
			name = lim__get_str(x, o, pi, "name", 1, 256);
			if (name != NULL && (!*name || (k->kind == LIM_KEY_HEADER ? !lim__token_valid(name) :
							!lim__value_valid(name))))
				errs_add(x->errs, pi, "name must be a non-empty %s name", type);
			k->nvalues = lim__get_strs(x, o, pi, "values", 100000, lim__value_valid,
						  "a string without control characters", &k->values);
			if (k->nvalues > 1)	/* binary search per request */
				qsort(k->values, k->nvalues, sizeof(*k->values), lim_str_cmp);
		} else if (strcmp(type, "path") == 0) {
			static const char *const ok[] = { "type", NULL };

			lim__check_keys(x, o, pi, ok);
			k->kind = LIM_KEY_PATH;
		} else if (strcmp(type, "jwt_claim") == 0) {
			static const char *const ok[] = { "type", "jwt", "claim", "header", NULL };

			lim__check_keys(x, o, pi, ok);
			k->kind = LIM_KEY_JWT_CLAIM;
			jwt = lim__get_str(x, o, pi, "jwt", 1, LIM_NAME_MAX);
			claim = lim__get_str(x, o, pi, "claim", 1, 128);
			hdr = lim__get_str(x, o, pi, "header", 0, 256);
			name = hdr ? hdr : "Authorization";
			if (hdr != NULL && (!*hdr || !lim__token_valid(hdr)))
				errs_add(x->errs, pi, "header must be a header field name");
			if (jwt != NULL && (k->jwt = lim_jwt_find(x->r, jwt)) == NULL) {
				char pj[PATH_LEN];

				jf_pathf(pj, "%s.jwt", pi);
				errs_add(x->errs, pj, "no verifier named \"%s\" in jwt", jwt);
			}
			k->claim = claim;
		} else {
			char pt[PATH_LEN];

			jf_pathf(pt, "%s.type", pi);
			errs_add(x->errs, pt, "must be client_ip, header, cookie, query, path or jwt_claim");
			continue;
		}
		if (name != NULL) {
			k->name.s = name;
			k->name.len = strlen(name);
		}
		rl->nparts++;
	}
}

static void
lim_parse_rule(struct lim_ctx *x, struct lim_rule *rl, json_t *o, const char *path)
{
	static const char *const keys[] = { "name", "match", "key", "on_missing_key", "missing_status",
					    "limit", "action", "shadow", "ratelimit_headers", NULL };
	static const char *const lkeys[] = { "requests", "period_s", "burst", NULL };
	static const char *const akeys[] = { "type", "status", "body", "delay_ms", "duration_s", NULL };
	const char *miss, *atype;
	json_t *m, *lim, *act;
	char p[PATH_LEN];
	long v;

	lim__check_keys(x, o, path, keys);
	rl->name = lim__get_str(x, o, path, "name", 1, LIM_NAME_MAX);
	if (rl->name != NULL && !lim_name_valid(rl->name)) {
		jf_pathf(p, "%s.name", path);
		errs_add(x->errs, p, "must be 1-63 of [A-Za-z0-9._-], starting with a letter or digit");
	}
	m = json_object_get(o, "match");
	if (m != NULL) {
		jf_pathf(p, "%s.match", path);
		lim_parse_match(x, rl, m, p);
	}
	if (json_object_get(o, "key") != NULL) {
		jf_pathf(p, "%s.key", path);
		lim_parse_key(x, rl, json_object_get(o, "key"), p);
	} else {	/* default: the client address, IPv6 by /64 */
		rl->parts[0].kind = LIM_KEY_CLIENT_IP;
		rl->parts[0].v4_prefix = 32;
		rl->parts[0].v6_prefix = 64;
		rl->nparts = 1;
	}
	miss = lim__get_str(x, o, path, "on_missing_key", 0, 16);
	rl->missing = LIM_MISSING_SKIP;
	if (miss != NULL) {
		jf_pathf(p, "%s.on_missing_key", path);
		if (strcmp(miss, "reject") == 0)
			rl->missing = LIM_MISSING_REJECT;
		else if (strcmp(miss, "anonymous") == 0)
			rl->missing = LIM_MISSING_ANONYMOUS;
		else if (strcmp(miss, "skip") != 0)
			errs_add(x->errs, p, "must be skip, reject or anonymous");
	}
	lim__get_int(x, o, path, "missing_status", 400, 499, 0, 401, &v);
	rl->missing_status = (uint16_t)v;
	lim = json_object_get(o, "limit");
	if (lim != NULL) {
		jf_pathf(p, "%s.limit", path);
		if (!json_is_object(lim)) {
			errs_add(x->errs, p, "must be an object");
		} else {
			lim__check_keys(x, lim, p, lkeys);
			lim__get_int(x, lim, p, "requests", 1, 1000000000L, 1, 1, &v);
			rl->requests = (uint32_t)v;
			lim__get_int(x, lim, p, "period_s", 1, 86400, 1, 1, &v);
			rl->period_ms = (uint32_t)v * 1000u;
			lim__get_int(x, lim, p, "burst", 0, 1000000000L, 0, 0, &v);
			rl->burst = (uint32_t)v;
		}
	} else if (rl->missing != LIM_MISSING_REJECT) {
		errs_add(x->errs, path, "a rule without a limit is an access rule: it needs on_missing_key \"reject\"");
	}
	act = json_object_get(o, "action");
	rl->action = LIM_ACT_REJECT;
	rl->status = 429;
	if (act != NULL) {
		jf_pathf(p, "%s.action", path);
		if (!json_is_object(act)) {
			errs_add(x->errs, p, "must be an object");
		} else {
			lim__check_keys(x, act, p, akeys);
			atype = lim__get_str(x, act, p, "type", 1, 16);
			lim__get_int(x, act, p, "status", 400, 599, 0, 429, &v);
			rl->status = (uint16_t)v;
			rl->body.s = lim__get_str(x, act, p, "body", 0, 4096);
			rl->body.len = rl->body.s ? strlen(rl->body.s) : 0;
			if (atype == NULL) {
				;
			} else if (strcmp(atype, "reject") == 0) {
				rl->action = LIM_ACT_REJECT;
			} else if (strcmp(atype, "log") == 0) {
				rl->action = LIM_ACT_LOG;
			} else if (strcmp(atype, "tarpit") == 0) {
				rl->action = LIM_ACT_TARPIT;
				lim__get_int(x, act, p, "delay_ms", 1, 60000, 1, 1, &v);
				rl->tarpit_ms = (uint32_t)v;
			} else if (strcmp(atype, "ban") == 0) {
				rl->action = LIM_ACT_BAN;
				lim__get_int(x, act, p, "duration_s", 1, 604800, 1, 1, &v);
				rl->ban_s = (uint32_t)v;
			} else {
				char pt[PATH_LEN];

				jf_pathf(pt, "%s.type", p);
				errs_add(x->errs, pt, "must be reject, log, tarpit or ban");
			}
			if (atype != NULL && strcmp(atype, "tarpit") != 0 && json_object_get(act, "delay_ms"))
				errs_add(x->errs, p, "delay_ms is only for tarpit");
			if (atype != NULL && strcmp(atype, "ban") != 0 && json_object_get(act, "duration_s"))
				errs_add(x->errs, p, "duration_s is only for ban");
		}
	}
	rl->shadow = lim__get_bool(x, o, path, "shadow", false);
	/* RateLimit-* on the rule's 429 always; on forwarded responses only
	 * when asked (doc/limits.md "Response headers") */
	{
		const char *h = lim__get_str(x, o, path, "ratelimit_headers", 0, 16);

		if (h != NULL && strcmp(h, "always") == 0) {
			rl->hdr_admit = true;
		} else if (h != NULL && strcmp(h, "deny") != 0) {
			jf_pathf(p, "%s.ratelimit_headers", path);
			errs_add(x->errs, p, "must be deny or always");
		}
	}
}

struct lim_rules *
lim_rules_parse(json_t *section, const char *path, struct errs *errs)
{
	static const char *const keys[] = { "jwt", "allow_cidrs", "deny_cidrs", "allow_cidr_files",
					    "deny_cidr_files", "waf", "rules", NULL };
	struct lim_ctx x = { .errs = errs };
	size_t nerr = errs->count, i, j;
	struct arena *a;
	json_t *arr, *o;
	char p[PATH_LEN];

	a = arena_new(16384);
	x.r = a ? arena_alloc(a, sizeof(*x.r)) : NULL;
	if (x.r == NULL) {
		arena_free(&a);
		errs_add(errs, path, "out of memory");
		return NULL;
	}
	x.r->arena = a;
	if (section == NULL)
		return x.r;
	if (!json_is_object(section)) {
		errs_add(errs, path, "must be an object");
		goto fail;
	}
	lim__check_keys(&x, section, path, keys);
	if (json_object_get(section, "jwt") != NULL)
		lim_parse_jwts(&x, json_object_get(section, "jwt"), path);
	x.r->allow = lim_get_cidrs(&x, section, path, "allow_cidrs", "allow_cidr_files");
	x.r->deny = lim_get_cidrs(&x, section, path, "deny_cidrs", "deny_cidr_files");
	if (json_object_get(section, "waf") != NULL) {
		jf_pathf(p, "%s.waf", path);
		x.r->waf = lim__waf_parse(&x, json_object_get(section, "waf"), p);
	}
	arr = json_object_get(section, "rules");
	if (arr != NULL) {
		jf_pathf(p, "%s.rules", path);
		if (!json_is_array(arr) || json_array_size(arr) > LIM_RULES_MAX) {
			errs_add(errs, p, "must be an array of at most %d rules", LIM_RULES_MAX);
		} else if ((x.r->rules = arena_alloc(a, (json_array_size(arr) + 1) * sizeof(*x.r->rules))) == NULL) {
			errs_add(errs, p, "out of memory");
		} else {
			json_array_foreach(arr, i, o) {
				char pi[PATH_LEN];

				jf_pathf(pi, "%s[%zu]", p, i);
				if (!json_is_object(o)) {
					errs_add(errs, pi, "must be an object");
					continue;
				}
				lim_parse_rule(&x, &x.r->rules[x.r->nrules], o, pi);
				for (j = 0; x.r->rules[x.r->nrules].name != NULL && j < x.r->nrules; j++)
					if (x.r->rules[j].name != NULL &&
					    strcmp(x.r->rules[j].name, x.r->rules[x.r->nrules].name) == 0) {
						char pn[PATH_LEN];

						jf_pathf(pn, "%s.name", pi);
						errs_add(errs, pn, "duplicate rule name \"%s\"", x.r->rules[j].name);
					}
				x.r->nrules++;
			}
		}
	}
	if (errs->count == nerr)
		return x.r;
fail:
	arena_free(&a);
	return NULL;
}

struct lim_rules *
lim_rules_parse_text(const char *text, size_t len, struct errs *errs)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	struct lim_rules *r;

	if (root == NULL) {
		errs_add(errs, "$", "invalid JSON at line %d column %d: %s", jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	r = lim_rules_parse(root, "$", errs);
	json_decref(root);
	return r;
}

void
lim_rules_free(struct lim_rules **rp)
{
	struct arena *a;

	if (*rp == NULL)
		return;
	a = (*rp)->arena;
	arena_free(&a);
	*rp = NULL;
}

size_t
lim_rules_count(const struct lim_rules *r)
{
	return r->nrules;
}

const char *
lim_rules_name(const struct lim_rules *r, size_t i)
{
	return i < r->nrules ? r->rules[i].name : NULL;
}

/* ---- store ---- */

struct lim_store *
lim_store_new(uint32_t node, const uint64_t seed[2], uint32_t max_keys)
{
	struct lim_store *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	s->node = node;
	s->seed[0] = seed[0];
	s->seed[1] = seed[1];
	s->max_keys = max_keys < 64 ? 64 : max_keys;
	s->bans = lim_ban_new(s->max_keys);	/* as many bans as keys per rule */
	if (s->bans == NULL)
		lim_store_free(&s);
	return s;
}

void
lim_store_free(struct lim_store **sp)
{
	struct lim_store *s = *sp;
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->ntables; i++) {
		lim_table_free(&s->tables[i].t);
		lim_top_free(&s->tables[i].top);
	}
	free(s->tables);
	lim_ban_free(&s->bans);
	pthread_mutex_destroy(&s->lock);
	free(s);
	*sp = NULL;
}

struct lim_table *
lim_store_table(struct lim_store *s, const char *name)
{
	struct lim_table *t = NULL;
	size_t i;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->ntables; i++)
		if (strcmp(s->tables[i].name, name) == 0)
			t = s->tables[i].t;
	pthread_mutex_unlock(&s->lock);
	return t;
}

/* A composed key as text for the top-keys view: parts joined by '|', the
 * client address with its prefix, other values as printable ASCII (others
 * as '.'), cut to fit (the view keeps a key's first LIM_TOP_KEY bytes). */
struct lim_render {
	const struct lim_rule *rl;
	const unsigned char *key;
	size_t len;
};

static void
lim_key_render(const struct lim_render *rd, char *out, size_t cap)
{
	static const char *const kinds[] = { "", "ip", "header", "cookie", "query", "path", "jwt" };
	size_t i = 0, o = 0, part = 0;

	out[0] = '\0';
	while (i + 3 <= rd->len && o + 1 < cap && part < rd->rl->nparts) {
		unsigned kind = rd->key[i];
		size_t vlen = (size_t)rd->key[i + 1] << 8 | rd->key[i + 2], j;
		const unsigned char *val = rd->key + i + 3;
		int n;

		i += 3 + vlen;
		if (i > rd->len)
			break;
		n = snprintf(out + o, cap - o, "%s%s=", part ? "|" : "", kind < 7 ? kinds[kind] : "?");
		if (n < 0 || (size_t)n >= cap - o)
			break;
		o += (size_t)n;
		if (kind == LIM_KEY_CLIENT_IP && vlen >= 5) {
			const struct lim_keypart *k = &rd->rl->parts[part];
			char a[INET6_ADDRSTRLEN];
			int af = val[0] == AF_INET ? AF_INET : AF_INET6;

			inet_ntop(af, val + 1, a, sizeof(a));
			n = snprintf(out + o, cap - o, "%s/%u", a, af == AF_INET ? k->v4_prefix : k->v6_prefix);
			if (n < 0 || (size_t)n >= cap - o)
				break;
			o += (size_t)n;
		} else {
			for (j = 0; j < vlen && o + 1 < cap; j++)
				out[o++] = val[j] >= 0x20 && val[j] < 0x7f ? (char)val[j] : '.';
			out[o] = '\0';
		}
		part++;
	}
	if (rd->len == 0)
		snprintf(out, cap, "(anonymous)");
}

void
lim_store_foreach(struct lim_store *s, lim_store_table_fn fn, void *arg)
{
	size_t i;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->ntables; i++)
		fn(s->tables[i].name, s->tables[i].period_ms, s->tables[i].t, arg);
	pthread_mutex_unlock(&s->lock);
}

int
lim_rules_refs(const struct lim_rules *r, lim_rules_ref_fn fn, void *arg)
{
	size_t i, j;
	int rc = 0;

	for (i = 0; i < r->nrules && rc == 0; i++) {
		for (j = 0; j < r->rules[i].nlisteners && rc == 0; j++)
			rc = fn("listener", r->rules[i].listeners[j], arg);
		for (j = 0; j < r->rules[i].nroutes && rc == 0; j++)
			rc = fn("route", r->rules[i].routes[j].s, arg);
	}
	if (rc == 0 && r->waf != NULL)
		rc = lim__waf_refs(r->waf, fn, arg);
	return rc;
}

static json_t *
lim_top_json(const struct lim_rule *rl, bool by_denials, size_t max)
{
	struct lim_top_row rows[LIM_TOP_N];
	json_t *a = json_array();
	size_t i, n = lim_top_rows(rl->top, by_denials, rows, max < LIM_TOP_N ? max : LIM_TOP_N);
	char text[160];

	for (i = 0; a != NULL && i < n; i++) {
		struct lim_render rd = { rl, rows[i].key, rows[i].key_len };

		lim_key_render(&rd, text, sizeof(text));
		json_array_append_new(a, json_pack("{s:s,s:I,s:I}", "key", text,
						   "hits", (json_int_t)rows[i].hits,
						   "denials", (json_int_t)rows[i].denials));
	}
	return a;
}

json_t *
lim_rules_stats_json(const struct lim_rules *r, size_t top)
{
	static const char *const acts[] = { "pass", "reject", "tarpit", "ban", "log" };
	json_t *o = json_object(), *rules = json_array();
	size_t i;

	for (i = 0; o != NULL && rules != NULL && i < r->nrules; i++) {
		const struct lim_rule *rl = &r->rules[i];
		json_t *e = json_pack("{s:s,s:s,s:b}", "name", rl->name,
				      "action", rl->requests ? acts[rl->action] : "access",
				      "shadow", rl->shadow);

		if (e != NULL && rl->hdr_admit)
			json_object_set_new(e, "ratelimit_headers", json_string("always"));

		if (e == NULL)
			continue;
		if (rl->requests) {
			json_object_set_new(e, "limit", json_integer(rl->requests));
			json_object_set_new(e, "period_s", json_integer(rl->period_ms / 1000));
		}
		if (rl->table != NULL) {
			struct lim_table_stats ts;

			lim_table_stats(rl->table, &ts);
			json_object_set_new(e, "keys", json_integer((json_int_t)ts.keys));
			json_object_set_new(e, "evictions", json_integer((json_int_t)ts.evictions));
		}
		if (rl->top != NULL) {
			struct lim_top_counts c;

			lim_top_counts(rl->top, &c);
			json_object_set_new(e, "hits", json_integer((json_int_t)c.hits));
			json_object_set_new(e, "denials", json_integer((json_int_t)c.denials));
			json_object_set_new(e, "top_hits", lim_top_json(rl, false, top));
			json_object_set_new(e, "top_denials", lim_top_json(rl, true, top));
		}
		json_array_append_new(rules, e);
	}
	json_object_set_new(o, "rules", rules);
	json_object_set_new(o, "waf", r->waf ? lim__waf_stats_json(r->waf) : json_array());
	return o;
}

struct lim_ban *
lim_store_bans(struct lim_store *s)
{
	return s->bans;
}

int
lim_rules_bind(struct lim_rules *r, struct lim_store *s)
{
	size_t i, j;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < r->nrules && rc == 0; i++) {
		struct lim_rule *rl = &r->rules[i];
		struct lim_table_opts o = { .period_ms = rl->period_ms, .max_keys = s->max_keys,
					    .node = s->node, .seed = { s->seed[0], s->seed[1] } };

		if (rl->requests == 0)
			continue;
		rl->table = NULL;
		for (j = 0; j < s->ntables; j++)
			if (strcmp(s->tables[j].name, rl->name) == 0 && s->tables[j].period_ms == rl->period_ms) {
				rl->table = s->tables[j].t;
				rl->top = s->tables[j].top;
			}
		if (rl->table != NULL)
			continue;
		/* a new rule, or its period changed: a fresh table (the old one,
		 * if any, is kept until the store is freed) */
		if (s->ntables == s->cap) {
			size_t nc = s->cap ? s->cap * 2 : 8;
			struct lim_store_table *nt = realloc(s->tables, nc * sizeof(*nt));

			if (nt == NULL) {
				rc = -ENOMEM;
				break;
			}
			s->tables = nt;
			s->cap = nc;
		}
		rl->table = lim_table_new(&o, &rc);
		if (rl->table == NULL)
			break;
		rl->top = lim_top_new();
		if (rl->top == NULL) {
			lim_table_free(&rl->table);
			rc = -ENOMEM;
			break;
		}
		snprintf(s->tables[s->ntables].name, sizeof(s->tables[s->ntables].name), "%s", rl->name);
		/* an older table of the same name stops matching by name lookup order */
		for (j = 0; j < s->ntables; j++)
			if (strcmp(s->tables[j].name, rl->name) == 0)
				s->tables[j].name[0] = '\0';
		s->tables[s->ntables].period_ms = rl->period_ms;
		s->tables[s->ntables].t = rl->table;
		s->tables[s->ntables].top = rl->top;
		s->ntables++;
	}
	pthread_mutex_unlock(&s->lock);
	if (rc == 0)
		r->store = s;
	return rc;
}

/* ---- evaluation ---- */

static int
lim_streq_ci(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && strncasecmp(a, b, alen) == 0;
}

/* First header named name (any case); NULL when absent. */
static const struct lim_hdr *
lim_header(const struct lim_request *q, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < q->nheaders; i++)
		if (lim_streq_ci(q->headers[i].name, q->headers[i].name_len, name, len))
			return &q->headers[i];
	return NULL;
}

static int
lim_match(const struct lim_rule *rl, const struct lim_request *q)
{
	size_t i;
	uint32_t v;
	int ok;

	if (rl->nlisteners > 0) {
		for (ok = 0, i = 0; i < rl->nlisteners && !ok; i++)
			ok = q->listener != NULL && strcmp(rl->listeners[i], q->listener) == 0;
		if (!ok)
			return 0;
	}
	if (rl->nroutes > 0) {
		for (ok = 0, i = 0; i < rl->nroutes && !ok; i++)
			ok = q->route != NULL && strcmp(rl->routes[i].s, q->route) == 0;
		if (!ok)
			return 0;
	}
	if (rl->nhosts > 0) {
		for (ok = 0, i = 0; i < rl->nhosts && !ok; i++)
			ok = lim_streq_ci(rl->hosts[i].s, rl->hosts[i].len, q->host, q->host_len);
		if (!ok)
			return 0;
	}
	if (rl->nmethods > 0) {
		for (ok = 0, i = 0; i < rl->nmethods && !ok; i++)
			ok = rl->methods[i].len == q->method_len &&
			     memcmp(rl->methods[i].s, q->method, q->method_len) == 0;
		if (!ok)
			return 0;
	}
	if (rl->path.s != NULL) {
		if (rl->path_prefix ? q->path_len < rl->path.len :
				      q->path_len != rl->path.len)
			return 0;
		if (memcmp(q->path, rl->path.s, rl->path.len) != 0)
			return 0;
	}
	if (rl->path_re != NULL && lim__regex_match(rl->path_re, q->path, q->path_len, q->md) != 1)
		return 0;
	for (i = 0; i < rl->nhdrs; i++) {
		const struct lim_hdr *h = lim_header(q, rl->hdrs[i].name.s, rl->hdrs[i].name.len);

		if (rl->hdrs[i].value.s != NULL) {
			if (h == NULL || h->value_len != rl->hdrs[i].value.len ||
			    memcmp(h->value, rl->hdrs[i].value.s, h->value_len) != 0)
				return 0;
		} else if ((h != NULL) != rl->hdrs[i].present) {
			return 0;
		}
	}
	if (rl->cidrs != NULL && !lim_cidr_lookup(rl->cidrs, q->af, q->addr, &v))
		return 0;
	return 1;
}

/* Finds name=value in a list split by sep (';' cookies, '&' query), skipping
 * spaces before names. Sets *val; 1 when found. */
static int
lim_pair(const char *s, size_t len, char sep, const struct lim_str *name, const char **val, size_t *vlen)
{
	const char *end = s + len, *p = s;

	while (p < end) {
		const char *e = memchr(p, sep, (size_t)(end - p)), *eq;

		if (e == NULL)
			e = end;
		while (p < e && *p == ' ')
			p++;
		eq = memchr(p, '=', (size_t)(e - p));
		if (eq != NULL && (size_t)(eq - p) == name->len && memcmp(p, name->s, name->len) == 0) {
			*val = eq + 1;
			*vlen = (size_t)(e - eq - 1);
			return 1;
		}
		p = e + 1;
	}
	return 0;
}

/* The value of one key part; 1 with *val and *vlen set, 0 when absent/invalid. */
static int
lim_part_value(const struct lim_keypart *k, const struct lim_request *q, uint64_t now_ms,
	       char *tmp, size_t tmplen, const char **val, size_t *vlen, enum lim_jwt_err *jerr)
{
	const struct lim_hdr *h;
	size_t i;

	switch (k->kind) {
	case LIM_KEY_CLIENT_IP: {
		unsigned bits = q->af == AF_INET ? k->v4_prefix : k->v6_prefix;
		size_t n = q->af == AF_INET ? 4 : 16;

		tmp[0] = (char)q->af;
		memcpy(tmp + 1, q->addr, n);
		for (i = 0; i < n; i++) {	/* keep only the prefix bits */
			unsigned have = bits > i * 8 ? bits - (unsigned)i * 8 : 0;

			if (have < 8)
				tmp[1 + i] = (char)((unsigned char)tmp[1 + i] & (unsigned char)(0xff00u >> have));
		}
		*val = tmp;
		*vlen = n + 1;
		return 1;
	}
	case LIM_KEY_HEADER:
		h = lim_header(q, k->name.s, k->name.len);
		if (h == NULL || h->value_len == 0)
			return 0;
		*val = h->value;
		*vlen = h->value_len;
		break;
	case LIM_KEY_COOKIE: {
		int found = 0;

		for (i = 0; i < q->nheaders && !found; i++)
			if (lim_streq_ci(q->headers[i].name, q->headers[i].name_len, "cookie", 6))
				found = lim_pair(q->headers[i].value, q->headers[i].value_len, ';', &k->name, val, vlen);
		if (!found || *vlen == 0)
			return 0;
		break;
	}
	case LIM_KEY_QUERY:
		if (!lim_pair(q->query, q->query_len, '&', &k->name, val, vlen) || *vlen == 0)
			return 0;
		break;
	case LIM_KEY_PATH:
		*val = q->path;
		*vlen = q->path_len;
		return 1;
	case LIM_KEY_JWT_CLAIM: {
		const char *t;
		size_t tl;

		h = lim_header(q, k->name.s, k->name.len);
		if (h == NULL)
			return 0;
		t = h->value;
		tl = h->value_len;
		if (tl > 7 && strncasecmp(t, "bearer ", 7) == 0) {
			t += 7;
			tl -= 7;
		}
		*jerr = lim_jwt_verify(k->jwt, t, tl, (int64_t)(now_ms / 1000), k->claim, tmp, tmplen);
		if (*jerr != LIM_JWT_OK)
			return 0;
		*val = tmp;
		*vlen = strlen(tmp);
		return 1;
	}
	}
	if (k->nvalues > 0) {	/* only listed values (e.g. issued API keys) count as a key */
		struct lim_str want = { *val, *vlen };

		return bsearch(&want, k->values, k->nvalues, sizeof(*k->values), lim_str_cmp) != NULL;
	}
	return 1;
}

/* Composes the rule's key into buf; returns its length, or -1 when a part
 * is missing (or a JWT did not verify: *jerr). */
static long
lim_compose(const struct lim_rule *rl, const struct lim_request *q, uint64_t now_ms,
	    unsigned char *buf, size_t cap, enum lim_jwt_err *jerr)
{
	char tmp[LIM_CLAIM_MAX];
	size_t i, n = 0, vlen;
	const char *val;

	for (i = 0; i < rl->nparts; i++) {
		if (!lim_part_value(&rl->parts[i], q, now_ms, tmp, sizeof(tmp), &val, &vlen, jerr))
			return -1;
		if (vlen > 0xffff || n + 3 + vlen > cap)
			return -1;	/* an over-long value is no key (never a truncated one) */
		buf[n++] = (unsigned char)rl->parts[i].kind;
		buf[n++] = (unsigned char)(vlen >> 8);
		buf[n++] = (unsigned char)vlen;
		memcpy(buf + n, val, vlen);
		n += vlen;
	}
	return (long)n;
}

static void
lim_log(struct lim_verdict *v, size_t rule, enum lim_outcome o, enum lim_jwt_err jerr)
{
	if (v->nlog == LIM_VERDICT_LOG) {
		v->nlog_dropped++;
		return;
	}
	v->log[v->nlog].rule = rule > UINT16_MAX ? UINT16_MAX : (uint16_t)rule;
	v->log[v->nlog].outcome = (uint8_t)o;
	v->log[v->nlog].jwt_err = (uint8_t)jerr;
	v->nlog++;
}

static void
lim_deny(struct lim_verdict *v, const struct lim_rule *rl, enum lim_action act, uint16_t status)
{
	v->action = act;
	v->status = status;
	v->body = rl ? rl->body.s : NULL;
	v->body_len = rl ? rl->body.len : 0;
	v->rule = rl ? rl->name : NULL;
	if (rl != NULL && act == LIM_ACT_TARPIT)
		v->tarpit_ms = rl->tarpit_ms;
	if (rl != NULL && act == LIM_ACT_BAN)
		v->ban_s = rl->ban_s;
}

void
lim_rules_eval(const struct lim_rules *r, const struct lim_request *q, uint64_t now_ms,
	       struct lim_verdict *v)
{
	unsigned char key[LIM_KEY_MAX];
	uint64_t until, fp;
	size_t i;
	uint32_t cv;

	memset(v, 0, sizeof(*v));
	v->action = LIM_ACT_PASS;
	if (r->store != NULL && (until = lim_ban_check(r->store->bans, q->af, q->addr, now_ms)) != 0) {
		lim_log(v, UINT16_MAX, LIM_OUT_BANNED, 0);
		lim_deny(v, NULL, LIM_ACT_REJECT, 403);
		v->retry_after = (uint32_t)((until - now_ms + 999) / 1000);
		return;
	}
	if (r->allow != NULL && lim_cidr_lookup(r->allow, q->af, q->addr, &cv)) {
		lim_log(v, UINT16_MAX, LIM_OUT_CIDR_ALLOW, 0);
		return;
	}
	if (r->deny != NULL && lim_cidr_lookup(r->deny, q->af, q->addr, &cv)) {
		lim_log(v, UINT16_MAX, LIM_OUT_CIDR_DENY, 0);
		lim_deny(v, NULL, LIM_ACT_REJECT, 403);
		return;
	}
	if (r->waf != NULL) {
		const char *id = NULL, *why = NULL, *shadow_id = NULL;
		int st = lim__waf_eval(r->waf, q, &id, &why, &shadow_id);

		if (shadow_id != NULL) {
			lim_log(v, UINT16_MAX, LIM_OUT_WAF_SHADOW, 0);
			v->waf_shadow_id = shadow_id;
		}
		if (st != 0) {
			lim_log(v, UINT16_MAX, LIM_OUT_WAF, 0);
			lim_deny(v, NULL, LIM_ACT_REJECT, (uint16_t)st);
			v->waf_id = id;
			v->waf_why = why;
			return;
		}
	}
	for (i = 0; i < r->nrules; i++) {
		const struct lim_rule *rl = &r->rules[i];
		enum lim_jwt_err jerr = LIM_JWT_OK;
		struct lim_result res;
		long klen;

		if (!lim_match(rl, q))
			continue;
		klen = lim_compose(rl, q, now_ms, key, sizeof(key), &jerr);
		if (klen < 0) {
			if (rl->missing == LIM_MISSING_SKIP) {
				lim_log(v, i, LIM_OUT_NO_KEY, jerr);
				continue;
			}
			if (rl->missing == LIM_MISSING_REJECT) {
				if (rl->shadow) {
					lim_log(v, i, LIM_OUT_SHADOW, jerr);
					continue;
				}
				lim_log(v, i, LIM_OUT_DENY, jerr);
				lim_deny(v, rl, LIM_ACT_REJECT, rl->missing_status);
				v->has_ratelimit = false;
				return;
			}
			klen = 0;	/* anonymous: every keyless request shares one bucket */
		}
		if (rl->requests == 0 || rl->table == NULL) {
			lim_log(v, i, LIM_OUT_ADMIT, jerr);
			continue;
		}
		fp = lim_table_key(rl->table, key, (size_t)klen);
		lim_table_hit(rl->table, fp, rl->requests, rl->burst, now_ms, &res);
		if (rl->top != NULL)
			lim_top_note(rl->top, fp, !res.allow, key, (size_t)klen);
		if (res.allow) {
			lim_log(v, i, LIM_OUT_ADMIT, jerr);
			if (rl->action != LIM_ACT_LOG && !rl->shadow && rl->hdr_admit &&
			    (!v->has_ratelimit || res.remaining < v->rl_remaining)) {
				v->has_ratelimit = true;
				v->rl_limit = res.limit;
				v->rl_remaining = res.remaining;
				v->rl_reset = res.reset_s;
			}
			continue;
		}
		if (rl->shadow || rl->action == LIM_ACT_LOG) {
			lim_log(v, i, rl->shadow ? LIM_OUT_SHADOW : LIM_OUT_LOGGED, jerr);
			continue;
		}
		lim_log(v, i, LIM_OUT_DENY, jerr);
		lim_deny(v, rl, rl->action, rl->status);
		v->has_ratelimit = true;
		v->rl_limit = res.limit;
		v->rl_remaining = 0;
		v->rl_reset = res.reset_s;
		v->retry_after = res.retry_after_s;
		if (rl->action == LIM_ACT_BAN && r->store != NULL) {
			lim_ban_add(r->store->bans, q->af, q->addr, now_ms + (uint64_t)rl->ban_s * 1000);
			v->retry_after = rl->ban_s;
		}
		return;
	}
}

int
lim_verdict_headers(const struct lim_verdict *v, char *buf, size_t len)
{
	int n = 0, m;

	if (len > 0)
		buf[0] = '\0';
	if (v->has_ratelimit) {
		m = snprintf(buf, len, "RateLimit-Limit: %u\r\nRateLimit-Remaining: %u\r\nRateLimit-Reset: %u\r\n",
			     v->rl_limit, v->rl_remaining, v->rl_reset);
		if (m < 0 || (size_t)m >= len)
			return -ENOSPC;
		n = m;
	}
	if (v->action != LIM_ACT_PASS && v->retry_after > 0) {
		m = snprintf(buf + n, len - (size_t)n, "Retry-After: %u\r\n", v->retry_after);
		if (m < 0 || (size_t)m >= len - (size_t)n)
			return -ENOSPC;
		n += m;
	}
	return n;
}

const char *
lim_outcome_name(enum lim_outcome o)
{
	switch (o) {
	case LIM_OUT_ADMIT: return "admit";
	case LIM_OUT_DENY: return "deny";
	case LIM_OUT_SHADOW: return "shadow-deny";
	case LIM_OUT_LOGGED: return "over-limit-logged";
	case LIM_OUT_NO_KEY: return "no-key";
	case LIM_OUT_BANNED: return "banned";
	case LIM_OUT_CIDR_ALLOW: return "allow-list";
	case LIM_OUT_CIDR_DENY: return "deny-list";
	case LIM_OUT_WAF: return "waf-deny";
	case LIM_OUT_WAF_SHADOW: return "waf-shadow-deny";
	}
	return "unknown";
}
