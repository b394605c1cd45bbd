-- 006: the l4 section (issue 5, doc/l4.md): IPVS virtual services with their
-- real servers, and the section-wide settings (reconcile interval, the
-- nftables filter, the IPVS sync daemon). Each row keeps the object's config
-- fields other than its key as one canonical JSON object (spec); tandemd's
-- parser validates them, so the schema only keeps keys unique.
CREATE TABLE l4_services (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	spec TEXT NOT NULL DEFAULT '{}'		-- protocol, address, port, scheduler, check, limits ...
);

CREATE TABLE l4_reals (
	id INTEGER PRIMARY KEY,
	service_id INTEGER NOT NULL REFERENCES l4_services(id) ON DELETE CASCADE,
	address TEXT NOT NULL,			-- canonical numeric address
	port INTEGER NOT NULL DEFAULT 0,	-- 0: none (fwmark services)
	spec TEXT NOT NULL DEFAULT '{}',	-- weight, forward, tunnel_type, thresholds ...
	UNIQUE (service_id, address, port)
);
CREATE INDEX l4_reals_service ON l4_reals(service_id);

-- One row at most; NULL means "not set". filter is shared by both nodes;
-- sync (role, interface) is this node's own: a restore or a load that has
-- no l4.sync keeps it, as vrrp_local.
CREATE TABLE l4_settings (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	reconcile_interval INTEGER,
	filter TEXT,				-- JSON object
	sync TEXT				-- JSON object
);
