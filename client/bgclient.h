/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bgclient: the small client library shared by biogatectl and pam_biogate.so. Connects to
 * biogated with a timeout, checks that the socket file and the peer belong to root or the
 * daemon's user before sending anything, and bounds every reply (wire.h caps). Links only
 * libc and json-c: it is loaded into every login process.
 */
#pragma once

#include <stdbool.h>

#include <json-c/json.h>

#include "wire.h"

typedef struct BgClient BgClient;

#define BG_DAEMON_USER        "biogate"
#define BG_DEFAULT_TIMEOUT_MS 30000

/* The socket path: explicit > $BIOGATE_SOCKET > BIOGATE_RUNTIME_DIR "/io.biogate". */
const char *bg_socket_path(const char *explicit_path);

/* Connects. -ENOENT/-ECONNREFUSED when the daemon is down, -EPERM when the socket or the peer
 * is not owned by root or the daemon user, -ETIMEDOUT. */
int bg_connect(const char *path, int timeout_ms, BgClient **ret);
void bg_close(BgClient *c);

/* Sends a call; takes ownership of params (may be NULL). */
int bg_send(BgClient *c, const char *method, json_object *params, bool more);
/*
 * Reads the next reply within timeout_ms (-1 waits forever). On success *ret_msg holds the
 * message (caller puts it) and *ret borrows from it. -ETIMEDOUT, -ECONNRESET when the daemon
 * hung up, -EBADMSG on a malformed or oversized reply.
 */
int bg_recv(BgClient *c, int timeout_ms, json_object **ret_msg, WireReply *ret);
/* send + one recv, for calls without "more". */
int bg_call(BgClient *c, const char *method, json_object *params, int timeout_ms,
            json_object **ret_msg, WireReply *ret);
