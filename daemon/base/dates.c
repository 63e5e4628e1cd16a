/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dates: see dates.h. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dates.h"

int32_t
dates_parse_ymd(const char *s)
{
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	int y = atoi(s), mo = atoi(s + 5), d = atoi(s + 8);
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = 12 };
	if (y < 1900 || mo < 1 || mo > 12 || d < 1 || timegm(&tm) == (time_t)-1 ||
	    tm.tm_mday != d || tm.tm_mon != mo - 1)
		return 0;
	return y * 10000 + mo * 100 + d;
}
