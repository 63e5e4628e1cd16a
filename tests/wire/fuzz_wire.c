/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the wire parser: arbitrary bytes go through the framing buffer, and
 * every message that comes out through the call and reply envelope checks and a parameter
 * table. Built as a real libFuzzer target with clang (-DBIOGATE_FUZZ=ON) and, always, as a
 * replay program that CTest runs over the corpus.
 */
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const WireField fields[] = {
		{ "user", WIRE_STRING, false, WIRE_MAX_ID, 0, 0 },
		{ "matching_id", WIRE_STRING, false, WIRE_MAX_ID, 0, 0 },
		{ "session_id", WIRE_INT, false, 0, 1, INT32_MAX },
		{ "list", WIRE_ARRAY, false, 8, 0, 0 },
	};
	WireBuf b;
	wire_buf_init(&b, 1024);
	/* Feed in two pieces so the split-message path is exercised too. */
	size_t half = size / 2;
	int r = wire_buf_feed(&b, data, half);
	for (int round = 0; round < 2 && r >= 0; round++) {
		json_object *msg = NULL;
		while ((r = wire_buf_next(&b, &msg)) > 0) {
			WireCall call;
			WireReply rep;
			const char *bad = NULL;
			if (wire_parse_call(msg, &call) == 0) {
				if (wire_check(call.parameters, fields, 4, &bad) == 0) {
					(void)wire_valid_id(wire_str(call.parameters, "user"));
					(void)wire_int(call.parameters, "session_id", 0);
				}
			}
			(void)wire_parse_reply(msg, &rep);
			json_object_put(msg);
		}
		if (r < 0 || round == 1)
			break;
		r = wire_buf_feed(&b, data + half, size - half);
	}
	wire_buf_clear(&b);
	return 0;
}
