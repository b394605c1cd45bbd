#ifndef TANDEM_ADM_TLS_H
#define TANDEM_ADM_TLS_H

/*
 * adm_tls - the console's certificate: a self-signed EC P-256 certificate
 * for 127.0.0.1 and localhost, created at first start under DIR/tls/.
 * Start-up only (main thread).
 */

/* Makes sure dir/key.pem (0600) and dir/cert.pem exist, creating them when
 * either is missing, and returns both as new NUL-terminated PEM strings. */
int adm_tls_ensure(const char *dir, char **key_pem, char **cert_pem);

#endif
