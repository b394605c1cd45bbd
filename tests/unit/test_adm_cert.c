/* Unit tests for admin-ui/adm_cert: the upload checks (key match, chain
 * order, malformed PEM, key types) and the expiry annotations, on keys and
 * certificates made in-process. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "adm_cert.h"
#include "tls_testcerts.h"

#define DAY 86400L

struct pki {
	EVP_PKEY *rk, *ik, *lk, *ek, *other;
	X509 *root, *inter, *leaf, *eleaf, *expired, *future;
};

static int
setup(void **state)
{
	struct pki *p = calloc(1, sizeof(*p));

	p->rk = tc_key_ec("P-256");
	p->ik = tc_key_ec("P-384");
	p->lk = tc_key_rsa(2048);
	p->ek = tc_key_ec("P-256");
	p->other = tc_key_ec("P-256");
	p->root = tc_cert(p->rk, "Test Root", NULL, NULL, NULL, -DAY, 3650 * DAY, 1);
	p->inter = tc_cert(p->ik, "Test Intermediate", NULL, p->root, p->rk, -DAY, 1000 * DAY, 1);
	p->leaf = tc_cert(p->lk, "www.example.com", "DNS:www.example.com,DNS:example.com,IP:192.0.2.7",
			  p->inter, p->ik, -DAY, 365 * DAY, 0);
	p->eleaf = tc_cert(p->ek, "www.example.com", "DNS:www.example.com", p->inter, p->ik, -DAY,
			   10 * DAY, 0);
	p->expired = tc_cert(p->ek, "old.example.com", "DNS:old.example.com", NULL, NULL, -100 * DAY,
			     -2 * DAY, 0);
	p->future = tc_cert(p->ek, "new.example.com", "DNS:new.example.com", NULL, NULL, 5 * DAY,
			    400 * DAY, 0);
	*state = p;
	return 0;
}

static int
teardown(void **state)
{
	struct pki *p = *state;

	X509_free(p->root);
	X509_free(p->inter);
	X509_free(p->leaf);
	X509_free(p->eleaf);
	X509_free(p->expired);
	X509_free(p->future);
	EVP_PKEY_free(p->rk);
	EVP_PKEY_free(p->ik);
	EVP_PKEY_free(p->lk);
	EVP_PKEY_free(p->ek);
	EVP_PKEY_free(p->other);
	free(p);
	return 0;
}

/* Runs adm_cert_check on the given chain and key; returns rc, err in err. */
static int
check(X509 *a, X509 *b, X509 *c, EVP_PKEY *k, struct adm_cert_info *info, char *err,
      const char **field)
{
	char *cp = tc_pem_certs(a, b, c), *kp = tc_pem_key(k);
	int rc = adm_cert_check(cp, kp, info, err, 512, field);

	free(cp);
	free(kp);
	return rc;
}

static void
test_good_rsa_chain(void **state)
{
	struct pki *p = *state;
	struct adm_cert_info info;
	const char *field;
	char err[512];
	json_t *sans;

	assert_int_equal(check(p->leaf, p->inter, p->root, p->lk, &info, err, &field), 0);
	assert_string_equal(info.key_type, "RSA");
	assert_int_equal(info.key_bits, 2048);
	assert_int_equal(info.chain_length, 3);
	assert_string_equal(info.subject, "CN=www.example.com");
	assert_string_equal(info.issuer, "CN=Test Intermediate");
	sans = json_loads(info.sans, 0, NULL);
	assert_non_null(sans);
	assert_int_equal(json_array_size(sans), 3);
	assert_string_equal(json_string_value(json_array_get(sans, 0)), "DNS:www.example.com");
	assert_string_equal(json_string_value(json_array_get(sans, 2)), "IP:192.0.2.7");
	json_decref(sans);
	assert_int_equal(strlen(info.fingerprint), 64);
	assert_non_null(strstr(info.key_pem, "-----BEGIN PRIVATE KEY-----"));
	assert_non_null(strstr(info.cert_pem, "-----BEGIN CERTIFICATE-----"));
	assert_true(info.not_after - info.not_before > 360 * DAY);
	adm_cert_info_release(&info);
	assert_null(info.key_pem);
}

static void
test_good_ecdsa_leaf_only(void **state)
{
	struct pki *p = *state;
	struct adm_cert_info info;
	const char *field;
	char err[512];

	assert_int_equal(check(p->eleaf, p->inter, NULL, p->ek, &info, err, &field), 0);
	assert_string_equal(info.key_type, "ECDSA");
	assert_int_equal(info.key_bits, 256);
	adm_cert_info_release(&info);
	/* A leaf alone is a chain of one: nothing to link. */
	assert_int_equal(check(p->eleaf, NULL, NULL, p->ek, &info, err, &field), 0);
	assert_int_equal(info.chain_length, 1);
	adm_cert_info_release(&info);
}

static void
test_mismatched_key(void **state)
{
	struct pki *p = *state;
	struct adm_cert_info info;
	const char *field;
	char err[512];

	assert_int_equal(check(p->eleaf, p->inter, NULL, p->other, &info, err, &field), -EINVAL);
	assert_string_equal(field, "key_pem");
	assert_non_null(strstr(err, "does not match"));
	assert_null(info.key_pem);
	/* The key of another certificate of the chain is no match either. */
	assert_int_equal(check(p->eleaf, p->inter, NULL, p->ik, &info, err, &field), -EINVAL);
	assert_non_null(strstr(err, "does not match"));
}

static void
test_chain_order(void **state)
{
	struct pki *p = *state;
	struct adm_cert_info info;
	const char *field;
	char err[512];

	assert_int_equal(check(p->leaf, p->root, p->inter, p->lk, &info, err, &field), -EINVAL);
	assert_string_equal(field, "cert_pem");
	assert_non_null(strstr(err, "out of order"));
	/* A certificate that issued nothing in the chain: does not verify. */
	assert_int_equal(check(p->leaf, p->root, NULL, p->lk, &info, err, &field), -EINVAL);
	assert_non_null(strstr(err, "does not verify"));
	assert_non_null(strstr(err, "certificate 1"));
}

static void
test_malformed(void **state)
{
	struct pki *p = *state;
	struct adm_cert_info info;
	const char *field;
	char err[512], *cp = tc_pem_certs(p->eleaf, NULL, NULL), *kp = tc_pem_key(p->ek), *bad;

	assert_int_equal(adm_cert_check("hello", kp, &info, err, sizeof(err), &field), -EINVAL);
	assert_string_equal(field, "cert_pem");
	assert_non_null(strstr(err, "no PEM certificate"));
	/* Corrupt the base64 inside the block. */
	bad = strdup(cp);
	bad[80] = '!';
	bad[81] = '!';
	assert_int_equal(adm_cert_check(bad, kp, &info, err, sizeof(err), &field), -EINVAL);
	assert_non_null(strstr(err, "malformed PEM"));
	free(bad);
	assert_int_equal(adm_cert_check(cp, "nothing", &info, err, sizeof(err), &field), -EINVAL);
	assert_string_equal(field, "key_pem");
	bad = strdup(kp);
	bad[40] = '!';
	assert_int_equal(adm_cert_check(cp, bad, &info, err, sizeof(err), &field), -EINVAL);
	assert_non_null(strstr(err, "malformed PEM"));
	/* The error never quotes the key. */
	assert_null(strstr(err, "PRIVATE KEY-----"));
	free(bad);
	free(cp);
	free(kp);
}

static void
test_weak_rsa(void **state)
{
	EVP_PKEY *k = tc_key_rsa(1024);
	X509 *x = tc_cert(k, "weak", "DNS:weak", NULL, NULL, 0, DAY, 0);
	struct adm_cert_info info;
	const char *field;
	char err[512];

	(void)state;
	assert_int_equal(check(x, NULL, NULL, k, &info, err, &field), -EINVAL);
	assert_non_null(strstr(err, "2048"));
	X509_free(x);
	EVP_PKEY_free(k);
}

static void
test_expired_accepted_and_flagged(void **state)
{
	struct pki *p = *state;
	struct adm_cert_info info;
	const char *field;
	char err[512];
	json_t *o;
	time_t now = time(NULL);

	assert_int_equal(check(p->expired, NULL, NULL, p->ek, &info, err, &field), 0);
	o = json_pack("{s:I, s:I}", "not_before", (json_int_t)info.not_before, "not_after",
		      (json_int_t)info.not_after);
	adm_cert_annotate(o, now);
	assert_true(json_is_true(json_object_get(o, "expired")));
	assert_true(json_is_false(json_object_get(o, "expiring_soon")));
	assert_true(json_integer_value(json_object_get(o, "days_to_expiry")) <= -2);
	assert_non_null(strstr(json_string_value(json_array_get(json_object_get(o, "warnings"), 0)), "expired"));
	json_decref(o);
	adm_cert_info_release(&info);

	assert_int_equal(check(p->future, NULL, NULL, p->ek, &info, err, &field), 0);
	o = json_pack("{s:I, s:I}", "not_before", (json_int_t)info.not_before, "not_after",
		      (json_int_t)info.not_after);
	adm_cert_annotate(o, now);
	assert_true(json_is_true(json_object_get(o, "not_yet_valid")));
	assert_true(json_is_false(json_object_get(o, "expired")));
	json_decref(o);
	adm_cert_info_release(&info);
}

static void
test_annotate_boundaries(void **state)
{
	json_t *o = json_pack("{s:I, s:I}", "not_before", (json_int_t)0, "not_after",
			      (json_int_t)(1000 + 30 * DAY));

	(void)state;
	adm_cert_annotate(o, 1000);	/* exactly 30 days left: no warning yet */
	assert_int_equal(json_integer_value(json_object_get(o, "days_to_expiry")), 30);
	assert_true(json_is_false(json_object_get(o, "expiring_soon")));
	assert_int_equal(json_array_size(json_object_get(o, "warnings")), 0);
	adm_cert_annotate(o, 1001);	/* one second less: warned */
	assert_int_equal(json_integer_value(json_object_get(o, "days_to_expiry")), 29);
	assert_true(json_is_true(json_object_get(o, "expiring_soon")));
	adm_cert_annotate(o, 1000 + 30 * DAY + 1);	/* one second past */
	assert_int_equal(json_integer_value(json_object_get(o, "days_to_expiry")), -1);
	assert_true(json_is_true(json_object_get(o, "expired")));
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_rsa_chain),
		cmocka_unit_test(test_good_ecdsa_leaf_only),
		cmocka_unit_test(test_mismatched_key),
		cmocka_unit_test(test_chain_order),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_weak_rsa),
		cmocka_unit_test(test_expired_accepted_and_flagged),
		cmocka_unit_test(test_annotate_boundaries),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
