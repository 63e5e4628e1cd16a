/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * request: checks what biogated sends the sensor before anything acts on it. The daemon is
 * trusted, but a frame is still parsed as if it were not (length first, then the field
 * table, then leftovers refused), and a print is checked for the exact shape libfprint
 * dereferences, since libfprint itself does not check it. It must never call into
 * libfprint or keep state: fuzz_sensor_request runs it on arbitrary bytes.
 */
#include <errno.h>
#include <string.h>

#include <fprint.h>
#include <glib.h>

#include "request.h"
#include "wire.h"

static const WireField fields_plain[] = {
	{ .name = "id", .type = WIRE_INT, .required = true, .min = 1, .max = INT64_MAX },
	{ .name = "op", .type = WIRE_STRING, .required = true, .max_len = 16 },
};

static const WireField fields_enroll[] = {
	{ .name = "id", .type = WIRE_INT, .required = true, .min = 1, .max = INT64_MAX },
	{ .name = "op", .type = WIRE_STRING, .required = true, .max_len = 16 },
	{ .name = "finger", .type = WIRE_STRING, .required = true, .max_len = 16 },
	{ .name = "timeout_ms", .type = WIRE_INT, .min = 1, .max = SENSOR_TIMEOUT_MAX_MS },
};

static const WireField fields_verify[] = {
	{ .name = "id", .type = WIRE_INT, .required = true, .min = 1, .max = INT64_MAX },
	{ .name = "op", .type = WIRE_STRING, .required = true, .max_len = 16 },
	{ .name = "print",
	  .type = WIRE_STRING,
	  .required = true,
	  .max_len = WIRE_SENSOR_MAX_MESSAGE },
	{ .name = "timeout_ms", .type = WIRE_INT, .min = 1, .max = SENSOR_TIMEOUT_MAX_MS },
};

static const struct {
	const char *name;
	SensorOp op;
	const WireField *fields;
	size_t n_fields;
} requests[] = {
	{ "hello", SENSOR_OP_HELLO, fields_plain, G_N_ELEMENTS(fields_plain) },
	{ "enroll", SENSOR_OP_ENROLL, fields_enroll, G_N_ELEMENTS(fields_enroll) },
	{ "verify", SENSOR_OP_VERIFY, fields_verify, G_N_ELEMENTS(fields_verify) },
	{ "cancel", SENSOR_OP_CANCEL, fields_plain, G_N_ELEMENTS(fields_plain) },
};

int
sensor_request_check(json_object *msg, SensorRequest *ret)
{
	json_object *v = NULL;
	const char *op, *bad = NULL;
	int64_t id;

	if (!json_object_object_get_ex(msg, "id", &v) || !json_object_is_type(v, json_type_int))
		return -EBADMSG;
	id = json_object_get_int64(v);
	if (id < 1)
		return -EBADMSG;

	*ret = (SensorRequest){ .id = id, .refusal = "unknown op" };
	op = wire_str(msg, "op");
	for (size_t i = 0; op && i < G_N_ELEMENTS(requests); i++) {
		if (strcmp(op, requests[i].name) != 0)
			continue;
		ret->op_name = requests[i].name;
		ret->op = requests[i].op;
		ret->refusal = wire_check(msg, requests[i].fields, requests[i].n_fields, &bad) < 0
		                   ? "bad or unknown field"
		                   : NULL;
		break;
	}
	return 0;
}

/* Standard base64 with padding, nothing else: g_base64_decode() silently skips junk. */
static bool
base64_valid(const char *p, size_t n)
{
	size_t pad = 0;

	if (n == 0 || n % 4 != 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '=') {
			pad++;
			continue;
		}
		if (pad > 0)
			return false;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/'))
			return false;
	}
	return pad <= 2;
}

bool
sensor_request_print_valid(json_object *msg)
{
	json_object *str = NULL;
	const char *b64;
	size_t n;

	json_object_object_get_ex(msg, "print", &str);
	b64 = json_object_get_string(str);
	n = (size_t)json_object_get_string_len(str);
	/* Length first: nothing longer than a frame is decoded, whatever wire_check allowed. */
	return b64 && n <= WIRE_SENSOR_MAX_MESSAGE && base64_valid(b64, n);
}

unsigned char *
sensor_request_print_decode(json_object *msg, size_t *ret_len)
{
	json_object *str = NULL;
	gsize len = 0;
	guchar *data;

	json_object_object_get_ex(msg, "print", &str);
	data = g_base64_decode(json_object_get_string(str), &len);
	*ret_len = len;
	return data;
}

/*
 * libfprint 1.94's fp_print_deserialize() trusts the shape of the print's payload: it takes
 * child 0 of the inner variant and children 0..2 of each NBIS row without checking, and
 * GLib aborts the process on an out-of-range child. So the bytes are first parsed here the
 * same way (FP3 header, GVariant "(issbymsmsia{sv}v)" in normal form) and every value it
 * dereferences is checked: a RAW payload must be a variant, an NBIS payload exactly
 * "(a(aiaiai))". The driver and device id must name this reader.
 */
#define PRINT_MAGIC        "FP3"
#define PRINT_VARIANT_TYPE "(issbymsmsia{sv}v)"
#define PRINT_TYPE_RAW     1 /* FPI_PRINT_RAW */
#define PRINT_TYPE_NBIS    2 /* FPI_PRINT_NBIS */

static bool
print_value_ok(GVariant *raw, const char *want_driver, const char *want_device_id)
{
	g_autoptr(GVariant) value = NULL, data = NULL, inner = NULL;
	const char *driver = NULL, *device_id = NULL;
	gint32 type = 0, julian = 0;
	guint8 finger = 0;

	if (G_BYTE_ORDER == G_BIG_ENDIAN)
		value = g_variant_byteswap(raw);
	else
		value = g_variant_get_normal_form(raw);
	g_variant_get(value, "(i&s&sbym&sm&si@a{sv}@v)", &type, &driver, &device_id, NULL, &finger,
	              NULL, NULL, &julian, NULL, &data);
	if (type != PRINT_TYPE_RAW && type != PRINT_TYPE_NBIS)
		return false;
	if (g_strcmp0(driver, want_driver) != 0 || g_strcmp0(device_id, want_device_id) != 0)
		return false;
	if (finger > FP_FINGER_LAST)
		return false;
	/* G_MININT32 is how libfprint writes "no date". */
	if (julian != G_MININT32 && !g_date_valid_julian((guint32)julian))
		return false;
	inner = g_variant_get_variant(data);
	if (type == PRINT_TYPE_RAW)
		return g_variant_is_of_type(inner, G_VARIANT_TYPE_VARIANT);
	return g_variant_is_of_type(inner, G_VARIANT_TYPE("(a(aiaiai))"));
}

bool
sensor_print_shape_ok(const unsigned char *data, size_t len, const char *driver,
                      const char *device_id)
{
	guchar *copy;
	GVariant *raw;
	bool ok;

	if (!data || len <= strlen(PRINT_MAGIC) ||
	    memcmp(data, PRINT_MAGIC, strlen(PRINT_MAGIC)) != 0)
		return false;
	len -= strlen(PRINT_MAGIC);
	/* g_malloc'd for GVariant's alignment; wiped once every view of it is gone. */
	copy = g_memdup2(data + strlen(PRINT_MAGIC), len);
	raw = g_variant_ref_sink(g_variant_new_from_data(G_VARIANT_TYPE(PRINT_VARIANT_TYPE), copy,
	                                                 len, FALSE, NULL, NULL));
	ok = print_value_ok(raw, driver, device_id);
	g_variant_unref(raw);
	explicit_bzero(copy, len);
	g_free(copy);
	return ok;
}
