/*
 * l7_tlsconf_up - builds the TLS client context of each pool with "tls"
 * (l7_tls_up) while a snapshot is built: file names from the certificate
 * directory, a refused reload with the reason when a file is bad, and the
 * load-time warning for pools that skip verification.
 */
#include "config.h"

#include <stdio.h>

#include "conf.h"
#include "errs.h"
#include "l7_tls_up.h"
#include "l7_tlsconf.h"
#include "log.h"

static struct l7_tls_up *
l7_tlsconf_up_one(const struct conf_pool *p, struct errs *errs)
{
	const struct conf_l7_uptls *t = &p->l7.tls;
	const char *dir = l7_tlsconf_dir();
	char ca[512], crt[512], key[512], err[768], path[160];
	struct l7_tls_up_opts o = { .server_name = t->server_name, .session_reuse = t->session_reuse,
				    .alpn_h2 = p->l7.upstream_h2, .nmembers = p->nmembers };
	struct l7_tls_up *u;

	snprintf(path, sizeof(path), "$.pools[%zu].tls", p->index);
	if ((t->ca != NULL && conf_tls_file(dir, t->ca, ".ca", ca, sizeof(ca)) < 0) ||
	    (t->client_cert != NULL && (conf_tls_file(dir, t->client_cert, ".crt", crt, sizeof(crt)) < 0 ||
					conf_tls_file(dir, t->client_cert, ".key", key, sizeof(key)) < 0))) {
		errs_add(errs, path, "certificate directory path too long");
		return NULL;
	}
	if (t->verify)
		o.ca_file = ca;
	else
		log_warn("pool %s: TLS to its members is NOT verified (\"verify\": \"none\"): "
			 "anyone on the path can impersonate them", p->name);
	if (t->client_cert != NULL) {
		o.cert_file = crt;
		o.key_file = key;
	}
	u = l7_tls_up_new(&o, err, sizeof(err));
	if (u == NULL)
		errs_add(errs, path, "%s", err);
	return u;
}

int
l7_tlsconf_up_build(const struct conf *c, struct l7_tls_up **out, struct errs *errs)
{
	size_t i, before = errs->count;

	for (i = 0; i < c->npools; i++) {
		out[i] = NULL;
		if (c->pools[i].l7.tls.enabled)
			out[i] = l7_tlsconf_up_one(&c->pools[i], errs);
	}
	if (errs->count == before)
		return 0;
	l7_tlsconf_up_release(out, c->npools);
	return -1;
}

void
l7_tlsconf_up_release(struct l7_tls_up **ups, size_t n)
{
	size_t i;

	for (i = 0; ups != NULL && i < n; i++)
		l7_tls_up_unref(&ups[i]);
}
