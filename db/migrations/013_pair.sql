-- 013: the HA pair between two consoles (doc/ha.md "Pairing and config
-- sync"): one-time pairing tokens, the pair itself, and revisions that lost
-- a split brain (or were replaced when this node joined a pair), kept here
-- so no configuration is ever lost.

-- Only the SHA-256 of a token is stored; a token is used once.
CREATE TABLE pair_tokens (
	token_hash TEXT PRIMARY KEY,
	created INTEGER NOT NULL,
	expires INTEGER NOT NULL,
	used INTEGER NOT NULL DEFAULT 0
);

-- At most one pair. out_key is the secret this node presents to the peer's
-- console (Authorization: Bearer); in_key_hash the SHA-256 of the one the
-- peer presents to us. base_* is the last revision both nodes held.
CREATE TABLE pair (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	peer_node TEXT NOT NULL,
	peer_console TEXT NOT NULL,
	peer_fingerprint TEXT NOT NULL,
	out_key TEXT NOT NULL,
	in_key_hash TEXT NOT NULL,
	created INTEGER NOT NULL,
	state TEXT NOT NULL DEFAULT 'paired' CHECK (state IN ('paired', 'broken')),
	reason TEXT NOT NULL DEFAULT '',
	base_number INTEGER NOT NULL DEFAULT 0,
	base_hash TEXT NOT NULL DEFAULT ''
);

CREATE TABLE revision_conflicts (
	id INTEGER PRIMARY KEY,
	number INTEGER NOT NULL,
	author TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	comment TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL,			-- what it was before: applied, failed, pending
	errors TEXT,
	content TEXT NOT NULL,
	conflicted_at INTEGER NOT NULL,
	reason TEXT NOT NULL
);
