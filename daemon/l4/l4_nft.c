/*
 * l4_nft - Tandem's nftables table (see l4_nft.h for the contract).
 *
 * Layout of table inet tandem:
 *   chain pre      base chain, hook prerouting priority -140 (after
 *                  conntrack and mangle, so ct state, ct count and marks
 *                  are known); one rule: jump c_<hash>
 *   chain c_<h>    the ruleset: allow accept, deny drop, ban drop, then per
 *                  service "ct state new" rate and count limits
 *   set a4_/a6_<h> allow, d4_/d6_<h> deny (interval sets, content-named)
 *   set ban4/ban6  the dynamic ban sets (timeout per element), never recreated
 *   set r_<h>      per service: source -> limit rate (dynamic, timeout)
 *   set n_<h>      per service: source -> ct count (dynamic)
 * A name that is a hash of the content means "exists" implies "is right",
 * so reconcile compares names only and an unchanged config sends nothing.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <nftables/libnftables.h>

#include "l4_nft.h"
#include "log.h"

#define T "inet " L4_NFT_TABLE

#define L4_FNV0 0xcbf29ce484222325ull	/* FNV-1a's offset basis: the hash of "" */

static uint64_t
l4_fnv(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* A content-named object: "PREFIX_" and 48 bits of the content's hash h. */
static void
l4_hname(char *out, size_t len, const char *prefix, uint64_t h)
{
	snprintf(out, len, "%s_%012" PRIx64, prefix, h & (uint64_t)0xffffffffffff);
}

int
l4_nft_wanted(const struct conf *c)
{
	size_t i;

	if (c->l4.filter.nallow || c->l4.filter.ndeny || c->l4.filter.present)
		return 1;
	for (i = 0; i < c->l4.nservices; i++)
		if (c->l4.services[i].limits.new_conns || c->l4.services[i].limits.concurrent)
			return 1;
	return 0;
}

static int
l4_has(const struct l4_nft_state *st, const char *name)
{
	size_t i;

	for (i = 0; i < st->nnames; i++)
		if (strcmp(st->names[i], name) == 0)
			return 1;
	return 0;
}

/* Desired objects collected while rendering: name and its "add" command. */
struct l4_obj {
	char name[L4_NFT_NAME_MAX];
	char *cmd;
};

struct l4_objs {
	struct l4_obj *v;	/* 4 filter sets + 2 per service */
	size_t n;
};

/* Renders one interval set of the given family from a CIDR list into objs;
 * writes its name into name ("" when the list has none of that family). */
static int
l4_cidr_set(struct l4_objs *o, const char *prefix, const struct conf_l4_cidr *l, size_t n, int af,
	    char *name)
{
	char *text = NULL;
	size_t len = 0, i, k = 0;
	uint64_t h = L4_FNV0;
	FILE *f;

	name[0] = '\0';
	for (i = 0; i < n; i++)
		if (l[i].af == af) {
			h = l4_fnv(l4_fnv(h, l[i].text), ",");
			k++;
		}
	if (k == 0)
		return 0;
	l4_hname(name, L4_NFT_NAME_MAX, prefix, h);
	f = open_memstream(&text, &len);
	if (f == NULL)
		return -ENOMEM;
	fprintf(f, "add set " T " %s { type %s; flags interval; elements = { ", name,
		af == AF_INET ? "ipv4_addr" : "ipv6_addr");
	for (i = 0, k = 0; i < n; i++)
		if (l[i].af == af)
			fprintf(f, "%s%s", k++ ? ", " : "", l[i].text);
	fprintf(f, " }; }\n");
	if (fclose(f) != 0)
		return -ENOMEM;
	snprintf(o->v[o->n].name, L4_NFT_NAME_MAX, "%s", name);
	o->v[o->n++].cmd = text;
	return 0;
}

static const char *const l4_pers[] = { "", "second", "minute", "hour", "day" };
static const unsigned l4_per_s[] = { 0, 1, 60, 3600, 86400 };

/* The match of a service: daddr/dport or mark. */
static void
l4_svc_match(FILE *f, const struct conf_l4_service *s)
{
	const char *ipf = s->af == AF_INET6 ? "ip6" : "ip";
	char a[INET6_ADDRSTRLEN];

	if (s->protocol == CONF_L4_FWMARK) {
		fprintf(f, "meta nfproto %s meta mark %u", s->af == AF_INET6 ? "ipv6" : "ipv4", s->fwmark);
		return;
	}
	inet_ntop(s->af, s->addr, a, sizeof(a));
	fprintf(f, "%s daddr %s %s dport %u", ipf, a, s->protocol == CONF_L4_UDP ? "udp" : "tcp",
		s->port);
}

/* Renders a service's limit sets into o and its rules into body. */
static int
l4_svc_limits(struct l4_objs *o, FILE *body, const struct conf_l4_service *s)
{
	const struct conf_l4_limits *l = &s->limits;
	const char *ipf = s->af == AF_INET6 ? "ip6" : "ip";
	const char *type = s->af == AF_INET6 ? "ipv6_addr" : "ipv4_addr";
	char params[160], name[L4_NFT_NAME_MAX];
	int n;

	if (l->new_conns) {
		snprintf(params, sizeof(params), "r|%s|%u|%d|%u|%u", s->name, l->new_conns, l->per,
			 l->burst, l->table_size);
		l4_hname(name, sizeof(name), "r", l4_fnv(L4_FNV0, params));
		n = asprintf(&o->v[o->n].cmd, "add set " T " %s { type %s; size %u; flags dynamic,timeout; "
			     "timeout %us; }\n", name, type, l->table_size, 2 * l4_per_s[l->per]);
		if (n < 0)
			return -ENOMEM;
		snprintf(o->v[o->n++].name, L4_NFT_NAME_MAX, "%s", name);
		fprintf(body, "add rule " T " c_@ ");
		l4_svc_match(body, s);
		fprintf(body, " ct state new update @%s { %s saddr limit rate over %u/%s burst %u packets } "
			"counter drop comment \"%s new_conns\"\n", name, ipf, l->new_conns, l4_pers[l->per],
			l->burst, s->name);
	}
	if (l->concurrent) {
		snprintf(params, sizeof(params), "n|%s|%u|%u", s->name, l->concurrent, l->table_size);
		l4_hname(name, sizeof(name), "n", l4_fnv(L4_FNV0, params));
		n = asprintf(&o->v[o->n].cmd, "add set " T " %s { type %s; size %u; flags dynamic; }\n",
			     name, type, l->table_size);
		if (n < 0)
			return -ENOMEM;
		snprintf(o->v[o->n++].name, L4_NFT_NAME_MAX, "%s", name);
		fprintf(body, "add rule " T " c_@ ");
		l4_svc_match(body, s);
		fprintf(body, " ct state new add @%s { %s saddr ct count over %u } counter drop "
			"comment \"%s concurrent\"\n", name, ipf, l->concurrent, s->name);
	}
	return 0;
}

/* Object names are prefix_ + 12 hex digits; these prefixes are ours to delete. */
static int
l4_is_managed_set(const char *name)
{
	static const char *const pfx[] = { "a4_", "a6_", "d4_", "d6_", "r_", "n_", NULL };
	const char *const *p;

	for (p = pfx; *p; p++)
		if (strncmp(name, *p, strlen(*p)) == 0)
			return 1;
	return 0;
}

int
l4_nft_build(const struct conf *c, const struct l4_nft_state *st, char **text, size_t *nops)
{
	struct l4_objs *o = calloc(1, sizeof(*o));
	struct l4_obj *v = calloc(4 + 2 * c->l4.nservices, sizeof(*v));
	char *body = NULL, *out = NULL, chain[L4_NFT_NAME_MAX], a4[L4_NFT_NAME_MAX], a6[L4_NFT_NAME_MAX];
	char d4[L4_NFT_NAME_MAX], d6[L4_NFT_NAME_MAX];
	size_t blen = 0, olen = 0, i;
	FILE *fb = NULL, *fo = NULL;
	const char *p;
	int rc = -ENOMEM;

	*text = NULL;
	*nops = 0;
	if (o == NULL || v == NULL) {
		free(o);
		free(v);
		return -ENOMEM;
	}
	o->v = v;
	if (l4_cidr_set(o, "a4", c->l4.filter.allow, c->l4.filter.nallow, AF_INET, a4) < 0 ||
	    l4_cidr_set(o, "a6", c->l4.filter.allow, c->l4.filter.nallow, AF_INET6, a6) < 0 ||
	    l4_cidr_set(o, "d4", c->l4.filter.deny, c->l4.filter.ndeny, AF_INET, d4) < 0 ||
	    l4_cidr_set(o, "d6", c->l4.filter.deny, c->l4.filter.ndeny, AF_INET6, d6) < 0)
		goto out;
	fb = open_memstream(&body, &blen);
	if (fb == NULL)
		goto out;
	/* "c_@" stands for the chain's name, known once the body is hashed. */
	if (a4[0])
		fprintf(fb, "add rule " T " c_@ ip saddr @%s accept comment \"allow\"\n", a4);
	if (a6[0])
		fprintf(fb, "add rule " T " c_@ ip6 saddr @%s accept comment \"allow\"\n", a6);
	if (d4[0])
		fprintf(fb, "add rule " T " c_@ ip saddr @%s counter drop comment \"deny\"\n", d4);
	if (d6[0])
		fprintf(fb, "add rule " T " c_@ ip6 saddr @%s counter drop comment \"deny\"\n", d6);
	fprintf(fb, "add rule " T " c_@ ip saddr @ban4 counter drop comment \"ban\"\n");
	fprintf(fb, "add rule " T " c_@ ip6 saddr @ban6 counter drop comment \"ban\"\n");
	for (i = 0; i < c->l4.nservices; i++)
		if (l4_svc_limits(o, fb, &c->l4.services[i]) < 0)
			goto out;
	if (fclose(fb) != 0) {
		fb = NULL;
		goto out;
	}
	fb = NULL;
	l4_hname(chain, sizeof(chain), "c", l4_fnv(L4_FNV0, body));

	fo = open_memstream(&out, &olen);
	if (fo == NULL)
		goto out;
	if (!st->exists) {
		fprintf(fo, "add table " T "\n");
		(*nops)++;
	}
	if (!l4_has(st, "ban4")) {
		fprintf(fo, "add set " T " ban4 { type ipv4_addr; flags timeout; }\n");
		(*nops)++;
	}
	if (!l4_has(st, "ban6")) {
		fprintf(fo, "add set " T " ban6 { type ipv6_addr; flags timeout; }\n");
		(*nops)++;
	}
	for (i = 0; i < o->n; i++)
		if (!l4_has(st, o->v[i].name)) {
			fputs(o->v[i].cmd, fo);
			(*nops)++;
		}
	if (!l4_has(st, chain)) {
		fprintf(fo, "add chain " T " %s\n", chain);
		(*nops)++;
		for (p = body; *p; ) {
			const char *nl = strchr(p, '\n'), *at = strstr(p, "c_@");

			fwrite(p, 1, (size_t)(at - p), fo);
			fputs(chain, fo);
			fwrite(at + 3, 1, (size_t)(nl + 1 - (at + 3)), fo);
			p = nl + 1;
			(*nops)++;
		}
	}
	if (!st->base) {
		fprintf(fo, "add chain " T " pre { type filter hook prerouting priority -140; policy accept; }\n");
		(*nops)++;
	}
	if (st->jump_handle == 0) {
		fprintf(fo, "add rule " T " pre jump %s\n", chain);
		(*nops)++;
	} else if (strcmp(st->jump_to, chain) != 0) {
		/* The swap: one rule replaced in place, in the same transaction. */
		fprintf(fo, "replace rule " T " pre handle %" PRIu64 " jump %s\n", st->jump_handle, chain);
		(*nops)++;
	}
	for (i = 0; i < st->nnames; i++)
		if (strncmp(st->names[i], "c_", 2) == 0 && strcmp(st->names[i], chain) != 0) {
			fprintf(fo, "delete chain " T " %s\n", st->names[i]);
			(*nops)++;
		}
	for (i = 0; i < st->nnames; i++) {
		size_t k;

		if (!l4_is_managed_set(st->names[i]))
			continue;
		for (k = 0; k < o->n && strcmp(o->v[k].name, st->names[i]) != 0; k++)
			;
		if (k == o->n) {
			fprintf(fo, "delete set " T " %s\n", st->names[i]);
			(*nops)++;
		}
	}
	if (fclose(fo) != 0) {
		fo = NULL;
		goto out;
	}
	fo = NULL;
	*text = out;
	out = NULL;
	rc = 0;
out:
	if (fb != NULL)
		fclose(fb);
	if (fo != NULL)
		fclose(fo);
	free(out);
	free(body);
	for (i = 0; i < o->n; i++)
		free(o->v[i].cmd);
	free(o->v);
	free(o);
	return rc;
}

void
l4_nft_state_release(struct l4_nft_state *st)
{
	free(st->names);
	memset(st, 0, sizeof(*st));
}

int
l4_nft_state_parse(const char *text, struct l4_nft_state *st)
{
	json_t *root = json_loads(text, 0, NULL), *arr, *e;
	size_t i;
	int rc = -EINVAL;

	memset(st, 0, sizeof(*st));
	arr = json_object_get(root, "nftables");
	if (!json_is_array(arr))
		goto out;
	st->names = calloc(json_array_size(arr) + 1, sizeof(*st->names));
	if (st->names == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	json_array_foreach(arr, i, e) {
		json_t *o;
		const char *name;

		if ((o = json_object_get(e, "table")) != NULL) {
			st->exists = 1;
		} else if ((o = json_object_get(e, "chain")) != NULL ||
			   (o = json_object_get(e, "set")) != NULL) {
			name = json_string_value(json_object_get(o, "name"));
			if (name == NULL)
				continue;
			if (strcmp(name, "pre") == 0)
				st->base = 1;
			else
				snprintf(st->names[st->nnames++], L4_NFT_NAME_MAX, "%s", name);
		} else if ((o = json_object_get(e, "rule")) != NULL) {
			const char *chain = json_string_value(json_object_get(o, "chain"));
			json_t *ex = json_object_get(o, "expr");
			const char *to = json_string_value(json_object_get(json_object_get(
				json_array_get(ex, 0), "jump"), "target"));

			if (chain == NULL || strcmp(chain, "pre") != 0 || to == NULL || st->jump_handle)
				continue;
			st->jump_handle = (uint64_t)json_integer_value(json_object_get(o, "handle"));
			snprintf(st->jump_to, sizeof(st->jump_to), "%s", to);
		}
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/* ------------------------------------------------------------- the kernel */

static struct {
	pthread_mutex_t lock;		/* guards ctx (bans come from any thread) */
	struct nft_ctx *ctx;
	unsigned ban_timeout_s;
	int enabled;
	unsigned long passes, ops, errors, bans;
	double last_ms;
	size_t last_ops;
	char last_error[256];
} nft = { .lock = PTHREAD_MUTEX_INITIALIZER, .ban_timeout_s = 600 };

/* Runs cmd in one transaction; the output (JSON when json) goes to *outp
 * when not NULL (new string). 0 or -EIO with nft's message in err. Lock held. */
static int
l4_nft_run(const char *cmd, int json, char **outp, char *err, size_t errlen)
{
	const char *o, *e;
	int rc;

	if (nft.ctx == NULL) {
		nft.ctx = nft_ctx_new(NFT_CTX_DEFAULT);
		if (nft.ctx == NULL)
			return -ENOMEM;
		nft_ctx_buffer_output(nft.ctx);
		nft_ctx_buffer_error(nft.ctx);
	}
	nft_ctx_output_set_flags(nft.ctx, json ? NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE : 0);
	rc = nft_run_cmd_from_buffer(nft.ctx, cmd);
	o = nft_ctx_get_output_buffer(nft.ctx);
	e = nft_ctx_get_error_buffer(nft.ctx);
	if (rc != 0) {
		if (err != NULL) {
			const char *nl = e ? strchr(e, '\n') : NULL;

			snprintf(err, errlen, "%.*s", nl ? (int)(nl - e) : 200, e ? e : "nft failed");
		}
		return -EIO;
	}
	if (outp != NULL) {
		*outp = strdup(o ? o : "");
		if (*outp == NULL)
			return -ENOMEM;
	}
	return 0;
}

static double
l4_nft_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

json_t *
l4_nft_reconcile(const struct conf *c)
{
	struct l4_nft_state st = { 0 };
	char *listing = NULL, *script = NULL, err[256] = "";
	struct timespec t0;
	size_t nops = 0;
	int rc = 0, wanted = l4_nft_wanted(c);
	json_t *j;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_mutex_lock(&nft.lock);
	nft.ban_timeout_s = c->l4.filter.ban_timeout_s ? c->l4.filter.ban_timeout_s : 600;
	/* A missing table lists as an error: that is the empty state. */
	if (l4_nft_run("list table " T, 1, &listing, NULL, 0) == 0)
		rc = l4_nft_state_parse(listing, &st);
	if (rc == 0 && !wanted && st.exists) {
		rc = l4_nft_run("delete table " T "\n", 0, NULL, err, sizeof(err));
		nops = 1;
		if (rc == 0)
			log_notice("l4: nftables: no filter or limits configured: table " T " removed");
	} else if (rc == 0 && wanted) {
		rc = l4_nft_build(c, &st, &script, &nops);
		if (rc == 0 && nops > 0)
			rc = l4_nft_run(script, 0, NULL, err, sizeof(err));
	}
	if (rc < 0 && err[0] == '\0')
		snprintf(err, sizeof(err), "%s", strerror(-rc));
	nft.enabled = wanted;
	nft.passes++;
	nft.last_ms = l4_nft_ms(&t0);
	nft.last_ops = rc == 0 ? nops : 0;
	nft.ops += nft.last_ops;
	snprintf(nft.last_error, sizeof(nft.last_error), "%s", err);
	if (rc < 0) {
		nft.errors++;
		log_warn("l4: nftables reconcile failed: %s", err);
	} else if (nops > 0) {
		log_notice("l4: nftables: %zu command%s in one transaction (%.1f ms)", nops,
			   nops == 1 ? "" : "s", nft.last_ms);
	}
	pthread_mutex_unlock(&nft.lock);
	j = json_pack("{s:b,s:I,s:f}", "enabled", wanted, "ops", (json_int_t)(rc == 0 ? nops : 0),
		      "ms", l4_nft_ms(&t0));
	if (j != NULL && err[0] != '\0')
		json_object_set_new(j, "error", json_string(err));
	free(script);
	free(listing);
	l4_nft_state_release(&st);
	return j;
}

int
l4_nft_ban_add(const char *addr, unsigned timeout_s, char *err, size_t errlen)
{
	unsigned char a[16];
	char cmd[256], e[256] = "";
	int af, rc;

	if (inet_pton(AF_INET, addr, a) == 1)
		af = AF_INET;
	else if (inet_pton(AF_INET6, addr, a) == 1)
		af = AF_INET6;
	else
		return -EINVAL;
	pthread_mutex_lock(&nft.lock);
	if (!nft.enabled) {
		pthread_mutex_unlock(&nft.lock);
		if (err != NULL)
			snprintf(err, errlen, "nftables not configured (no l4.filter section)");
		return -ENOENT;
	}
	if (timeout_s == 0)
		timeout_s = nft.ban_timeout_s;
	/* add (no-op when present), delete, add with the new timeout: one
	 * transaction, so an existing ban never lapses while it is renewed. */
	snprintf(cmd, sizeof(cmd),
		 "add element " T " %s { %s }\ndelete element " T " %s { %s }\n"
		 "add element " T " %s { %s timeout %us }\n",
		 af == AF_INET ? "ban4" : "ban6", addr, af == AF_INET ? "ban4" : "ban6", addr,
		 af == AF_INET ? "ban4" : "ban6", addr, timeout_s);
	rc = l4_nft_run(cmd, 0, NULL, e, sizeof(e));
	if (rc == 0)
		nft.bans++;
	pthread_mutex_unlock(&nft.lock);
	if (rc < 0 && err != NULL)
		snprintf(err, errlen, "%s", e);
	if (rc == 0)
		log_notice("l4: banned %s for %u s", addr, timeout_s);
	return rc;
}

json_t *
l4_nft_status_json(void)
{
	json_t *j;

	pthread_mutex_lock(&nft.lock);
	j = json_pack("{s:b,s:s,s:I,s:I,s:I,s:I,s:I,s:f,s:s}", "enabled", nft.enabled,
		      "table", T, "passes", (json_int_t)nft.passes, "ops", (json_int_t)nft.ops,
		      "errors", (json_int_t)nft.errors, "bans", (json_int_t)nft.bans,
		      "last_ops", (json_int_t)nft.last_ops, "last_ms", nft.last_ms,
		      "last_error", nft.last_error);
	pthread_mutex_unlock(&nft.lock);
	return j;
}

void
l4_nft_shutdown(void)
{
	pthread_mutex_lock(&nft.lock);
	if (nft.ctx != NULL)
		nft_ctx_free(nft.ctx);
	nft.ctx = NULL;
	pthread_mutex_unlock(&nft.lock);
}
