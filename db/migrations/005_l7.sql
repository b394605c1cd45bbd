-- 004: the L7 tier's options (issue 3). Each object keeps the L7 fields of
-- the config file (doc/l7.md: timeouts, limits, algorithm, health_check,
-- match, action, header edits, ...) as one JSON object, which the renderer
-- merges into the object; tandemd's parser validates them. Routes that
-- redirect, respond or deny have no pool, so routes.pool_id becomes
-- nullable: SQLite cannot drop NOT NULL in place, hence the copy.
ALTER TABLE listeners ADD COLUMN l7 TEXT NOT NULL DEFAULT '{}';
ALTER TABLE pools ADD COLUMN l7 TEXT NOT NULL DEFAULT '{}';
ALTER TABLE members ADD COLUMN l7 TEXT NOT NULL DEFAULT '{}';

CREATE TABLE routes_l7 (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	listener_id INTEGER NOT NULL REFERENCES listeners(id) ON DELETE RESTRICT,
	host TEXT NOT NULL DEFAULT '',
	path_prefix TEXT NOT NULL DEFAULT '/',
	pool_id INTEGER REFERENCES pools(id) ON DELETE RESTRICT,
	priority INTEGER NOT NULL DEFAULT 100,
	l7 TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO routes_l7 (id, name, listener_id, host, path_prefix, pool_id, priority)
	SELECT id, name, listener_id, host, path_prefix, pool_id, priority FROM routes;
DROP TABLE routes;
ALTER TABLE routes_l7 RENAME TO routes;
CREATE INDEX routes_listener ON routes(listener_id);
CREATE INDEX routes_pool ON routes(pool_id);
