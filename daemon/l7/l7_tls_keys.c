/*
 * l7_tls_keys - the process-wide store of TLS session-ticket keys: made at
 * start, rotated on a schedule or on command, shared with the peer node and
 * handed to the new binary at an upgrade (export/import), read by the
 * workers' ticket callback under the store's own lock.
 *
 * Secrets are wiped (OPENSSL_cleanse) when keys are dropped or freed, and
 * never logged. No SSL here: the peer link's fuzzer links this file alone.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "l7_tls.h"

struct l7_tls_keys {
	pthread_mutex_t lock;
	unsigned lifetime;
	size_t n;				/* keys held, current = k[0] */
	struct l7_tls_ticket_key k[L7_TLS_KEYS_MAX];
};

static int
l7_tls_key_make(struct l7_tls_ticket_key *k, uint64_t now)
{
	if (RAND_bytes(k->name, sizeof(k->name)) != 1 || RAND_priv_bytes(k->aes, sizeof(k->aes)) != 1 ||
	    RAND_priv_bytes(k->hmac, sizeof(k->hmac)) != 1)
		return -EIO;
	k->created = now;
	return 0;
}

struct l7_tls_keys *
l7_tls_keys_new(uint64_t now, unsigned lifetime)
{
	struct l7_tls_keys *ks = calloc(1, sizeof(*ks));

	if (ks == NULL)
		return NULL;
	if (pthread_mutex_init(&ks->lock, NULL) != 0) {
		free(ks);
		return NULL;
	}
	ks->lifetime = lifetime;
	if (l7_tls_key_make(&ks->k[0], now) < 0) {
		l7_tls_keys_free(&ks);
		return NULL;
	}
	ks->n = 1;
	return ks;
}

void
l7_tls_keys_free(struct l7_tls_keys **ksp)
{
	struct l7_tls_keys *ks = *ksp;

	if (ks == NULL)
		return;
	pthread_mutex_destroy(&ks->lock);
	OPENSSL_cleanse(ks, sizeof(*ks));
	free(ks);
	*ksp = NULL;
}

int
l7_tls_keys_rotate(struct l7_tls_keys *ks, uint64_t now)
{
	struct l7_tls_ticket_key fresh;

	if (l7_tls_key_make(&fresh, now) < 0)
		return -EIO;
	pthread_mutex_lock(&ks->lock);
	if (ks->n == L7_TLS_KEYS_MAX)
		OPENSSL_cleanse(&ks->k[L7_TLS_KEYS_MAX - 1], sizeof(ks->k[0]));
	else
		ks->n++;
	memmove(&ks->k[1], &ks->k[0], (ks->n - 1) * sizeof(ks->k[0]));
	ks->k[0] = fresh;
	pthread_mutex_unlock(&ks->lock);
	OPENSSL_cleanse(&fresh, sizeof(fresh));
	return 0;
}

int
l7_tls_keys_tick(struct l7_tls_keys *ks, uint64_t now)
{
	int due;

	pthread_mutex_lock(&ks->lock);
	due = ks->lifetime > 0 && now >= ks->k[0].created + ks->lifetime;
	pthread_mutex_unlock(&ks->lock);
	if (!due)
		return 0;
	return l7_tls_keys_rotate(ks, now) < 0 ? -EIO : 1;
}

void
l7_tls_keys_set_lifetime(struct l7_tls_keys *ks, unsigned lifetime)
{
	pthread_mutex_lock(&ks->lock);
	ks->lifetime = lifetime;
	pthread_mutex_unlock(&ks->lock);
}

size_t
l7_tls_keys_meta(struct l7_tls_keys *ks, uint64_t *current_created, unsigned *lifetime)
{
	size_t n;

	pthread_mutex_lock(&ks->lock);
	n = ks->n;
	*current_created = ks->k[0].created;
	*lifetime = ks->lifetime;
	pthread_mutex_unlock(&ks->lock);
	return n;
}

size_t
l7_tls_keys_get(struct l7_tls_keys *ks, struct l7_tls_ticket_key *out, size_t max)
{
	size_t i;

	pthread_mutex_lock(&ks->lock);
	for (i = 0; i < ks->n && i < max; i++)
		out[i] = ks->k[i];
	pthread_mutex_unlock(&ks->lock);
	return i;
}

#define L7_TLS_KEYS_MAGIC "TTK"
#define L7_TLS_KEYS_VERSION 1
#define L7_TLS_KEY_REC (L7_TLS_KEY_NAME_LEN + L7_TLS_KEY_AES_LEN + L7_TLS_KEY_HMAC_LEN + 8)

ssize_t
l7_tls_keys_export(struct l7_tls_keys *ks, unsigned char *buf, size_t len)
{
	unsigned char *p = buf;
	size_t i;
	int b;

	pthread_mutex_lock(&ks->lock);
	if (len < L7_TLS_KEYS_EXPORT_LEN(ks->n)) {
		pthread_mutex_unlock(&ks->lock);
		return -ENOSPC;
	}
	memcpy(p, L7_TLS_KEYS_MAGIC, 3);
	p[3] = L7_TLS_KEYS_VERSION;
	p[4] = p[5] = p[6] = 0;
	p[7] = (unsigned char)ks->n;
	p += 8;
	for (i = 0; i < ks->n; i++) {
		memcpy(p, ks->k[i].name, L7_TLS_KEY_NAME_LEN);
		p += L7_TLS_KEY_NAME_LEN;
		memcpy(p, ks->k[i].aes, L7_TLS_KEY_AES_LEN);
		p += L7_TLS_KEY_AES_LEN;
		memcpy(p, ks->k[i].hmac, L7_TLS_KEY_HMAC_LEN);
		p += L7_TLS_KEY_HMAC_LEN;
		for (b = 7; b >= 0; b--)
			*p++ = (unsigned char)(ks->k[i].created >> (8 * b));
	}
	pthread_mutex_unlock(&ks->lock);
	return p - buf;
}

int
l7_tls_keys_import(struct l7_tls_keys *ks, const unsigned char *buf, size_t len)
{
	struct l7_tls_ticket_key k[L7_TLS_KEYS_MAX];
	size_t n, i;
	int b;

	if (len < 8 || memcmp(buf, L7_TLS_KEYS_MAGIC, 3) != 0 || buf[3] != L7_TLS_KEYS_VERSION)
		return -EINVAL;
	n = buf[7];
	if (n == 0 || n > L7_TLS_KEYS_MAX || len != L7_TLS_KEYS_EXPORT_LEN(n))
		return -EINVAL;
	buf += 8;
	for (i = 0; i < n; i++) {
		memcpy(k[i].name, buf, L7_TLS_KEY_NAME_LEN);
		buf += L7_TLS_KEY_NAME_LEN;
		memcpy(k[i].aes, buf, L7_TLS_KEY_AES_LEN);
		buf += L7_TLS_KEY_AES_LEN;
		memcpy(k[i].hmac, buf, L7_TLS_KEY_HMAC_LEN);
		buf += L7_TLS_KEY_HMAC_LEN;
		k[i].created = 0;
		for (b = 0; b < 8; b++)
			k[i].created = (k[i].created << 8) | *buf++;
	}
	pthread_mutex_lock(&ks->lock);
	OPENSSL_cleanse(ks->k, sizeof(ks->k));
	memcpy(ks->k, k, n * sizeof(k[0]));
	ks->n = n;
	pthread_mutex_unlock(&ks->lock);
	OPENSSL_cleanse(k, sizeof(k));
	return 0;
}

int
l7_tls_keys_find(struct l7_tls_keys *ks, const unsigned char *name, struct l7_tls_ticket_key *out)
{
	int found = -1;
	size_t i;

	pthread_mutex_lock(&ks->lock);
	if (name == NULL) {
		*out = ks->k[0];
		found = 0;
	} else {
		for (i = 0; i < ks->n; i++)
			if (CRYPTO_memcmp(name, ks->k[i].name, L7_TLS_KEY_NAME_LEN) == 0) {
				*out = ks->k[i];
				found = (int)i;
				break;
			}
	}
	pthread_mutex_unlock(&ks->lock);
	return found;
}
