/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * clock: the daemon's two clocks. CLOCK_MONOTONIC for timeouts and windows, CLOCK_REALTIME
 * for what records and the store say. Nothing else in the daemon calls clock_gettime().
 */
#pragma once

#include <stdint.h>

uint64_t now_mono_usec(void);
int64_t now_real_usec(void);
