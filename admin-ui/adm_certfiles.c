/*
 * adm_certfiles - the certificate files tandemd reads (see adm_certfiles.h).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adm_certfiles.h"
#include "conf.h"
#include "db.h"
#include "jh.h"
#include "log.h"

#define ADM_CERTFILES_DIR_MODE 0750
#define ADM_CERTFILES_CRT_MODE 0640
#define ADM_CERTFILES_KEY_MODE 0600

int
adm_certfiles_dir(const struct adm *a, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/certs", a->state_dir);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The directory, created 0750, narrowed when an older one is wider. */
static int
adm_certfiles_mkdir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, ADM_CERTFILES_DIR_MODE) < 0 && errno != EEXIST)
		return -errno;
	if (stat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if ((st.st_mode & 07777) != ADM_CERTFILES_DIR_MODE && chmod(dir, ADM_CERTFILES_DIR_MODE) < 0)
		return -errno;
	return 0;
}

/* A CA bundle: NAME.ca, public. */
static int
adm_certfiles_ca(struct adm *a, const char *dir, const char *name)
{
	char path[1024], *pem = NULL;
	int rc;

	if (conf_tls_file(dir, name, ".ca", path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	rc = db_ca_pem(a->db, name, &pem);
	if (rc == 0)
		rc = jh_write_file_atomic(path, pem, ADM_CERTFILES_CRT_MODE);
	free(pem);
	return rc;
}

static int
adm_certfiles_one(struct adm *a, const char *dir, const char *name)
{
	char crt[1024], key[1024], *cert_pem = NULL, *key_pem = NULL;
	int rc;

	if (conf_tls_file(dir, name, ".crt", crt, sizeof(crt)) < 0 ||
	    conf_tls_file(dir, name, ".key", key, sizeof(key)) < 0)
		return -ENAMETOOLONG;
	rc = db_cert_pem(a->db, name, &cert_pem, &key_pem);
	if (rc < 0)
		return rc;
	/* the key first: a chain without its key is of no use anyway */
	rc = jh_write_file_atomic(key, key_pem, ADM_CERTFILES_KEY_MODE);
	if (rc == 0)
		rc = jh_write_file_atomic(crt, cert_pem, ADM_CERTFILES_CRT_MODE);
	explicit_bzero(key_pem, strlen(key_pem));
	free(key_pem);
	free(cert_pem);
	return rc;
}

/* Calls fn for each certificate name (ci its index) and each client_auth
 * CA bundle name (ci -1) of each TLS listener of cfg. */
static int
adm_certfiles_each(const json_t *cfg, int (*fn)(void *, const char *, size_t, long), void *arg)
{
	json_t *l, *cn, *tls;
	const char *ca;
	size_t i, j;
	int rc;

	json_array_foreach(json_object_get(cfg, "listeners"), i, l) {
		tls = json_object_get(l, "tls");
		json_array_foreach(json_object_get(tls, "certificates"), j, cn) {
			if (!json_is_string(cn))
				continue;
			rc = fn(arg, json_string_value(cn), i, (long)j);
			if (rc < 0)
				return rc;
		}
		ca = json_string_value(json_object_get(json_object_get(tls, "client_auth"), "ca"));
		if (ca != NULL && (rc = fn(arg, ca, i, -1)) < 0)
			return rc;
	}
	return 0;
}

struct adm_certfiles_w {
	struct adm *a;
	const char *dir;
	json_t *errors;
	int rc;
};

static int
adm_certfiles_w_one(void *arg, const char *name, size_t li, long ci)
{
	struct adm_certfiles_w *w = arg;
	const char *what = ci < 0 ? "CA bundle" : "certificate";
	char path[160], msg[300];
	int rc = ci < 0 ? adm_certfiles_ca(w->a, w->dir, name) : adm_certfiles_one(w->a, w->dir, name);

	if (rc == 0)
		return 0;
	if (ci < 0)
		snprintf(path, sizeof(path), "$.listeners[%zu].tls.client_auth.ca", li);
	else
		snprintf(path, sizeof(path), "$.listeners[%zu].tls.certificates[%ld]", li, ci);
	if (rc == -ENOENT)
		snprintf(msg, sizeof(msg), "there is no %s named \"%s\" (upload it first)", what, name);
	else
		snprintf(msg, sizeof(msg), "cannot write the files of %s \"%s\": %s", what, name,
			 strerror(-rc));
	json_array_append_new(w->errors, json_pack("{s:s,s:s}", "path", path, "message", msg));
	if (w->rc == 0 || rc != -ENOENT)
		w->rc = rc;
	return 0;	/* report every name */
}

static int
adm_certfiles_any(void *arg, const char *name, size_t li, long ci)
{
	(void)arg;
	(void)name;
	(void)li;
	(void)ci;
	return -EEXIST;
}

int
adm_certfiles_write(struct adm *a, const json_t *cfg, json_t **errors)
{
	struct adm_certfiles_w w = { .a = a };
	char dir[900];
	int rc;

	*errors = NULL;
	if (adm_certfiles_each(cfg, adm_certfiles_any, NULL) == 0)
		return 0;	/* no TLS listener: nothing to write, no directory needed */
	if ((w.errors = json_array()) == NULL)
		return -ENOMEM;
	rc = adm_certfiles_dir(a, dir, sizeof(dir));
	if (rc == 0)
		rc = adm_certfiles_mkdir(dir);
	if (rc == -ENOENT)
		rc = -EIO;	/* -ENOENT means "no such certificate" to the caller */
	if (rc < 0) {
		json_array_append_new(w.errors, json_pack("{s:s,s:s}", "path", "$", "message",
							  "cannot create the certificate directory"));
		log_err("cannot create %s: %s", dir, strerror(-rc));
		*errors = w.errors;
		return rc;
	}
	w.dir = dir;
	adm_certfiles_each(cfg, adm_certfiles_w_one, &w);
	if (w.rc < 0) {
		*errors = w.errors;
		return w.rc;
	}
	json_decref(w.errors);
	return 0;
}

struct adm_certfiles_f {
	const char *name;
	int ca;
};

static int
adm_certfiles_named(void *arg, const char *name, size_t li, long ci)
{
	const struct adm_certfiles_f *f = arg;

	(void)li;
	return (ci < 0) == f->ca && strcmp(name, f->name) == 0 ? -EEXIST : 0;
}

void
adm_certfiles_prune(struct adm *a, const json_t *cfg)
{
	char dir[900], path[1200], name[256];
	struct dirent *de;
	DIR *d;

	if (adm_certfiles_dir(a, dir, sizeof(dir)) < 0 || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name), el;
		const char *dot = strrchr(de->d_name, '.');
		struct adm_certfiles_f f = { .name = name };

		if (dot == NULL || (strcmp(dot, ".crt") != 0 && strcmp(dot, ".key") != 0 &&
				    strcmp(dot, ".ca") != 0))
			continue;
		el = strlen(dot);
		if (n - el >= sizeof(name))
			continue;
		memcpy(name, de->d_name, n - el);
		name[n - el] = '\0';
		f.ca = strcmp(dot, ".ca") == 0;
		if (adm_certfiles_each(cfg, adm_certfiles_named, &f) == -EEXIST)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) < 0 && errno != ENOENT)
			log_warn("cannot remove %s: %s", path, strerror(errno));
	}
	closedir(d);
}
