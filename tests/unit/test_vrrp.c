/* Unit tests for vrrp/: the notify-FIFO line parser, the keepalived.conf
 * renderer, and the role table fed with FIFO lines (no keepalived runs). */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "errs.h"
#include "loop.h"
#include "vrrp.h"
#include "testconf.h"

static int
parse(const char *line, struct vrrp_fifo_msg *m)
{
	const char *err;

	return vrrp_fifo_parse(line, strlen(line), m, &err);
}

static void
test_fifo_states(void **state)
{
	static const struct { const char *w; enum vrrp_role r; } st[] = {
		{ "MASTER", VRRP_ROLE_MASTER }, { "BACKUP", VRRP_ROLE_BACKUP },
		{ "FAULT", VRRP_ROLE_FAULT }, { "STOP", VRRP_ROLE_STOP },
		{ "DELETED", VRRP_ROLE_DELETED },
	};
	struct vrrp_fifo_msg m;
	char line[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
		snprintf(line, sizeof(line), "INSTANCE \"VI_1\" %s 150", st[i].w);
		assert_int_equal(parse(line, &m), 0);
		assert_false(m.group);
		assert_string_equal(m.name, "VI_1");
		assert_int_equal(m.kind, VRRP_FIFO_STATE);
		assert_int_equal(m.role, st[i].r);
		assert_int_equal(m.priority, 150);
		assert_string_equal(vrrp_role_name(st[i].r), st[i].w);
	}
	assert_int_equal(parse("GROUP \"SG\" BACKUP", &m), 0);	/* no priority */
	assert_true(m.group);
	assert_int_equal(m.priority, -1);
	assert_int_equal(parse("INSTANCE \"web\" MASTER 0\r", &m), 0);	/* CR, prio 0 */
	assert_int_equal(m.priority, 0);
}

static void
test_fifo_events(void **state)
{
	struct vrrp_fifo_msg m;

	(void)state;
	assert_int_equal(parse("INSTANCE \"web\" MASTER_RX_LOWER_PRI 150", &m), 0);
	assert_int_equal(m.kind, VRRP_FIFO_MASTER_RX_LOWER_PRI);
	assert_int_equal(m.role, VRRP_ROLE_UNKNOWN);	/* an event, not a state */
	assert_int_equal(parse("INSTANCE \"web\" MASTER_PRIORITY 90", &m), 0);
	assert_int_equal(m.kind, VRRP_FIFO_MASTER_PRIORITY);
	assert_int_equal(m.priority, 90);
	assert_int_equal(parse("INSTANCE \"web\" BACKUP_PRIORITY 80", &m), 0);
	assert_int_equal(m.kind, VRRP_FIFO_BACKUP_PRIORITY);
	assert_int_equal(parse("VS [192.0.2.1]:tcp:80 UP", &m), -ENOTSUP);
	assert_int_equal(parse("RS [1.2.3.4]:tcp:80 [192.0.2.1]:tcp:80 DOWN", &m), -ENOTSUP);
}

static void
test_fifo_refused(void **state)
{
	static const char *const bad[] = {
		"", "INSTANCE", "INSTANCE ", "INSTANCE VI_1 MASTER 100", "INSTANCE \"VI_1 MASTER 100",
		"INSTANCE \"\" MASTER 100", "INSTANCE \"a b\" MASTER 100", "INSTANCE \"x\"MASTER 100",
		"INSTANCE \"x\" master 100", "INSTANCE \"x\" MASTERX 100", "INSTANCE \"x\" MASTER 256",
		"INSTANCE \"x\" MASTER 1000", "INSTANCE \"x\" MASTER -1", "INSTANCE \"x\" MASTER 10 0",
		"INSTANCE \"x\" MASTER  100", "instance \"x\" MASTER 100", "GROUPS \"x\" MASTER 1",
		"INSTANCE \"x\" ", "INSTANCE \"x\" MASTER x",
	};
	struct vrrp_fifo_msg m;
	const char *err;
	char longname[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &m) != -EINVAL)
			fail_msg("accepted: '%s'", bad[i]);
	}
	assert_int_equal(vrrp_fifo_parse("INSTANCE \"a\0b\" MASTER 1", 23, &m, &err), -EINVAL);
	assert_non_null(err);
	snprintf(longname, sizeof(longname), "INSTANCE \"%0200d\" MASTER 1", 0);
	assert_int_equal(parse(longname, &m), -EINVAL);
}

#define VRRP_CONF \
	"{\"version\":1," \
	"\"listeners\":[{\"name\":\"web\",\"address\":\"192.0.2.10\",\"port\":80}," \
	"               {\"name\":\"adm\",\"address\":\"192.0.2.11\",\"port\":81}]," \
	"\"vrrp\":{\"local\":{\"router_id\":\"lb-a\",\"interface\":\"eth0\",\"address\":\"192.0.2.11\",\"priority\":150," \
	"                   \"groups\":[{\"name\":\"v6\",\"interface\":\"eth1\",\"priority\":20}]}," \
	"        \"groups\":[{\"name\":\"web\",\"virtual_router_id\":51,\"advert_interval_ms\":10," \
	"                     \"unicast_peers\":[\"192.0.2.11\",\"192.0.2.12\"],\"vips\":[\"192.0.2.10/24\",\"192.0.2.20\"]}," \
	"                    {\"name\":\"v6\",\"virtual_router_id\":52,\"mode\":\"multicast\",\"preempt\":false," \
	"                     \"vips\":[\"2001:db8::10/64\"]}]}}"

static struct conf *
load(const char *text)
{
	return testconf_load(text);
}

static void
test_render(void **state)
{
	struct conf *c = load(VRRP_CONF);
	char *text, *again;

	(void)state;
	assert_non_null(c);
	assert_true(conf_listener_find(c, "web")->freebind);	/* on a VIP */
	assert_false(conf_listener_find(c, "adm")->freebind);
	text = vrrp_conf_render(c->vrrp, "/run/t/notify.fifo");
	assert_non_null(text);
	assert_non_null(strstr(text, "router_id lb-a\n"));
	assert_non_null(strstr(text, "vrrp_version 3\n"));
	assert_non_null(strstr(text, "vrrp_notify_fifo /run/t/notify.fifo\n"));
	/* the VRRP process's scheduling under load (doc/ha.md) */
	assert_non_null(strstr(text, "    vrrp_priority -20\n    vrrp_no_swap\n"));
	assert_null(strstr(text, "rt_priority"));
	assert_non_null(strstr(text, "vrrp_instance web {\n    state BACKUP\n    interface eth0\n"
				     "    virtual_router_id 51\n    priority 150\n    advert_int 0.01\n"
				     "    unicast_src_ip 192.0.2.11\n    unicast_peer {\n        192.0.2.12\n    }\n"
				     "    virtual_ipaddress {\n        192.0.2.10/24 dev eth0\n"
				     "        192.0.2.20/32 dev eth0\n    }\n}\n"));
	assert_non_null(strstr(text, "vrrp_instance v6 {\n    state BACKUP\n    interface eth1\n"
				     "    virtual_router_id 52\n    priority 20\n    advert_int 1.00\n"
				     "    nopreempt\n    virtual_ipaddress {\n        2001:db8::10/64 dev eth1\n"));
	assert_null(strstr(text, "virtual_server"));
	assert_null(strstr(text, "unicast_peer {\n        192.0.2.11"));	/* own address left out */
	again = vrrp_conf_render(c->vrrp, "/run/t/notify.fifo");
	assert_string_equal(text, again);	/* deterministic */
	free(again);
	free(text);
	conf_free(&c);
}

/* Asserts that a config with the given vrrp section is refused at path. */
static void
expect_vrrp_error(const char *vrrp, const char *path, const char *msg)
{
	char text[4096];
	struct errs e;
	struct conf *c;
	size_t i;
	int found = 0;

	snprintf(text, sizeof(text), "{\"version\":1,\"vrrp\":%s}", vrrp);
	errs_init(&e);
	c = conf_parse(text, strlen(text), &e);
	assert_null(c);
	for (i = 0; i < e.count && i < e.cap; i++)
		if (strcmp(e.items[i].path, path) == 0 && strstr(e.items[i].message, msg) != NULL)
			found = 1;
	if (!found) {
		for (i = 0; i < e.count && i < e.cap; i++)
			fprintf(stderr, "  got %s: %s\n", e.items[i].path, e.items[i].message);
		fail_msg("expected error at %s containing \"%s\"", path, msg);
	}
	errs_release(&e);
}

#define L "\"local\":{\"interface\":\"eth0\",\"address\":\"192.0.2.11\"}"
#define G(extra) "{\"name\":\"g\",\"virtual_router_id\":1,\"unicast_peers\":[\"192.0.2.12\"]," \
		 "\"vips\":[\"192.0.2.10\"]" extra "}"

static void
test_conf_errors(void **state)
{
	(void)state;
	expect_vrrp_error("[]", "$.vrrp", "must be an object");
	expect_vrrp_error("{" L "}", "$.vrrp.groups", "is required");
	expect_vrrp_error("{" L ",\"groups\":[" G(",\"x\":1") "]}", "$.vrrp.groups[0].x", "unknown field");
	expect_vrrp_error("{" L ",\"groups\":[" G(",\"advert_interval_ms\":15") "]}",
			  "$.vrrp.groups[0].advert_interval_ms", "multiple of 10");
	expect_vrrp_error("{" L ",\"groups\":[" G(",\"advert_interval_ms\":5") "]}",
			  "$.vrrp.groups[0].advert_interval_ms", "between 10 and 40950");
	expect_vrrp_error("{" L ",\"groups\":[{\"name\":\"g\",\"virtual_router_id\":0,\"unicast_peers\":[\"192.0.2.12\"],"
			  "\"vips\":[\"192.0.2.10\"]}]}", "$.vrrp.groups[0].virtual_router_id", "between 1 and 255");
	expect_vrrp_error("{" L ",\"groups\":[" G(",\"mode\":\"broadcast\"") "]}", "$.vrrp.groups[0].mode", "unicast");
	expect_vrrp_error("{\"local\":{\"interface\":\"eth0\"},\"groups\":[" G("") "]}", "$.vrrp.groups[0]",
			  "this node's address");
	expect_vrrp_error("{\"local\":{\"address\":\"192.0.2.11\"},\"groups\":[" G("") "]}", "$.vrrp.groups[0]",
			  "no interface");
	expect_vrrp_error("{\"local\":{\"interface\":\"eth 0\"},\"groups\":[]}", "$.vrrp.local.interface",
			  "interface name");
	expect_vrrp_error("{\"local\":{\"interface\":\"eth0\",\"address\":\"192.0.2.11\",\"priority\":255},\"groups\":[]}",
			  "$.vrrp.local.priority", "between 1 and 254");
	expect_vrrp_error("{\"local\":{\"router_id\":\"a b\"},\"groups\":[]}", "$.vrrp.local.router_id", "letters");
	expect_vrrp_error("{" L ",\"groups\":[{\"name\":\"g\",\"virtual_router_id\":1,\"unicast_peers\":[\"192.0.2.11\"],"
			  "\"vips\":[\"192.0.2.10\"]}]}", "$.vrrp.groups[0].unicast_peers", "no address other than");
	expect_vrrp_error("{" L ",\"groups\":[{\"name\":\"g\",\"virtual_router_id\":1,\"unicast_peers\":[\"2001:db8::1\"],"
			  "\"vips\":[\"192.0.2.10\"]}]}", "$.vrrp.groups[0].unicast_peers[0]", "same address family");
	expect_vrrp_error("{" L ",\"groups\":[{\"name\":\"g\",\"virtual_router_id\":1,\"mode\":\"multicast\","
			  "\"unicast_peers\":[\"192.0.2.12\"],\"vips\":[\"192.0.2.10\"]}]}",
			  "$.vrrp.groups[0].unicast_peers", "absent in multicast");
	expect_vrrp_error("{" L ",\"groups\":[{\"name\":\"g\",\"virtual_router_id\":1,\"unicast_peers\":[\"192.0.2.12\"],"
			  "\"vips\":[\"192.0.2.10\",\"2001:db8::1\"]}]}", "$.vrrp.groups[0].vips[1]", "one address family");
	expect_vrrp_error("{" L ",\"groups\":[{\"name\":\"g\",\"virtual_router_id\":1,\"unicast_peers\":[\"192.0.2.12\"],"
			  "\"vips\":[\"192.0.2.10/33\"]}]}", "$.vrrp.groups[0].vips[0]", "numeric address");
	expect_vrrp_error("{" L ",\"groups\":[{\"name\":\"g\",\"virtual_router_id\":1,\"unicast_peers\":[\"192.0.2.12\"],"
			  "\"vips\":[]}]}", "$.vrrp.groups[0].vips", "non-empty");
	expect_vrrp_error("{" L ",\"groups\":[" G("") "," G("") "]}", "$.vrrp.groups[1].name", "duplicate vrrp group");
	expect_vrrp_error("{" L ",\"groups\":[" G("") "," G("") "]}", "$.vrrp.groups[1].virtual_router_id",
			  "already used on eth0");
	expect_vrrp_error("{" L ",\"groups\":[" G("") "," G("") "]}", "$.vrrp.groups[1].vips", "also in group");
	expect_vrrp_error("{\"local\":{\"interface\":\"eth0\",\"address\":\"192.0.2.11\",\"groups\":[{\"name\":\"zz\"}]},"
			  "\"groups\":[" G("") "]}", "$.vrrp.local.groups[0].name", "no vrrp group named");
}

/* The role table: FIFO lines drive the roles, events do not; hooks see
 * every change once. Uses a real loop but never starts keepalived. */
static int hook_calls;
static enum vrrp_role hook_last;

static void
hook(const char *group, enum vrrp_role old_role, enum vrrp_role new_role, void *data)
{
	(void)old_role;
	(void)data;
	assert_string_equal(group, "web");
	hook_calls++;
	hook_last = new_role;
}

static void
test_roles(void **state)
{
	char dir[] = "/tmp/tandem-vrrp-test.XXXXXX";
	struct vrrp_opts o = { .keepalived = "/bin/true" };	/* "accepts" any config */
	struct loop *l = loop_new();
	struct conf *c = load(VRRP_CONF);
	struct vrrp *v = NULL;
	struct errs e;
	json_t *st, *g;
	char path[128];

	(void)state;
	assert_non_null(l);
	assert_non_null(c);
	assert_non_null(mkdtemp(dir));
	o.run_dir = dir;
	assert_int_equal(vrrp_new(l, &o, &v), 0);
	assert_int_equal(vrrp_role_hook_add(v, hook, NULL), 0);
	/* no groups configured yet: lines about unknown instances are ignored */
	vrrp_fifo_line(v, "INSTANCE \"web\" MASTER 150", 25);
	assert_int_equal(hook_calls, 0);
	assert_int_equal(vrrp_group_role(v, "web"), VRRP_ROLE_UNKNOWN);

	errs_init(&e);
	assert_int_equal(vrrp_prepare(v, c, &e), 0);
	errs_release(&e);
	vrrp_commit(v);		/* writes keepalived.conf, starts "keepalived" (true) */
	snprintf(path, sizeof(path), "%s/keepalived.conf", dir);
	assert_int_equal(access(path, R_OK), 0);

	vrrp_fifo_line(v, "INSTANCE \"web\" BACKUP 150", 25);
	assert_int_equal(hook_calls, 1);
	assert_int_equal(hook_last, VRRP_ROLE_BACKUP);
	vrrp_fifo_line(v, "INSTANCE \"web\" BACKUP 150", 25);	/* no change, no hook */
	assert_int_equal(hook_calls, 1);
	vrrp_fifo_line(v, "INSTANCE \"web\" MASTER 150", 25);
	assert_int_equal(hook_calls, 2);
	assert_int_equal(vrrp_group_role(v, "web"), VRRP_ROLE_MASTER);
	vrrp_fifo_line(v, "INSTANCE \"web\" MASTER_RX_LOWER_PRI 150", 38);	/* event */
	assert_int_equal(hook_calls, 2);
	assert_int_equal(vrrp_group_role(v, "web"), VRRP_ROLE_MASTER);
	vrrp_fifo_line(v, "garbage", 7);
	assert_int_equal(vrrp_group_role(v, "web"), VRRP_ROLE_MASTER);

	st = vrrp_status_json(v);
	assert_true(json_is_true(json_object_get(st, "enabled")));
	assert_string_equal(json_string_value(json_object_get(st, "role")), "MIXED");	/* v6 unknown */
	g = json_array_get(json_object_get(st, "groups"), 0);
	assert_string_equal(json_string_value(json_object_get(g, "name")), "web");
	assert_string_equal(json_string_value(json_object_get(g, "role")), "MASTER");
	assert_int_equal(json_integer_value(json_object_get(g, "master_rx_lower_pri")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "keepalived"),
							    "bad_notify_lines")), 1);
	json_decref(st);

	vrrp_free(&v);		/* stops the child: every known group STOP */
	assert_null(v);
	assert_int_equal(hook_last, VRRP_ROLE_STOP);
	conf_free(&c);
	loop_free(&l);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

static void
test_bad_run_dir(void **state)
{
	struct vrrp_opts o = { .run_dir = "/tmp/a b", .keepalived = "keepalived" };
	struct vrrp *v = NULL;

	(void)state;
	assert_int_equal(vrrp_new(NULL, &o, &v), -EINVAL);
	o.run_dir = "relative";
	assert_int_equal(vrrp_new(NULL, &o, &v), -EINVAL);
	assert_null(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_states),
		cmocka_unit_test(test_fifo_events),
		cmocka_unit_test(test_fifo_refused),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_conf_errors),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_bad_run_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
