/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * errors: core's -errno as a wire error name, with no connection needed (tests use it too).
 */
#pragma once

/* -ENOENT NotFound, -EEXIST AlreadyExists, -EINVAL InvalidParameter (io.biogate), -EPERM
 * Revoked, -EALREADY NotFound, anything else InternalError. */
const char *errors_from_errno(int r);
/* The end of work on the reader: -EKEYREJECTED NoMatch, -ENODEV NoReader, -ETIMEDOUT
 * Timeout, -ECANCELED Cancelled, -EBUSY Busy, -ENOTCONN and -EBADMSG SensorUnavailable,
 * anything else as errors_from_errno(). */
const char *errors_from_sensor(int r);
