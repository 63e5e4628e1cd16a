/* SPDX-License-Identifier: GPL-2.0-or-later */
/* errors: core's -errno as wire error names (reply.h); no connection needed. */
#include <errno.h>

#include "reply.h"

const char *
reply_error_name(int r)
{
	switch (r) {
	case -ENOENT:
	case -EALREADY:
		return WIRE_ERR_NOT_FOUND;
	case -EEXIST:
		return WIRE_ERR_EXISTS;
	case -EINVAL:
		return WIRE_ERR_INVALID_PARAMETER;
	case -EPERM:
		return WIRE_ERR_REVOKED;
	default:
		return WIRE_ERR_INTERNAL;
	}
}
