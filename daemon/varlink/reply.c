/* SPDX-License-Identifier: GPL-2.0-or-later */
/* reply: see reply.h. */
#include <errno.h>

#include "reply.h"

void
reply_errno(Conn *c, int r)
{
	conn_error(c, errors_from_errno(r), NULL);
}

void
reply_invalid(Conn *c, const char *field)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "parameter", json_object_new_string(field));
	conn_error(c, WIRE_ERR_VARLINK_INVALID, o);
}
