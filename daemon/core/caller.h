/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * caller: who asked, as core sees it. The varlink layer fills one per connection from the
 * kernel's credentials (SO_PEERCRED, SO_PEERGROUPS) and hands core a pointer; core never
 * sees the connection itself. hold/release let core keep the caller's reply back until the
 * audit record it depends on is durable (record.h); NULL for the daemon's own work.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "forward.h"
#include "wire.h"

/*
 * What the kernel said about the peer. SO_PEERCRED gives the pid, uid and gid of the process
 * that called connect(), as they were then; it says nothing about who holds or writes on
 * the connection later (a child that inherited it, a process it was passed to with
 * SCM_RIGHTS), and the pid is only a number that a new process can get once the connector
 * is gone. So the daemon pins the connector: a pidfd (SO_PEERPIDFD, else pidfd_open() at
 * accept) and its start time from /proc/PID/stat; peer_connector_alive() checks both
 * before a call may use the connector's session, and the server closes a connection on
 * which any other process writes (SCM_CREDENTIALS of every read; see varlink/server.c).
 */
typedef struct Peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	gid_t groups[64];
	int n_groups;             /* -1 when SO_PEERGROUPS failed: treat as no groups */
	int pidfd;                /* the connector, pinned; -1 when it could not be opened */
	unsigned long long start; /* its start time (/proc/PID/stat field 22); 0 unknown */
	bool gone;                /* the connector has exited: the peer is in no session */
	/* /proc/PID/loginuid read at accept: who logged in (kept across sudo). */
	bool has_loginuid;
	uid_t loginuid;
} Peer;

/* Pins the connector of the accepted socket fd into p (pid, uid, gid, groups already
 * filled from SO_PEERCRED/SO_PEERGROUPS): sets pidfd and start. -errno when the connector
 * cannot be pinned (gone already, or its pid taken by another process). */
int peer_pin(Peer *p, int fd);
/* Whether the connector is still the process that connected (alive, same start time). */
bool peer_connector_alive(const Peer *p);
void peer_unpin(Peer *p);

/* The biogate session the peer's process belongs to, resolved per call from the pinned
 * connector (cached here for the records of the call). */
typedef struct PeerSession {
	bool known;
	int64_t session_id;
	char matching_id[WIRE_MAX_ID + 1];
	char operator_id[WIRE_MAX_ID + 1];
	char role[WIRE_MAX_ID + 1];
} PeerSession;

struct Caller {
	Peer peer;
	PeerSession session; /* cache for sessions_of_caller() */
	/* The reply waits while holds are taken; release(r) answers when r >= 0, answers
	 * io.biogate.DiskFull instead when r is -ENOSPC, and drops the caller otherwise. The
	 * Caller stays valid until every hold is released. */
	void (*hold)(Caller *c);
	void (*release)(Caller *c, int r);
};

/* Root or the admin group, from the kernel's credentials. */
bool caller_is_admin(const Manager *m, const Caller *c);
