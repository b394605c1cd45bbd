/*
 * db_settings - top-level settings of the candidate (migration 010): one
 * JSON value per config key, rendered beside listeners, pools and routes
 * and loaded back on import. Which keys exist is the API's business
 * (adm_settings.c); here a value is stored as given.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db__priv.h"

/* The keys rendered into (and loaded from) the config. */
static const char *const db_setting_keys[] = { "metrics", "workers", "tls", NULL };

int
db_setting_get(struct db *db, const char *key, json_t **out)
{
	sqlite3_stmt *st = db__prepare(db, "SELECT value FROM settings WHERE key = ?");
	char *text;
	int rc;

	*out = NULL;
	if (st == NULL)
		return -EIO;
	db__bind_text(st, 1, key);
	rc = db__step_row(db, st);
	if (rc == 0) {
		text = db__col_dup(st, 0);
		*out = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
		rc = *out != NULL ? 0 : -ENOMEM;
		free(text);
	}
	sqlite3_finalize(st);
	return rc == -ENOENT ? 0 : rc;
}

int
db_setting_set(struct db *db, const char *key, const json_t *value)
{
	char *text;
	int rc;

	if (value == NULL || json_is_null(value))
		return db__run(db, "DELETE FROM settings WHERE key = ?", key, NULL);
	text = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (text == NULL)
		return -ENOMEM;
	rc = db__run(db, "INSERT INTO settings (key, value) VALUES (?, ?) "
		     "ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, text, NULL);
	free(text);
	return rc;
}

int
db_settings_render(struct db *db, json_t *cfg)
{
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && db_setting_keys[i] != NULL; i++) {
		json_t *v;

		rc = db_setting_get(db, db_setting_keys[i], &v);
		if (rc == 0 && v != NULL && json_object_set_new(cfg, db_setting_keys[i], v) < 0)
			rc = -ENOMEM;
	}
	return rc;
}

int
db_settings_load(struct db *db, const json_t *config)
{
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && db_setting_keys[i] != NULL; i++)
		rc = db_setting_set(db, db_setting_keys[i], json_object_get(config, db_setting_keys[i]));
	return rc;
}
