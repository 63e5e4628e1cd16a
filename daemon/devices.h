/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * devices: R15. Watches USB devices through sd-device (a udev monitor on the daemon's
 * sd-event loop). Removable storage stays unauthorized (udev/71-biogate-usb-storage.rules
 * sets authorized=0 on USB mass storage interfaces) unless the admin allowed that device's
 * serial (biogatectl usb allow SERIAL); the daemon authorizes an allowed device and records
 * every attempt, allowed or blocked, and notes a blocked one as an incident. Reader hot-plug
 * is the sensor's business, not this module's.
 *
 * The allow-list lives in <state>/usb-allowed.json (0600, replaced atomically), not in the
 * store: its schema and migrations belong to store.c. Attempts are kept only in the audit
 * trail (action "usb.attempt") and read back from there.
 */
#pragma once

#include <json-c/json.h>

#include "daemon.h"

typedef struct Devices Devices;

#define DEVICES_ALLOWLIST_FILE "usb-allowed.json"
#define DEVICES_ALLOWED_MAX    256
#define DEVICES_SERIAL_MAX     126 /* a USB string descriptor holds 126 UTF-16 units */
#define DEVICES_NOTE_MAX       256
#define DEVICES_ALLOWLIST_MAX  (64L * 1024) /* bytes: a longer file is refused */
#define DEVICES_LIST_ATTEMPTS  100          /* UsbList shows the newest this many */

/* Loads the allow-list, applies the rule once to the USB mass storage interfaces present,
 * and starts the monitor; without udev (containers) it says so and stays idle. A malformed
 * allow-list is logged and treated as empty (everything blocked); UsbAllow and UsbRevoke
 * then refuse to overwrite it until the admin repairs or removes it. */
int devices_new(Manager *m, Devices **ret);
/* The same without touching /sys: no enumeration, no monitor (tests, offline tools). */
int devices_new_offline(Manager *m, Devices **ret);
void devices_free(Devices *d);

/* Whether the allow-list file loaded (absent counts as loaded, empty). */
bool devices_allowlist_ok(const Devices *d);

/*
 * The rule for one USB interface, given its sysfs directory (/sys/devices/.../1-1/1-1:1.0;
 * the monitor passes the syspath, tests a fake tree): when its bInterfaceClass is 08 (mass
 * storage), reads serial, idVendor and idProduct of the parent usb_device directory, writes
 * "1" (allowed serial) or "0" (anything else) to the interface's authorized attribute,
 * records "usb.attempt" allow or deny, and notes a denied one as incident storage-blocked.
 * Returns 1 when authorized, 0 when blocked, -EMEDIUMTYPE for an interface that is not mass
 * storage (nothing done), other -errno when the attributes cannot be read.
 */
int devices_apply(Devices *d, const char *interface_dir);

/* Method handlers wired into methods.c's table by the lead, with these parameter schemas:
 *   io.biogate.UsbAllow {serial, note?}   admin: allow one device by its USB serial
 *   io.biogate.UsbRevoke {serial}         admin: withdraw it
 *   io.biogate.UsbList {}                 admin: {watching, allowlist_ok,
 *                                                 allowed:[{serial, note, allowed_at}],
 *                                                 attempts:[{time, serial, vendor, product,
 *                                                            outcome, reason}],
 *                                                 attempts_truncated}
 * allowed_at and time are usec since the epoch (as audit records). Errors: AlreadyExists,
 * NotFound, InvalidParameter (serial), InternalError (allow-list unreadable, full or not
 * writable; the log says which).
 */
extern const WireField devices_allow_fields[2];
extern const WireField devices_serial_fields[1];
void devices_method_allow(Manager *m, Conn *c, json_object *params);
void devices_method_revoke(Manager *m, Conn *c, json_object *params);
void devices_method_list(Manager *m, Conn *c, json_object *params);
