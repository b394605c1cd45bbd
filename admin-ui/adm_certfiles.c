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

/* Calls fn for each certificate name of each TLS listener of cfg. */
static int
adm_certfiles_each(const json_t *cfg, int (*fn)(void *, const char *, size_t, size_t), void *arg)
{
	json_t *l, *cn;
	size_t i, j;
	int rc;

	json_array_foreach(json_object_get(cfg, "listeners"), i, l) {
		json_array_foreach(json_object_get(json_object_get(l, "tls"), "certificates"), j, cn) {
			if (!json_is_string(cn))
				continue;
			rc = fn(arg, json_string_value(cn), i, j);
			if (rc < 0)
				return rc;
		}
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
adm_certfiles_w_one(void *arg, const char *name, size_t li, size_t ci)
{
	struct adm_certfiles_w *w = arg;
	char path[160], msg[300];
	int rc = adm_certfiles_one(w->a, w->dir, name);

	if (rc == 0)
		return 0;
	snprintf(path, sizeof(path), "$.listeners[%zu].tls.certificates[%zu]", li, ci);
	if (rc == -ENOENT)
		snprintf(msg, sizeof(msg), "there is no certificate named \"%s\" (upload it first)", name);
	else
		snprintf(msg, sizeof(msg), "cannot write the files of certificate \"%s\": %s", name,
			 strerror(-rc));
	json_array_append_new(w->errors, json_pack("{s:s,s:s}", "path", path, "message", msg));
	if (w->rc == 0 || rc != -ENOENT)
		w->rc = rc;
	return 0;	/* report every name */
}

int
adm_certfiles_write(struct adm *a, const json_t *cfg, json_t **errors)
{
	struct adm_certfiles_w w = { .a = a, .errors = json_array() };
	char dir[900];
	int rc;

	*errors = NULL;
	if (w.errors == NULL)
		return -ENOMEM;
	rc = adm_certfiles_dir(a, dir, sizeof(dir));
	if (rc == 0)
		rc = adm_certfiles_mkdir(dir);
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

static int
adm_certfiles_named(void *arg, const char *name, size_t li, size_t ci)
{
	const char *want = arg;

	(void)li;
	(void)ci;
	return strcmp(name, want) == 0 ? -EEXIST : 0;
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
		size_t n = strlen(de->d_name);
		const char *ext = n > 4 ? de->d_name + n - 4 : "";

		if (strcmp(ext, ".crt") != 0 && strcmp(ext, ".key") != 0)
			continue;
		if (n - 4 >= sizeof(name))
			continue;
		memcpy(name, de->d_name, n - 4);
		name[n - 4] = '\0';
		if (adm_certfiles_each(cfg, adm_certfiles_named, name) == -EEXIST)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) < 0 && errno != ENOENT)
			log_warn("cannot remove %s: %s", path, strerror(errno));
	}
	closedir(d);
}
