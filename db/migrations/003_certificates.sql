-- 003: TLS certificates. Not part of the candidate: a certificate is an
-- object of the appliance (like a user), referenced by name from listeners.
-- The private key sits in a table of its own, so that no query that lists or
-- shows certificates can reach it by accident (see doc/tls.md).
CREATE TABLE certificates (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	cert_pem TEXT NOT NULL,			-- leaf first, then the chain, re-encoded
	subject TEXT NOT NULL,			-- RFC 2253 text of the leaf's subject
	issuer TEXT NOT NULL,
	sans TEXT NOT NULL,			-- JSON array of "DNS:..." / "IP:..." strings
	key_type TEXT NOT NULL CHECK (key_type IN ('RSA', 'ECDSA')),
	key_bits INTEGER NOT NULL,
	not_before INTEGER NOT NULL,		-- Unix seconds
	not_after INTEGER NOT NULL,
	fingerprint TEXT NOT NULL,		-- hex SHA-256 of the leaf's DER
	chain_length INTEGER NOT NULL,
	created_at INTEGER NOT NULL
);

CREATE TABLE certificate_keys (
	certificate_id INTEGER PRIMARY KEY REFERENCES certificates(id) ON DELETE CASCADE,
	key_pem TEXT NOT NULL			-- unencrypted PKCS#8 PEM
);
