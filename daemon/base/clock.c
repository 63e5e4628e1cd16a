/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * clock: see clock.h. A file of its own so that a test can link the layers above with a
 * clock of its own (tests/incidents moves time forward without waiting).
 */
#include <time.h>

#include "clock.h"

uint64_t
now_mono_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int64_t
now_real_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
