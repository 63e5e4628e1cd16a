/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sensorlink: the biogated-sensor child (spawned, watched, restarted) and the one operation
 * it runs at a time (enroll or verify), spoken over a socketpair in wire frames.
 */
#pragma once

#include <stdbool.h>

#include <json-c/json.h>

#include "forward.h"

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
