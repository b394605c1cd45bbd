-- 014: OCSP responses to staple, one per certificate (doc/tls.md "OCSP
-- stapling"). Uploaded through the API after tandem-admin checked them
-- against the certificate; written next to the certificate's files for
-- tandemd, which checks them again at every load. Public material.
CREATE TABLE certificate_ocsp (
	certificate_id INTEGER PRIMARY KEY REFERENCES certificates(id) ON DELETE CASCADE,
	der BLOB NOT NULL,			-- the DER OCSP response as uploaded
	this_update INTEGER NOT NULL,		-- Unix seconds, from the response
	next_update INTEGER NOT NULL,
	uploaded_at INTEGER NOT NULL
);
