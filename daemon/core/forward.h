/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * forward: the daemon's opaque types by name, so that a header can mention a pointer to one
 * without including the module that owns it (and so without an arrow to that module).
 */
#pragma once

typedef struct Manager Manager;       /* manager.h */
typedef struct Caller Caller;         /* caller.h */
typedef struct Store Store;           /* store/store.h */
typedef struct Secret Secret;         /* base/secret.h */
typedef struct Audit Audit;           /* audit/audit.h */
typedef struct Policy Policy;         /* policy/policy.h */
typedef struct SensorLink SensorLink; /* sensorlink.h */
typedef struct Sessions Sessions;     /* sessions.h */
typedef struct Incidents Incidents;   /* incidents.h */
typedef struct Devices Devices;       /* devices.h */
typedef struct Room Room;             /* room.h */
typedef struct Refusals Refusals;     /* refusals.h */
typedef struct Fleet Fleet;           /* fleet.h */
typedef struct VerifyOp VerifyOp;     /* verify.h */
/* The varlink layer's listener: the manager owns it, core never looks inside. */
typedef struct Server Server; /* varlink/conn.h */
