#ifndef TANDEM_ADM_AUTH_H
#define TANDEM_ADM_AUTH_H

#include <stddef.h>
#include <time.h>

#include "adm-t.h"
#include "db-t.h"

/*
 * adm_auth - passwords (argon2id), random tokens, sessions, CSRF checks and
 * login throttling. Time is always passed in, so tests drive the clock.
 * Called from the single HTTP thread (it uses the db handle).
 */

/* Encoded argon2id hash of pw into out (>= 128 bytes). 0 or -errno. */
int adm_password_hash(const char *pw, char *out, size_t outlen);
/* 0 when pw matches the encoded hash, -EACCES when not, -EINVAL if malformed. */
int adm_password_verify(const char *hash, const char *pw);
/* Fills out with nbytes of randomness as lower-case hex (out >= 2n+1). */
int adm_random_hex(char *out, size_t nbytes);
/* A random password of len letters and digits (out >= len+1). */
int adm_random_password(char *out, size_t len);
/* Hex SHA-256 of s into out[65]. */
void adm_sha256_hex(const char *s, char out[65]);
/* Constant-time string equality (CSRF tokens). */
int adm_token_equal(const char *a, const char *b);

/* Creates user "admin" with a random password when there are no users;
 * returns 1 and the password in pw (>= 25 bytes), 0 when users exist, or -errno. */
int adm_user_bootstrap(struct db *db, time_t now, char *pw, size_t pwlen);

/* Lockout in seconds after `failures` consecutive failures (pure policy). */
long adm_throttle_lockout(long failures);
/* Seconds key must still wait before trying again; 0 when allowed. */
long adm_throttle_wait(struct db *db, const char *key, time_t now);
/* Records one failure of key at now. */
int adm_throttle_fail(struct db *db, const char *key, time_t now);

/* Logs in: checks throttling for the client address and the user, then the
 * password. On 0, token (>= 65 bytes) holds the new session token for the
 * cookie and *session the session (release with db_session_release).
 * -EAGAIN: throttled, *retry_after set. -EACCES: bad credentials. */
int adm_login(struct db *db, const char *user, const char *pw, const char *client,
	      time_t now, char *token, struct db_session *session, long *retry_after);
/* Finds the live session for a cookie token (touches it). 0 or -ENOENT. */
int adm_session_check(struct db *db, const char *token, time_t now, struct db_session *out);
/* Ends the session of token (no error when it is unknown). */
int adm_logout(struct db *db, const char *token);

#endif
