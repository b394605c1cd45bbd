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
