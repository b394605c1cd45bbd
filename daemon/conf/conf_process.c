/*
 * conf_process - top-level settings of the tandemd process: "metrics"
 * (where it serves its counters as Prometheus text) and "workers" (L7
 * threads, read at start only) and "tls" (process-wide TLS settings: the
 * session ticket key lifetime). The metrics address must be a loopback one
 * (the counters name every listener, route and member: they are not for
 * the network); the same check serves the --metrics option.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "conf.h"
#include "conf__priv.h"
#include "errs.h"

static void conf_metrics_parse(struct conf_ctx *x, json_t *o);
static void conf_tls_global_parse(struct conf_ctx *x, json_t *o);

int
conf_metrics_addr(const char *addrport, struct sockaddr_storage *ss, socklen_t *sl)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	const char *colon = strrchr(addrport, ':');
	char host[64];
	size_t hl;
	long port;
	char *end;

	if (colon == NULL || (size_t)(colon - addrport) >= sizeof(host) || colon[1] == '\0')
		return -EINVAL;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535)
		return -EINVAL;
	hl = (size_t)(colon - addrport);
	memcpy(host, addrport, hl);
	host[hl] = '\0';
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		if ((ntohl(s4->sin_addr.s_addr) >> 24) != 127)
			return -EPERM;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*sl = sizeof(*s4);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		if (!IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
			return -EPERM;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*sl = sizeof(*s6);
	} else {
		return -EINVAL;
	}
	return 0;
}

void
conf__process_parse(struct conf_ctx *x, json_t *root)
{
	long w;

	if (conf__get_int(x, root, "$", "workers", 1, 256, 0, 0, &w) == 0)
		x->c->workers = (unsigned)w;
	conf_metrics_parse(x, json_object_get(root, "metrics"));
	conf_tls_global_parse(x, json_object_get(root, "tls"));
}

/* "tls": {"ticket_key_lifetime": S}. 0 = rotate only on command. 1-4 s
 * would rotate every few main-loop ticks (and ship the ring to the peer as
 * often), so the floor is CONF_TICKET_LIFETIME_MIN; short values are meant
 * for tests and demos (doc/tls.md "Ticket key lifetime"). */
static void
conf_tls_global_parse(struct conf_ctx *x, json_t *o)
{
	static const char *const keys[] = { "ticket_key_lifetime", NULL };
	json_int_t n;
	json_t *v;

	if (o == NULL)
		return;
	if (!json_is_object(o)) {
		errs_add(x->errs, "$.tls", "must be an object");
		return;
	}
	conf__check_keys(x, o, "$.tls", keys);
	v = json_object_get(o, "ticket_key_lifetime");
	if (v == NULL)
		return;
	n = json_is_integer(v) ? json_integer_value(v) : -1;
	if (n < 0 || n > CONF_TICKET_LIFETIME_MAX || (n > 0 && n < CONF_TICKET_LIFETIME_MIN)) {
		errs_add(x->errs, "$.tls.ticket_key_lifetime",
			 "must be 0 (rotate only on command) or %d-%d seconds",
			 CONF_TICKET_LIFETIME_MIN, CONF_TICKET_LIFETIME_MAX);
		return;
	}
	x->c->ticket_key_lifetime_set = true;
	x->c->ticket_key_lifetime = (unsigned)n;
}

static void
conf_metrics_parse(struct conf_ctx *x, json_t *o)
{
	static const char *const keys[] = { "address", NULL };
	struct sockaddr_storage ss;
	socklen_t sl;
	const char *a;
	int rc;

	if (o == NULL)
		return;
	if (!json_is_object(o)) {
		errs_add(x->errs, "$.metrics", "must be an object");
		return;
	}
	conf__check_keys(x, o, "$.metrics", keys);
	a = conf__get_str(x, o, "$.metrics", "address", 1);
	if (a == NULL)
		return;
	rc = conf_metrics_addr(a, &ss, &sl);
	if (rc < 0)
		errs_add(x->errs, "$.metrics.address", rc == -EPERM ?
			 "must be a loopback address (127.0.0.0/8 or [::1]) with a port" :
			 "must be ADDRESS:PORT, e.g. \"127.0.0.1:9145\" or \"[::1]:9145\"");
	else
		x->c->metrics_address = arena_strdup(x->c->arena, a);
}
