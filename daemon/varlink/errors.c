/* SPDX-License-Identifier: GPL-2.0-or-later */
/* errors: see errors.h. */
#include <errno.h>

#include "errors.h"
#include "wire.h"

const char *
errors_from_errno(int r)
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
