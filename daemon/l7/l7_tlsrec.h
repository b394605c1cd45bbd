#ifndef TANDEM_L7_TLSREC_H
#define TANDEM_L7_TLSREC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/evp.h>

/*
 * l7_tlsrec - TLS record protection of an established server connection,
 * once OpenSSL has done the handshake and its SSL object is freed (see
 * doc/tls.md, "Record layer"). Pure: no I/O, no SSL object; the caller
 * frames records and moves bytes.
 *
 * Covered: TLS 1.3 (RFC 8446 5.2-5.3, 7.2) and TLS 1.2 AEAD (RFC 5288 GCM
 * with an explicit nonce, RFC 7905 ChaCha20-Poly1305) with AES-128-GCM,
 * AES-256-GCM and ChaCha20-Poly1305. "read" is the client's direction,
 * "write" ours. Lengths are checked before anything is decrypted; a
 * sequence number that would wrap closes the connection. Secrets are wiped
 * (OPENSSL_cleanse) when replaced and at l7_tlsrec_free, and never logged.
 */

#define L7_TLSREC_HDR		5
#define L7_TLSREC_PLAIN_MAX	16384			/* 2^14 */
/* Largest record we accept: 1.2 allows 2^14 + 2048 of ciphertext, 1.3
 * 2^14 + 256; the buffer is sized for the larger one. */
#define L7_TLSREC_IN_MAX	(L7_TLSREC_HDR + L7_TLSREC_PLAIN_MAX + 2048)
/* Bytes a sealed record adds to its payload at most (header, 1.2 explicit
 * nonce or 1.3 inner type, tag). */
#define L7_TLSREC_OVERHEAD	(L7_TLSREC_HDR + 8 + 16)
#define L7_TLSREC_SECRET_MAX	48

/* Content types (RFC 8446 5.1) and alerts we send (RFC 8446 6). */
enum {
	L7_TLSREC_CCS = 20, L7_TLSREC_ALERT = 21, L7_TLSREC_HANDSHAKE = 22, L7_TLSREC_APPDATA = 23,
};
enum {
	L7_TLSREC_A_CLOSE_NOTIFY = 0, L7_TLSREC_A_UNEXPECTED = 10, L7_TLSREC_A_BAD_MAC = 20,
	L7_TLSREC_A_OVERFLOW = 22, L7_TLSREC_A_DECODE = 50, L7_TLSREC_A_INTERNAL = 80,
};

enum l7_tlsrec_suite { L7_TLSREC_AES128GCM, L7_TLSREC_AES256GCM, L7_TLSREC_CHACHA20 };

struct l7_tlsrec_dir {
	EVP_CIPHER_CTX *ctx;			/* keyed once; the nonce per record */
	unsigned char iv[12];			/* 1.3 and ChaCha: the static IV; GCM 1.2: salt in [0..4) */
	uint64_t seq;
	unsigned char secret[L7_TLSREC_SECRET_MAX];	/* 1.3: traffic secret (KeyUpdate) */
};

struct l7_tlsrec {
	uint16_t version;			/* 0x0303 or 0x0304 */
	uint8_t suite;				/* enum l7_tlsrec_suite */
	uint8_t hashlen;			/* 1.3: 32 or 48 */
	struct l7_tlsrec_dir rd, wr;
};

/* TLS 1.3: keys and IVs from the client's and the server's application
 * traffic secrets (hashlen bytes each), with the given starting sequence
 * numbers. 0, or -1 (unknown suite, OpenSSL failure); r is then freed. */
int l7_tlsrec_init13(struct l7_tlsrec *r, enum l7_tlsrec_suite suite, const unsigned char *csecret,
		     const unsigned char *ssecret, size_t hashlen, uint64_t rseq, uint64_t wseq);
/* TLS 1.2: the key block is derived from the master secret and the two
 * hello randoms with the suite's PRF (RFC 5246 6.3). 0 or -1. */
int l7_tlsrec_init12(struct l7_tlsrec *r, enum l7_tlsrec_suite suite, const unsigned char *master,
		     size_t mlen, const unsigned char crandom[32], const unsigned char srandom[32],
		     uint64_t rseq, uint64_t wseq);
/* Wipes the secrets and frees the cipher contexts. Safe to call twice. */
void l7_tlsrec_free(struct l7_tlsrec *r);

/* Length of the record starting at p (header included) once the header
 * is there: > 0, 0 when fewer than 5 bytes are there, or -alert for a
 * record we would refuse whatever its contents (wrong outer type or
 * version, too long, too short for its tag). */
ssize_t l7_tlsrec_reclen(const struct l7_tlsrec *r, const unsigned char *p, size_t len);
/* Decrypts the complete record rec[0..len) (len from l7_tlsrec_reclen)
 * into out, which may point into rec at the payload (in place) or to
 * l7_tlsrec_plain_max(len) bytes elsewhere. Returns the content type with
 * the plaintext at *plain (len *plen), or -alert (bad_record_mac,
 * record_overflow, unexpected_message, internal_error). */
int l7_tlsrec_open(struct l7_tlsrec *r, unsigned char *rec, size_t len, unsigned char *out,
		   unsigned char **plain, size_t *plen);
/* Where l7_tlsrec_open decrypts in place, and how much room it needs. */
unsigned char *l7_tlsrec_payload(const struct l7_tlsrec *r, unsigned char *rec);
size_t l7_tlsrec_plain_max(const struct l7_tlsrec *r, size_t reclen);
/* Seals len <= L7_TLSREC_PLAIN_MAX bytes of type into out (room for len +
 * L7_TLSREC_OVERHEAD). Returns the record length, or -1 (OpenSSL failure,
 * or the sequence number would wrap: close the connection). */
ssize_t l7_tlsrec_seal(struct l7_tlsrec *r, uint8_t type, const void *in, size_t len,
		       unsigned char *out);

/* TLS 1.3 KeyUpdate (RFC 8446 4.6.3, 7.2): the next read / write traffic
 * secret, its key and IV, sequence number 0. 0 or -1. */
int l7_tlsrec_update_read(struct l7_tlsrec *r);
int l7_tlsrec_update_write(struct l7_tlsrec *r);
/* Has the TLS 1.3 write key sealed l7_tlsrec_rekey_after records (RFC
 * 8446 5.5: AES-GCM keys are good for about 2^24.5 full records)? The
 * caller then sends a KeyUpdate and calls l7_tlsrec_update_write. TLS 1.2
 * has no rekeying: always 0 (its 2^64 sequence limit still holds). */
int l7_tlsrec_write_worn(const struct l7_tlsrec *r);
extern uint64_t l7_tlsrec_rekey_after;	/* 2^24; tests lower it */

#endif
