/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fleet_conn: one asynchronous libpq connection to the fleet center, driven by an sd-event
 * loop. It connects without blocking (PQconnectStart/PQconnectPoll on PQsocket), sends one
 * query at a time from a FIFO (PQsendQueryParams in non-blocking mode, PQflush on EPOLLOUT),
 * LISTENs on the channels it was given again after every (re)connect, hands notifications to
 * a callback, and reconnects with exponential backoff when the center goes away.
 *
 * The promise to the caller: no call here and no event it handles ever waits for the center.
 * A query on a connection that is not up fails at once (-ENOTCONN); a query that has no answer
 * within its timeout fails (-ETIMEDOUT) and the connection is dropped and re-established, since
 * libpq 15 has no non-blocking cancel. The caller decides what a missing answer means (for a
 * login: the offline rules).
 *
 * Host name lookup in libpq is synchronous: give `hostaddr=` (or a Unix socket path) in the
 * connection string when a stalled resolver must not stall the loop.
 *
 * This module knows nothing of biogate's requests, sessions or records; its API is plain
 * callbacks. It never logs a parameter value (they may be sealed templates).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>
#include <systemd/sd-event.h>

typedef struct FleetConn FleetConn;

/* The connection came up (LISTENs in place) or went down. */
typedef void (*fleet_state_cb_t)(FleetConn *c, bool up, void *userdata);
/* A notification. The payload is a hint from anyone who can connect: read the truth. */
typedef void (*fleet_notify_cb_t)(FleetConn *c, const char *channel, const char *payload,
                                  void *userdata);
/*
 * A query finished. r == 0: res is PGRES_COMMAND_OK or PGRES_TUPLES_OK. r == -EIO: the server
 * refused it, res is the error result (PQresultErrorField(res, PG_DIAG_SQLSTATE)). Without res:
 * -ENOTCONN (never reached the server), -ECONNRESET or -ETIMEDOUT (sent, outcome unknown),
 * -ECANCELED (the connection was freed). res belongs to fleet_conn and is freed after the
 * callback returns. The callback may queue more queries; it must not free the connection.
 */
typedef void (*fleet_result_cb_t)(FleetConn *c, int r, const PGresult *res, void *userdata);

/* Validates conninfo (-EINVAL if libpq cannot parse it); does not connect yet. */
int fleet_conn_new(sd_event *event, const char *conninfo, FleetConn **ret);
FleetConn *fleet_conn_free(FleetConn *c);

void fleet_conn_set_state_callback(FleetConn *c, fleet_state_cb_t cb, void *userdata);
void fleet_conn_set_notify_callback(FleetConn *c, fleet_notify_cb_t cb, void *userdata);
/* Reconnect delays: the first retry after min, doubling up to max (with jitter). */
void fleet_conn_set_backoff(FleetConn *c, uint64_t min_usec, uint64_t max_usec);
/* PQconnectPoll ignores connect_timeout; this bounds one attempt instead. */
void fleet_conn_set_connect_timeout(FleetConn *c, uint64_t usec);

/* Adds a channel (a plain identifier) to LISTEN on, now if up and after every reconnect. */
int fleet_conn_listen(FleetConn *c, const char *channel);
/* Starts the first connection attempt; progress and failures arrive on the loop. */
int fleet_conn_start(FleetConn *c);
bool fleet_conn_is_up(const FleetConn *c);

/*
 * Queues one statement with up to 65535 text or binary parameters (copied; formats may be NULL for
 * all text, lengths are used for binary ones) and a timeout counted from now (0: none). Results
 * come back as text. Returns -ENOTCONN at once when the connection is not up, -E2BIG when too
 * many queries are already queued.
 */
int fleet_conn_query(FleetConn *c, const char *sql, int n_params, const char *const *values,
                     const int *lengths, const int *formats, uint64_t timeout_usec,
                     fleet_result_cb_t cb, void *userdata);
/* The same, with stmt (may be NULL): a name under which sql is prepared once per connection
 * (the same name must always mean the same sql); and urgent: queued ahead of everything not
 * yet sent (a login waiting, not an upload). */
int fleet_conn_query_ex(FleetConn *c, const char *stmt, bool urgent, const char *sql, int n_params,
                        const char *const *values, const int *lengths, const int *formats,
                        uint64_t timeout_usec, fleet_result_cb_t cb, void *userdata);

/*
 * For callers outside a running loop (biogatectl, tests): runs the loop until done(userdata)
 * is true (0) or timeout_usec has passed (-ETIMEDOUT). Never call it from a loop callback.
 */
int fleet_conn_wait(FleetConn *c, uint64_t timeout_usec, bool (*done)(void *userdata),
                    void *userdata);

/* The last connection error from libpq (never NULL; empty when there was none). */
const char *fleet_conn_last_error(const FleetConn *c);
/* How many times the connection came up. */
unsigned fleet_conn_connects(const FleetConn *c);
unsigned fleet_conn_queued(const FleetConn *c);
