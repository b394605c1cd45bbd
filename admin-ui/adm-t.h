#ifndef TANDEM_ADM_T_H
#define TANDEM_ADM_T_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

/*
 * Types of tandem-admin. One struct adm per process, filled by adm_main.c;
 * the HTTP layer turns each request into a struct adm_req and sends back a
 * struct adm_resp, so the API itself never sees libmicrohttpd.
 */

struct db;
struct adm_sync;

/* Injected clock so tests control time (sessions, throttling). */
typedef time_t (*adm_clock_fn)(void);

struct adm {
	struct db *db;
	const char *state_dir;
	const char *config_file;	/* the rendered config tandemd reads */
	const char *ctl_socket;
	const char *www_dir;
	adm_clock_fn now;
	int ctl_timeout_ms;		/* per control-socket call */
	char hostname[256];
	/* The HA pair (doc/ha.md "Pairing and config sync"). */
	const char *node;		/* this node's name in the pair */
	const char *console_url;	/* where the other node calls us */
	const char *peer_dir;		/* the peer link's certificates (tandemd --peer-dir) */
	char fingerprint[65];		/* SHA-256 of our console certificate; "" with --http */
	int pair_token_ttl;		/* seconds a pairing token lives */
	struct adm_sync *sync;		/* the pair's live view (adm_sync.c), or NULL */
};

/* One API request; every pointer is borrowed from the HTTP layer. */
struct adm_req {
	const char *method;		/* "GET", "POST", ... */
	const char *path;		/* decoded, below /api/v1, e.g. "/pools/demo" */
	const char *session_token;	/* the tandem_session cookie, or NULL */
	const char *csrf;		/* the X-CSRF-Token header, or NULL */
	const char *bearer;		/* "Authorization: Bearer X": X, or NULL */
	const char *client;		/* client address text, for throttling */
	const char *body;
	size_t body_len;
};

/* The answer; the HTTP layer frees it with adm_resp_release(). */
struct adm_resp {
	unsigned status;
	json_t *body;			/* NULL: no body (204) */
	char *set_cookie;		/* value of a Set-Cookie header, or NULL */
	long retry_after;		/* > 0: send Retry-After */
};

/* Session lifetime and login throttling policy (see doc/admin.md). */
#define ADM_SESSION_IDLE 1800		/* seconds without a request */
#define ADM_THROTTLE_FREE 5		/* failures allowed before a lockout */
#define ADM_THROTTLE_WINDOW 300		/* a quiet period this long forgets failures */
#define ADM_THROTTLE_BASE 30		/* first lockout, doubled per further failure */
#define ADM_THROTTLE_MAX 3600
#define ADM_TOKEN_BYTES 32		/* session and CSRF tokens: 256 random bits */
#define ADM_COOKIE "tandem_session"

#endif
