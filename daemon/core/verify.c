/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * verify: 1:1 fingerprint checks through biogated-sensor. The sealed template is opened only
 * into the request that goes to the sensor, and wiped as soon as it is sent. Answers from the
 * sensor are checked against a table like any other hostile input.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "log.h"
#include "manager.h"
#include "secret.h"
#include "sensorlink.h"
#include "store.h"
#include "verify.h"

struct VerifyOp {
	VerifyPromptFn prompt;
	VerifyDoneFn done;
	void *userdata;
};

void
verify_template_aad(char *buf, size_t size, const char *matching_id, const char *finger)
{
	snprintf(buf, size, "biogate-template:v1:%s:%s", matching_id, finger);
}

char *
verify_b64_encode(const uint8_t *p, size_t n)
{
	if (n > WIRE_SENSOR_MAX_MESSAGE)
		return NULL;
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	if (out)
		EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

int
verify_b64_decode(const char *s, size_t len, uint8_t **ret, size_t *ret_len)
{
	if (len == 0 || len % 4 != 0 || len > WIRE_SENSOR_MAX_MESSAGE)
		return -EBADMSG;
	uint8_t *out = malloc(len / 4 * 3 + 1);
	if (!out)
		return -ENOMEM;
	int n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
	if (n < 0) {
		free(out);
		return -EBADMSG;
	}
	/* EVP_DecodeBlock counts padding as zero bytes. */
	size_t pad = (s[len - 1] == '=') + (s[len - 2] == '=');
	*ret = out;
	*ret_len = (size_t)n - pad;
	return 0;
}

int
verify_request_new(Manager *m, const char *matching_id, json_object **ret)
{
	return verify_request_new_nth(m, matching_id, 0, ret);
}

int
verify_request_new_nth(Manager *m, const char *matching_id, size_t nth, json_object **ret)
{
	StoreFinger *fingers = NULL;
	size_t n = 0;
	int r = store_fingers_get(m->store, matching_id, &fingers, &n);
	if (r < 0)
		return r;
	if (n <= nth) {
		store_fingers_free(fingers, n);
		return -ENOENT;
	}
	/* 1:1 against one enrolled finger (a login: the first in name order, as fprintd does
	 * for readers without identify). */
	char aad[160];
	verify_template_aad(aad, sizeof(aad), matching_id, fingers[nth].finger);
	uint8_t *print = NULL;
	size_t print_len = 0;
	r = secret_open(m->secret, aad, fingers[nth].blob, fingers[nth].blob_len, &print,
	                &print_len);
	store_fingers_free(fingers, n);
	if (r < 0) {
		log_error("Template of matching ID %s failed authentication", matching_id);
		return -EBADMSG;
	}
	char *b64 = verify_b64_encode(print, print_len);
	secret_wipe_free(print, print_len);
	if (!b64)
		return -ENOMEM;
	json_object *req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("verify"));
	json_object_object_add(req, "print", json_object_new_string(b64));
	json_object_object_add(req, "timeout_ms",
	                       json_object_new_int64((int64_t)m->config.verify_timeout_sec * 1000));
	secret_wipe_free(b64, strlen(b64));
	*ret = req;
	return 0;
}

int
verify_sensor_errno(const char *err)
{
	if (!err)
		return -ENOTCONN;
	if (strcmp(err, "no-reader") == 0)
		return -ENODEV;
	if (strcmp(err, "timeout") == 0)
		return -ETIMEDOUT;
	if (strcmp(err, "cancelled") == 0)
		return -ECANCELED;
	if (strcmp(err, "busy") == 0)
		return -EBUSY;
	return -ENOTCONN;
}

static void
verify_on_sensor(json_object *msg, bool final, void *userdata)
{
	static const WireField done_ok[] = {
		{ "id", WIRE_INT, true, 0, 0, 0 },
		{ "ok", WIRE_BOOL, true, 0, 0, 0 },
		{ "match", WIRE_BOOL, true, 0, 0, 0 },
	};
	static const WireField done_fail[] = {
		{ "id", WIRE_INT, false, 0, 0, 0 },
		{ "ok", WIRE_BOOL, true, 0, 0, 0 },
		{ "error", WIRE_STRING, true, 64, 0, 0 },
		{ "message", WIRE_STRING, false, 512, 0, 0 },
	};
	static const WireField event[] = {
		{ "id", WIRE_INT, true, 0, 0, 0 },
		{ "event", WIRE_STRING, true, 32, 0, 0 },
		{ "message", WIRE_STRING, false, 512, 0, 0 },
	};
	VerifyOp *op = userdata;
	const char *bad = NULL;
	if (!final) {
		const char *ev = wire_str(msg, "event");
		if (op->prompt && ev && wire_check(msg, event, 3, &bad) == 0 &&
		    (strcmp(ev, "place-finger") == 0 || strcmp(ev, "retry") == 0))
			op->prompt(ev, op->userdata);
		return;
	}
	VerifyDoneFn done = op->done;
	void *ud = op->userdata;
	free(op);
	if (wire_bool(msg, "ok", false)) {
		if (wire_check(msg, done_ok, 3, &bad) < 0)
			return done(-EBADMSG, false, ud);
		return done(0, wire_bool(msg, "match", false), ud);
	}
	if (wire_check(msg, done_fail, 4, &bad) < 0)
		return done(-EBADMSG, false, ud);
	done(verify_sensor_errno(wire_str(msg, "error")), false, ud);
}

int
verify_start(Manager *m, const char *matching_id, VerifyPromptFn prompt, VerifyDoneFn done,
             void *userdata, VerifyOp **ret)
{
	return verify_start_nth(m, matching_id, 0, prompt, done, userdata, ret);
}

int
verify_start_nth(Manager *m, const char *matching_id, size_t nth, VerifyPromptFn prompt,
                 VerifyDoneFn done, void *userdata, VerifyOp **ret)
{
	json_object *req = NULL;
	int r = verify_request_new_nth(m, matching_id, nth, &req);
	if (r < 0)
		return r;
	VerifyOp *op = calloc(1, sizeof(*op));
	if (!op) {
		json_object_put(req);
		return -ENOMEM;
	}
	*op = (VerifyOp){ .prompt = prompt, .done = done, .userdata = userdata };
	r = sensorlink_start(m->sensor, req, verify_on_sensor, op);
	if (r < 0) {
		free(op);
		return r;
	}
	*ret = op;
	return 0;
}

void
verify_cancel(Manager *m, VerifyOp *op)
{
	if (!op)
		return;
	sensorlink_cancel(m->sensor, op);
	free(op);
}
