#ifndef TANDEM_L7_SYSLOG_H
#define TANDEM_L7_SYSLOG_H

#include <stddef.h>

/*
 * l7_syslog - access log lines as syslog datagrams on a local unix socket
 * ("/dev/log" or any path), for the access log's logger thread (l7_alog).
 */

/* Parses an access log target. Returns 1 for "syslog:<pri>:<tag>:<path>"
 * (*pri, tag (NUL-terminated, cut to taglen) and *path set), 0 for a file
 * path, -1 for a malformed syslog target. Pure. */
int l7_syslog_parse(const char *target, int *pri, char *tag, size_t taglen, const char **path);

/* A datagram socket connected to path. fd or -errno. */
int l7_syslog_open(const char *path);

/* Sends line (len bytes; a trailing newline is dropped) as one RFC 3164
 * message "<pri>Mmm dd hh:mm:ss tag[pid]: line". 0 or -errno. Blocks at
 * most 200 ms (SO_SNDTIMEO set by l7_syslog_open). */
int l7_syslog_send(int fd, int pri, const char *tag, const char *line, size_t len);

#endif
