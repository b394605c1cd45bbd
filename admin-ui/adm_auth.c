/*
 * adm_auth - who may use the console and API.
 *
 * Passwords are stored only as argon2id encoded hashes. Session tokens are
 * 256 random bits handed to the browser in an HttpOnly cookie; the database
 * keeps only their SHA-256, so reading the database does not yield a live
 * session. Each session has its own CSRF token, returned in the login answer
 * and compared in constant time with the X-CSRF-Token header.
 *
 * Throttling counts consecutive failed logins per key ("addr:<ip>" and
 * "user:<name>"): ADM_THROTTLE_FREE failures are free, then each further
 * attempt must wait ADM_THROTTLE_BASE seconds, doubling per failure up to
 * ADM_THROTTLE_MAX. A quiet period of ADM_THROTTLE_WINDOW after the lockout
 * forgets the count; a successful login clears it.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <argon2.h>
#include <openssl/sha.h>

#include "adm_auth.h"
#include "db.h"
#include "log.h"

/* OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane. */
#define ADM_ARGON2_T 2
#define ADM_ARGON2_M 19456
#define ADM_ARGON2_P 1
#define ADM_SALT_LEN 16
#define ADM_HASH_LEN 32

/* A valid hash of a random string: unknown users cost as much as known ones,
 * so response time does not tell which user names exist. */
static char adm_dummy_hash[128];

static int
adm_random(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int
adm_password_hash(const char *pw, char *out, size_t outlen)
{
	unsigned char salt[ADM_SALT_LEN];
	int rc;

	rc = adm_random(salt, sizeof(salt));
	if (rc < 0)
		return rc;
	rc = argon2id_hash_encoded(ADM_ARGON2_T, ADM_ARGON2_M, ADM_ARGON2_P, pw, strlen(pw),
				   salt, sizeof(salt), ADM_HASH_LEN, out, outlen);
	if (rc != ARGON2_OK) {
		log_err("argon2: %s", argon2_error_message(rc));
		return rc == ARGON2_MEMORY_ALLOCATION_ERROR ? -ENOMEM : -EINVAL;
	}
	return 0;
}

int
adm_password_verify(const char *hash, const char *pw)
{
	int rc = argon2id_verify(hash, pw, strlen(pw));

	if (rc == ARGON2_OK)
		return 0;
	if (rc == ARGON2_VERIFY_MISMATCH)
		return -EACCES;
	return -EINVAL;
}

int
adm_random_hex(char *out, size_t nbytes)
{
	unsigned char buf[64];
	size_t i;
	int rc;

	if (nbytes > sizeof(buf))
		return -EINVAL;
	rc = adm_random(buf, nbytes);
	if (rc < 0)
		return rc;
	for (i = 0; i < nbytes; i++)
		snprintf(out + 2 * i, 3, "%02x", buf[i]);
	out[2 * nbytes] = '\0';
	return 0;
}

int
adm_random_password(char *out, size_t len)
{
	static const char alphabet[] =
		"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
	const size_t n = sizeof(alphabet) - 1;	/* 57: no look-alikes (0/O, 1/l/I) */
	size_t i = 0;
	int rc;

	while (i < len) {
		unsigned char b;

		rc = adm_random(&b, 1);
		if (rc < 0)
			return rc;
		/* Rejection sampling keeps every character equally likely. */
		if (b >= 256 - 256 % n)
			continue;
		out[i++] = alphabet[b % n];
	}
	out[len] = '\0';
	return 0;
}

void
adm_sha256_hex(const char *s, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	size_t i;

	SHA256((const unsigned char *)s, strlen(s), md);
	for (i = 0; i < sizeof(md); i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[64] = '\0';
}

int
adm_token_equal(const char *a, const char *b)
{
	size_t i, la, lb;
	unsigned char d = 0;

	if (a == NULL || b == NULL)
		return 0;
	la = strlen(a);
	lb = strlen(b);
	if (la != lb || la == 0)
		return 0;
	for (i = 0; i < la; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

int
adm_user_bootstrap(struct db *db, time_t now, char *pw, size_t pwlen)
{
	char hash[128];
	long n;
	int rc;

	n = db_user_count(db);
	if (n < 0)
		return (int)n;
	if (n > 0)
		return 0;
	if (pwlen < 25)
		return -EINVAL;
	rc = adm_random_password(pw, 24);
	if (rc == 0)
		rc = adm_password_hash(pw, hash, sizeof(hash));
	if (rc == 0)
		rc = db_user_add(db, "admin", hash, "admin", (long long)now);
	return rc < 0 ? rc : 1;
}

long
adm_throttle_lockout(long failures)
{
	long s;
	long k;

	if (failures < ADM_THROTTLE_FREE)
		return 0;
	s = ADM_THROTTLE_BASE;
	for (k = ADM_THROTTLE_FREE; k < failures && s < ADM_THROTTLE_MAX; k++)
		s *= 2;
	return s < ADM_THROTTLE_MAX ? s : ADM_THROTTLE_MAX;
}

/* True when the failures are old enough to be forgotten. */
static int
adm_throttle_stale(long failures, long long last, time_t now)
{
	return (long long)now - last > ADM_THROTTLE_WINDOW + adm_throttle_lockout(failures);
}

long
adm_throttle_wait(struct db *db, const char *key, time_t now)
{
	long long last;
	long f, wait;

	if (db_throttle_get(db, key, &f, &last) < 0 || f == 0)
		return 0;
	if (adm_throttle_stale(f, last, now))
		return 0;
	wait = (long)(last + adm_throttle_lockout(f) - (long long)now);
	return wait > 0 ? wait : 0;
}

int
adm_throttle_fail(struct db *db, const char *key, time_t now)
{
	long long last;
	long f;
	int rc;

	rc = db_throttle_get(db, key, &f, &last);
	if (rc < 0)
		return rc;
	if (f > 0 && adm_throttle_stale(f, last, now))
		f = 0;
	return db_throttle_set(db, key, f + 1, (long long)now);
}

int
adm_login(struct db *db, const char *user, const char *pw, const char *client,
	  time_t now, char *token, struct db_session *session, long *retry_after)
{
	char akey[128], ukey[128], th[65], csrf[2 * ADM_TOKEN_BYTES + 1];
	struct db_user u = { 0 };
	long wa, wu;
	int rc;

	memset(session, 0, sizeof(*session));
	*retry_after = 0;
	snprintf(akey, sizeof(akey), "addr:%s", client ? client : "");
	snprintf(ukey, sizeof(ukey), "user:%s", user);
	wa = adm_throttle_wait(db, akey, now);
	wu = adm_throttle_wait(db, ukey, now);
	if (wa > 0 || wu > 0) {
		/* Refused without looking at the password, so a locked-out
		 * guesser learns nothing, not even from timing. */
		*retry_after = wa > wu ? wa : wu;
		return -EAGAIN;
	}
	rc = db_user_get(db, user, &u);
	if (rc == -ENOENT) {
		if (adm_dummy_hash[0] == '\0')
			adm_password_hash("tandem-dummy", adm_dummy_hash, sizeof(adm_dummy_hash));
		adm_password_verify(adm_dummy_hash, pw);
		rc = -EACCES;
	} else if (rc == 0) {
		rc = adm_password_verify(u.hash, pw);
		if (rc == -EINVAL)
			rc = -EACCES;
	}
	if (rc == -EACCES) {
		adm_throttle_fail(db, akey, now);
		/* Only existing users get a per-user counter: otherwise anyone
		 * could fill the table with made-up names. */
		if (u.username != NULL)
			adm_throttle_fail(db, ukey, now);
		log_notice("login failed for user \"%s\" from %s", user, client ? client : "?");
		goto out;
	}
	if (rc < 0)
		goto out;
	db_throttle_clear(db, akey);
	db_throttle_clear(db, ukey);
	rc = adm_random_hex(token, ADM_TOKEN_BYTES);
	if (rc == 0)
		rc = adm_random_hex(csrf, ADM_TOKEN_BYTES);
	if (rc < 0)
		goto out;
	adm_sha256_hex(token, th);
	/* Expired sessions are swept at each login instead of by a timer. */
	db_session_expire(db, (long long)now, ADM_SESSION_IDLE);
	rc = db_session_add(db, th, u.username, csrf, (long long)now);
	if (rc == 0)
		rc = db_session_get(db, th, (long long)now, ADM_SESSION_IDLE, session);
	if (rc == 0)
		log_notice("user \"%s\" logged in from %s", u.username, client ? client : "?");
out:
	db_user_release(&u);
	return rc;
}

int
adm_session_check(struct db *db, const char *token, time_t now, struct db_session *out)
{
	char th[65];

	memset(out, 0, sizeof(*out));
	if (token == NULL || strlen(token) != 2 * ADM_TOKEN_BYTES)
		return -ENOENT;
	adm_sha256_hex(token, th);
	return db_session_get(db, th, (long long)now, ADM_SESSION_IDLE, out);
}

int
adm_logout(struct db *db, const char *token)
{
	char th[65];

	if (token == NULL)
		return 0;
	adm_sha256_hex(token, th);
	return db_session_delete(db, th);
}
