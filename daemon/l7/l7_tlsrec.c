/*
 * l7_tlsrec - TLS 1.2/1.3 AEAD record protection (see l7_tlsrec.h and
 * doc/tls.md "Record layer").
 *
 * Invariants:
 * - A record is checked (type, version, length) before any decryption, and
 *   nothing of a record is used unless its tag verified.
 * - A sequence number is used once per direction and key; at 2^64 - 1 the
 *   connection is closed instead of wrapping.
 * - Secrets live only in struct l7_tlsrec (and on the stack while keys are
 *   derived), are wiped with OPENSSL_cleanse, and are never logged.
 */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "l7_tlsrec.h"

uint64_t l7_tlsrec_rekey_after = 1ULL << 24;

#define TAG_LEN 16
#define EXPLICIT_LEN 8		/* TLS 1.2 GCM explicit nonce (RFC 5288 3) */

/*
 * OpenSSL 3 looks an algorithm up in its provider store on every fetch
 * (and on every init with a legacy EVP_aes_*() handle): a few µs each,
 * which a takeover used to pay six times (11 µs of a ~330 µs resumed
 * handshake). The ciphers and the two digests are fetched once. HMAC is
 * written out on the digest (RFC 2104: H(K^opad || H(K^ipad || m))): an
 * EVP_MAC context costs about three times as much per use in 3.0, and
 * its KDF contexts cannot be duplicated at all, so HKDF-Expand and the
 * TLS 1.2 PRF are written out on HMAC below.
 */
static EVP_CIPHER *l7_tlsrec_ciphers[3];
static EVP_MD *l7_tlsrec_mds[2];	/* [0] SHA256, [1] SHA384 */
static pthread_once_t l7_tlsrec_once = PTHREAD_ONCE_INIT;

static void
l7_tlsrec_init_once(void)
{
	static const char *const names[3] = { "AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305" };

	for (int i = 0; i < 3; i++)
		l7_tlsrec_ciphers[i] = EVP_CIPHER_fetch(NULL, names[i], NULL);
	l7_tlsrec_mds[0] = EVP_MD_fetch(NULL, "SHA256", NULL);
	l7_tlsrec_mds[1] = EVP_MD_fetch(NULL, "SHA384", NULL);
}

static const EVP_CIPHER *
l7_tlsrec_cipher(enum l7_tlsrec_suite s)
{
	pthread_once(&l7_tlsrec_once, l7_tlsrec_init_once);
	return (unsigned)s < 3 ? l7_tlsrec_ciphers[s] : NULL;
}

/* The length of suite s's hash: SHA-384 for AES-256-GCM, SHA-256 for the
 * others (TLS 1.3 and the TLS 1.2 suites we take over alike). */
static size_t
l7_tlsrec_hashlen(enum l7_tlsrec_suite s)
{
	return s == L7_TLSREC_AES256GCM ? 48 : 32;
}

/* out = HMAC(key, a || b) with the hash of suite s; out has room for 48
 * bytes. Every key here (a traffic secret, a master secret) is at most the
 * digest's block size, so it is padded, never hashed first. 0 or -1. */
static int
l7_tlsrec_hmac(enum l7_tlsrec_suite s, const unsigned char *key, size_t klen, const unsigned char *a,
	       size_t alen, const unsigned char *b, size_t blen, unsigned char *out)
{
	unsigned char pad[128], inner[48];
	size_t bs = l7_tlsrec_hashlen(s) == 48 ? 128 : 64, i;
	const EVP_MD *md;
	EVP_MD_CTX *c;
	unsigned n;
	int ok;

	pthread_once(&l7_tlsrec_once, l7_tlsrec_init_once);
	md = l7_tlsrec_mds[bs == 128];
	if (md == NULL || klen > bs || (c = EVP_MD_CTX_new()) == NULL)
		return -1;
	memset(pad, 0x36, bs);
	for (i = 0; i < klen; i++)
		pad[i] ^= key[i];
	ok = EVP_DigestInit_ex2(c, md, NULL) == 1 && EVP_DigestUpdate(c, pad, bs) == 1 &&
	     EVP_DigestUpdate(c, a, alen) == 1 && (blen == 0 || EVP_DigestUpdate(c, b, blen) == 1) &&
	     EVP_DigestFinal_ex(c, inner, &n) == 1;
	for (i = 0; i < bs; i++)
		pad[i] ^= 0x36 ^ 0x5c;
	ok = ok && EVP_DigestInit_ex2(c, md, NULL) == 1 && EVP_DigestUpdate(c, pad, bs) == 1 &&
	     EVP_DigestUpdate(c, inner, n) == 1 && EVP_DigestFinal_ex(c, out, &n) == 1;
	EVP_MD_CTX_free(c);
	OPENSSL_cleanse(pad, sizeof(pad));
	OPENSSL_cleanse(inner, sizeof(inner));
	return ok ? 0 : -1;
}

static size_t
l7_tlsrec_keylen(enum l7_tlsrec_suite s)
{
	return s == L7_TLSREC_AES128GCM ? 16 : 32;
}

/* Does the suite carry an explicit nonce in the record (TLS 1.2 GCM)? */
static int
l7_tlsrec_explicit(const struct l7_tlsrec *r)
{
	return r->version == 0x0303 && r->suite != L7_TLSREC_CHACHA20;
}

/* Keys d's context for one direction (enc: we seal). */
static int
l7_tlsrec_key(struct l7_tlsrec *r, struct l7_tlsrec_dir *d, const unsigned char *key, int enc)
{
	if (d->ctx == NULL && (d->ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	return EVP_CipherInit_ex(d->ctx, l7_tlsrec_cipher(r->suite), NULL, key, NULL, enc) == 1 ? 0 : -1;
}

/* HKDF-Expand-Label(secret, label, "", len) (RFC 8446 7.1) with the hash
 * of suite s. Every length asked for here (key, IV, next secret) fits one
 * HKDF-Expand block: T(1) = HMAC(secret, HkdfLabel || 0x01). */
static int
l7_tlsrec_expand_label(enum l7_tlsrec_suite s, const unsigned char *secret, size_t slen,
		       const char *label, unsigned char *out, size_t len)
{
	unsigned char info[2 + 1 + 6 + 32 + 1 + 1], t[48];
	size_t ll = strlen(label), n = 0;
	int rc;

	if (ll > 32 || len > slen || slen > sizeof(t))
		return -1;
	info[n++] = (unsigned char)(len >> 8);
	info[n++] = (unsigned char)len;
	info[n++] = (unsigned char)(6 + ll);
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, label, ll);
	n += ll;
	info[n++] = 0;			/* empty context */
	info[n++] = 1;			/* HKDF-Expand's block counter */
	rc = l7_tlsrec_hmac(s, secret, slen, info, n, NULL, 0, t);
	if (rc == 0)
		memcpy(out, t, len);
	OPENSSL_cleanse(t, sizeof(t));
	return rc;
}

/* The TLS 1.2 PRF's P_hash (RFC 5246 5): len bytes of
 * HMAC(secret, A(1) || seed) || HMAC(secret, A(2) || seed) || ...,
 * A(0) = seed, A(i) = HMAC(secret, A(i-1)). seed includes the label. */
static int
l7_tlsrec_prf12(enum l7_tlsrec_suite s, const unsigned char *secret, size_t slen,
		const unsigned char *seed, size_t seedlen, unsigned char *out, size_t len)
{
	size_t hl = l7_tlsrec_hashlen(s), done = 0, n;
	unsigned char a[48], t[48];
	int rc = l7_tlsrec_hmac(s, secret, slen, seed, seedlen, NULL, 0, a);

	while (rc == 0 && done < len) {
		rc = l7_tlsrec_hmac(s, secret, slen, a, hl, seed, seedlen, t);
		n = len - done < hl ? len - done : hl;
		if (rc == 0) {
			memcpy(out + done, t, n);
			done += n;
			rc = l7_tlsrec_hmac(s, secret, slen, a, hl, NULL, 0, a);
		}
	}
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(t, sizeof(t));
	return rc;
}

/* 1.3: d's key and IV from its traffic secret, sequence number seq. */
static int
l7_tlsrec_dir13(struct l7_tlsrec *r, struct l7_tlsrec_dir *d, int enc, uint64_t seq)
{
	unsigned char key[32];
	int rc;

	rc = l7_tlsrec_expand_label(r->suite, d->secret, r->hashlen, "key", key,
				    l7_tlsrec_keylen(r->suite));
	if (rc == 0)
		rc = l7_tlsrec_expand_label(r->suite, d->secret, r->hashlen, "iv", d->iv,
					    sizeof(d->iv));
	if (rc == 0)
		rc = l7_tlsrec_key(r, d, key, enc);
	OPENSSL_cleanse(key, sizeof(key));
	d->seq = seq;
	return rc;
}

int
l7_tlsrec_init13(struct l7_tlsrec *r, enum l7_tlsrec_suite suite, const unsigned char *csecret,
		 const unsigned char *ssecret, size_t hashlen, uint64_t rseq, uint64_t wseq)
{
	memset(r, 0, sizeof(*r));
	r->version = 0x0304;
	r->suite = (uint8_t)suite;
	r->hashlen = (uint8_t)hashlen;
	if (l7_tlsrec_cipher(suite) == NULL || hashlen != l7_tlsrec_hashlen(suite))
		return -1;
	memcpy(r->rd.secret, csecret, hashlen);
	memcpy(r->wr.secret, ssecret, hashlen);
	if (l7_tlsrec_dir13(r, &r->rd, 0, rseq) < 0 || l7_tlsrec_dir13(r, &r->wr, 1, wseq) < 0) {
		l7_tlsrec_free(r);
		return -1;
	}
	return 0;
}

int
l7_tlsrec_init12(struct l7_tlsrec *r, enum l7_tlsrec_suite suite, const unsigned char *master,
		 size_t mlen, const unsigned char crandom[32], const unsigned char srandom[32],
		 uint64_t rseq, uint64_t wseq)
{
	static const char label[] = "key expansion";
	unsigned char seed[sizeof(label) - 1 + 64], kb[2 * 32 + 2 * 12];
	size_t kl, ivl, ll = sizeof(label) - 1;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	r->version = 0x0303;
	r->suite = (uint8_t)suite;
	if (l7_tlsrec_cipher(suite) == NULL)
		return -1;
	kl = l7_tlsrec_keylen(suite);
	ivl = suite == L7_TLSREC_CHACHA20 ? 12 : 4;	/* RFC 7905 2 / RFC 5288 3 */
	/* key_block = PRF(master, "key expansion", server_random + client_random) */
	memcpy(seed, label, ll);
	memcpy(seed + ll, srandom, 32);
	memcpy(seed + ll + 32, crandom, 32);
	/* client_write_key, server_write_key, client_write_IV, server_write_IV */
	if (l7_tlsrec_prf12(suite, master, mlen, seed, sizeof(seed), kb, 2 * kl + 2 * ivl) == 0) {
		memcpy(r->rd.iv, kb + 2 * kl, ivl);
		memcpy(r->wr.iv, kb + 2 * kl + ivl, ivl);
		if (l7_tlsrec_key(r, &r->rd, kb, 0) == 0 && l7_tlsrec_key(r, &r->wr, kb + kl, 1) == 0)
			rc = 0;
	}
	OPENSSL_cleanse(kb, sizeof(kb));
	r->rd.seq = rseq;
	r->wr.seq = wseq;
	if (rc < 0)
		l7_tlsrec_free(r);
	return rc;
}

void
l7_tlsrec_free(struct l7_tlsrec *r)
{
	EVP_CIPHER_CTX_free(r->rd.ctx);
	EVP_CIPHER_CTX_free(r->wr.ctx);
	OPENSSL_cleanse(r, sizeof(*r));
}

static void
l7_tlsrec_be64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

/* The per-record nonce: IV xor seq (1.3, ChaCha), or salt + explicit. */
static void
l7_tlsrec_nonce(const struct l7_tlsrec *r, const struct l7_tlsrec_dir *d,
		const unsigned char *explicit, unsigned char nonce[12])
{
	unsigned char s[8];
	int i;

	if (l7_tlsrec_explicit(r)) {
		memcpy(nonce, d->iv, 4);
		memcpy(nonce + 4, explicit, EXPLICIT_LEN);
		return;
	}
	l7_tlsrec_be64(s, d->seq);
	memcpy(nonce, d->iv, 12);
	for (i = 0; i < 8; i++)
		nonce[4 + i] ^= s[i];
}

/* The TLS 1.2 additional data: seq, type, version, plaintext length. */
static void
l7_tlsrec_aad12(const struct l7_tlsrec_dir *d, uint8_t type, size_t plen, unsigned char aad[13])
{
	l7_tlsrec_be64(aad, d->seq);
	aad[8] = type;
	aad[9] = 3;
	aad[10] = 3;
	aad[11] = (unsigned char)(plen >> 8);
	aad[12] = (unsigned char)plen;
}

ssize_t
l7_tlsrec_reclen(const struct l7_tlsrec *r, const unsigned char *p, size_t len)
{
	size_t body;

	if (len < L7_TLSREC_HDR)
		return 0;
	body = (size_t)p[3] << 8 | p[4];
	if (r->version == 0x0304) {
		/* only protected records after the handshake (RFC 8446 5);
		 * legacy_record_version is ignored (it is in the AAD) */
		if (p[0] != L7_TLSREC_APPDATA)
			return -L7_TLSREC_A_UNEXPECTED;
		if (body > L7_TLSREC_PLAIN_MAX + 256)
			return -L7_TLSREC_A_OVERFLOW;
		if (body < TAG_LEN + 1)
			return -L7_TLSREC_A_DECODE;
	} else {
		if (p[0] != L7_TLSREC_ALERT && p[0] != L7_TLSREC_HANDSHAKE && p[0] != L7_TLSREC_APPDATA)
			return -L7_TLSREC_A_UNEXPECTED;
		if (p[1] != 3 || p[2] != 3)
			return -L7_TLSREC_A_DECODE;
		if (body > L7_TLSREC_PLAIN_MAX + 2048)
			return -L7_TLSREC_A_OVERFLOW;
		if (body < TAG_LEN + (l7_tlsrec_explicit(r) ? EXPLICIT_LEN : 0))
			return -L7_TLSREC_A_DECODE;
	}
	return (ssize_t)(L7_TLSREC_HDR + body);
}

unsigned char *
l7_tlsrec_payload(const struct l7_tlsrec *r, unsigned char *rec)
{
	return rec + L7_TLSREC_HDR + (l7_tlsrec_explicit(r) ? EXPLICIT_LEN : 0);
}

size_t
l7_tlsrec_plain_max(const struct l7_tlsrec *r, size_t reclen)
{
	return reclen - L7_TLSREC_HDR - TAG_LEN - (l7_tlsrec_explicit(r) ? EXPLICIT_LEN : 0);
}

int
l7_tlsrec_open(struct l7_tlsrec *r, unsigned char *rec, size_t len, unsigned char *out,
	       unsigned char **plain, size_t *plen)
{
	struct l7_tlsrec_dir *d = &r->rd;
	unsigned char nonce[12], aad[13], *ct = l7_tlsrec_payload(r, rec);
	size_t clen = l7_tlsrec_plain_max(r, len);
	int n, fin, type = rec[0];

	if (d->seq == UINT64_MAX)
		return -L7_TLSREC_A_INTERNAL;
	/* the plaintext limits, before decrypting (RFC 8446 5.2, RFC 5246 6.2.3) */
	if (clen > L7_TLSREC_PLAIN_MAX + (r->version == 0x0304 ? 1 : 0))
		return -L7_TLSREC_A_OVERFLOW;
	l7_tlsrec_nonce(r, d, rec + L7_TLSREC_HDR, nonce);
	if (r->version == 0x0304) {
		memcpy(aad, rec, L7_TLSREC_HDR);
		n = L7_TLSREC_HDR;
	} else {
		l7_tlsrec_aad12(d, (uint8_t)type, clen, aad);
		n = 13;
	}
	if (EVP_CipherInit_ex(d->ctx, NULL, NULL, NULL, nonce, 0) != 1 ||
	    EVP_CIPHER_CTX_ctrl(d->ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, ct + clen) != 1 ||
	    EVP_CipherUpdate(d->ctx, NULL, &fin, aad, n) != 1)
		return -L7_TLSREC_A_INTERNAL;
	if (EVP_CipherUpdate(d->ctx, out, &n, ct, (int)clen) != 1 ||
	    EVP_CipherFinal_ex(d->ctx, out + n, &fin) != 1)
		return -L7_TLSREC_A_BAD_MAC;
	d->seq++;
	if (r->version == 0x0304) {
		/* TLSInnerPlaintext: content, type, zero padding (RFC 8446 5.2) */
		while (clen > 0 && out[clen - 1] == 0)
			clen--;
		if (clen == 0)
			return -L7_TLSREC_A_UNEXPECTED;
		type = out[--clen];
		if (type != L7_TLSREC_APPDATA && type != L7_TLSREC_ALERT && type != L7_TLSREC_HANDSHAKE)
			return -L7_TLSREC_A_UNEXPECTED;
		/* the padding may bring the inner plaintext to 2^14 + 1; the
		 * content itself stays within 2^14 */
		if (clen > L7_TLSREC_PLAIN_MAX)
			return -L7_TLSREC_A_OVERFLOW;
	}
	*plain = out;
	*plen = clen;
	return type;
}

ssize_t
l7_tlsrec_seal(struct l7_tlsrec *r, uint8_t type, const void *in, size_t len, unsigned char *out)
{
	struct l7_tlsrec_dir *d = &r->wr;
	int tls13 = r->version == 0x0304, n, m;
	size_t body = len + TAG_LEN + (tls13 ? 1 : 0) + (l7_tlsrec_explicit(r) ? EXPLICIT_LEN : 0);
	unsigned char nonce[12], aad[13], *ct = l7_tlsrec_payload(r, out), *p = ct;

	if (d->seq == UINT64_MAX || len > L7_TLSREC_PLAIN_MAX)
		return -1;
	out[0] = tls13 ? L7_TLSREC_APPDATA : type;
	out[1] = 3;
	out[2] = 3;
	out[3] = (unsigned char)(body >> 8);
	out[4] = (unsigned char)body;
	if (l7_tlsrec_explicit(r))
		l7_tlsrec_be64(out + L7_TLSREC_HDR, d->seq);	/* the explicit nonce is our seq */
	l7_tlsrec_nonce(r, d, out + L7_TLSREC_HDR, nonce);
	if (tls13) {
		memcpy(aad, out, L7_TLSREC_HDR);
		n = L7_TLSREC_HDR;
	} else {
		l7_tlsrec_aad12(d, type, len, aad);
		n = 13;
	}
	if (EVP_CipherInit_ex(d->ctx, NULL, NULL, NULL, nonce, 1) != 1 ||
	    EVP_CipherUpdate(d->ctx, NULL, &m, aad, n) != 1 ||
	    EVP_CipherUpdate(d->ctx, p, &m, in, (int)len) != 1)
		return -1;
	p += m;
	if (tls13) {
		if (EVP_CipherUpdate(d->ctx, p, &m, &type, 1) != 1)
			return -1;
		p += m;
	}
	if (EVP_CipherFinal_ex(d->ctx, p, &m) != 1)
		return -1;
	p += m;
	if (EVP_CIPHER_CTX_ctrl(d->ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN, p) != 1)
		return -1;
	d->seq++;
	return (ssize_t)(L7_TLSREC_HDR + body);
}

/* The next traffic secret: HKDF-Expand-Label(secret, "traffic upd", "", Hash.length). */
static int
l7_tlsrec_update(struct l7_tlsrec *r, struct l7_tlsrec_dir *d, int enc)
{
	unsigned char next[L7_TLSREC_SECRET_MAX];
	int rc;

	if (r->version != 0x0304)
		return -1;
	rc = l7_tlsrec_expand_label(r->suite, d->secret, r->hashlen, "traffic upd", next,
				    r->hashlen);
	if (rc == 0) {
		memcpy(d->secret, next, r->hashlen);
		rc = l7_tlsrec_dir13(r, d, enc, 0);
	}
	OPENSSL_cleanse(next, sizeof(next));
	return rc;
}

int
l7_tlsrec_update_read(struct l7_tlsrec *r)
{
	return l7_tlsrec_update(r, &r->rd, 0);
}

int
l7_tlsrec_update_write(struct l7_tlsrec *r)
{
	return l7_tlsrec_update(r, &r->wr, 1);
}

int
l7_tlsrec_write_worn(const struct l7_tlsrec *r)
{
	return r->version == 0x0304 && r->wr.seq >= l7_tlsrec_rekey_after;
}
