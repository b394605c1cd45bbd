# tests/integration/lib-pki.sh - a throw-away PKI for the TLS tests (after
# lib.sh): EC P-256 keys, 30-day certificates under $C, openssl's chatter
# in $C/openssl.log.
C="$T/pki"; mkdir -p "$C"
ossl() { openssl "$@" >>"$C/openssl.log" 2>&1; }
pki_ca() { # pki_ca NAME CN: a self-signed CA, $C/NAME.crt and .key
	ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$C/$1.key" -out "$C/$1.crt" \
		-subj "/CN=$2" -days 30 -addext basicConstraints=critical,CA:TRUE
}
pki_leaf() { # pki_leaf NAME CA CN [SANS]: NAME signed by CA
	ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$C/$1.key" -out "$C/$1.csr" -subj "/CN=$3"
	printf '%s\n' "${4:+subjectAltName=$4}" >"$C/$1.ext"
	ossl x509 -req -in "$C/$1.csr" -CA "$C/$2.crt" -CAkey "$C/$2.key" -CAcreateserial -days 30 \
		-extfile "$C/$1.ext" -out "$C/$1.crt"
}
