/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * conn: the varlink layer's connections (server.c) as the handlers see them. A connection
 * carries the Caller that core gets; core never sees a Conn.
 */
#pragma once

#include <stdbool.h>

#include <json-c/json.h>

#include "caller.h"
#include "forward.h"
#include "wire.h"

typedef struct Conn Conn;

/* What the server hands each complete call to (methods_dispatch): passed in, so that the
 * listener knows nothing of the method table above it. */
typedef void (*ServerDispatchFn)(Manager *m, Conn *c, const WireCall *call);
int server_new(Manager *m, int listen_fd, ServerDispatchFn dispatch, Server **ret);
void server_free(Server *s);
unsigned server_connections(const Server *s);

const Peer *conn_peer(const Conn *c);
Manager *conn_manager(const Conn *c);
/* The caller core is given for this connection (lives as long as the connection). */
Caller *conn_caller(Conn *c);
/* Replies. Each takes ownership of params (may be NULL). A final reply (continues=false or an
 * error) ends the call and lets the connection read its next one. Return 0 or -errno; on
 * failure the connection is already scheduled for closing. */
int conn_reply(Conn *c, json_object *params, bool continues);
int conn_error(Conn *c, const char *error, json_object *params);
/* Marks the call as answered later (the handler kept the Conn in an async operation). */
void conn_defer(Conn *c);
/* Async operations register a hook so that a vanishing connection cancels them. */
typedef void (*ConnGoneFn)(Conn *c, void *userdata);
void conn_set_gone_hook(Conn *c, ConnGoneFn fn, void *userdata);
bool conn_wants_more(const Conn *c);
/* Bytes queued for the peer and not yet taken by it (streams pace themselves on it). */
size_t conn_pending_output(const Conn *c);
/* As a release that drops the connection, when the record failed for lack of space: the held
 * reply is withdrawn and the caller hears io.biogate.DiskFull instead of a closed connection. */
void conn_release_output_disk_full(Conn *c);
