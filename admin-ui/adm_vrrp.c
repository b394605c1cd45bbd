/*
 * adm_vrrp - the REST API of the vrrp section (doc/api.md "VRRP"):
 *
 *   GET            /vrrp                 {"local": {...}, "groups": [...]}
 *   GET, PUT       /vrrp/local           this node's own fields (replaced whole)
 *   GET, POST      /vrrp/groups          shared VIP groups
 *   GET, PUT, DELETE /vrrp/groups/<name>  (PUT merges over the stored group)
 *
 * Validation is tandemd's own: the prospective section is put into the
 * rendered candidate and conf_parse judges it, so the console and tandemd
 * can never disagree on a rule. Only the problems that belong to the edited
 * object are reported at edit time (its attributes, and for the local part
 * everything under vrrp.local); what depends on the other half ("this group
 * needs vrrp.local.address") is reported by apply, on the group. Fields are
 * "vrrp/groups/<name>/<attr>", "vrrp/local/<attr>" and
 * "vrrp/local/groups/<name>/<attr>".
 *
 * Runs on the HTTP thread, which owns a->db; the caller (adm_api.c) has
 * checked the session, CSRF token and role.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm_api.h"
#include "adm_judge.h"
#include "adm_vrrp.h"
#include "conf.h"
#include "db.h"
#include "errs.h"
#include "jh.h"
#include "log.h"

/* ---- JSON path -> API field ---- */

/* Reads "[n]" at *pp; -1 when absent. */
static long
adm_vrrp_index(const char **pp)
{
	char *end;
	long n;

	if (**pp != '[')
		return -1;
	n = strtol(*pp + 1, &end, 10);
	if (end == *pp + 1 || *end != ']' || n < 0)
		return -1;
	*pp = end + 1;
	return n;
}

/* Appends "/<attr>" for a ".attr" at p (an index after it is dropped). */
static void
adm_vrrp_attr(char *field, size_t len, const char *p)
{
	size_t n, used = strlen(field);

	if (*p != '.')
		return;
	p++;
	n = strcspn(p, ".[");
	if (n > 0)
		snprintf(field + used, len - used, "/%.*s", (int)n, p);
}

char *
adm_vrrp_field_of_path(const json_t *config, const char *rest)
{
	const json_t *vrrp = json_object_get(config, "vrrp");
	const json_t *arr, *o;
	const char *name;
	char field[256];
	const char *p = rest;
	long i;

	if (strncmp(p, ".local", 6) == 0 && (p[6] == '\0' || p[6] == '.' || p[6] == '[')) {
		p += 6;
		snprintf(field, sizeof(field), "vrrp/local");
		if (strncmp(p, ".groups[", 8) == 0) {
			p += 7;
			i = adm_vrrp_index(&p);
			arr = json_object_get(json_object_get(vrrp, "local"), "groups");
			o = json_array_get(arr, i < 0 ? 0 : (size_t)i);
			name = json_string_value(json_object_get(o, "name"));
			if (i < 0 || name == NULL)
				snprintf(field, sizeof(field), "vrrp/local/groups");
			else
				snprintf(field, sizeof(field), "vrrp/local/groups/%s", name);
			if (i < 0 || name == NULL)
				return strdup(field);
		}
		adm_vrrp_attr(field, sizeof(field), p);
		return strdup(field);
	}
	if (strncmp(p, ".groups[", 8) == 0) {
		p += 7;
		i = adm_vrrp_index(&p);
		o = i < 0 ? NULL : json_array_get(json_object_get(vrrp, "groups"), (size_t)i);
		name = json_string_value(json_object_get(o, "name"));
		if (name == NULL)
			return strdup("vrrp/groups");
		snprintf(field, sizeof(field), "vrrp/groups/%s", name);
		adm_vrrp_attr(field, sizeof(field), p);
		return strdup(field);
	}
	if (strncmp(p, ".groups", 7) == 0)
		return strdup("vrrp/groups");
	return strdup("vrrp");
}

/* ---- validation ---- */

/* What adm_vrrp_judge keeps: paths at or below keep and, when attr_only,
 * an attribute below it (a rule on the object itself is a cross-object
 * rule: apply reports it). */
struct adm_vrrp_keep {
	const char *keep;
	int attr_only;
};

static int
adm_vrrp_keep_path(const char *path, void *arg)
{
	const struct adm_vrrp_keep *k = arg;
	const char *rest = adm_path_under(path, k->keep);

	return rest != NULL && (!k->attr_only || *rest == '.');
}

/* Runs conf_parse on the candidate with section as its vrrp section and
 * keeps the problems whose path starts with keep (and, when attr_only, has
 * something after it). Returns a new array of {field, message} (empty when
 * clean), or NULL on an internal error. */
static json_t *
adm_vrrp_judge(struct adm *a, json_t *section, const char *keep, int attr_only)
{
	struct adm_vrrp_keep k = { keep, attr_only };

	return adm_judge(a, "vrrp", section, adm_vrrp_keep_path, &k, adm_vrrp_field_of_path);
}

/* Light checks conf cannot make without this node's address (it resolves
 * the peers only then): unicast_peers is an array of numeric addresses. */
static void
adm_vrrp_peers_check(const json_t *g, const char *name, json_t *errors)
{
	json_t *peers = json_object_get(g, "unicast_peers"), *e;
	char field[160], canon[64];
	size_t i;

	if (peers == NULL)
		return;
	snprintf(field, sizeof(field), "vrrp/groups/%s/unicast_peers", name);
	if (!json_is_array(peers)) {
		json_array_append_new(errors, json_pack("{s:s, s:s}", "field", field,
							"message", "must be an array of addresses"));
		return;
	}
	json_array_foreach(peers, i, e)
		if (!json_is_string(e) || db_addr_canon(json_string_value(e), canon, sizeof(canon)) < 0) {
			json_array_append_new(errors, json_pack("{s:s, s:s}", "field", field,
				"message", "must be numeric IPv4 or IPv6 addresses"));
			return;
		}
}

/* ---- answers ---- */

/* adm_db_error's answers; a duplicate name is said in the group's words. */
static void
adm_vrrp_db_error(struct adm_resp *rs, int rc, const char *field)
{
	if (rc == -EEXIST)
		adm_resp_error(rs, 409, "exists", "a vrrp group with this name already exists", field);
	else
		adm_db_error(rs, rc, "vrrp group", field);
}

static void
adm_vrrp_not_allowed(struct adm_resp *rs)
{
	adm_resp_error(rs, 405, "method_not_allowed", "method not allowed here", NULL);
}

/* ---- /vrrp/local ---- */

static void
adm_vrrp_local(struct adm *a, const struct adm_req *rq, struct adm_resp *rs)
{
	json_t *body = NULL, *groups = NULL, *section = NULL, *out = NULL;
	int rc;

	if (strcmp(rq->method, "GET") == 0) {
		rc = db_vrrp_local_get(a->db, &out);
		if (rc < 0)
			adm_vrrp_db_error(rs, rc, NULL);
		else
			adm_ok(rs, 200, out);
		return;
	}
	if (strcmp(rq->method, "PUT") != 0) {
		adm_vrrp_not_allowed(rs);
		return;
	}
	body = adm_body_object(rq, rs);
	if (body == NULL)
		return;
	rc = db_vrrp_group_list(a->db, &groups);
	if (rc < 0) {
		adm_vrrp_db_error(rs, rc, NULL);
		goto out;
	}
	section = json_pack("{s:O, s:O}", "groups", groups, "local", body);
	if (adm_verdict(rs, section ? adm_vrrp_judge(a, section, "$.vrrp.local", 0) : NULL) < 0)
		goto out;
	rc = db_vrrp_local_set(a->db, body);
	if (rc == 0)
		rc = db_vrrp_local_get(a->db, &out);
	if (rc < 0)
		adm_vrrp_db_error(rs, rc, NULL);
	else
		adm_ok(rs, 200, out);
out:
	json_decref(body);
	json_decref(groups);
	json_decref(section);
}

/* ---- /vrrp/groups[/name] ---- */

/* Validates group g (a new one when name is NULL, else the replacement of
 * group name) against the stored section. 0, or -1 with rs filled. */
static int
adm_vrrp_group_check(struct adm *a, const char *name, json_t *g, struct adm_resp *rs)
{
	json_t *groups = NULL, *lo = NULL, *section = NULL, *errors = NULL, *o;
	const char *gname = json_string_value(json_object_get(g, "name"));
	char keep[64];
	size_t i, at;
	int rc;

	rc = db_vrrp_group_list(a->db, &groups);
	if (rc == 0)
		rc = db_vrrp_local_get(a->db, &lo);
	if (rc < 0) {
		adm_vrrp_db_error(rs, rc, NULL);
		rc = -1;
		goto out;
	}
	at = json_array_size(groups);
	json_array_foreach(groups, i, o)
		if (name != NULL && strcmp(json_string_value(json_object_get(o, "name")), name) == 0)
			at = i;
	if (at == json_array_size(groups))
		json_array_append(groups, g);
	else
		json_array_set(groups, at, g);
	section = json_pack("{s:O, s:O}", "groups", groups, "local", lo);
	snprintf(keep, sizeof(keep), "$.vrrp.groups[%zu]", at);
	errors = section ? adm_vrrp_judge(a, section, keep, 1) : NULL;
	if (errors != NULL && json_array_size(errors) == 0 && gname != NULL)
		adm_vrrp_peers_check(g, gname, errors);
	rc = adm_verdict(rs, errors);
out:
	json_decref(groups);
	json_decref(lo);
	json_decref(section);
	return rc;
}

static void
adm_vrrp_groups(struct adm *a, const char *name, const struct adm_req *rq, struct adm_resp *rs)
{
	json_t *body = NULL, *base = NULL, *out = NULL, *g = NULL, *taken = NULL;
	const char *newname;
	char field[160];
	int rc;

	if (strcmp(rq->method, "GET") == 0) {
		rc = name ? db_vrrp_group_get(a->db, name, &out) : db_vrrp_group_list(a->db, &out);
		if (rc < 0)
			adm_vrrp_db_error(rs, rc, NULL);
		else
			adm_ok(rs, 200, out);
		return;
	}
	if (strcmp(rq->method, "DELETE") == 0 && name != NULL) {
		rc = db_vrrp_group_delete(a->db, name);
		if (rc < 0)
			adm_vrrp_db_error(rs, rc, NULL);
		else
			adm_ok(rs, 204, NULL);
		return;
	}
	if (!(strcmp(rq->method, "POST") == 0 && name == NULL) &&
	    !(strcmp(rq->method, "PUT") == 0 && name != NULL)) {
		adm_vrrp_not_allowed(rs);
		return;
	}
	if (name != NULL) {
		/* A missing group is 404 before its body is looked at. */
		rc = db_vrrp_group_get(a->db, name, &base);
		if (rc < 0) {
			adm_vrrp_db_error(rs, rc, NULL);
			return;
		}
	}
	body = adm_body_object(rq, rs);
	if (body == NULL)
		goto out;
	/* PUT sends only what changes: overlay it on the stored group. A
	 * switch to multicast drops the stored peers (conf refuses them). */
	g = base ? json_deep_copy(base) : json_object();
	if (g == NULL || json_object_update(g, body) < 0) {
		adm_resp_error(rs, 500, "internal", "out of memory", NULL);
		goto out;
	}
	if (base != NULL && json_object_get(body, "unicast_peers") == NULL &&
	    json_is_string(json_object_get(g, "mode")) &&
	    strcmp(json_string_value(json_object_get(g, "mode")), "multicast") == 0)
		json_object_del(g, "unicast_peers");
	newname = json_string_value(json_object_get(g, "name"));
	snprintf(field, sizeof(field), "vrrp/groups/%s/name", newname ? newname : "");
	/* A taken name is a conflict (409), as for every other kind. */
	if (newname != NULL && (name == NULL || strcmp(name, newname) != 0) &&
	    db_vrrp_group_get(a->db, newname, &taken) == 0) {
		json_decref(taken);
		adm_vrrp_db_error(rs, -EEXIST, field);
		goto out;
	}
	if (adm_vrrp_group_check(a, name, g, rs) < 0)
		goto out;
	rc = name ? db_vrrp_group_update(a->db, name, g) : db_vrrp_group_add(a->db, g);
	if (rc == 0)
		rc = db_vrrp_group_get(a->db, newname, &out);
	if (rc < 0)
		adm_vrrp_db_error(rs, rc, field);
	else
		adm_ok(rs, name ? 200 : 201, out);
out:
	json_decref(body);
	json_decref(base);
	json_decref(g);
}

void
adm_vrrp_handle(struct adm *a, char *const *segs, size_t nsegs, const struct adm_req *rq,
		struct adm_resp *rs)
{
	json_t *lo = NULL, *groups = NULL;
	int rc;

	if (nsegs == 1) {
		if (strcmp(rq->method, "GET") != 0) {
			adm_vrrp_not_allowed(rs);
			return;
		}
		rc = db_vrrp_local_get(a->db, &lo);
		if (rc == 0)
			rc = db_vrrp_group_list(a->db, &groups);
		if (rc < 0) {
			json_decref(lo);
			adm_vrrp_db_error(rs, rc, NULL);
			return;
		}
		adm_ok(rs, 200, json_pack("{s:o, s:o}", "local", lo, "groups", groups));
	} else if (nsegs == 2 && strcmp(segs[1], "local") == 0) {
		adm_vrrp_local(a, rq, rs);
	} else if (nsegs <= 3 && strcmp(segs[1], "groups") == 0) {
		adm_vrrp_groups(a, nsegs == 3 ? segs[2] : NULL, rq, rs);
	} else {
		adm_resp_error(rs, 404, "not_found", "no such resource", NULL);
	}
}
