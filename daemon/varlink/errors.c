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
	case -ENOSPC:
		return WIRE_ERR_DISK_FULL;
	default:
		return WIRE_ERR_INTERNAL;
	}
}

const char *
errors_from_sensor(int r)
{
	switch (r) {
	case -EKEYREJECTED:
		return WIRE_ERR_NO_MATCH;
	case -ENODEV:
		return WIRE_ERR_NO_READER;
	case -ETIMEDOUT:
		return WIRE_ERR_TIMEOUT;
	case -ECANCELED:
		return WIRE_ERR_CANCELLED;
	case -EBUSY:
		return WIRE_ERR_BUSY;
	case -ENOTCONN:
	case -EBADMSG:
		return WIRE_ERR_SENSOR_UNAVAILABLE;
	default:
		return errors_from_errno(r);
	}
}
