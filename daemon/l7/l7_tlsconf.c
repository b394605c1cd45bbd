/*
 * l7_tlsconf - configuration side of TLS termination (see l7_tlsconf.h).
 * No OpenSSL here: l7_tls does the loading and reports why a file is bad.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "errs.h"
#include "l7_tls.h"
#include "l7_tlsconf.h"
#include "log.h"

static char tlsconf_dir[400] = L7_TLSCONF_DEFAULT_DIR;
static struct l7_tls_keys *tlsconf_keys;
static const char *tlsconf_lifetime_from = "command line";	/* or "config" */

int
l7_tlsconf_init(const char *dir, unsigned lifetime, uint64_t now)
{
	if (dir != NULL && snprintf(tlsconf_dir, sizeof(tlsconf_dir), "%s", dir) >=
	    (int)sizeof(tlsconf_dir))
		return -ENAMETOOLONG;
	tlsconf_keys = l7_tls_keys_new(now, lifetime);
	return tlsconf_keys != NULL ? 0 : -ENOMEM;
}

void
l7_tlsconf_shutdown(void)
{
	l7_tls_keys_free(&tlsconf_keys);
}

const char *
l7_tlsconf_dir(void)
{
	return tlsconf_dir;
}

struct l7_tls_keys *
l7_tlsconf_keys(void)
{
	return tlsconf_keys;
}

void
l7_tlsconf_tick(uint64_t now)
{
	int rc;

	if (tlsconf_keys == NULL)
		return;
	rc = l7_tls_keys_tick(tlsconf_keys, now);
	if (rc > 0)
		log_info("tls: ticket key rotated (schedule)");
	else if (rc < 0)
		log_warn("tls: ticket key rotation failed: %s", strerror(-rc));
}

void
l7_tlsconf_lifetime(const struct conf *c, unsigned dflt)
{
	unsigned want = c->ticket_key_lifetime_set ? c->ticket_key_lifetime : dflt, had;
	const char *from = c->ticket_key_lifetime_set ? "config" : "command line";
	uint64_t created;

	if (tlsconf_keys == NULL)
		return;
	l7_tls_keys_meta(tlsconf_keys, &created, &had);
	if (had != want || strcmp(from, tlsconf_lifetime_from) != 0)
		log_notice("tls: ticket key lifetime %u s (from the %s)%s", want, from,
			   want == 0 ? ": rotation only on command" : "");
	l7_tls_keys_set_lifetime(tlsconf_keys, want);
	tlsconf_lifetime_from = from;
}

json_t *
l7_tlsconf_keys_json(void)
{
	uint64_t created;
	unsigned lifetime;
	size_t n;

	if (tlsconf_keys == NULL)
		return json_null();
	n = l7_tls_keys_meta(tlsconf_keys, &created, &lifetime);
	return json_pack("{s:i,s:I,s:i,s:s,s:o}", "keys", (int)n, "current_created",
			 (json_int_t)created, "lifetime_s", (int)lifetime, "lifetime_from",
			 tlsconf_lifetime_from, "next_rotation",
			 lifetime > 0 ? json_integer((json_int_t)(created + lifetime)) : json_null());
}

json_t *
l7_tlsconf_rotate_json(uint64_t now)
{
	json_t *r;

	if (tlsconf_keys == NULL)
		return json_pack("{s:b,s:[{s:s,s:s}]}", "ok", 0, "errors", "path", "$", "message",
				 "no ticket key store");
	if (l7_tls_keys_rotate(tlsconf_keys, now) < 0)
		return json_pack("{s:b,s:[{s:s,s:s}]}", "ok", 0, "errors", "path", "$", "message",
				 "cannot make a new ticket key");
	log_notice("tls: ticket key rotated (control command)");
	r = l7_tlsconf_keys_json();
	if (r != NULL)
		json_object_set_new(r, "ok", json_true());
	return r;
}

/* One listener: resolves the certificate names to files and loads them. */
static struct l7_tls_ctx *
l7_tlsconf_one(const struct conf_listener *l, struct errs *errs)
{
	const struct conf_l7_tls *t = &l->l7.tls;
	struct l7_tls_cert_spec specs[CONF_TLS_MAX_CERTS];
	char files[CONF_TLS_MAX_CERTS][3][512], cafile[512], err[768], path[160];
	struct l7_tls_opts o = { .alpn_h2 = t->alpn_h2, .alpn_http11 = t->alpn_http11,
				 .no_resumption = !t->resumption,
				 .record_layer_openssl = t->record_layer_openssl };
	struct l7_tls_ctx *ctx;
	size_t i;

	snprintf(path, sizeof(path), "$.listeners[%zu].tls", l->index);
	for (i = 0; i < t->ncerts && i < CONF_TLS_MAX_CERTS; i++) {
		if (conf_tls_file(tlsconf_dir, t->certs[i], ".crt", files[i][0], sizeof(files[i][0])) < 0 ||
		    conf_tls_file(tlsconf_dir, t->certs[i], ".key", files[i][1], sizeof(files[i][1])) < 0 ||
		    conf_tls_file(tlsconf_dir, t->certs[i], ".ocsp", files[i][2], sizeof(files[i][2])) < 0) {
			errs_add(errs, path, "certificate directory path too long");
			return NULL;
		}
		specs[i].name = t->certs[i];
		specs[i].cert_file = files[i][0];
		specs[i].key_file = files[i][1];
		/* an OCSP response is optional: stapled when tandem-admin wrote one */
		specs[i].ocsp_file = access(files[i][2], F_OK) == 0 ? files[i][2] : NULL;
	}
	if (t->client_auth != CONF_TLS_CLIENT_OFF) {
		if (conf_tls_file(tlsconf_dir, t->client_ca, ".ca", cafile, sizeof(cafile)) < 0) {
			errs_add(errs, path, "certificate directory path too long");
			return NULL;
		}
		o.client_ca_file = cafile;
		o.client_required = t->client_auth == CONF_TLS_CLIENT_REQUIRED;
	}
	ctx = l7_tls_ctx_new(specs, t->ncerts, tlsconf_keys, &o, err, sizeof(err));
	if (ctx == NULL)
		errs_add(errs, path, "%s", err);
	return ctx;
}

int
l7_tlsconf_build(const struct conf *c, struct l7_tls_ctx **out, struct errs *errs)
{
	size_t i, before = errs->count;

	for (i = 0; i < c->nlisteners; i++) {
		out[i] = NULL;
		if (!c->listeners[i].l7.tls.enabled)
			continue;
		if (tlsconf_keys == NULL) {
			errs_add(errs, "$", "TLS is not initialised");
			break;
		}
		out[i] = l7_tlsconf_one(&c->listeners[i], errs);
	}
	if (errs->count == before)
		return 0;
	l7_tlsconf_release(out, c->nlisteners);
	return -1;
}

void
l7_tlsconf_release(struct l7_tls_ctx **ctxs, size_t n)
{
	size_t i;

	for (i = 0; ctxs != NULL && i < n; i++)
		l7_tls_ctx_unref(&ctxs[i]);
}
