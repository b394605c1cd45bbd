-- 001: users, sessions, login throttling, the candidate config and revisions.
CREATE TABLE users (
	username TEXT PRIMARY KEY,
	hash TEXT NOT NULL,			-- argon2id encoded hash, never the password
	role TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
	created INTEGER NOT NULL
);

-- Only the SHA-256 of the session token is stored, so a leaked database
-- does not hand out live sessions.
CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,
	username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
	csrf TEXT NOT NULL,
	created INTEGER NOT NULL,
	last_seen INTEGER NOT NULL
);
CREATE INDEX sessions_last_seen ON sessions(last_seen);

-- One row per throttle key ("addr:<ip>" or "user:<name>").
CREATE TABLE login_failures (
	key TEXT PRIMARY KEY,
	failures INTEGER NOT NULL,
	last_failure INTEGER NOT NULL
);

CREATE TABLE listeners (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	address TEXT NOT NULL,
	port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535)
);

CREATE TABLE pools (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE
);

CREATE TABLE members (
	id INTEGER PRIMARY KEY,
	pool_id INTEGER NOT NULL REFERENCES pools(id) ON DELETE CASCADE,
	address TEXT NOT NULL,
	port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
	weight INTEGER NOT NULL DEFAULT 1 CHECK (weight BETWEEN 0 AND 256),
	enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
	UNIQUE (pool_id, address, port)
);

CREATE TABLE routes (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	listener_id INTEGER NOT NULL REFERENCES listeners(id) ON DELETE RESTRICT,
	host TEXT NOT NULL DEFAULT '',
	path_prefix TEXT NOT NULL DEFAULT '/',
	pool_id INTEGER NOT NULL REFERENCES pools(id) ON DELETE RESTRICT,
	priority INTEGER NOT NULL DEFAULT 100
);
CREATE INDEX routes_listener ON routes(listener_id);
CREATE INDEX routes_pool ON routes(pool_id);

CREATE TABLE revisions (
	number INTEGER PRIMARY KEY,
	author TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	comment TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL CHECK (status IN ('pending', 'applied', 'failed')),
	errors TEXT,				-- JSON array of {path,message}, or NULL
	content TEXT NOT NULL			-- the canonical rendered config
);
