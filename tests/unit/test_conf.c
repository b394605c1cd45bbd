/* Unit tests for daemon/conf: valid configs and one test per kind of error. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"
#include "errs.h"

#define GOOD \
	"{\"version\":1,\"revision\":7," \
	"\"listeners\":[{\"name\":\"web\",\"address\":\"127.0.0.1\",\"port\":8080}," \
	"               {\"name\":\"v6\",\"address\":\"::1\",\"port\":8080}]," \
	"\"pools\":[{\"name\":\"app\",\"members\":[{\"address\":\"127.0.0.1\",\"port\":9001}," \
	"                                       {\"address\":\"127.0.0.1\",\"port\":9002,\"weight\":3,\"enabled\":false}]}," \
	"          {\"name\":\"static\",\"members\":[{\"address\":\"::1\",\"port\":9003}]}]," \
	"\"routes\":[{\"name\":\"any\",\"listener\":\"web\",\"pool\":\"app\"}," \
	"           {\"name\":\"img\",\"listener\":\"web\",\"host\":\"Example.COM\",\"path_prefix\":\"/img/\",\"pool\":\"static\"}," \
	"           {\"name\":\"first\",\"listener\":\"web\",\"path_prefix\":\"/\",\"pool\":\"app\",\"priority\":1}]}"

static struct conf *
parse(const char *text, struct errs *e)
{
	errs_init(e);
	return conf_parse(text, strlen(text), e);
}

/* Asserts that text is refused with an error at path whose message contains msg. */
static void
expect_error(const char *text, const char *path, const char *msg)
{
	struct errs e;
	struct conf *c = parse(text, &e);
	size_t i;
	int found = 0;

	assert_null(c);
	assert_true(e.count > 0);
	for (i = 0; i < e.count; i++)
		if (strcmp(e.items[i].path, path) == 0 && strstr(e.items[i].message, msg) != NULL)
			found = 1;
	if (!found) {
		for (i = 0; i < e.count; i++)
			fprintf(stderr, "  got %s: %s\n", e.items[i].path, e.items[i].message);
		fail_msg("expected error at %s containing \"%s\"", path, msg);
	}
	errs_release(&e);
}

static void
test_valid_config(void **state)
{
	struct errs e;
	struct conf *c = parse(GOOD, &e);
	struct conf_listener *web;
	struct conf_pool *app;

	(void)state;
	assert_non_null(c);
	assert_int_equal(e.count, 0);
	assert_int_equal(c->revision, 7);
	assert_int_equal(c->nlisteners, 2);
	assert_int_equal(c->npools, 2);
	assert_int_equal(c->nroutes, 3);
	web = conf_listener_find(c, "web");
	assert_non_null(web);
	assert_int_equal(web->port, 8080);
	assert_int_equal(web->sa.ss_family, AF_INET);
	assert_int_equal(conf_listener_find(c, "v6")->sa.ss_family, AF_INET6);
	app = conf_pool_find(c, "app");
	assert_int_equal(app->nmembers, 2);
	assert_int_equal(app->members[0].weight, 1); /* default */
	assert_true(app->members[0].enabled);
	assert_int_equal(app->members[1].weight, 3);
	assert_false(app->members[1].enabled);
	assert_string_equal(app->members[1].id, "app/127.0.0.1:9002");
	assert_string_equal(conf_pool_find(c, "static")->members[0].id, "static/[::1]:9003");
	assert_null(conf_pool_find(c, "nope"));
	/* Match order: priority 1 first, then the longer prefix, then the rest. */
	assert_int_equal(web->nroutes, 3);
	assert_string_equal(web->routes[0]->name, "first");
	assert_string_equal(web->routes[1]->name, "img");
	assert_string_equal(web->routes[1]->host, "example.com"); /* lower-cased */
	assert_string_equal(web->routes[2]->name, "any");
	assert_string_equal(web->routes[2]->host, "");
	assert_string_equal(web->routes[2]->path_prefix, "/");
	assert_int_equal(web->routes[2]->priority, 100);
	assert_ptr_equal(web->routes[1]->pool, conf_pool_find(c, "static"));
	assert_int_equal(conf_listener_find(c, "v6")->nroutes, 0);
	conf_free(&c);
	assert_null(c);
}

static void
test_empty_config_is_valid(void **state)
{
	struct errs e;
	struct conf *c = parse("{\"version\":1}", &e);

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->nlisteners + c->npools + c->nroutes, 0);
	conf_free(&c);
	errs_release(&e);
}

static void
test_error_invalid_json(void **state)
{
	(void)state;
	expect_error("{\"version\":1,", "$", "invalid JSON");
	expect_error("[1,2]", "$", "must be a JSON object");
	expect_error("{\"version\":1,\"version\":1}", "$", "invalid JSON");
}

static void
test_error_version(void **state)
{
	(void)state;
	expect_error("{}", "$.version", "is required");
	expect_error("{\"version\":2}", "$.version", "between 1 and 1");
	expect_error("{\"version\":\"1\"}", "$.version", "must be an integer");
}

/* "workers": optional (0 = not set: one per core), 1-256. */
static void
test_workers(void **state)
{
	struct errs e;
	struct conf *c = parse("{\"version\":1,\"workers\":4}", &e);

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->workers, 4);
	conf_free(&c);
	errs_release(&e);
	c = parse("{\"version\":1}", &e);
	assert_non_null(c);
	assert_int_equal(c->workers, 0);
	conf_free(&c);
	errs_release(&e);
	expect_error("{\"version\":1,\"workers\":257}", "$.workers", "between 1 and 256");
	expect_error("{\"version\":1,\"workers\":0}", "$.workers", "between 1 and 256");
	expect_error("{\"version\":1,\"workers\":\"2\"}", "$.workers", "must be an integer");
}

/* "tls": {"ticket_key_lifetime": 0 | 5-604800}; unset = tandemd's flag. */
static void
test_tls_ticket_key_lifetime(void **state)
{
	static const long ok[] = { 0, 5, 60, 43200, 604800 };
	char text[128];
	struct errs e;
	struct conf *c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text), "{\"version\":1,\"tls\":{\"ticket_key_lifetime\":%ld}}", ok[i]);
		c = parse(text, &e);
		assert_non_null(c);
		assert_true(c->ticket_key_lifetime_set);
		assert_int_equal(c->ticket_key_lifetime, ok[i]);
		conf_free(&c);
		errs_release(&e);
	}
	c = parse("{\"version\":1,\"tls\":{}}", &e);
	assert_non_null(c);
	assert_false(c->ticket_key_lifetime_set);
	conf_free(&c);
	errs_release(&e);
	c = parse("{\"version\":1}", &e);
	assert_non_null(c);
	assert_false(c->ticket_key_lifetime_set);
	conf_free(&c);
	errs_release(&e);
	expect_error("{\"version\":1,\"tls\":{\"ticket_key_lifetime\":4}}", "$.tls.ticket_key_lifetime",
		     "must be 0 (rotate only on command) or 5-604800 seconds");
	expect_error("{\"version\":1,\"tls\":{\"ticket_key_lifetime\":604801}}",
		     "$.tls.ticket_key_lifetime", "5-604800 seconds");
	expect_error("{\"version\":1,\"tls\":{\"ticket_key_lifetime\":-1}}",
		     "$.tls.ticket_key_lifetime", "5-604800 seconds");
	expect_error("{\"version\":1,\"tls\":{\"ticket_key_lifetime\":\"60\"}}",
		     "$.tls.ticket_key_lifetime", "5-604800 seconds");
	expect_error("{\"version\":1,\"tls\":{\"ticket_key_lifetime\":1.5}}",
		     "$.tls.ticket_key_lifetime", "5-604800 seconds");
	expect_error("{\"version\":1,\"tls\":{\"ticket_lifetime\":60}}", "$.tls.ticket_lifetime",
		     "unknown field");
	expect_error("{\"version\":1,\"tls\":60}", "$.tls", "must be an object");
}

static void
test_error_unknown_field(void **state)
{
	(void)state;
	expect_error("{\"version\":1,\"listner\":[]}", "$.listner", "unknown field");
	expect_error("{\"version\":1,\"listeners\":[{\"name\":\"a\",\"address\":\"127.0.0.1\",\"port\":1,\"prot\":1}]}",
		     "$.listeners[0].prot", "unknown field");
}

static void
test_error_types(void **state)
{
	(void)state;
	expect_error("{\"version\":1,\"pools\":{}}", "$.pools", "must be an array");
	expect_error("{\"version\":1,\"pools\":[1]}", "$.pools[0]", "must be an object");
	/* A listener that is not an object, followed by one that is: the
	 * duplicate-name check must not read the first one's unset name. */
	expect_error("{\"version\":1,\"listeners\":[[],{\"name\":\"a\",\"address\":\"127.0.0.1\",\"port\":1}]}",
		     "$.listeners[0]", "must be an object");
	expect_error("{\"version\":1,\"pools\":[{\"name\":5,\"members\":[]}]}", "$.pools[0].name", "must be a string");
	expect_error("{\"version\":1,\"pools\":[{\"name\":\"p\",\"members\":[{\"address\":\"127.0.0.1\",\"port\":1,\"enabled\":1}]}]}",
		     "$.pools[0].members[0].enabled", "true or false");
}

static void
test_error_missing_fields(void **state)
{
	(void)state;
	expect_error("{\"version\":1,\"listeners\":[{\"address\":\"127.0.0.1\",\"port\":80}]}",
		     "$.listeners[0].name", "is required");
	expect_error("{\"version\":1,\"pools\":[{\"name\":\"p\"}]}", "$.pools[0].members", "is required");
	expect_error("{\"version\":1,\"routes\":[{\"name\":\"r\"}]}", "$.routes[0].listener", "is required");
}

static void
test_error_ranges(void **state)
{
	(void)state;
	expect_error("{\"version\":1,\"listeners\":[{\"name\":\"a\",\"address\":\"127.0.0.1\",\"port\":0}]}",
		     "$.listeners[0].port", "between 1 and 65535");
	expect_error("{\"version\":1,\"listeners\":[{\"name\":\"a\",\"address\":\"127.0.0.1\",\"port\":70000}]}",
		     "$.listeners[0].port", "between 1 and 65535");
	expect_error("{\"version\":1,\"pools\":[{\"name\":\"p\",\"members\":[{\"address\":\"127.0.0.1\",\"port\":1,\"weight\":257}]}]}",
		     "$.pools[0].members[0].weight", "between 0 and 256");
}

static void
test_error_bad_address(void **state)
{
	(void)state;
	expect_error("{\"version\":1,\"listeners\":[{\"name\":\"a\",\"address\":\"localhost\",\"port\":80}]}",
		     "$.listeners[0].address", "numeric IPv4 or IPv6");
	expect_error("{\"version\":1,\"pools\":[{\"name\":\"p\",\"members\":[{\"address\":\"10.0.0.300\",\"port\":1}]}]}",
		     "$.pools[0].members[0].address", "numeric IPv4 or IPv6");
}

/* A listener's "tls" object (conf_tls.c, doc/tls.md). */
#define TLS_L(t) "{\"version\":1,\"listeners\":[{\"name\":\"a\",\"address\":\"127.0.0.1\",\"port\":443,\"tls\":" t "}]}"

static void
test_tls_listener(void **state)
{
	struct errs e;
	struct conf *c;

	(void)state;
	c = parse(TLS_L("{\"certificates\":[\"rsa\",\"ec\"],\"alpn\":[\"h2\",\"http/1.1\"],"
			"\"client_auth\":{\"mode\":\"required\",\"ca\":\"partners\"},\"session_resumption\":false}"), &e);
	assert_non_null(c);
	assert_true(c->listeners[0].l7.tls.enabled);
	assert_int_equal(c->listeners[0].l7.tls.ncerts, 2);
	assert_string_equal(c->listeners[0].l7.tls.certs[0], "rsa");
	assert_true(c->listeners[0].l7.tls.alpn_h2 && c->listeners[0].l7.tls.alpn_http11);
	assert_int_equal(c->listeners[0].l7.tls.client_auth, CONF_TLS_CLIENT_REQUIRED);
	assert_string_equal(c->listeners[0].l7.tls.client_ca, "partners");
	assert_string_equal(c->listeners[0].l7.tls.client_header, "X-Client-Subject");
	assert_false(c->listeners[0].l7.tls.resumption);
	assert_false(c->listeners[0].l7.tls.record_layer_openssl);	/* default: ours */
	conf_free(&c);
	errs_release(&e);
	c = parse(TLS_L("{\"certificates\":[\"www\"],\"record_layer\":\"openssl\"}"), &e);
	assert_non_null(c);
	assert_true(c->listeners[0].l7.tls.record_layer_openssl);
	conf_free(&c);
	errs_release(&e);
	/* defaults: HTTP/1.1 only, resumption on, no client auth */
	c = parse(TLS_L("{\"certificates\":[\"www\"]}"), &e);
	assert_non_null(c);
	assert_true(c->listeners[0].l7.tls.alpn_http11 && !c->listeners[0].l7.tls.alpn_h2);
	assert_true(c->listeners[0].l7.tls.resumption);
	assert_int_equal(c->listeners[0].l7.tls.client_auth, CONF_TLS_CLIENT_OFF);
	conf_free(&c);
	errs_release(&e);
	expect_error(TLS_L("{}"), "$.listeners[0].tls.certificates", "list of 1-32");
	expect_error(TLS_L("{\"certificates\":[]}"), "$.listeners[0].tls.certificates", "list of 1-32");
	expect_error(TLS_L("{\"certificates\":[\"a b\"]}"), "$.listeners[0].tls.certificates[0]", "certificate name");
	expect_error(TLS_L("{\"certificates\":[\"a\",\"a\"]}"), "$.listeners[0].tls.certificates[1]", "twice");
	expect_error(TLS_L("{\"certificates\":[\"a\"],\"alpn\":[\"spdy/3\"]}"), "$.listeners[0].tls.alpn[0]", "\"h2\" or");
	expect_error(TLS_L("{\"certificates\":[\"a\"],\"alpn\":[\"h2\",\"h2\"]}"), "$.listeners[0].tls.alpn[1]", "at most once");
	expect_error(TLS_L("{\"certificates\":[\"a\"],\"client_auth\":{\"mode\":\"maybe\",\"ca\":\"x\"}}"),
		     "$.listeners[0].tls.client_auth.mode", "\"required\"");
	expect_error(TLS_L("{\"certificates\":[\"a\"],\"client_auth\":{\"mode\":\"optional\"}}"),
		     "$.listeners[0].tls.client_auth.ca", "is required");
	expect_error(TLS_L("{\"certificates\":[\"a\"],\"client_auth\":{\"mode\":\"optional\",\"ca\":\"x\","
			   "\"subject_header\":\"Bad Header\"}}"), "$.listeners[0].tls.client_auth.subject_header", "header name");
	expect_error(TLS_L("{\"certificates\":[\"a\"],\"ocsp\":1}"), "$.listeners[0].tls.ocsp", "unknown");
	expect_error(TLS_L("[]"), "$.listeners[0].tls", "must be an object");
	expect_error(TLS_L("{\"certificates\":[\"a\"],\"record_layer\":\"ktls\"}"),
		     "$.listeners[0].tls.record_layer", "\"tandem\" or \"openssl\"");
	expect_error("{\"version\":1,\"listeners\":[{\"name\":\"a\",\"address\":\"127.0.0.1\",\"port\":443,"
		     "\"accept_proxy\":{\"trusted\":[\"10.0.0.0/8\"]},\"tls\":{\"certificates\":[\"a\"]}}]}",
		     "$.listeners[0].tls", "cannot accept_proxy");
}

static void
test_error_bad_names(void **state)
{
	(void)state;
	expect_error("{\"version\":1,\"pools\":[{\"name\":\"has space\",\"members\":[]}]}", "$.pools[0].name", "letters");
	expect_error("{\"version\":1,\"pools\":[{\"name\":\"\",\"members\":[]}]}", "$.pools[0].name", "letters");
	expect_error("{\"version\":1,\"pools\":[{\"name\":\"-x\",\"members\":[]}]}", "$.pools[0].name", "letters");
}

static void
test_error_duplicates(void **state)
{
	(void)state;
	expect_error("{\"version\":1,\"pools\":[{\"name\":\"p\",\"members\":[]},{\"name\":\"p\",\"members\":[]}]}",
		     "$.pools[1].name", "duplicate pool name");
	expect_error("{\"version\":1,\"listeners\":[{\"name\":\"a\",\"address\":\"127.0.0.1\",\"port\":80},"
		     "{\"name\":\"b\",\"address\":\"127.0.0.1\",\"port\":80}]}",
		     "$.listeners[1].port", "already used");
	expect_error("{\"version\":1,\"listeners\":[{\"name\":\"a\",\"address\":\"127.0.0.1\",\"port\":80},"
		     "{\"name\":\"a\",\"address\":\"127.0.0.1\",\"port\":81}]}",
		     "$.listeners[1].name", "duplicate listener name");
	expect_error("{\"version\":1,\"pools\":[{\"name\":\"p\",\"members\":[{\"address\":\"127.0.0.1\",\"port\":1},"
		     "{\"address\":\"127.0.0.1\",\"port\":1}]}]}",
		     "$.pools[0].members[1]", "duplicate member");
}

static void
test_error_dangling_references(void **state)
{
	(void)state;
	expect_error("{\"version\":1,\"pools\":[{\"name\":\"p\",\"members\":[]}],"
		     "\"routes\":[{\"name\":\"r\",\"listener\":\"nope\",\"pool\":\"p\"}]}",
		     "$.routes[0].listener", "no listener named \"nope\"");
	expect_error("{\"version\":1,\"listeners\":[{\"name\":\"a\",\"address\":\"127.0.0.1\",\"port\":80}],"
		     "\"routes\":[{\"name\":\"r\",\"listener\":\"a\",\"pool\":\"gone\"}]}",
		     "$.routes[0].pool", "no pool named \"gone\"");
}

static void
test_error_route_fields(void **state)
{
	(void)state;
	expect_error("{\"version\":1,\"listeners\":[{\"name\":\"a\",\"address\":\"127.0.0.1\",\"port\":80}],"
		     "\"pools\":[{\"name\":\"p\",\"members\":[]}],"
		     "\"routes\":[{\"name\":\"r\",\"listener\":\"a\",\"pool\":\"p\",\"path_prefix\":\"api\"}]}",
		     "$.routes[0].path_prefix", "must start with '/'");
	expect_error("{\"version\":1,\"listeners\":[{\"name\":\"a\",\"address\":\"127.0.0.1\",\"port\":80}],"
		     "\"pools\":[{\"name\":\"p\",\"members\":[]}],"
		     "\"routes\":[{\"name\":\"r\",\"listener\":\"a\",\"pool\":\"p\",\"host\":\"a b\"}]}",
		     "$.routes[0].host", "host name");
	expect_error("{\"version\":1,\"listeners\":[{\"name\":\"a\",\"address\":\"127.0.0.1\",\"port\":80}],"
		     "\"pools\":[{\"name\":\"p\",\"members\":[]}],"
		     "\"routes\":[{\"name\":\"r\",\"listener\":\"a\",\"pool\":\"p\",\"host\":\"example.com:8080\"}]}",
		     "$.routes[0].host", "host name");
}

static void
test_star_host_means_any(void **state)
{
	struct errs e;
	struct conf *c;

	(void)state;
	c = parse("{\"version\":1,\"listeners\":[{\"name\":\"a\",\"address\":\"127.0.0.1\",\"port\":80}],"
		  "\"pools\":[{\"name\":\"p\",\"members\":[]}],"
		  "\"routes\":[{\"name\":\"r\",\"listener\":\"a\",\"pool\":\"p\",\"host\":\"*\"}]}", &e);
	assert_non_null(c);
	assert_string_equal(c->routes[0].host, "");
	conf_free(&c);
	errs_release(&e);
}

static void
test_every_error_is_reported(void **state)
{
	struct errs e;
	struct conf *c;

	(void)state;
	c = parse("{\"version\":1,\"listeners\":[{\"name\":\"a\",\"address\":\"x\",\"port\":0}],"
		  "\"pools\":[{\"name\":\"p p\",\"members\":[]}]}", &e);
	assert_null(c);
	assert_int_equal(e.count, 3); /* address, port, pool name: not just the first */
	errs_release(&e);
}

static void
test_load_file_missing(void **state)
{
	struct errs e;

	(void)state;
	errs_init(&e);
	assert_null(conf_load_file("/nonexistent/tandem.json", &e));
	assert_int_equal(e.count, 1);
	assert_non_null(strstr(e.items[0].message, "cannot open"));
	errs_release(&e);
}

#define L4(svcs) "{\"version\":1,\"l4\":{\"services\":[" svcs "]}}"
#define SVC(extra) "{\"name\":\"s\",\"protocol\":\"tcp\",\"address\":\"10.0.0.1\",\"port\":80" extra "}"

static void
test_l4_section(void **state)
{
	struct errs e;
	struct conf *c;

	(void)state;
	c = parse(L4(SVC(",\"scheduler\":\"mh\",\"flags\":[\"mh-fallback\",\"mh-port\"],"
			 "\"reals\":[{\"address\":\"10.0.1.1\",\"port\":80,\"weight\":65535}]")), &e);
	assert_non_null(c);
	assert_int_equal(c->l4.nservices, 1);
	assert_int_equal(c->l4.reconcile_interval_s, 10);
	assert_int_equal(c->l4.services[0].flags, CONF_L4_F_SCHED1 | CONF_L4_F_SCHED2);
	assert_int_equal(c->l4.services[0].reals[0].weight, 65535);
	assert_string_equal(c->l4.services[0].reals[0].id, "s/10.0.1.1:80");
	assert_non_null(conf_l4_service_find(c, "s"));
	conf_free(&c);
	errs_release(&e);

	expect_error(L4(SVC(",\"scheduler\":\"fifo\"")), "$.l4.services[0].scheduler", "unknown scheduler");
	expect_error(L4(SVC(",\"flags\":[\"sh-port\"]")), "$.l4.services[0].flags[0]", "unknown flag");
	expect_error(L4(SVC("") "," SVC("")), "$.l4.services[1].name", "duplicate service name");
	expect_error(L4(SVC("") ",{\"name\":\"t\",\"protocol\":\"tcp\",\"address\":\"10.0.0.1\",\"port\":80}"),
		     "$.l4.services[1]", "duplicate virtual service");
	expect_error(L4(SVC(",\"reals\":[{\"address\":\"10.0.1.1\",\"port\":80},{\"address\":\"10.0.1.1\",\"port\":80}]")),
		     "$.l4.services[0].reals[1]", "duplicate real server");
	expect_error(L4(SVC(",\"reals\":[{\"address\":\"::1\",\"port\":80}]")),
		     "$.l4.services[0].reals[0].address", "address family");
	expect_error(L4(SVC(",\"reals\":[{\"address\":\"10.0.1.1\",\"port\":80,\"forward\":\"nat\",\"tunnel_type\":\"gre\"}]")),
		     "$.l4.services[0].reals[0].tunnel_type", "only for");
	expect_error(L4(SVC(",\"reals\":[{\"address\":\"10.0.1.1\",\"port\":80,\"weight\":65536}]")),
		     "$.l4.services[0].reals[0].weight", "between");
	expect_error(L4("{\"name\":\"f\",\"protocol\":\"fwmark\",\"address\":\"10.0.0.1\"}"),
		     "$.l4.services[0].fwmark", "is required");
	expect_error(L4("{\"name\":\"f\",\"protocol\":\"fwmark\",\"fwmark\":1,\"address\":\"10.0.0.1\"}"),
		     "$.l4.services[0].address", "no address");
	expect_error(L4(SVC(",\"persistence_netmask\":33")), "$.l4.services[0].persistence_netmask", "between");
	expect_error("{\"version\":1,\"l4\":{\"servics\":[]}}", "$.l4.servics", "unknown field");
}


/* A pool's "tls" (conf_tls_up.c): verification is the default and needs a
 * CA bundle; "verify": "none" must be explicit; h2c and PROXY do not mix. */
#define POOL_TLS(t) "{\"version\":1,\"pools\":[{\"name\":\"p\",\"members\":[{\"address\":" \
	"\"127.0.0.1\",\"port\":1}]" t "}]}"
static void
test_pool_tls(void **state)
{
	struct errs e;
	struct conf *c;
	const struct conf_l7_uptls *t;

	(void)state;
	c = parse(POOL_TLS(",\"tls\":{\"ca\":\"int-ca\",\"server_name\":\"app.internal\","
			   "\"client_certificate\":\"lb\",\"session_reuse\":false}"), &e);
	assert_non_null(c);
	t = &c->pools[0].l7.tls;
	assert_true(t->enabled && t->verify && !t->session_reuse);
	assert_string_equal(t->ca, "int-ca");
	assert_string_equal(t->server_name, "app.internal");
	assert_string_equal(t->client_cert, "lb");
	conf_free(&c);
	errs_release(&e);
	c = parse(POOL_TLS(",\"tls\":{\"verify\":\"none\"}"), &e);
	assert_non_null(c);
	assert_true(c->pools[0].l7.tls.enabled && !c->pools[0].l7.tls.verify && c->pools[0].l7.tls.session_reuse);
	assert_null(c->pools[0].l7.tls.server_name);
	conf_free(&c);
	errs_release(&e);
	c = parse(POOL_TLS(""), &e);
	assert_non_null(c);
	assert_false(c->pools[0].l7.tls.enabled);
	conf_free(&c);
	errs_release(&e);
	expect_error(POOL_TLS(",\"tls\":{}"), "$.pools[0].tls.ca", "\"verify\": \"none\"");
	expect_error(POOL_TLS(",\"tls\":{\"ca\":\"x\",\"verify\":\"chain\"}"), "$.pools[0].tls.verify",
		     "\"full\"");
	expect_error(POOL_TLS(",\"tls\":{\"ca\":\"x\",\"server_name\":\"a b\"}"),
		     "$.pools[0].tls.server_name", "DNS name");
	expect_error(POOL_TLS(",\"tls\":{\"ca\":\"x\",\"sni\":\"a\"}"), "$.pools[0].tls.sni", "");
	expect_error(POOL_TLS(",\"tls\":{\"ca\":\"x\"},\"upstream_protocol\":\"h2c\""), "$.pools[0].tls",
		     "h2c");
	expect_error(POOL_TLS(",\"tls\":{\"ca\":\"x\"},\"proxy_protocol\":\"v2\""), "$.pools[0].tls",
		     "proxy_protocol");
	expect_error(POOL_TLS(",\"tls\":true"), "$.pools[0].tls", "must be an object");
	expect_error(POOL_TLS(",\"tls\":{\"ca\":\"x\"},\"health_check\":{\"type\":\"grpc\"}"),
		     "$.pools[0].tls", "grpc");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_l4_section),
		cmocka_unit_test(test_tls_listener),
		cmocka_unit_test(test_valid_config),
		cmocka_unit_test(test_empty_config_is_valid),
		cmocka_unit_test(test_error_invalid_json),
		cmocka_unit_test(test_error_version),
		cmocka_unit_test(test_workers),
		cmocka_unit_test(test_tls_ticket_key_lifetime),
		cmocka_unit_test(test_error_unknown_field),
		cmocka_unit_test(test_error_types),
		cmocka_unit_test(test_error_missing_fields),
		cmocka_unit_test(test_error_ranges),
		cmocka_unit_test(test_error_bad_address),
		cmocka_unit_test(test_error_bad_names),
		cmocka_unit_test(test_error_duplicates),
		cmocka_unit_test(test_error_dangling_references),
		cmocka_unit_test(test_error_route_fields),
		cmocka_unit_test(test_star_host_means_any),
		cmocka_unit_test(test_every_error_is_reported),
		cmocka_unit_test(test_load_file_missing),
		cmocka_unit_test(test_pool_tls),
	};

	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
