/*
 * fuzz_ocsp - libFuzzer driver for l7_ocsp_check (daemon/l7/l7_ocsp.c):
 * arbitrary bytes as a stored OCSP response, checked against a fixed chain
 * (the CA and leaf that signed and are named by the seeds in corpus/ocsp,
 * at a time when the seeds are current), so the whole path runs: DER
 * parse, CertID match, signature, status, dates. Seeds made with
 * `openssl ocsp -index ... -rsigner ca.crt` (see tests/integration/83-*).
 */
#include <stddef.h>
#include <stdint.h>

#include <openssl/pem.h>

#include "l7_ocsp.h"

static const char chain_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBEjCBugIUFtXbWW2ICiCA69Y0ewNnw+kprDcwCgYIKoZIzj0EAwIwDTELMAkG\n"
	"A1UEAwwCQ0EwHhcNMjYxMTI2MTIzMzAxWhcNMjYxMjI2MTIzMzAxWjAMMQowCAYD\n"
	"VQQDDAFsMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEQLmgXJ4CmKGqA/+oO4o9\n"
	"z126rtC+AXoyF7mhWYX/eXnk07GFzHtc+heuauS2N7PKvSEhs4cCur5GCFyAnvJK\n"
	"WjAKBggqhkjOPQQDAgNHADBEAh9BHBbsnysR3GTz4cmQQaULOSEwLo0DihiFwJB5\n"
	"k8D2AiEA8Rn3OhxDw5DRbES7HotJLFhblzpTaDwwx2aH+cyG5cg=\n"
	"-----END CERTIFICATE-----\n"
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBcDCCARWgAwIBAgIUE+Yu9Ul+1CLWa5RBC/HPSit10fIwCgYIKoZIzj0EAwIw\n"
	"DTELMAkGA1UEAwwCQ0EwHhcNMjYxMTI2MTIzMzAxWhcNMjYxMjI2MTIzMzAxWjAN\n"
	"MQswCQYDVQQDDAJDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABCiMl+0NttYn\n"
	"6zhuEYCHsmJXlD0OBeJtC1lAhzQcdA1IlrcnCqN80LGPcxz73S9mh2HDJmjxeeOq\n"
	"oQIrhEBzZ/2jUzBRMB0GA1UdDgQWBBRQGuF1qlEhGBpanB5Yuh0MbFiGDDAfBgNV\n"
	"HSMEGDAWgBRQGuF1qlEhGBpanB5Yuh0MbFiGDDAPBgNVHRMBAf8EBTADAQH/MAoG\n"
	"CCqGSM49BAMCA0kAMEYCIQD9mMGkgTT0kQ1vYj2BfUg/qvoLs5OG4QasNV3iXORm\n"
	"mAIhAJjBZymo8pzx3bMT6QcMlkhsNwYczjpuziJzIdWIf2Sh\n"
	"-----END CERTIFICATE-----\n"
	;

/* between the seeds' thisUpdate and nextUpdate */
#define FUZZ_OCSP_NOW ((time_t)1795696489)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static X509 *leaf;
	static STACK_OF(X509) *chain;
	struct l7_ocsp_info info;
	char why[300];

	if (leaf == NULL) {	/* parsed once: the PEM is not what is fuzzed */
		BIO *b = BIO_new_mem_buf(chain_pem, -1);
		X509 *x;

		chain = sk_X509_new_null();
		leaf = PEM_read_bio_X509(b, NULL, NULL, NULL);
		while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
			sk_X509_push(chain, x);
		BIO_free(b);
		if (leaf == NULL || sk_X509_num(chain) != 1)
			__builtin_trap();
	}
	l7_ocsp_check(data, size, leaf, chain, FUZZ_OCSP_NOW, &info, why, sizeof(why));
	l7_ocsp_check(data, size, leaf, chain, FUZZ_OCSP_NOW + 7 * 86400, &info, why, sizeof(why));
	return 0;
}
