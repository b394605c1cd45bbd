/*
 * conf_tls_up - a pool's "tls" object: TLS towards its members (doc/tls.md,
 * "TLS towards pool members"). Names only, like the listener's: the CA
 * bundle and the client certificate are files tandem-admin writes under
 * tandemd's certificate directory, loaded when the snapshot is built.
 *
 * Verification is the default; turning it off takes an explicit
 * "verify": "none" (tandemd logs a warning for it at every load).
 */
#include "config.h"

#include <string.h>

#include <jansson.h>

#include "arena.h"
#include "conf.h"
#include "conf__priv.h"
#include "errs.h"
#include "jfield.h"

#define PATH_LEN CONF__PATH_LEN

/* A DNS name (RFC 1123 labels, at most 253 bytes) or an IP literal: what
 * SNI and the certificate check accept. */
static int
conf_uptls_name_valid(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (n == 0 || n > 253)
		return 0;
	if (strchr(s, ':') != NULL)	/* IPv6 literal */
		return strspn(s, "0123456789abcdefABCDEF:.") == n;
	for (; *s != '\0'; s++) {
		if (*s == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			   (*s >= '0' && *s <= '9') || *s == '-' || *s == '_') {
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return 1;
}

/* Reads name key of t into *out when it is a store name; "" = none. */
static void
conf_uptls_ref(struct conf_ctx *x, json_t *t, const char *path, const char *key,
	       const char *what, const char **out)
{
	const char *s = conf__get_str(x, t, path, key, 0);
	char p[PATH_LEN];

	if (s == NULL || s[0] == '\0')
		return;
	jf_pathf(p, "%s.%s", path, key);
	if (!conf_name_valid(s))
		errs_add(x->errs, p, "must be the name of a %s", what);
	else
		*out = arena_strdup(x->c->arena, s);
}

void
conf__l7_uptls(struct conf_ctx *x, json_t *o, const char *path, struct conf_l7_uptls *tls)
{
	static const char *const keys[] = { "verify", "ca", "server_name", "client_certificate",
					    "session_reuse", NULL };
	json_t *t = json_object_get(o, "tls");
	const char *s, *s2;
	char p[PATH_LEN], q[PATH_LEN];

	memset(tls, 0, sizeof(*tls));
	jf_pathf(p, "%s.tls", path);
	if (t == NULL || json_is_null(t))
		return;
	if (!json_is_object(t)) {
		errs_add(x->errs, p, "must be an object (or null for plain TCP to the members)");
		return;
	}
	conf__check_keys(x, t, p, keys);
	tls->enabled = true;
	tls->verify = true;
	tls->session_reuse = true;
	s = conf__get_str(x, t, p, "verify", 0);
	if (s != NULL) {
		jf_pathf(q, "%s.verify", p);
		if (strcmp(s, "none") == 0)
			tls->verify = false;
		else if (strcmp(s, "full") != 0)
			errs_add(x->errs, q, "must be \"full\" (chain and name) or \"none\"");
	}
	conf_uptls_ref(x, t, p, "ca", "CA bundle", &tls->ca);
	conf_uptls_ref(x, t, p, "client_certificate", "certificate", &tls->client_cert);
	if (tls->verify && tls->ca == NULL) {
		jf_pathf(q, "%s.ca", p);
		errs_add(x->errs, q, "name the CA bundle that signs the members' certificates "
			 "(or set \"verify\": \"none\" to skip verification)");
	}
	s = conf__get_str(x, t, p, "server_name", 0);
	if (s != NULL && s[0] != '\0') {
		jf_pathf(q, "%s.server_name", p);
		if (!conf_uptls_name_valid(s))
			errs_add(x->errs, q, "must be a DNS name (or an IP address)");
		else
			tls->server_name = arena_strdup(x->c->arena, s);
	}
	conf__get_bool(x, t, p, "session_reuse", 1, &tls->session_reuse);
	/* both would have to come before the TLS handshake on the wire, and
	 * the proxy writes them into the request stream */
	s = json_string_value(json_object_get(o, "proxy_protocol"));
	if (s != NULL && strcmp(s, "off") != 0)
		errs_add(x->errs, p, "TLS to members cannot be combined with proxy_protocol yet");
	s = json_string_value(json_object_get(o, "upstream_protocol"));
	if (s != NULL && strcmp(s, "h2c") == 0)
		errs_add(x->errs, p, "h2c is cleartext HTTP/2: use \"upstream_protocol\": \"h2\" for "
			 "HTTP/2 over TLS to the members");
	s2 = json_string_value(json_object_get(json_object_get(o, "health_check"), "type"));
	if (s2 != NULL && strcmp(s2, "grpc") == 0 && (s == NULL || strcmp(s, "h2") != 0))
		errs_add(x->errs, p, "the grpc health check over TLS speaks h2: set "
			 "\"upstream_protocol\": \"h2\" (or use an http or tcp check)");
}
