#ifndef TANDEM_ADM_SETTINGS_H
#define TANDEM_ADM_SETTINGS_H

#include "adm-t.h"

/*
 * adm_settings - REST API of the candidate's top-level settings
 * (GET/PUT /settings; doc/api.md "Settings"). HTTP thread only.
 */

/* Answers GET or PUT /settings. The caller has checked the session, CSRF
 * token and role. */
void adm_settings_handle(struct adm *a, const struct adm_req *rq, struct adm_resp *rs);

#endif
