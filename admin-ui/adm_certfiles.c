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
#include "adm_ocsp.h"
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
	if (rc == 0)
		rc = adm_ocsp_file(a, dir, name);	/* NAME.ocsp: stapled when stored */
	explicit_bzero(key_pem, strlen(key_pem));
	free(key_pem);
	free(cert_pem);
	return rc;
}

/* One name of a TLS object: fn(arg, name, ca, path) unless it is absent. */
static int
adm_certfiles_call(json_t *v, int ca, const char *path, adm_certfiles_fn fn, void *arg)
{
	return json_is_string(v) && json_string_length(v) > 0 ? fn(arg, json_string_value(v), ca, path) : 0;
}

int
adm_certfiles_each(const json_t *cfg, adm_certfiles_fn fn, void *arg)
{
	json_t *o, *cn, *tls;
	char path[160];
	size_t i, j;
	int rc;

	json_array_foreach(json_object_get(cfg, "listeners"), i, o) {
		tls = json_object_get(o, "tls");
		json_array_foreach(json_object_get(tls, "certificates"), j, cn) {
			snprintf(path, sizeof(path), "$.listeners[%zu].tls.certificates[%zu]", i, j);
			if ((rc = adm_certfiles_call(cn, 0, path, fn, arg)) < 0)
				return rc;
		}
		snprintf(path, sizeof(path), "$.listeners[%zu].tls.client_auth.ca", i);
		if ((rc = adm_certfiles_call(json_object_get(json_object_get(tls, "client_auth"), "ca"), 1,
					     path, fn, arg)) < 0)
			return rc;
	}
	/* pools: TLS towards the members (CA bundle, mTLS client certificate) */
	json_array_foreach(json_object_get(cfg, "pools"), i, o) {
		tls = json_object_get(o, "tls");
		snprintf(path, sizeof(path), "$.pools[%zu].tls.ca", i);
		if ((rc = adm_certfiles_call(json_object_get(tls, "ca"), 1, path, fn, arg)) < 0)
			return rc;
		snprintf(path, sizeof(path), "$.pools[%zu].tls.client_certificate", i);
		if ((rc = adm_certfiles_call(json_object_get(tls, "client_certificate"), 0, path, fn,
					     arg)) < 0)
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
adm_certfiles_w_one(void *arg, const char *name, int ca, const char *path)
{
	struct adm_certfiles_w *w = arg;
	const char *what = ca ? "CA bundle" : "certificate";
	char msg[300];
	int rc = ca ? adm_certfiles_ca(w->a, w->dir, name) : adm_certfiles_one(w->a, w->dir, name);

	if (rc == 0)
		return 0;
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
adm_certfiles_any(void *arg, const char *name, int ca, const char *path)
{
	(void)arg;
	(void)name;
	(void)ca;
	(void)path;
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
		return 0;	/* no TLS listener or pool: nothing to write, no directory needed */
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
	char *path;	/* when not NULL: the first user's JSON path goes here */
	size_t plen;
};

static int
adm_certfiles_named(void *arg, const char *name, int ca, const char *path)
{
	const struct adm_certfiles_f *f = arg;

	if ((ca != 0) != (f->ca != 0) || strcmp(name, f->name) != 0)
		return 0;
	if (f->path != NULL)
		snprintf(f->path, f->plen, "%s", path);
	return -EEXIST;
}

int
adm_certfiles_user(const json_t *cfg, const char *name, int ca, char *who, size_t len)
{
	char path[160], kind[16];
	struct adm_certfiles_f f = { .name = name, .ca = ca, .path = path, .plen = sizeof(path) };
	const char *oname;
	size_t i;

	if (adm_certfiles_each(cfg, adm_certfiles_named, &f) != -EEXIST)
		return 0;
	/* path is "$.listeners[I]..." or "$.pools[I]...": name the object */
	oname = sscanf(path, "$.%15[a-z][%zu]", kind, &i) != 2 ? NULL :
		json_string_value(json_object_get(json_array_get(json_object_get(cfg, kind), i), "name"));
	if (oname == NULL)
		snprintf(who, len, "a listener or a pool");
	else
		snprintf(who, len, "%s \"%s\"", strcmp(kind, "pools") == 0 ? "pool" : "listener", oname);
	return 1;
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
				    strcmp(dot, ".ca") != 0 && strcmp(dot, ".ocsp") != 0))
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
