/*
 * l4_metrics - Prometheus text of the L4 tier (see l4_metrics.h).
 *
 * Built from l4_status_json(), so the metrics, tandemctl status and the API
 * show the same numbers from the same kernel read. Services and reals that
 * Tandem does not manage ("not ours") are left out: their names are not in
 * the config. Label values are service names ([A-Za-z0-9._-]) and
 * "address:port" ("[v6]:port"): nothing to escape.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "l4.h"
#include "l4_metrics.h"

/* The kernel's counters (l4_stats_obj keys) and their metric suffixes. */
static const struct {
	const char *key, *name;
	int counter;
} l4_metric_stats[] = {
	{ "conns", "connections_total", 1 },
	{ "inpkts", "in_packets_total", 1 },
	{ "outpkts", "out_packets_total", 1 },
	{ "inbytes", "in_bytes_total", 1 },
	{ "outbytes", "out_bytes_total", 1 },
	{ "cps", "connections_per_second", 0 },
	{ "inpps", "in_packets_per_second", 0 },
	{ "outpps", "out_packets_per_second", 0 },
	{ "inbps", "in_bytes_per_second", 0 },
	{ "outbps", "out_bytes_per_second", 0 },
};
#define L4_NSTATS (sizeof(l4_metric_stats) / sizeof(l4_metric_stats[0]))

static long long
l4_metric_int(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* The TYPE lines of one object kind ("service" or "real"). */
static int
l4_metric_types(struct buf *b, const char *kind)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < L4_NSTATS; i++)
		rc |= buf_appendf(b, "# TYPE tandem_l4_%s_%s %s\n", kind, l4_metric_stats[i].name,
				  l4_metric_stats[i].counter ? "counter" : "gauge");
	return rc;
}

static int
l4_metric_stats_lines(struct buf *b, const char *kind, const char *lab, const json_t *st)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < L4_NSTATS; i++)
		rc |= buf_appendf(b, "tandem_l4_%s_%s%s %lld\n", kind, l4_metric_stats[i].name, lab,
				  l4_metric_int(st, l4_metric_stats[i].key));
	return rc;
}

/* 1 when health says the real id is DOWN, else 0 (unchecked reals are up). */
static int
l4_metric_down(const json_t *health, const char *id)
{
	const json_t *h;
	size_t i;

	json_array_foreach(health, i, h)
		if (strcmp(json_string_value(json_object_get(h, "id")) ?: "", id) == 0)
			return !json_is_true(json_object_get(h, "up"));
	return 0;
}

int
l4_metrics_append(struct buf *b, const struct conf *c)
{
	json_t *st = l4_status_json(c), *svc, *r;
	const json_t *health = json_object_get(st, "health");
	size_t i, j;
	int rc = 0;

	if (st == NULL)
		return 0;	/* out of memory: the L7 part still goes out */
	rc |= buf_appendf(b, "# TYPE tandem_l4_available gauge\ntandem_l4_available %d\n"
			  "# TYPE tandem_l4_services_configured gauge\ntandem_l4_services_configured %lld\n",
			  json_is_true(json_object_get(st, "available")), l4_metric_int(st, "configured"));
	rc |= l4_metric_types(b, "service");
	rc |= l4_metric_types(b, "real");
	rc |= buf_appendf(b, "# TYPE tandem_l4_real_weight gauge\n# TYPE tandem_l4_real_active_connections gauge\n"
			  "# TYPE tandem_l4_real_inactive_connections gauge\n# TYPE tandem_l4_real_up gauge\n");
	json_array_foreach(json_object_get(st, "services"), i, svc) {
		const char *name = json_string_value(json_object_get(svc, "name"));
		char lab[320], id[320], key[96];

		if (name == NULL)
			continue;	/* not ours */
		snprintf(lab, sizeof(lab), "{service=\"%s\"}", name);
		rc |= l4_metric_stats_lines(b, "service", lab, json_object_get(svc, "stats"));
		json_array_foreach(json_object_get(svc, "reals"), j, r) {
			const char *a = json_string_value(json_object_get(r, "address"));

			snprintf(key, sizeof(key), strchr(a ?: "", ':') ? "[%s]:%lld" : "%s:%lld", a ?: "",
				 l4_metric_int(r, "port"));
			snprintf(lab, sizeof(lab), "{service=\"%s\",real=\"%s\"}", name, key);
			snprintf(id, sizeof(id), "%s/%s", name, key);
			rc |= l4_metric_stats_lines(b, "real", lab, json_object_get(r, "stats"));
			rc |= buf_appendf(b, "tandem_l4_real_weight%s %lld\ntandem_l4_real_active_connections%s %lld\n"
					  "tandem_l4_real_inactive_connections%s %lld\ntandem_l4_real_up%s %d\n",
					  lab, l4_metric_int(r, "weight"), lab, l4_metric_int(r, "active_conns"),
					  lab, l4_metric_int(r, "inactive_conns"), lab, !l4_metric_down(health, id));
		}
	}
	json_decref(st);
	return rc < 0 ? -1 : 0;
}
