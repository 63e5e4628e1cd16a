/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * reply: the varlink layer's edge, where core's -errno becomes a stable wire error name.
 */
#pragma once

#include "conn.h"
#include "errors.h"

/* Answers c with errors_from_errno(r). */
void reply_errno(Conn *c, int r);
/* org.varlink.service.InvalidParameter {parameter: field}. */
void reply_invalid(Conn *c, const char *field);
