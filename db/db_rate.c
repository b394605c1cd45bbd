/*
 * db_rate - the rate_rules section of the candidate (migration 007).
 *
 * The section's rules are rows in evaluation order; its other members are
 * one JSON object. Objects are stored as given (the caller validates them
 * with conf_parse first), so what the console shows is what was written.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db__priv.h"

/* The members of the section that are not "rules". */
static const char *const db_rate_settings[] = { "jwt", "allow_cidrs", "deny_cidrs", "allow_cidr_files",
						"deny_cidr_files", "waf", NULL };

static json_t *
db_rate_rule_row(struct db *db, sqlite3_stmt *st)
{
	const char *t = (const char *)sqlite3_column_text(st, 0);
	json_t *o = t ? json_loads(t, JSON_REJECT_DUPLICATES, NULL) : NULL;

	(void)db;
	if (!json_is_object(o)) {	/* a broken row reads as its name alone */
		json_decref(o);
		o = json_pack("{s:s}", "name", (const char *)sqlite3_column_text(st, 1));
	}
	return o;
}

int
db_rate_rule_list(struct db *db, json_t **out)
{
	return db__rows(db, db__prepare(db, "SELECT body, name FROM rate_rules ORDER BY position, id"),
			db_rate_rule_row, out);
}

static int
db_rate_settings_get(struct db *db, json_t **out)
{
	sqlite3_stmt *st = db__prepare(db, "SELECT body FROM rate_settings WHERE id = 1");
	const char *t;
	int rc;

	*out = NULL;
	if (st == NULL)
		return -EIO;
	rc = db__step_row(db, st);
	if (rc == 0) {
		t = (const char *)sqlite3_column_text(st, 0);
		*out = t ? json_loads(t, JSON_REJECT_DUPLICATES, NULL) : NULL;
	}
	sqlite3_finalize(st);
	if (rc == -ENOENT || (rc == 0 && !json_is_object(*out))) {
		json_decref(*out);
		*out = json_object();
		rc = 0;
	}
	return rc == 0 && *out == NULL ? -ENOMEM : rc;
}

int
db_rate_render(struct db *db, json_t **out)
{
	json_t *rules = NULL, *set = NULL;
	int rc;

	*out = NULL;
	rc = db_rate_rule_list(db, &rules);
	if (rc == 0)
		rc = db_rate_settings_get(db, &set);
	if (rc < 0)
		goto out;
	/* nothing configured, no section: the config renders as before */
	if (json_array_size(rules) == 0 && json_object_size(set) == 0)
		goto out;
	*out = json_deep_copy(set);
	if (*out == NULL || (json_array_size(rules) > 0 && json_object_set(*out, "rules", rules) < 0))
		rc = -ENOMEM;
out:
	if (rc < 0) {
		json_decref(*out);
		*out = NULL;
	}
	json_decref(rules);
	json_decref(set);
	return rc;
}

/* Stores r (borrowed; must hold a string "name") at position pos. */
static int
db_rate_rule_insert(struct db *db, const json_t *r, size_t pos)
{
	char *text = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS), p[24];
	const char *name = json_string_value(json_object_get(r, "name"));
	int rc;

	if (text == NULL)
		return -ENOMEM;
	if (name == NULL) {
		free(text);
		return -EINVAL;
	}
	snprintf(p, sizeof(p), "%zu", pos);
	rc = db__run(db, "INSERT INTO rate_rules (name, position, body) VALUES (?, ?, ?)",
		     name, p, text, NULL);
	free(text);
	return rc;
}

int
db_rate_load(struct db *db, const json_t *section)
{
	json_t *set = json_object();
	const char *const *k;
	char *text = NULL;
	int rc;

	if (set == NULL)
		return -ENOMEM;
	for (k = db_rate_settings; *k != NULL; k++)
		if (json_object_get(section, *k) != NULL)
			json_object_set(set, *k, json_object_get(section, *k));
	text = json_dumps(set, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(set);
	if (text == NULL)
		return -ENOMEM;
	rc = db_tx_begin(db);
	if (rc < 0)
		goto out;
	rc = db__replace_all(db, "rate_rules", json_object_get(section, "rules"), db_rate_rule_insert);
	if (rc == 0)
		rc = db__run(db, "INSERT OR REPLACE INTO rate_settings (id, body) VALUES (1, ?)", text, NULL);
	rc = db__tx_finish(db, rc);
out:
	free(text);
	return rc;
}
