/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * request: the sensor side of the sensor link (docs/protocol.md section 2). Everything the
 * sensor reads from biogated is checked here before a handler or libfprint sees it; it has
 * no state and no libfprint calls, so fuzz_sensor_request drives it directly.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SENSOR_TIMEOUT_MAX_MS 3600000

typedef enum SensorOp {
	SENSOR_OP_HELLO,
	SENSOR_OP_ENROLL,
	SENSOR_OP_VERIFY,
	SENSOR_OP_CANCEL,
} SensorOp;

typedef struct SensorRequest {
	int64_t id;
	SensorOp op;         /* meaningful when refusal is NULL */
	const char *op_name; /* the op when it is known, for the log */
	const char *refusal; /* NULL, or the message of an "invalid" reply */
} SensorRequest;

/*
 * Checks one parsed frame against the request tables. Returns -EBADMSG when it has no
 * readable id (the sensor then exits), else 0 with *ret filled: either a known op whose
 * fields all passed, or a refusal to answer with "invalid".
 */
int sensor_request_check(json_object *msg, SensorRequest *ret);

/* A checked verify request's "print": bounded standard base64 with padding, nothing else. */
bool sensor_request_print_valid(json_object *msg);
/* Its decoded bytes (g_free, wipe first); only after sensor_request_print_valid(). */
unsigned char *sensor_request_print_decode(json_object *msg, size_t *ret_len);

/*
 * Whether serialized print bytes have exactly the shape fp_print_deserialize() trusts, and
 * name this reader's driver and device id.
 */
bool sensor_print_shape_ok(const unsigned char *data, size_t len, const char *driver,
                           const char *device_id);
