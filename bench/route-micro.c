/*
 * bench/route-micro.c - time l7_route_match() alone, with N routes where the
 * one that matches is the last in match order (the same route list as the
 * "routes" scenario of bench/l7.sh: decoy prefixes /app/r0001/ ... and "/"
 * last). The end-to-end scenario measures the whole request; this measures
 * only the lookup, so a lookup that grows with N cannot hide behind the
 * ~20 µs a proxied request costs.
 *
 * Built and run by bench/route-micro.sh against the objects of bench/build;
 * never part of the test suite.
 *
 *   route-micro [N ...]      default: 10 1000
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "errs.h"
#include "l7_route.h"

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* The config text: one listener "bench", pools origin and decoy, n routes. */
static char *
gen_conf(int n)
{
	size_t cap = 256 + (size_t)n * 128, len = 0;
	char *s = malloc(cap);
	int i;

	if (s == NULL)
		return NULL;
	len += snprintf(s + len, cap - len,
			"{\"version\":1,\"listeners\":[{\"name\":\"bench\",\"address\":\"127.0.0.1\",\"port\":14080}],"
			"\"pools\":[{\"name\":\"origin\",\"members\":[{\"address\":\"127.0.0.2\",\"port\":8080}]},"
			"{\"name\":\"decoy\",\"members\":[{\"address\":\"127.0.0.3\",\"port\":9}]}],\"routes\":[");
	for (i = 1; i < n; i++)
		len += snprintf(s + len, cap - len,
				"{\"name\":\"r%04d\",\"listener\":\"bench\",\"path_prefix\":\"/app/r%04d/\","
				"\"pool\":\"decoy\",\"priority\":100},", i, i);
	snprintf(s + len, cap - len,
		 "{\"name\":\"match\",\"listener\":\"bench\",\"path_prefix\":\"/\",\"pool\":\"origin\",\"priority\":100}]}");
	return s;
}

static double
bench_one(int n)
{
	static const char host[] = "localhost:14080", path[] = "/app/index";
	struct errs errs;
	struct conf *c;
	const struct conf_listener *l;
	const struct conf_route *r = NULL;
	char *text = gen_conf(n);
	long iters, i;
	double best = 1e30;
	int round;

	errs_init(&errs);
	c = text ? conf_parse(text, strlen(text), &errs) : NULL;
	if (c == NULL) {
		fprintf(stderr, "route-micro: config with %d routes refused (%zu errors)%s%s\n", n,
			errs.count, errs.count ? ": " : "", errs.count ? errs.items[0].message : "");
		exit(1);
	}
	l = conf_listener_find(c, "bench");
	/* about 0.2 s per round whatever n; best of 5 rounds */
	iters = 20000000L / (n < 10 ? 10 : n) + 1000;
	for (round = 0; round < 5; round++) {
		double t0 = now_ns();

		for (i = 0; i < iters; i++) {
			r = l7_route_match(l, host, sizeof(host) - 1, path, sizeof(path) - 1);
			__asm__ volatile("" : : "r"(r) : "memory");
		}
		t0 = (now_ns() - t0) / iters;
		if (t0 < best)
			best = t0;
	}
	if (r == NULL || strcmp(r->name, "match") != 0) {
		fprintf(stderr, "route-micro: %d routes: matched %s, expected \"match\"\n", n,
			r ? r->name : "nothing");
		exit(1);
	}
	conf_free(&c);
	errs_release(&errs);
	free(text);
	return best;
}

int
main(int argc, char **argv)
{
	int ns[16] = { 10, 1000 }, k = 2, i;
	double t[16];

	if (argc > 1) {
		for (k = 0; k + 1 < argc && k < 16; k++)
			ns[k] = atoi(argv[k + 1]);
	}
	printf("| routes | ns per lookup (best of 5) | x first |\n|---:|---:|---:|\n");
	for (i = 0; i < k; i++) {
		t[i] = bench_one(ns[i]);
		printf("| %d | %.1f | %.2f |\n", ns[i], t[i], t[i] / t[0]);
	}
	return 0;
}
