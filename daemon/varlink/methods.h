/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * methods: the method table and its dispatcher (methods.c): each interface method bound to
 * a permission kind and a handler (handlers.h).
 */
#pragma once

#include "conn.h"

/* Dispatches one parsed call (the server's ServerDispatchFn). Always answers (now or
 * deferred). */
void methods_dispatch(Manager *m, Conn *c, const WireCall *call);
