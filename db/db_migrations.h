#ifndef TANDEM_DB_MIGRATIONS_H
#define TANDEM_DB_MIGRATIONS_H

/*
 * The numbered SQL files of db/migrations/, embedded at build time by
 * gen-migrations.sh into db_migrations.c. Migration N moves the schema from
 * PRAGMA user_version N-1 to N.
 */
struct db_migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct db_migration db_migrations[];
extern const unsigned db_migrations_count;

#endif
