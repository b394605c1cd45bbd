#ifndef TANDEM_DB_T_H
#define TANDEM_DB_T_H

#include <stdbool.h>

/*
 * Types of the db module. struct db itself is private to db/ (db__priv.h):
 * callers only hold a pointer.
 */
struct db;

/* Input records for candidate edits; every string is borrowed. */
struct db_listener {
	const char *name;
	const char *address;
	long port;
	const char *l7;		/* JSON object of the L7 fields; NULL = "{}" */
};

struct db_member {
	const char *address;	/* canonical numeric form (inet_ntop) */
	long port;
	long weight;
	bool enabled;
	const char *l7;		/* JSON object (backup, drain); NULL = "{}" */
};

struct db_route {
	const char *name;
	const char *listener;
	const char *host;	/* "" = any host */
	const char *path_prefix;
	const char *pool;	/* NULL for redirect, respond and deny routes */
	long priority;
	const char *l7;		/* JSON object of the L7 fields; NULL = "{}" */
};

/* A validated certificate to store (adm_cert checks it first); every
 * string is borrowed. key_pem is the only copy of the private key the API
 * ever hands to db/, and db/ hands it back only through db_cert_pem(). */
struct db_cert {
	const char *name;
	const char *cert_pem;		/* leaf, then the chain, in order */
	const char *key_pem;		/* unencrypted PKCS#8 */
	const char *subject;
	const char *issuer;
	const char *sans;		/* JSON array text */
	const char *key_type;		/* "RSA" or "ECDSA" */
	long key_bits;
	long long not_before, not_after;
	const char *fingerprint;
	long chain_length;
	long long created_at;
};

/* A CA bundle (client certificate authentication; migration 009). */
struct db_ca {
	const char *name;
	const char *pem;		/* CA certificates, re-encoded */
	const char *subjects;		/* JSON array text */
	long count;
	long long not_after;		/* earliest */
	const char *fingerprint;
	long long created_at;
};

/* A user's record as read back. */
struct db_user {
	char *username;
	char *hash;
	char *role;
};

/* A live session as read back; free with db_session_release(). */
struct db_session {
	char *username;
	char *role;
	char *csrf;
	long long created;
	long long last_seen;
};

/* Schema version this build migrates to (the highest embedded migration). */
#define DB_SCHEMA_LATEST (-1)

#endif
