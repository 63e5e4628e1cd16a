/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * devices: R15. Watches USB devices through sd-device (a udev monitor on the daemon's
 * sd-event loop). Removable storage stays unauthorized (udev/71-biogate-usb-storage.rules
 * sets authorized=0 on USB mass storage interfaces) unless the admin allowed that device's
 * serial (biogatectl usb allow SERIAL); the daemon authorizes an allowed device and records
 * every attempt, allowed or blocked, and notes a blocked one as an incident. Reader hot-plug
 * is the sensor's business, not this module's.
 */
#pragma once

#include <json-c/json.h>

#include "daemon.h"

typedef struct Devices Devices;

/* Starts the monitor; without udev (containers) it says so and stays idle. */
int devices_new(Manager *m, Devices **ret);
void devices_free(Devices *d);

/* Method handlers wired into methods.c's table by the lead:
 *   io.biogate.UsbAllow {serial, note?}   admin: allow one device by its USB serial
 *   io.biogate.UsbRevoke {serial}         admin: withdraw it
 *   io.biogate.UsbList {}                 admin: {allowed:[{serial, note, allowed_at}],
 *                                                 attempts:[{time, serial, vendor, product,
 * outcome}]}
 */
void devices_method_allow(Manager *m, Conn *c, json_object *params);
void devices_method_revoke(Manager *m, Conn *c, json_object *params);
void devices_method_list(Manager *m, Conn *c, json_object *params);
