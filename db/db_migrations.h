#ifndef TANDEM_DB_MIGRATIONS_H
#define TANDEM_DB_MIGRATIONS_H

/*
 * The numbered SQL files of db/migrations/, embedded at build time by
 * gen-migrations.sh into db_migrations.c. Migration N moves the schema from
 * the previous migration's PRAGMA user_version to N; numbers may skip (they
 * are handed out per branch), the order of the array is the order applied.
 */
struct db_migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct db_migration db_migrations[];
extern const unsigned db_migrations_count;

#endif
