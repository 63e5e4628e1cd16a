/* SPDX-License-Identifier: GPL-2.0-or-later */
/* log: the two switches log.h's macros read, set once by main(). */
#include "log.h"

int log_debug_enabled;
int log_journal;
