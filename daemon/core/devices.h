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

/* UsbAllow / UsbRevoke (docs/protocol.md): changes the allow-list file, then memory, records
 * "usb.allow" / "usb.revoke" (c's reply waits for it) and applies the list to what is
 * plugged in. ret: {serial, note, allowed_at}. -EINVAL (*ret_bad names the parameter),
 * -EEXIST, -ENOENT, -EIO (allow-list unreadable or not writable), -ENOSPC (full). */
int devices_change(Manager *m, Caller *c, const char *serial, const char *note, bool allow,
                   const char **ret_bad, json_object **ret);
/* UsbList: {watching, allowlist_ok, allowed:[{serial, note, allowed_at}], attempts:[{time,
 * serial, vendor, product, outcome, reason}], attempts_truncated}; times in usec. */
json_object *devices_list_json(Manager *m);
