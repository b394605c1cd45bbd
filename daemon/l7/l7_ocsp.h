#ifndef TANDEM_L7_OCSP_H
#define TANDEM_L7_OCSP_H

#include <stddef.h>
#include <time.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

/*
 * l7_ocsp - OCSP stapling from a stored response (doc/tls.md "OCSP
 * stapling"). One checker for tandem-admin (at upload: 422 with the reason)
 * and tandemd (at every load: a warning with the reason, nothing stapled):
 * a DER OCSP response is accepted only when it is a successful basic
 * response about exactly this certificate (CertID of the leaf and its issuer
 * from the chain), signed by that issuer or a responder it authorised, says
 * "good", and is current (thisUpdate not in the future, nextUpdate present
 * and not past). Includes OpenSSL: only OpenSSL users include it.
 */

struct l7_ocsp_info {
	time_t this_update, next_update;
};

/* Checks der[0..len) against leaf, whose issuer must be in chain, at now.
 * 0, or -1 with the reason in why. */
int l7_ocsp_check(const unsigned char *der, size_t len, X509 *leaf, STACK_OF(X509) *chain, time_t now,
		  struct l7_ocsp_info *info, char *why, size_t whylen);
/* The same for a PEM chain (leaf first), as the certificate store keeps it. */
int l7_ocsp_check_pem(const unsigned char *der, size_t len, const char *pem, time_t now,
		      struct l7_ocsp_info *info, char *why, size_t whylen);
/* tandemd, snapshot build: loads file, checks it against the certificate
 * ctx loaded last (and its chain) and staples it on handshakes that ask,
 * until its nextUpdate passes. A response that fails the check is logged
 * with the reason (name is the certificate's) and not stapled; the
 * listener serves without it. 1 stapled, 0 not. */
int l7_ocsp_staple(SSL_CTX *ctx, const char *name, const char *file);

#endif
