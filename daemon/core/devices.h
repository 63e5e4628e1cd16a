/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * devices: R15. Removable storage stays unauthorized (udev/71-biogate-usb-storage.rules sets
 * authorized=0 on USB mass storage interfaces and starts biogate-usb-authorize@.service)
 * unless the admin allowed that device's serial (biogatectl usb allow SERIAL); the root-side
 * helper authorizes an allowed device, the daemon decides and records every attempt, allowed,
 * blocked or failed, and notes a blocked or failed one as an incident. Reader hot-plug is the
 * sensor's business, not this module's.
 *
 * The allow-list lives in <state>/usb-allowed.json (0600, replaced atomically), not in the
 * store: its schema and migrations belong to store.c. Attempts are kept only in the audit
 * trail (action "usb.attempt") and read back from there.
 */
#pragma once

#include <json-c/json.h>

#include <stdbool.h>

#include "forward.h"
#include "interface.h"

typedef struct Devices Devices;

#define DEVICES_ALLOWLIST_FILE "usb-allowed.json"
#define DEVICES_ALLOWED_MAX    256
#define DEVICES_SERIAL_MAX     BIOGATE_USB_SERIAL_MAX
#define DEVICES_NOTE_MAX       BIOGATE_USB_NOTE_MAX
#define DEVICES_ALLOWLIST_MAX  (64L * 1024) /* bytes: a longer file is refused */
#define DEVICES_LIST_ATTEMPTS  100          /* UsbList shows the newest this many */

/* Loads the allow-list and notes whether udev runs (without it, containers, it says so). A
 * malformed allow-list is logged and treated as empty (everything blocked); UsbAllow and UsbRevoke
 * then refuse to overwrite it until the admin repairs or removes it. */
int devices_new(Manager *m, Devices **ret);
/* The same without looking for udev (tests, offline tools). */
int devices_new_offline(Manager *m, Devices **ret);
void devices_free(Devices *d);

/* Whether udev runs here (the rule blocks storage and starts the helper). */
bool devices_udev(const Devices *d);
/* Whether the allow-list file loaded (absent counts as loaded, empty). */
bool devices_allowlist_ok(const Devices *d);

/* What biogate-usb-authorize read from sysfs for one USB mass storage interface. */
typedef struct DevicesAttempt {
	const char *interface; /* kernel name, e.g. 1-1:1.0 */
	const char *serial;    /* NULL: the device has none */
	const char *vendor, *product;
	bool authorized_phase; /* false: "plugged", the question; true: "authorized", the report */
	bool applied;          /* plugged: the interface is blocked; authorized: the write worked */
	const char *error;     /* authorized and not applied: why */
} DevicesAttempt;

/*
 * UsbAttempt (root: the helper). Phase "plugged": *ret_allow says whether the helper may
 * authorize; a refusal ("not-allowed", "no-serial", "allowlist-unreadable") is recorded as
 * "usb.attempt" deny and noted as incident storage-blocked before c's reply; an allowed one
 * is not recorded yet. Phase "authorized": records "usb.attempt" allow (applied) or fail
 * ("authorize-failed", with an incident); -EPERM when the serial is no longer allowed (the
 * helper then blocks it again). -EINVAL with *ret_bad naming the parameter.
 */
int devices_attempt(Manager *m, Caller *c, const DevicesAttempt *a, bool *ret_allow,
                    const char **ret_reason, const char **ret_bad);

/* UsbAllow / UsbRevoke (docs/protocol.md): changes the allow-list file, then memory, records
 * "usb.allow" / "usb.revoke" (c's reply waits for it); a stick already plugged in follows
 * the list when it is plugged in again. ret: {serial, note, allowed_at}. -EINVAL (*ret_bad names
 * the parameter), -EEXIST, -ENOENT, -EIO (allow-list unreadable or not writable), -ENOSPC (full).
 */
int devices_change(Manager *m, Caller *c, const char *serial, const char *note, bool allow,
                   const char **ret_bad, json_object **ret);
/* UsbList: {watching, allowlist_ok, allowed:[{serial, note, allowed_at}], attempts:[{time,
 * serial, vendor, product, outcome, reason}], attempts_truncated}; times in usec. */
json_object *devices_list_json(Manager *m);
