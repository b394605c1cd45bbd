/* Unit tests for the peer link's state sync (daemon/peer/peer_sync.c and
 * the batch records of peer_frame.c): the record codec, then two real
 * links on loopback (TLS 1.3 with a pair-init CA) in one process, each with
 * its own limiter store and ticket key ring: counters, bans and keys reach
 * the other node; a node that starts fresh gets a full snapshot. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "errs.h"
#include "l7_tls.h"
#include "lim_ban.h"
#include "lim_counter.h"
#include "lim_rule.h"
#include "peer.h"
#include "peer_sync.h"

static void
test_records(void **state)
{
	static const unsigned char bin[] = { 0, 1, 2, 0xfe, 0xff };
	uint8_t v4[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 7 };
	struct peer_rec r;
	const char *err = NULL;
	size_t n;
	json_t *j;

	(void)state;
	for (n = 0; n <= sizeof(bin); n++) {	/* every padding case */
		j = peer_rec_lim("rule-1", bin, n);
		assert_int_equal(peer_rec_decode(j, &r, &err), 0);
		assert_int_equal(r.kind, PEER_REC_LIM);
		assert_string_equal(r.rule, "rule-1");
		assert_int_equal(r.len, n);
		assert_memory_equal(r.data, bin, n);
		peer_rec_clear(&r);
		json_decref(j);
	}
	j = peer_rec_ban(v4, 1234);
	assert_string_equal(json_string_value(json_object_get(j, "ip")), "198.51.100.7");
	assert_int_equal(peer_rec_decode(j, &r, &err), 0);
	assert_memory_equal(r.addr, v4, 16);
	assert_int_equal(r.until_ms, 1234);
	json_decref(j);
	j = peer_rec_ticket_keys(bin, sizeof(bin));
	assert_int_equal(peer_rec_decode(j, &r, &err), 0);
	assert_int_equal(r.kind, PEER_REC_TICKET_KEYS);
	peer_rec_clear(&r);
	json_decref(j);

	/* refused: each with its reason */
	{
		static const char *const bad[] = {
			"{\"k\":\"nope\"}", "{}", "{\"k\":\"health\"}",
			"{\"k\":\"lim\",\"data\":\"AAAA\"}", "{\"k\":\"lim\",\"rule\":\"\",\"data\":\"AAAA\"}",
			"{\"k\":\"lim\",\"rule\":\"r\",\"data\":\"AAA\"}",
			"{\"k\":\"lim\",\"rule\":\"r\",\"data\":\"A=AA\"}",
			"{\"k\":\"lim\",\"rule\":\"r\",\"data\":\"AA*A\"}",
			"{\"k\":\"ticket_keys\"}", "{\"k\":\"ban\",\"ip\":\"1.2.3.4\"}",
			"{\"k\":\"ban\",\"ip\":\"1.2.3.4\",\"until\":0}",
			"{\"k\":\"ban\",\"ip\":\"1.2.3\",\"until\":5}",
			"{\"k\":\"ban\",\"ip\":5,\"until\":5}",
		};
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			j = json_loads(bad[i], 0, NULL);
			assert_non_null(j);
			err = NULL;
			if (peer_rec_decode(j, &r, &err) != -EBADMSG)
				fail_msg("accepted %s", bad[i]);
			assert_non_null(err);
			peer_rec_clear(&r);
			json_decref(j);
		}
	}
}

/* One node: its store, key ring, hooks and link. */
struct node {
	struct lim_rules *rules;
	struct lim_store *store;
	struct l7_tls_keys *keys;
	struct peer_sync *sync;
	struct peer *peer;
	char dir[300], listen[64], connect[64];
};

/* A day's window (windows start at multiples of the period on the wall
 * clock): test_pair compares exact current-window counts, which a window
 * boundary during the test resets to 0 on both nodes (a 60 s window made
 * that happen about once in 40 runs; see window_room). */
#define RULE_PERIOD_MS 86400000ULL
static const char *const rules_json =
	"{\"rules\": [{\"name\": \"api\", \"limit\": {\"requests\": 100, \"period_s\": 86400}}]}";

static void
node_start(struct node *n, uint32_t slot, uint64_t key_time)
{
	static const uint64_t seed[2] = { 0x1234, 0x5678 };
	struct peer_opts o = { 0 };
	struct errs e;

	errs_init(&e);
	n->rules = lim_rules_parse_text(rules_json, strlen(rules_json), &e);
	assert_non_null(n->rules);
	errs_release(&e);
	n->store = lim_store_new(slot, seed, 1000);
	assert_non_null(n->store);
	assert_int_equal(lim_rules_bind(n->rules, n->store), 0);
	n->keys = l7_tls_keys_new(key_time, 3600);
	assert_non_null(n->keys);
	n->sync = peer_sync_new(n->store, NULL, n->keys);
	assert_non_null(n->sync);
	o.listen = n->listen;
	o.connect = n->connect;
	o.dir = n->dir;
	o.sync = peer_sync_ops(n->sync);
	o.gate_ms = 600000;	/* only a full batch opens the gate here */
	assert_int_equal(peer_start(&o, &n->peer), 0);
}

static void
node_stop(struct node *n)
{
	peer_stop(&n->peer);
	peer_sync_free(&n->sync);
	lim_rules_free(&n->rules);
	lim_store_free(&n->store);
	l7_tls_keys_free(&n->keys);
}

/* Polls cond for up to 10 s (generous: a loaded CI box). */
#define WAIT_FOR(cond)                                                       \
	do {                                                                     \
		int w_;                                                          \
		for (w_ = 0; w_ < 1000 && !(cond); w_++)                          \
			usleep(10000);                                               \
		if (!(cond))                                                     \
			fail_msg("timed out waiting for %s", #cond);                 \
	} while (0)

/* Waits for the next window when the current one has less than need_ms
 * left (only near midnight UTC): every count check below then happens in
 * the window of the hits. need_ms covers every WAIT_FOR timeout of the test. */
static void
window_room(uint64_t need_ms)
{
	uint64_t w = peer_wall_ms() / RULE_PERIOD_MS;

	if (RULE_PERIOD_MS - peer_wall_ms() % RULE_PERIOD_MS >= need_ms)
		return;
	while (peer_wall_ms() / RULE_PERIOD_MS == w)
		usleep(100000);
}

static int
same_current_key(struct node *a, struct node *b)
{
	struct l7_tls_ticket_key ka[L7_TLS_KEYS_MAX], kb[L7_TLS_KEYS_MAX];

	return l7_tls_keys_get(a->keys, ka, L7_TLS_KEYS_MAX) > 0 &&
	       l7_tls_keys_get(b->keys, kb, L7_TLS_KEYS_MAX) > 0 &&
	       memcmp(ka[0].name, kb[0].name, sizeof(ka[0].name)) == 0 &&
	       memcmp(ka[0].aes, kb[0].aes, sizeof(ka[0].aes)) == 0;
}

static void
test_pair(void **state)
{
	char tmp[] = "/tmp/tandem-sync-XXXXXX", msg[256], cmd[300];
	struct node a = { 0 }, b = { 0 };
	uint8_t banned[4] = { 203, 0, 113, 9 };
	/* below ip_local_port_range (32768-60999): an outgoing connection of
	 * another process cannot hold it */
	int port = 20000 + (int)(getpid() % 12000), i;
	struct l7_tls_ticket_key before[L7_TLS_KEYS_MAX], after[L7_TLS_KEYS_MAX];
	struct lim_result r;
	uint64_t fp, now;

	(void)state;
	assert_non_null(mkdtemp(tmp));
	snprintf(cmd, sizeof(cmd), "%s/pki", tmp);
	assert_int_equal(peer_pki_pair_init(cmd, "lb-a", "lb-b", msg, sizeof(msg)), 0);
	snprintf(a.dir, sizeof(a.dir), "%s/pki/lb-a", tmp);
	snprintf(b.dir, sizeof(b.dir), "%s/pki/lb-b", tmp);
	snprintf(a.listen, sizeof(a.listen), "127.0.0.1:%d", port);
	snprintf(b.listen, sizeof(b.listen), "127.0.0.1:%d", port + 1);
	snprintf(a.connect, sizeof(a.connect), "%s", b.listen);
	snprintf(b.connect, sizeof(b.connect), "%s", a.listen);

	node_start(&a, 0, 1000);
	node_start(&b, 1, 2000);	/* B's ring is newer: A takes it */
	WAIT_FOR(peer_synced(a.peer) && peer_synced(b.peer));
	WAIT_FOR(same_current_key(&a, &b));

	/* 90 of 100 on A: B sees them, and admits only the other 10. */
	window_room(120000);
	fp = lim_table_key(lim_store_table(a.store, "api"), "client-1", 8);
	now = peer_wall_ms();
	for (i = 0; i < 90; i++) {
		lim_table_hit(lim_store_table(a.store, "api"), fp, 100, 0, now, &r);
		assert_true(r.allow);
	}
	WAIT_FOR(lim_table_count(lim_store_table(b.store, "api"), fp, peer_wall_ms()) == 90);
	for (i = 0; i < 10; i++) {
		lim_table_hit(lim_store_table(b.store, "api"), fp, 100, 0, peer_wall_ms(), &r);
		assert_true(r.allow);
	}
	lim_table_hit(lim_store_table(b.store, "api"), fp, 100, 0, peer_wall_ms(), &r);
	assert_false(r.allow);
	/* ... and B's 10 reach A (both ways). */
	WAIT_FOR(lim_table_count(lim_store_table(a.store, "api"), fp, peer_wall_ms()) == 100);

	/* A ban on A reaches B with its expiry. */
	now = peer_wall_ms();
	lim_ban_add(lim_store_bans(a.store), AF_INET, banned, now + 600000);
	WAIT_FOR(lim_ban_check(lim_store_bans(b.store), AF_INET, banned, peer_wall_ms()) == now + 600000);

	/* A rotates its ticket key later: B takes A's ring. */
	assert_int_equal(l7_tls_keys_rotate(a.keys, 5000), 0);
	WAIT_FOR(same_current_key(&a, &b));

	/* B restarts with nothing: it gets A's whole state in a full batch
	 * (counts of both slots, the ban, the keys) and only then is synced.
	 * Its own brand-new key is newer than A's, yet A's ring wins: clients
	 * hold tickets of A's ring, none of B's new key. */
	node_stop(&b);
	l7_tls_keys_get(a.keys, before, L7_TLS_KEYS_MAX);
	node_start(&b, 1, 9000);
	WAIT_FOR(peer_synced(b.peer));
	WAIT_FOR(lim_table_count(lim_store_table(b.store, "api"), fp, peer_wall_ms()) == 100);
	assert_int_equal(lim_ban_check(lim_store_bans(b.store), AF_INET, banned, peer_wall_ms()), now + 600000);
	WAIT_FOR(same_current_key(&a, &b));
	usleep(200000);	/* a few more sync rounds: nothing flips back */
	assert_true(same_current_key(&a, &b));
	l7_tls_keys_get(a.keys, after, L7_TLS_KEYS_MAX);
	assert_memory_equal(before[0].name, after[0].name, sizeof(before[0].name));
	{
		json_t *st = peer_status_json(a.peer);

		assert_true(json_integer_value(json_object_get(json_object_get(st, "sync"),
							      "records_applied")) > 0);
		assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "sync"),
								   "records_refused")), 0);
		assert_true(json_is_integer(json_object_get(json_object_get(st, "sync"), "lag_p99_ms")));
		json_decref(st);
	}
	node_stop(&a);
	node_stop(&b);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	assert_int_equal(system(cmd), 0);
}

/* The state file: save, load into a fresh store, refuse every corruption. */
static void
test_snap(void **state)
{
	static const uint64_t seed[2] = { 0x1234, 0x5678 };
	char dir[] = "/tmp/tandem-snap-XXXXXX", path[300], cmd[400];
	uint8_t banned[4] = { 203, 0, 113, 9 };
	struct lim_rules *r1, *r2;
	struct lim_store *s1, *s2;
	struct peer_sync *p1, *p2;
	struct lim_result res;
	struct errs e;
	struct stat st;
	size_t n, i;
	uint64_t fp, now = peer_wall_ms();
	FILE *f;
	char *text;
	long len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/limiter.state", dir);
	errs_init(&e);
	r1 = lim_rules_parse_text(rules_json, strlen(rules_json), &e);
	r2 = lim_rules_parse_text(rules_json, strlen(rules_json), &e);
	errs_release(&e);
	s1 = lim_store_new(0, seed, 1000);
	s2 = lim_store_new(0, seed, 1000);
	assert_int_equal(lim_rules_bind(r1, s1), 0);
	assert_int_equal(lim_rules_bind(r2, s2), 0);
	p1 = peer_sync_new(s1, NULL, NULL);
	p2 = peer_sync_new(s2, NULL, NULL);
	fp = lim_table_key(lim_store_table(s1, "api"), "k", 1);
	for (i = 0; i < 42; i++)
		lim_table_hit(lim_store_table(s1, "api"), fp, 100, 0, now, &res);
	lim_ban_add(lim_store_bans(s1), AF_INET, banned, now + 600000);

	assert_int_equal(peer_snap_load(p2, path, &n), -ENOENT);
	assert_int_equal(peer_snap_save(p1, path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(cmd, sizeof(cmd), "%s.tmp", path);
	assert_int_not_equal(access(cmd, F_OK), 0);	/* renamed into place */

	/* every single-byte corruption, truncation or version change refuses
	 * the whole file: nothing is applied */
	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = malloc((size_t)len + 1);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	for (i = 0; i < (size_t)len; i += (size_t)len / 97 + 1) {
		char saved = text[i];

		text[i] = text[i] == '1' ? '2' : '1';
		f = fopen(path, "w");
		fwrite(text, 1, (size_t)len, f);
		fclose(f);
		text[i] = saved;
		if (peer_snap_load(p2, path, &n) == 0 && n > 0)
			fail_msg("byte %zu flipped: still loaded %zu records", i, n);
	}
	f = fopen(path, "w");
	fwrite(text, 1, (size_t)len / 2, f);
	fclose(f);
	assert_int_equal(peer_snap_load(p2, path, &n), -EINVAL);
	assert_int_equal(lim_table_count(lim_store_table(s2, "api"), fp, now), 0);
	assert_int_equal(lim_ban_check(lim_store_bans(s2), AF_INET, banned, now), 0);

	/* intact: every count and the ban come back */
	f = fopen(path, "w");
	fwrite(text, 1, (size_t)len, f);
	fclose(f);
	assert_int_equal(peer_snap_load(p2, path, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(lim_table_count(lim_store_table(s2, "api"), fp, now), 42);
	assert_int_equal(lim_ban_check(lim_store_bans(s2), AF_INET, banned, now), now + 600000);
	free(text);

	peer_sync_free(&p1);
	peer_sync_free(&p2);
	lim_rules_free(&r1);
	lim_rules_free(&r2);
	lim_store_free(&s1);
	lim_store_free(&s2);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_pair),
		cmocka_unit_test(test_snap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
