/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's shared state (Manager) and the narrow interfaces between its modules:
 * server (connections, framing), methods (dispatch and handlers), sensorlink (the
 * biogated-sensor child). Everything runs on one sd-event loop; no threads.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <json-c/json.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "secret.h"
#include "store.h"
#include "wire.h"

typedef struct Server Server;
typedef struct Conn Conn;
typedef struct SensorLink SensorLink;
typedef struct Policy Policy;       /* policy/policy.h */
typedef struct Audit Audit;         /* audit.h */
typedef struct Sessions Sessions;   /* sessions.h */
typedef struct Incidents Incidents; /* incidents.h */
typedef struct Devices Devices;     /* devices.h */
typedef struct Room Room;           /* room.h */

#define TICKET_HEX_LEN 32
#define TICKETS_MAX    64

typedef struct Ticket {
	char hex[TICKET_HEX_LEN + 1];
	char matching_id[WIRE_MAX_ID + 1];
	pid_t pid;
	uid_t uid;
	uid_t session_uid;     /* the person's Unix uid, (uid_t)-1 when unknown */
	uint64_t expires_usec; /* CLOCK_MONOTONIC */
} Ticket;

typedef struct Manager {
	sd_event *event;
	Config config;
	char *state_dir;
	char *runtime_dir;
	Store *store;
	Secret *secret;
	Server *server;
	SensorLink *sensor;
	Policy *policy;
	Audit *audit;
	Sessions *sessions;
	Incidents *incidents;
	Devices *devices;
	Room *room;
	char terminal[64];     /* this terminal's name (hostname) for records */
	uint64_t started_usec; /* CLOCK_MONOTONIC */
	Ticket tickets[TICKETS_MAX];
} Manager;

/* Times. */
uint64_t now_mono_usec(void);
int64_t now_real_usec(void);

/* server.c */
int server_new(Manager *m, int listen_fd, Server **ret);
void server_free(Server *s);
unsigned server_connections(const Server *s);

/* What a method handler knows about its caller: only what the kernel said. */
typedef struct Peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	gid_t groups[64];
	int n_groups; /* -1 when SO_PEERGROUPS failed: treat as no groups */
} Peer;

const Peer *conn_peer(const Conn *c);

/* The biogate session a connection's peer process belongs to, resolved once per connection
 * (the peer's pid does not change; its session can only end, which is checked on use). */
typedef struct PeerSession {
	bool known;
	int64_t session_id;
	char matching_id[WIRE_MAX_ID + 1];
	char operator_id[WIRE_MAX_ID + 1];
	char role[WIRE_MAX_ID + 1];
} PeerSession;
PeerSession *conn_peer_session(Conn *c);
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
/* Holds the connection's output until release: a reply is not sent before the audit record
 * it depends on is durable. Release with ok=false drops the connection instead. The Conn
 * stays valid (possibly dead) until released. */
void conn_hold_output(Conn *c);
void conn_release_output(Conn *c, bool ok);
/* As conn_release_output(c, false) when the record failed for lack of space: the held reply
 * is withdrawn and the caller hears io.biogate.DiskFull instead of a closed connection. */
void conn_release_output_disk_full(Conn *c);

/* methods.c: dispatches one parsed call. Always answers (now or deferred). */
void methods_dispatch(Manager *m, Conn *c, const WireCall *call);
/* Root or the admin group, from the kernel's credentials. */
bool methods_peer_is_admin(const Manager *m, const Peer *p);
/* Appends an audit record (time and terminal filled in); with a connection, its output is
 * held until the record is durable, and the caller is dropped if it cannot be written. */
struct AuditRecord;
void methods_record(Manager *m, Conn *c, struct AuditRecord *rec);
/* "YYYY-MM-DD" of a real calendar date -> YYYYMMDD; 0 otherwise. */
int32_t methods_parse_date(const char *s);

/* sensorlink.c */
typedef void (*SensorReplyFn)(json_object *msg, bool final, void *userdata);
int sensorlink_new(Manager *m, SensorLink **ret);
void sensorlink_free(SensorLink *s);
/* Starts an operation (enroll/verify). -EBUSY when one runs, -ENOTCONN when the sensor is
 * down. req is taken; its "id" is set here. cb gets every event and then one final message
 * ({"ok":...}); after the final one it is never called again. */
int sensorlink_start(SensorLink *s, json_object *req, SensorReplyFn cb, void *userdata);
/* Drops the callback of the operation started with userdata and asks the sensor to cancel
 * it; a request still waiting for the sensor is dropped. */
void sensorlink_cancel(SensorLink *s, void *userdata);
/* {"present":..,"driver":..,"name":..,"enroll_stages":..} and the process state. */
json_object *sensorlink_status(SensorLink *s);
