/*
 * adm_tlskeys - REST API of the running tandemd's ticket key store (see
 * adm_tlskeys.h).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "adm_api.h"
#include "adm_tlskeys.h"
#include "ctlc.h"
#include "log.h"

/* Only these fields of tandemd's answer reach the client: whatever tandemd
 * adds later, no secret can leak through this API. */
static json_t *
adm_tlskeys_view(const json_t *k)
{
	static const char *const fields[] = { "keys", "current_created", "lifetime_s",
					      "lifetime_from", "next_rotation", NULL };
	json_t *out = json_object();
	size_t i;

	if (!json_is_object(k) || !json_is_integer(json_object_get(k, "current_created"))) {
		json_decref(out);
		return NULL;
	}
	for (i = 0; out != NULL && fields[i] != NULL; i++) {
		json_t *v = json_object_get(k, fields[i]);

		json_object_set_new(out, fields[i], v != NULL ? json_incref(v) : json_null());
	}
	return out;
}

/* cmd on the control socket; the ticket_keys object of the answer (for
 * "status": under "tls"), or NULL with rs filled. */
static json_t *
adm_tlskeys_call(struct adm *a, const char *cmd, struct adm_resp *rs)
{
	json_t *req = json_pack("{s:s}", "cmd", cmd), *resp = NULL, *k, *out = NULL;
	int rc = req ? ctlc_call(a->ctl_socket, req, &resp, a->ctl_timeout_ms) : -ENOMEM;

	json_decref(req);
	if (rc < 0 || !json_is_true(json_object_get(resp, "ok"))) {
		adm_resp_error(rs, 503, "unavailable", rc < 0 ? "tandemd is not reachable" :
			       "tandemd refused the ticket key command", NULL);
		json_decref(resp);
		return NULL;
	}
	k = strcmp(cmd, "status") == 0 ?
		json_object_get(json_object_get(resp, "tls"), "ticket_keys") : resp;
	out = adm_tlskeys_view(k);
	if (out == NULL)
		adm_resp_error(rs, 502, "bad_gateway", "tandemd's answer has no ticket key store", NULL);
	json_decref(resp);
	return out;
}

void
adm_tlskeys_handle(struct adm *a, const char *user, char *const *segs, size_t nsegs,
		   const struct adm_req *rq, struct adm_resp *rs)
{
	int get = strcmp(rq->method, "GET") == 0, post = strcmp(rq->method, "POST") == 0;
	json_t *out;

	if (nsegs != 2 || (strcmp(segs[1], "ticket-keys") != 0 && strcmp(segs[1], "rotate-keys") != 0)) {
		adm_resp_error(rs, 404, "not_found", "no such resource", NULL);
		return;
	}
	if (strcmp(segs[1], "ticket-keys") == 0 ? !get : !post) {
		adm_resp_error(rs, 405, "method_not_allowed", "method not allowed here", NULL);
		return;
	}
	out = adm_tlskeys_call(a, get ? "status" : "tls-rotate-keys", rs);
	if (out == NULL)
		return;
	if (post)
		log_notice("user \"%s\" rotated the session ticket key (%lld keys held)", user,
			   json_integer_value(json_object_get(out, "keys")));
	adm_ok(rs, 200, out);
}
