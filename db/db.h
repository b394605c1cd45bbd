#ifndef TANDEM_DB_H
#define TANDEM_DB_H

#include <jansson.h>

#include "db-t.h"

/*
 * db - tandem-admin's SQLite database: users, sessions, login throttling,
 * the candidate configuration and its committed revisions.
 *
 * Every query is a prepared statement with bound parameters. A struct db is
 * used by one thread at a time (tandem-admin serves from one MHD thread).
 * Functions return 0 or -errno: -ENOENT (no such row), -EEXIST (a UNIQUE
 * name is taken), -EBUSY (a foreign key forbids the delete: object in use),
 * -EINVAL (a CHECK or reference failed), -EAGAIN (database locked), -ENOMEM,
 * -EIO (anything else; the SQLite message is logged).
 * json_t results are new references the caller owns.
 */

/* Opens (creating if needed) the database at path, sets WAL, foreign keys and
 * a busy timeout, and migrates the schema up to target_version
 * (DB_SCHEMA_LATEST for all embedded migrations). Each migration runs in its
 * own transaction and bumps PRAGMA user_version. */
int db_open(const char *path, int target_version, struct db **out);
/* Closes and sets *dbp to NULL. */
void db_close(struct db **dbp);
/* PRAGMA user_version, or -errno. */
int db_schema_version(struct db *db);
/* Highest version the embedded migrations reach. */
int db_schema_latest(void);
/* Runs PRAGMA <name> and returns its first column as a new string (tests). */
char *db_pragma_text(struct db *db, const char *name);

/* Nestable transactions (SAVEPOINTs). db_tx_end commits when ok is true,
 * rolls back otherwise; returns 0 or -errno of the commit. */
int db_tx_begin(struct db *db);
int db_tx_end(struct db *db, int ok);

/* ---- candidate: listeners ---- */
int db_listener_list(struct db *db, json_t **out);
int db_listener_get(struct db *db, const char *name, json_t **out);
int db_listener_add(struct db *db, const struct db_listener *l);
/* Replaces the listener called name with l (l->name may rename it). */
int db_listener_update(struct db *db, const char *name, const struct db_listener *l);
int db_listener_delete(struct db *db, const char *name);

/* ---- candidate: pools and members ---- */
int db_pool_list(struct db *db, json_t **out);
int db_pool_get(struct db *db, const char *name, json_t **out);
/* Adds a pool with its members (array of n, may be 0) in one transaction. */
int db_pool_add(struct db *db, const char *name, const struct db_member *m, size_t n);
/* Renames the pool; when m is not NULL its members are replaced by m[0..n). */
int db_pool_update(struct db *db, const char *name, const char *newname,
		   const struct db_member *m, size_t n);
int db_pool_delete(struct db *db, const char *name);
/* Replaces the pool's L7 options (a JSON object as text; NULL = "{}"). */
int db_pool_set_l7(struct db *db, const char *name, const char *l7);
int db_member_list(struct db *db, const char *pool, json_t **out);
int db_member_get(struct db *db, const char *pool, const char *address, long port, json_t **out);
int db_member_add(struct db *db, const char *pool, const struct db_member *m);
int db_member_update(struct db *db, const char *pool, const char *address, long port,
		     const struct db_member *m);
int db_member_delete(struct db *db, const char *pool, const char *address, long port);

/* ---- candidate: routes ---- */
int db_route_list(struct db *db, json_t **out);
int db_route_get(struct db *db, const char *name, json_t **out);
/* -ENXIO when r->listener does not exist, -ENOLINK when r->pool does not. */
int db_route_add(struct db *db, const struct db_route *r);
int db_route_update(struct db *db, const char *name, const struct db_route *r);
int db_route_delete(struct db *db, const char *name);

/* Writes the canonical text of a numeric IPv4/IPv6 address (inet_ntop) to
 * out; -EINVAL when addr is not one. Members are stored canonical so that
 * "::1" and "0::1" are the same member. */
int db_addr_canon(const char *addr, char *out, size_t outlen);

/* ---- candidate: top-level settings (db_settings.c) ----
 * One JSON value per config key ("metrics"). get: *out is a new reference,
 * NULL when unset. set: value NULL or JSON null removes it. render adds
 * the set ones to cfg (borrowed); load replaces them from an imported
 * config (inside the caller's transaction). 0 or -errno. */
int db_setting_get(struct db *db, const char *key, json_t **out);
int db_setting_set(struct db *db, const char *key, const json_t *value);
int db_settings_render(struct db *db, json_t *cfg);
int db_settings_load(struct db *db, const json_t *config);

/* ---- candidate: vrrp section (db_vrrp.c) ----
 * Shared groups and this node's own fields are stored apart: loading a
 * config (restore, import, config sync) replaces the groups but changes the
 * local part only when the config carries one. Objects are stored as given:
 * validate them (conf_parse) first. */
/* Groups sorted by name, each with every field (defaults explicit). */
int db_vrrp_group_list(struct db *db, json_t **out);
int db_vrrp_group_get(struct db *db, const char *name, json_t **out);
/* g: a group object of the config (borrowed). -EEXIST for a taken name. */
int db_vrrp_group_add(struct db *db, const json_t *g);
/* Replaces group name with g (may rename it; the local override follows). */
int db_vrrp_group_update(struct db *db, const char *name, const json_t *g);
/* Deletes the group and this node's override of it. */
int db_vrrp_group_delete(struct db *db, const char *name);
/* This node's fields: {router_id?, interface?, address?, priority?,
 * groups: [{name, interface?, address?, priority?}]}; unset fields absent. */
int db_vrrp_local_get(struct db *db, json_t **out);
/* Replaces this node's fields with lo (borrowed; the shape above). */
int db_vrrp_local_set(struct db *db, const json_t *lo);
/* The config's "vrrp" value, or *out = NULL when there is no group. */
int db_vrrp_render(struct db *db, json_t **out);
/* Replaces the groups with section's (NULL: none) and, when section has a
 * "local" object, this node's fields, in one transaction. */
int db_vrrp_load(struct db *db, const json_t *section);

/* ---- candidate: rate_rules section (db_rate.c) ----
 * Rules in evaluation order, and the section's other members (jwt,
 * allow_cidrs, deny_cidrs, waf) as one object. Stored as given: validate
 * them (conf_parse) first. */
/* The rules, in order (each object as stored). */
int db_rate_rule_list(struct db *db, json_t **out);
/* The config's "rate_rules" value, or *out = NULL when nothing is set. */
int db_rate_render(struct db *db, json_t **out);
/* Replaces the whole section with section's (NULL: none), in one
 * transaction. -EEXIST for two rules of one name. */
int db_rate_load(struct db *db, const json_t *section);
/* ---- candidate: l4 section (db_l4.c) ----
 * Services (config objects with their "reals") and the section's settings
 * ({reconcile_interval?, filter?, sync?}). Stored as given: validate them
 * (conf_parse) first. sync is this node's own: a load keeps it unless the
 * section carries one. */
/* Services sorted by name, reals by address then port. */
int db_l4_service_list(struct db *db, json_t **out);
int db_l4_service_get(struct db *db, const char *name, json_t **out);
/* Writes service svc (borrowed), replacing service name (may rename it) or,
 * when name is NULL, as a new one. -EEXIST for a taken name or a duplicate
 * real, -ENOENT when name is absent, -EINVAL for a real without a numeric
 * address. */
int db_l4_service_put(struct db *db, const char *name, const json_t *svc);
int db_l4_service_delete(struct db *db, const char *name);
/* The settings; unset ones absent ({} when none). */
int db_l4_settings_get(struct db *db, json_t **out);
/* Replaces the settings with s (borrowed). */
int db_l4_settings_set(struct db *db, const json_t *s);
/* The config's "l4" value, or *out = NULL when nothing is set. */
int db_l4_render(struct db *db, json_t **out);
/* Replaces the services and settings with section's (NULL: none). */
int db_l4_load(struct db *db, const json_t *section);

/* ---- renderer ---- */
/* Renders the candidate as a tandemd config object with "revision": revision:
 * listeners, pools and routes sorted by name, members by address then port.
 * Same candidate, same object; dump it with jh_dump_canonical for bytes. */
int db_candidate_render(struct db *db, long revision, json_t **out);
/* Same, as canonical text (malloc'd). */
int db_candidate_text(struct db *db, long revision, char **out);
/* Replaces the whole candidate with config (a tandemd config object, assumed
 * valid: run conf_parse first) in one transaction. */
int db_candidate_load(struct db *db, const json_t *config);

/* ---- revisions ---- */
/* In one transaction: takes the next number, renders the candidate with it
 * and stores it as 'pending'. Returns the number and the content text
 * (malloc'd, may be NULL if the caller passes content == NULL). */
int db_revision_commit(struct db *db, const char *author, const char *comment,
		       long long now, long *number, char **content);
/* Marks a revision 'applied' or 'failed'; errors is a JSON array or NULL. */
int db_revision_set_status(struct db *db, long number, const char *status,
			   const json_t *errors);
/* [{"number","author","created_at","comment","status"}] newest first. */
int db_revision_list(struct db *db, json_t **out);
/* One revision plus "config" (object) and "errors" (array or null). */
int db_revision_get(struct db *db, long number, json_t **out);
/* The content text of a revision (malloc'd). */
int db_revision_content(struct db *db, long number, char **out);
/* The running revision: the newest 'applied' one. -ENOENT when none. */
int db_revision_running(struct db *db, long *number, char **content);
/* Numbers of 'pending' revisions (left by a crash), as a JSON array. */
int db_revision_pending(struct db *db, json_t **out);
/* Replaces the candidate with the content of revision number. */
int db_revision_restore(struct db *db, long number);

/* ---- TLS certificates (not part of the candidate; doc/tls.md) ---- */
/* Stores c and its key in one transaction; -EEXIST when the name is taken. */
int db_cert_add(struct db *db, const struct db_cert *c);
/* [{name, subject, issuer, sans, key_type, key_bits, not_before, not_after,
 * fingerprint, chain_length, created_at}] by name; never the key. */
int db_cert_list(struct db *db, json_t **out);
/* One certificate as in the list, plus "cert_pem" (public); never the key. */
int db_cert_get(struct db *db, const char *name, json_t **out);
/* Deletes the certificate and its key; -ENOENT when absent. */
int db_cert_delete(struct db *db, const char *name);
/* The chain and the key as new strings (the caller frees key_pem after
 * wiping it with explicit_bzero). For the renderer only. */
int db_cert_pem(struct db *db, const char *name, char **cert_pem, char **key_pem);
/* OCSP response to staple for certificate name (db_ocsp.c, migration 014):
 * set replaces it (-ENOENT: no such certificate); get returns a copy of
 * the DER (der/len) and/or {this_update, next_update, uploaded_at, bytes}
 * (info), any of them NULL when not wanted (-ENOENT: none stored); delete
 * removes it (-ENOENT: none). */
int db_ocsp_set(struct db *db, const char *name, const void *der, size_t len, long long this_update,
		long long next_update, long long now);
int db_ocsp_get(struct db *db, const char *name, void **der, size_t *len, json_t **info);
int db_ocsp_delete(struct db *db, const char *name);

/* ---- CA bundles (client_auth of TLS listeners; migration 009) ---- */
/* -EEXIST when the name is taken. */
int db_ca_add(struct db *db, const struct db_ca *c);
/* [{name, subjects, count, not_after, fingerprint, created_at}] by name. */
int db_ca_list(struct db *db, json_t **out);
/* One as in the list plus "pem"; -ENOENT when absent. */
int db_ca_get(struct db *db, const char *name, json_t **out);
int db_ca_delete(struct db *db, const char *name);
/* The PEM as a new string (for the certificate files). */
int db_ca_pem(struct db *db, const char *name, char **pem);

/* ---- users ---- */
int db_user_add(struct db *db, const char *username, const char *hash, const char *role,
		long long now);
int db_user_get(struct db *db, const char *username, struct db_user *out);
void db_user_release(struct db_user *u);
/* Number of users, or -errno. */
long db_user_count(struct db *db);

/* ---- sessions (token_hash = hex SHA-256 of the cookie token) ---- */
int db_session_add(struct db *db, const char *token_hash, const char *username,
		   const char *csrf, long long now);
/* Finds a session seen within idle seconds and touches last_seen; expired
 * sessions are deleted and reported as -ENOENT. */
int db_session_get(struct db *db, const char *token_hash, long long now, long idle,
		   struct db_session *out);
void db_session_release(struct db_session *s);
int db_session_delete(struct db *db, const char *token_hash);
/* Deletes every session idle for longer than idle seconds. */
int db_session_expire(struct db *db, long long now, long idle);

/* ---- login throttling ---- */
/* Reads a key's counters; a missing key reads as 0 failures. */
int db_throttle_get(struct db *db, const char *key, long *failures, long long *last);
int db_throttle_set(struct db *db, const char *key, long failures, long long last);
int db_throttle_clear(struct db *db, const char *key);

#endif
