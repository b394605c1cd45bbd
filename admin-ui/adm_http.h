#ifndef TANDEM_ADM_HTTP_H
#define TANDEM_ADM_HTTP_H

#include <sys/socket.h>

#include "adm-t.h"

/*
 * adm_http - the HTTP(S) server (libmicrohttpd): /api/v1/... goes to
 * adm_api, everything else is a static file from a->www_dir. All request
 * callbacks run on one MHD thread, which therefore owns a->db while serving.
 */

struct adm_http;

/* Parses "ADDR:PORT" or "[V6]:PORT". 0 or -EINVAL. is_loopback tells
 * whether ADDR is 127.0.0.0/8 or ::1. */
int adm_listen_parse(const char *spec, struct sockaddr_storage *sa, int *is_loopback);

/* Starts serving on spec; TLS when key_pem and cert_pem are given (copied
 * by MHD). Returns a new server or NULL. */
struct adm_http *adm_http_start(struct adm *a, const char *spec, const char *key_pem,
				const char *cert_pem);
/* Stops the server and sets *hp to NULL. */
void adm_http_stop(struct adm_http **hp);

#endif
