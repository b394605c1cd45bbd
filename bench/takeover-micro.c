/*
 * bench/takeover-micro.c - time the key derivation of a record-layer
 * takeover alone (l7_tlsrec_init13 for each TLS 1.3 suite, init12 for
 * TLS 1.2 AES-128-GCM): what every TLS connection pays on top of
 * OpenSSL's handshake when tandemd takes the record layer over. Median of
 * 5 rounds of N derivations. Run by bench/takeover-micro.sh. Not a test.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "l7_tlsrec.h"

static double
now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	static const struct { const char *name; enum l7_tlsrec_suite s; size_t hl; int v12; } suites[] = {
		{ "TLS 1.3 AES-128-GCM", L7_TLSREC_AES128GCM, 32, 0 },
		{ "TLS 1.3 AES-256-GCM", L7_TLSREC_AES256GCM, 48, 0 },
		{ "TLS 1.3 ChaCha20-Poly1305", L7_TLSREC_CHACHA20, 32, 0 },
		{ "TLS 1.2 AES-128-GCM", L7_TLSREC_AES128GCM, 32, 1 },
	};
	unsigned char cs[48], ss[48], cr[32], sr[32];
	int n = argc > 1 ? atoi(argv[1]) : 20000;

	memset(cs, 1, sizeof(cs));
	memset(ss, 2, sizeof(ss));
	memset(cr, 3, sizeof(cr));
	memset(sr, 4, sizeof(sr));
	for (size_t k = 0; k < sizeof(suites) / sizeof(suites[0]); k++) {
		double rounds[5];

		for (int round = 0; round < 5; round++) {
			double t0 = now_us();

			for (int i = 0; i < n; i++) {
				struct l7_tlsrec r;
				int rc;

				memset(&r, 0, sizeof(r));
				rc = suites[k].v12 ? l7_tlsrec_init12(&r, suites[k].s, cs, 48, cr, sr, 1, 1)
						   : l7_tlsrec_init13(&r, suites[k].s, cs, ss, suites[k].hl, 0, 0);
				if (rc != 0) {
					fprintf(stderr, "%s: derivation failed\n", suites[k].name);
					return 1;
				}
				l7_tlsrec_free(&r);
			}
			rounds[round] = (now_us() - t0) / n;
		}
		qsort(rounds, 5, sizeof(rounds[0]), cmp);
		printf("%-28s %6.2f us per takeover (median of 5 x %d; min %.2f, max %.2f)\n",
		       suites[k].name, rounds[2], n, rounds[0], rounds[4]);
	}
	return 0;
}
