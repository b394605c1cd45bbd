-- 010: appliance-wide settings of the candidate that belong to no listener,
-- pool or route, one JSON value per top-level config key (for now
-- "metrics": {"address": "127.0.0.1:9145"}, doc/l7.md "Metrics"). A key
-- without a row is absent from the rendered config.
CREATE TABLE settings (
	key TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
