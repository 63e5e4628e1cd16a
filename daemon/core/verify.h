/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * verify: one person's fingerprint checked 1:1 by the sensor, for whoever needs it (the
 * login, the second person of a two-person confirmation). Owns opening the sealed template
 * for the one request (the plaintext lives only in the request to the sensor and is wiped)
 * and the template's AAD. Never logs or returns a template.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "forward.h"
#include "wire.h"

/* "biogate-template:v1:<matching ID>:<finger>", the AAD every sealed template carries. */
void verify_template_aad(char *buf, size_t size, const char *matching_id, const char *finger);

/* Base64 through OpenSSL, bounded by the sensor message cap. */
char *verify_b64_encode(const uint8_t *p, size_t n);
int verify_b64_decode(const char *s, size_t len, uint8_t **ret, size_t *ret_len);

/* The sensor request {"op":"verify","print":...,"timeout_ms":...} for the first enrolled
 * finger of matching_id. -ENOENT when no finger is enrolled; -EBADMSG when the stored
 * template fails authentication (tampered or moved). */
int verify_request_new(Manager *m, const char *matching_id, json_object **ret);
/* The same for the finger-th enrolled finger (name order); -ENOENT past the last. */
int verify_request_new_nth(Manager *m, const char *matching_id, size_t finger, json_object **ret);

/* A sensor's error word as -errno: "no-reader" -ENODEV, "timeout" -ETIMEDOUT, "cancelled"
 * -ECANCELED, "busy" -EBUSY, anything else -ENOTCONN (the sensor is not usable). A
 * malformed answer from the sensor is -EBADMSG. */
int verify_sensor_errno(const char *err);

typedef struct VerifyOp VerifyOp;
/* prompt: "place-finger" or "retry", while the reader waits. */
typedef void (*VerifyPromptFn)(const char *prompt, void *userdata);
/* r < 0: the check could not run (verify_sensor_errno() or -EBADMSG); else match says it
 * all. */
typedef void (*VerifyDoneFn)(int r, bool match, void *userdata);

/* Starts the check. On failure nothing is called back and -errno is returned: -ENOENT (not
 * enrolled), -EBADMSG, -EBUSY (the reader is in use), -ENOTCONN (no sensor). */
int verify_start(Manager *m, const char *matching_id, VerifyPromptFn prompt, VerifyDoneFn done,
                 void *userdata, VerifyOp **ret);
/* verify_start() against the finger-th enrolled finger (name order) of matching_id. */
int verify_start_nth(Manager *m, const char *matching_id, size_t finger, VerifyPromptFn prompt,
                     VerifyDoneFn done, void *userdata, VerifyOp **ret);
/* Stops waiting: no callback comes after this. */
void verify_cancel(Manager *m, VerifyOp *op);
