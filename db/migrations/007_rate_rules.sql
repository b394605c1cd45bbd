-- 007: the rate_rules section (rate rules, client lists, WAF checks; see
-- doc/limits.md). Rules are rows kept in evaluation order (position); the
-- rest of the section (jwt verifiers, allow_cidrs, deny_cidrs, waf) is one
-- JSON object. Both are stored as given: tandem-admin validates them with
-- tandemd's own parser before writing.
CREATE TABLE rate_rules (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	position INTEGER NOT NULL,
	body TEXT NOT NULL		-- the rule object as JSON (with its name)
);

CREATE TABLE rate_settings (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	body TEXT NOT NULL DEFAULT '{}'	-- {"jwt", "allow_cidrs", "deny_cidrs", "waf"}, each optional
);
