/*
 * log - one logging API for every Tandem program.
 *
 * Lines go to stderr (systemd's journal picks them up) with a syslog level
 * prefix ("<5>") when stderr is not a terminal, so journald keeps the level.
 * Never pass keys, passwords or session tokens to these functions.
 */
#ifndef TANDEM_LOG_H
#define TANDEM_LOG_H

#include <stdarg.h>
#include <syslog.h>

/* Set the program name and the most verbose level printed (LOG_DEBUG..LOG_ERR). */
void log_init(const char *ident, int max_level);

/* printf-like; level is a syslog level. Safe from any thread. */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(int level, const char *fmt, va_list ap);

#define log_err(...)    log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)   log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)   log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)  log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
