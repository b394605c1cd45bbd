-- 009: CA bundles for client certificate authentication on TLS listeners
-- (doc/tls.md). Like certificates, appliance objects outside the candidate,
-- referenced by name from a listener's "tls": {"client_auth": {"ca": ...}}.
-- Public material only: no key.
CREATE TABLE ca_bundles (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	pem TEXT NOT NULL,			-- the CA certificates, re-encoded
	subjects TEXT NOT NULL,			-- JSON array of RFC 2253 subjects
	count INTEGER NOT NULL,
	not_after INTEGER NOT NULL,		-- earliest expiry among them, Unix seconds
	fingerprint TEXT NOT NULL,		-- hex SHA-256 of the pem text
	created_at INTEGER NOT NULL
);
