-- 004: the vrrp section (VIP groups announced by keepalived).
-- Shared fields (vrrp_groups) are the same on both nodes and are what config
-- sync replaces; per-node fields (vrrp_local, vrrp_local_groups) belong to
-- this node only, so a sync or a restore never overwrites them.
CREATE TABLE vrrp_groups (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	virtual_router_id INTEGER NOT NULL CHECK (virtual_router_id BETWEEN 1 AND 255),
	advert_interval_ms INTEGER NOT NULL DEFAULT 1000,
	mode TEXT NOT NULL DEFAULT 'unicast' CHECK (mode IN ('unicast', 'multicast')),
	preempt INTEGER NOT NULL DEFAULT 1 CHECK (preempt IN (0, 1)),
	unicast_peers TEXT NOT NULL DEFAULT '[]',	-- JSON array of addresses
	vips TEXT NOT NULL DEFAULT '[]'			-- JSON array of address[/prefix]
);

-- One row at most; NULL means "not set" (tandemd's default applies).
CREATE TABLE vrrp_local (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	router_id TEXT,
	interface TEXT,
	address TEXT,
	priority INTEGER
);

-- Per-node overrides of one group, by group name (not by id: the shared
-- rows may be replaced wholesale by a sync, the overrides stay).
CREATE TABLE vrrp_local_groups (
	name TEXT PRIMARY KEY,
	interface TEXT,
	address TEXT,
	priority INTEGER
);
