/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dates: calendar dates as the wire writes them ("YYYY-MM-DD"), checked to be real days.
 */
#pragma once

#include <stdint.h>

/* "YYYY-MM-DD" of a real calendar date -> YYYYMMDD; 0 otherwise. */
int32_t dates_parse_ymd(const char *s);
