/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the sensor side of the sensor link: arbitrary bytes go through the
 * framing buffer (in two pieces) and every frame through sensor_request_check(); a verify
 * request's print through the base64 check, the decoder and sensor_print_shape_ok(), and a
 * print that passes the shape check through libfprint's own fp_print_deserialize(), which
 * the shape check exists to protect (a GLib abort there is a crash found). Inputs starting
 * with 'F' are taken as print bytes directly, so the GVariant checks are reached without
 * base64. Built as a libFuzzer target with -DBIOGATE_FUZZ=ON and always as a replay program.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <fprint.h>

#include "request.h"
#include "wire.h"

/* The virtual_device reader's names: the corpus's prints come from it. */
#define DRIVER    "virtual_device"
#define DEVICE_ID "0"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
print_bytes(const unsigned char *p, size_t n)
{
	if (sensor_print_shape_ok(p, n, DRIVER, DEVICE_ID)) {
		GError *err = NULL;
		FpPrint *print = fp_print_deserialize(p, n, &err);

		if (print)
			g_object_unref(print);
		g_clear_error(&err);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	WireBuf b;
	size_t half = size / 2;
	int r;

	if (size > 0 && data[0] == 'F') {
		print_bytes(data, size);
		return 0;
	}
	wire_buf_init(&b, WIRE_SENSOR_MAX_MESSAGE);
	r = wire_buf_feed(&b, data, half);
	for (int round = 0; round < 2 && r >= 0; round++) {
		json_object *msg = NULL;

		while ((r = wire_buf_next(&b, &msg)) > 0) {
			SensorRequest req;

			if (sensor_request_check(msg, &req) == 0 && !req.refusal &&
			    req.op == SENSOR_OP_VERIFY && sensor_request_print_valid(msg)) {
				size_t len = 0;
				unsigned char *p = sensor_request_print_decode(msg, &len);

				print_bytes(p, len);
				g_free(p);
			}
			json_object_put(msg);
		}
		if (r < 0 || round == 1)
			break;
		r = wire_buf_feed(&b, data + half, size - half);
	}
	wire_buf_clear(&b);
	return 0;
}
