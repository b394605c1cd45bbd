#ifndef TANDEM_DB_PAIR_H
#define TANDEM_DB_PAIR_H

#include <jansson.h>

/*
 * db_pair - the HA pair of the consoles (migration 013): one-time pairing
 * tokens (hashes only), the pair itself, revisions stored with a given
 * number (config sync) and the revisions that lost a split brain, kept in
 * revision_conflicts. See doc/ha.md "Pairing and config sync".
 */

struct db;

/* Replaces any earlier token by the one whose SHA-256 is hash. */
int db_pair_token_put(struct db *db, const char *hash, long long now, long long expires);
/* Marks the token used when it is known, unused and not expired: 0, or
 * -ENOENT (unknown), -ETIME (expired), -EALREADY (used before). */
int db_pair_token_use(struct db *db, const char *hash, long long now);
/* Expiry of the live (unused, unexpired) token: 0, or -ENOENT. */
int db_pair_token_live(struct db *db, long long now, long long *expires);

struct db_pair {
	char *peer_node, *peer_console, *peer_fingerprint;
	char *out_key, *in_key_hash;	/* secrets: never logged or returned */
	char *state, *reason, *base_hash;
	long long created;
	long base_number;
};

/* 0 with *p filled (release with db_pair_release), or -ENOENT. */
int db_pair_get(struct db *db, struct db_pair *p);
void db_pair_release(struct db_pair *p);
/* Stores the pair (replacing any), state 'paired', base 0. */
int db_pair_put(struct db *db, const struct db_pair *p);
int db_pair_delete(struct db *db);
int db_pair_set_state(struct db *db, const char *state, const char *reason);
int db_pair_set_base(struct db *db, long number, const char *hash);

/* Inserts a revision with a given number (config sync): -EEXIST when taken. */
int db_revision_insert(struct db *db, long number, const char *author, long long created_at,
		       const char *comment, const char *status, const char *content);
/* Moves revision number into revision_conflicts with reason: 0 or -ENOENT. */
int db_revision_conflict(struct db *db, long number, const char *reason, long long now);
/* [{"id","number","author","created_at","comment","status":"conflicted",
 *   "was","reason","conflicted_at"}], newest first. */
int db_revision_conflict_list(struct db *db, json_t **out);
/* One of them plus "config"; -ENOENT. */
int db_revision_conflict_get(struct db *db, long id, json_t **out);
/* Loads a conflicted revision's content into the candidate. */
int db_revision_conflict_restore(struct db *db, long id);

#endif
