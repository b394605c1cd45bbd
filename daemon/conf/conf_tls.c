/*
 * conf_tls - a listener's "tls" object (doc/tls.md, doc/config.md):
 * certificates by name from the certificate store (the first is the
 * default), the ALPN list, and optional client certificate authentication.
 * Names only: tandemd finds the files tandem-admin wrote under its
 * certificate directory (conf_tls_cert_path) and loads them while building
 * the snapshot, so a missing or bad file refuses the reload there.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "arena.h"
#include "conf.h"
#include "conf__priv.h"
#include "errs.h"
#include "jfield.h"

#define PATH_LEN CONF__PATH_LEN

static void
conf_tls_certs(struct conf_ctx *x, json_t *t, const char *path, struct conf_l7_tls *tls)
{
	json_t *a = json_object_get(t, "certificates"), *v;
	char p[PATH_LEN];
	size_t i, j;

	jf_pathf(p, "%s.certificates", path);
	if (a == NULL || !json_is_array(a) || json_array_size(a) == 0 ||
	    json_array_size(a) > CONF_TLS_MAX_CERTS) {
		errs_add(x->errs, p, "must be a list of 1-%d certificate names (the first is the default)",
			 CONF_TLS_MAX_CERTS);
		return;
	}
	tls->certs = arena_alloc(x->c->arena, json_array_size(a) * sizeof(*tls->certs));
	if (tls->certs == NULL) {
		conf__oom(x);
		return;
	}
	json_array_foreach(a, i, v) {
		const char *n = json_string_value(v);

		jf_pathf(p, "%s.certificates[%zu]", path, i);
		if (n == NULL || !conf_name_valid(n)) {
			errs_add(x->errs, p, "must be a certificate name");
			continue;
		}
		for (j = 0; j < tls->ncerts; j++)
			if (strcmp(tls->certs[j], n) == 0)
				break;
		if (j < tls->ncerts) {
			errs_add(x->errs, p, "\"%s\" is listed twice", n);
			continue;
		}
		tls->certs[tls->ncerts++] = arena_strdup(x->c->arena, n);
	}
}

static void
conf_tls_alpn(struct conf_ctx *x, json_t *t, const char *path, struct conf_l7_tls *tls)
{
	json_t *a = json_object_get(t, "alpn"), *v;
	char p[PATH_LEN];
	size_t i;

	jf_pathf(p, "%s.alpn", path);
	if (a == NULL) {
		tls->alpn_http11 = true;	/* HTTP/2 is opted into */
		return;
	}
	if (!json_is_array(a) || json_array_size(a) > 2) {
		errs_add(x->errs, p, "must be a list of \"h2\" and/or \"http/1.1\"");
		return;
	}
	json_array_foreach(a, i, v) {
		const char *s = json_string_value(v);

		jf_pathf(p, "%s.alpn[%zu]", path, i);
		if (s != NULL && strcmp(s, "h2") == 0 && !tls->alpn_h2)
			tls->alpn_h2 = true;
		else if (s != NULL && strcmp(s, "http/1.1") == 0 && !tls->alpn_http11)
			tls->alpn_http11 = true;
		else
			errs_add(x->errs, p, "must be \"h2\" or \"http/1.1\", each at most once");
	}
}

static void
conf_tls_client(struct conf_ctx *x, json_t *t, const char *path, struct conf_l7_tls *tls)
{
	static const char *const keys[] = { "mode", "ca", "subject_header", NULL };
	json_t *o = json_object_get(t, "client_auth");
	const char *mode, *ca, *hdr;
	char p[PATH_LEN];

	jf_pathf(p, "%s.client_auth", path);
	if (o == NULL)
		return;
	if (!json_is_object(o)) {
		errs_add(x->errs, p, "must be an object");
		return;
	}
	conf__check_keys(x, o, p, keys);
	mode = conf__get_str(x, o, p, "mode", 1);
	ca = conf__get_str(x, o, p, "ca", 1);
	hdr = conf__get_str(x, o, p, "subject_header", 0);
	if (mode != NULL) {
		char q[PATH_LEN];

		jf_pathf(q, "%s.mode", p);
		if (strcmp(mode, "required") == 0)
			tls->client_auth = CONF_TLS_CLIENT_REQUIRED;
		else if (strcmp(mode, "optional") == 0)
			tls->client_auth = CONF_TLS_CLIENT_OPTIONAL;
		else if (strcmp(mode, "off") != 0)
			errs_add(x->errs, q, "must be \"required\", \"optional\" or \"off\"");
	}
	if (ca != NULL) {
		char q[PATH_LEN];

		jf_pathf(q, "%s.ca", p);
		if (!conf_name_valid(ca))
			errs_add(x->errs, q, "must be the name of a CA bundle");
		else
			tls->client_ca = arena_strdup(x->c->arena, ca);
	}
	tls->client_header = "X-Client-Subject";
	if (hdr != NULL) {
		char q[PATH_LEN];

		jf_pathf(q, "%s.subject_header", p);
		if (hdr[0] == '\0')
			tls->client_header = NULL;
		else if (!conf__token_valid(hdr))
			errs_add(x->errs, q, "must be a header name (or \"\" for none)");
		else
			tls->client_header = arena_strdup(x->c->arena, hdr);
	}
}

void
conf__l7_tls(struct conf_ctx *x, json_t *o, const char *path, struct conf_l7_tls *tls)
{
	static const char *const keys[] = { "certificates", "alpn", "client_auth", "session_resumption",
					    "record_layer", NULL };
	const char *rl;
	json_t *t = json_object_get(o, "tls");
	char p[PATH_LEN];

	memset(tls, 0, sizeof(*tls));
	jf_pathf(p, "%s.tls", path);
	if (t == NULL || json_is_null(t))
		return;
	if (!json_is_object(t)) {
		errs_add(x->errs, p, "must be an object");
		return;
	}
	conf__check_keys(x, t, p, keys);
	tls->enabled = true;
	conf_tls_certs(x, t, p, tls);
	conf_tls_alpn(x, t, p, tls);
	conf_tls_client(x, t, p, tls);
	conf__get_bool(x, t, p, "session_resumption", 1, &tls->resumption);
	/* who protects records after the handshake: tandemd (default) or
	 * OpenSSL (doc/tls.md "Record layer") */
	rl = conf__get_str(x, t, p, "record_layer", 0);
	if (rl != NULL && strcmp(rl, "openssl") == 0)
		tls->record_layer_openssl = true;
	else if (rl != NULL && strcmp(rl, "tandem") != 0) {
		char rp[PATH_LEN];

		jf_pathf(rp, "%s.record_layer", p);
		errs_add(x->errs, rp, "must be \"tandem\" or \"openssl\"");
	}
	/* the PROXY header comes before the ClientHello on the wire; the
	 * proxy reads it from decrypted data today, so refuse the pair */
	if (json_object_get(o, "accept_proxy") != NULL && !json_is_null(json_object_get(o, "accept_proxy")))
		errs_add(x->errs, p, "a TLS listener cannot accept_proxy yet (the PROXY header would have "
			 "to be read before the TLS handshake)");
}

int
conf_tls_file(const char *dir, const char *name, const char *ext, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s%s", dir, name, ext);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}
