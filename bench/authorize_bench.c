/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * authorize_bench: N concurrent clients (threads, one connection each) call
 * io.biogate.Authorize back to back for a fixed time, each waiting for its reply, which the
 * daemon sends only once the decision's audit record is durable. Prints decisions per
 * second and latency percentiles. Run it inside a biogate session (bench/authorize.sh does)
 * so the decisions are real allow/deny by role and key.
 *
 * usage: authorize_bench SOCKET CLIENTS SECONDS [METHOD]
 * METHOD (default io.biogate.Authorize) lets the same clients measure a baseline call.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bgclient.h"

#define MAX_SAMPLES (1u << 20)

typedef struct Worker {
	pthread_t thread;
	const char *path;
	int index;
	double seconds;
	const char *method;
	uint64_t done, allowed, errors;
	uint32_t *lat_us; /* per-call latency samples */
	size_t n_lat;
} Worker;

static atomic_int go;

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
worker_run(void *arg)
{
	Worker *w = arg;
	BgClient *c = NULL;
	if (bg_connect(w->path, 5000, &c) < 0) {
		w->errors++;
		return NULL;
	}
	/* Three kinds of decision, as at a counter: a valid number, a mistyped one, a view. */
	static const char *const keys[] = { "123456789018", "123456789012", NULL };
	while (!atomic_load(&go))
		;
	double end = now_s() + w->seconds;
	for (uint64_t i = 0;; i++) {
		double t0 = now_s();
		if (t0 >= end)
			break;
		json_object *p = json_object_new_object();
		const char *key = keys[(i + (uint64_t)w->index) % 3];
		bool authorize = strcmp(w->method, "io.biogate.Authorize") == 0;
		if (authorize)
			json_object_object_add(
			    p, "action", json_object_new_string(key ? "search" : "view-record"));
		if (authorize && key)
			json_object_object_add(p, "key", json_object_new_string(key));
		json_object *msg = NULL;
		WireReply rep;
		if (bg_call(c, w->method, p, 10000, &msg, &rep) < 0 || rep.error) {
			w->errors++;
			json_object_put(msg);
			break;
		}
		if (json_object_get_boolean(json_object_object_get(rep.parameters, "allow")))
			w->allowed++;
		json_object_put(msg);
		w->done++;
		if (w->n_lat < MAX_SAMPLES / 32)
			w->lat_us[w->n_lat++] = (uint32_t)((now_s() - t0) * 1e6);
	}
	bg_close(c);
	return NULL;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: authorize_bench SOCKET CLIENTS SECONDS [METHOD]\n");
		return 2;
	}
	int n = atoi(argv[2]);
	double seconds = atof(argv[3]);
	if (n < 1 || n > 1024 || seconds <= 0) {
		fprintf(stderr, "authorize_bench: bad arguments\n");
		return 2;
	}
	Worker *w = calloc((size_t)n, sizeof(*w));
	for (int i = 0; i < n; i++) {
		w[i] = (Worker){ .path = argv[1],
			         .index = i,
			         .seconds = seconds,
			         .method = argc == 5 ? argv[4] : "io.biogate.Authorize" };
		w[i].lat_us = calloc(MAX_SAMPLES / 32, sizeof(uint32_t));
		pthread_create(&w[i].thread, NULL, worker_run, &w[i]);
	}
	double t0 = now_s();
	atomic_store(&go, 1);
	uint64_t done = 0, allowed = 0, errors = 0;
	size_t n_lat = 0;
	for (int i = 0; i < n; i++) {
		pthread_join(w[i].thread, NULL);
		done += w[i].done;
		allowed += w[i].allowed;
		errors += w[i].errors;
		n_lat += w[i].n_lat;
	}
	double elapsed = now_s() - t0;
	uint32_t *all = calloc(n_lat ? n_lat : 1, sizeof(uint32_t));
	size_t k = 0;
	for (int i = 0; i < n; i++) {
		memcpy(all + k, w[i].lat_us, w[i].n_lat * sizeof(uint32_t));
		k += w[i].n_lat;
	}
	qsort(all, n_lat, sizeof(uint32_t), cmp_u32);
	printf("clients %d, %.1f s: %llu decisions (%llu allowed), %llu errors\n", n, elapsed,
	       (unsigned long long)done, (unsigned long long)allowed, (unsigned long long)errors);
	printf("decisions/s %.0f\n", (double)done / elapsed);
	if (n_lat)
		printf("latency us: p50 %u  p90 %u  p99 %u  max %u\n", all[n_lat / 2],
		       all[n_lat * 9 / 10], all[n_lat * 99 / 100], all[n_lat - 1]);
	return errors ? 1 : 0;
}
