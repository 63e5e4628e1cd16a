/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * reply: the varlink layer's edge, where core's -errno becomes a stable wire error name.
 */
#pragma once

#include "conn.h"

/* -ENOENT NotFound, -EEXIST AlreadyExists, -EINVAL InvalidParameter (io.biogate), -EPERM
 * Revoked, -EALREADY NotFound, anything else InternalError. */
const char *reply_error_name(int r);
/* Answers c with reply_error_name(r). */
void reply_errno(Conn *c, int r);
/* org.varlink.service.InvalidParameter {parameter: field}. */
void reply_invalid(Conn *c, const char *field);
