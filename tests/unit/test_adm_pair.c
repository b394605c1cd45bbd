/* Unit tests for admin-ui/adm_pairmsg.c (what one console reads from the
 * other), the shared-part hash of config sync (adm_sync.c) and the
 * certificate stores a push carries (adm_syncstore.c). */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "adm_pairmsg.h"
#include "adm_sync.h"
#include "adm_syncstore.h"
#include "db.h"
#include "tmpdb.h"

/* A push's stores: one certificate (with OCSP) and one CA bundle. PEM text
 * is not parsed on this path (tandemd checks it at load). */
static const char STORES[] =
	"{\"certificates\":{\"www\":{\"cert_pem\":\"CERT\\n\",\"key_pem\":\"KEY\\n\","
	"\"subject\":\"CN=www\",\"issuer\":\"CN=ca\",\"sans\":[\"DNS:www\"],\"key_type\":\"ECDSA\","
	"\"key_bits\":256,\"not_before\":1,\"not_after\":2,\"fingerprint\":\"ab\",\"chain_length\":1,"
	"\"created_at\":3,\"ocsp\":{\"der_base64\":\"AQID\",\"this_update\":4,\"next_update\":5,"
	"\"uploaded_at\":6}}},"
	"\"ca_bundles\":{\"cas\":{\"pem\":\"CA\\n\",\"subjects\":[\"CN=ca\"],\"count\":1,"
	"\"not_after\":7,\"fingerprint\":\"cd\",\"created_at\":8}}}";

static void
test_response(void **state)
{
	const char *ok = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-length: 2\r\n\r\n{}xx";
	const char *body;
	size_t blen;
	long st;

	(void)state;
	assert_int_equal(adm_pairmsg_response(ok, strlen(ok), &st, &body, &blen), 0);
	assert_int_equal(st, 200);
	assert_int_equal(blen, 2);
	assert_memory_equal(body, "{}", 2);
	/* no Content-Length: the body runs to the end (the server closed) */
	assert_int_equal(adm_pairmsg_response("HTTP/1.0 409 C\r\n\r\nabc", 21, &st, &body, &blen), 0);
	assert_int_equal(st, 409);
	assert_int_equal(blen, 3);
	/* refused: short body, chunked, two lengths, garbage, no end of head */
	assert_int_equal(adm_pairmsg_response("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{}", 40, &st, &body, &blen), -EPROTO);
	assert_int_equal(adm_pairmsg_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 47, &st, &body, &blen), -EPROTO);
	assert_int_equal(adm_pairmsg_response("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n{}", 59, &st, &body, &blen), -EPROTO);
	assert_int_equal(adm_pairmsg_response("SSH-2.0 hello\r\n\r\n", 17, &st, &body, &blen), -EPROTO);
	assert_int_equal(adm_pairmsg_response("HTTP/1.1 200 OK\r\n", 17, &st, &body, &blen), -EPROTO);
	assert_int_equal(adm_pairmsg_response("HTTP/1.1 2x0 OK\r\n\r\n", 19, &st, &body, &blen), -EPROTO);
}

static void
test_fingerprint_and_names(void **state)
{
	char fp[65], in[200];
	int i;

	(void)state;
	in[0] = '\0';
	for (i = 0; i < 32; i++)	/* "00:07:0E:..." as openssl prints it */
		snprintf(in + strlen(in), sizeof(in) - strlen(in), "%s%02X", i ? ":" : "", i * 7);
	assert_int_equal(adm_pairmsg_fingerprint(in, fp), 0);
	assert_int_equal(strlen(fp), 64);
	assert_string_equal(fp + 0, "00070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9");
	assert_int_equal(adm_pairmsg_fingerprint("abcd", fp), -EINVAL);
	assert_int_equal(adm_pairmsg_fingerprint(NULL, fp), -EINVAL);
	assert_true(adm_pairmsg_node_ok("lb-a"));
	assert_false(adm_pairmsg_node_ok("-lb"));
	assert_false(adm_pairmsg_node_ok("lb a"));
	assert_false(adm_pairmsg_node_ok(""));
}

static void
test_push_check(void **state)
{
	char err[256];
	json_t *m = json_loads("{\"node\":\"lb-a\",\"priority\":150,\"base\":3,\"revision\":{\"number\":4,"
			       "\"author\":\"admin\",\"created_at\":1,\"comment\":\"\",\"config\":{}}}", 0, NULL);

	(void)state;
	assert_non_null(m);
	assert_int_equal(adm_pairmsg_push(m, err, sizeof(err)), 0);
	json_object_set_new(json_object_get(m, "revision"), "number", json_integer(3));
	assert_int_equal(adm_pairmsg_push(m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not after base"));
	json_object_set_new(json_object_get(m, "revision"), "number", json_integer(4));
	json_object_set_new(m, "priority", json_integer(300));
	assert_int_equal(adm_pairmsg_push(m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "priority"));
	json_decref(m);
}

static void
test_stores_check(void **state)
{
	char err[256];
	json_t *s = json_loads(STORES, 0, NULL), *c;

	(void)state;
	assert_non_null(s);
	assert_int_equal(adm_pairmsg_stores(s, err, sizeof(err)), 0);
	c = json_object_get(json_object_get(s, "certificates"), "www");
	json_object_set_new(c, "key_type", json_string("DSA"));
	assert_int_equal(adm_pairmsg_stores(s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "key_type"));
	json_object_set_new(c, "key_type", json_string("RSA"));
	json_object_del(c, "key_pem");
	assert_int_equal(adm_pairmsg_stores(s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "key_pem"));
	json_object_set_new(c, "key_pem", json_string("K"));
	json_object_set_new(json_object_get(c, "ocsp"), "der_base64", json_integer(1));
	assert_int_equal(adm_pairmsg_stores(s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "der_base64"));
	json_object_del(c, "ocsp");
	assert_int_equal(adm_pairmsg_stores(s, err, sizeof(err)), 0);
	json_object_set_new(json_object_get(s, "certificates"), "-bad", json_deep_copy(c));
	assert_int_equal(adm_pairmsg_stores(s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a name"));
	json_object_del(json_object_get(s, "certificates"), "-bad");
	json_object_set_new(json_object_get(json_object_get(s, "ca_bundles"), "cas"), "count", json_integer(0));
	assert_int_equal(adm_pairmsg_stores(s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "count"));
	json_decref(s);
}

/* Stored on the receiver, collected back for a config that names them:
 * the same entries (keys and OCSP included); again replaces them. */
static void
test_stores_roundtrip(void **state)
{
	struct tmpdb t;
	struct db *db = NULL;
	json_t *s = json_loads(STORES, 0, NULL), *cfg, *got;

	(void)state;
	cfg = json_loads("{\"listeners\":[{\"name\":\"t\",\"tls\":{\"certificates\":[\"www\"],"
			 "\"client_auth\":{\"mode\":\"optional\",\"ca\":\"cas\"}}},"
			 "{\"name\":\"u\",\"tls\":{\"certificates\":[\"www\",\"absent\"]}}]}", 0, NULL);
	assert_non_null(s);
	assert_non_null(cfg);
	tmpdb_open(&t, "syncstore", &db);
	assert_int_equal(adm_syncstore_save(db, s), 0);
	assert_int_equal(adm_syncstore_save(db, s), 0);	/* replaces by name */
	got = adm_syncstore_collect(db, cfg);
	assert_non_null(got);
	assert_true(json_equal(got, s));
	adm_syncstore_free(got);
	got = adm_syncstore_collect(db, json_object_get(cfg, "pools"));	/* names nothing */
	assert_non_null(got);
	assert_int_equal(json_object_size(json_object_get(got, "certificates")), 0);
	adm_syncstore_free(got);
	json_decref(cfg);
	json_decref(s);
	tmpdb_remove(&t, &db);
}

static void
test_shared_hash(void **state)
{
	/* the per-node parts (vrrp.local, l4.sync) do not change the hash */
	const char *a = "{\"revision\":2,\"pools\":[],\"vrrp\":{\"groups\":[1],\"local\":{\"priority\":150}},"
			"\"l4\":{\"sync\":{\"role\":\"master\"}}}";
	const char *b = "{\"revision\":2,\"pools\":[],\"vrrp\":{\"groups\":[1],\"local\":{\"priority\":100}}}";
	const char *c = "{\"revision\":2,\"pools\":[1],\"vrrp\":{\"groups\":[1]}}";
	char ha[65], hb[65], hc[65];

	(void)state;
	assert_int_equal(adm_sync_hash(a, ha), 0);
	assert_int_equal(adm_sync_hash(b, hb), 0);
	assert_int_equal(adm_sync_hash(c, hc), 0);
	assert_string_equal(ha, hb);
	assert_string_not_equal(ha, hc);
	assert_int_equal(adm_sync_hash(NULL, ha), 0);
	assert_string_equal(ha, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_fingerprint_and_names),
		cmocka_unit_test(test_push_check),
		cmocka_unit_test(test_stores_check),
		cmocka_unit_test(test_stores_roundtrip),
		cmocka_unit_test(test_shared_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
