/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The wire: the one protocol header shared by biogated, biogated-sensor, biogatectl and
 * pam_biogate.so.
 *
 * Framing is Varlink's: each message is one JSON object followed by a NUL byte on a stream
 * socket. This module owns the only parser for that framing. It is bounded: a message is
 * measured before it is parsed, nesting depth is capped, strings must be valid UTF-8, and
 * bytes after the object (before the NUL) fail the parse. It never aborts on input.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#define BIOGATE_SOCKET_NAME "io.biogate"
#define BIOGATE_INTERFACE   "io.biogate"

/* Caps. Client <-> daemon messages carry no biometric data and stay small. */
#define WIRE_MAX_MESSAGE (64u * 1024u)
/* Daemon <-> sensor messages carry serialized prints (an NBIS print is about 6 KiB). */
#define WIRE_SENSOR_MAX_MESSAGE (512u * 1024u)
#define WIRE_MAX_DEPTH          8
#define WIRE_MAX_ID             64  /* matching IDs, operator IDs, user names, roles */
#define WIRE_MAX_TEXT           512 /* names, affiliations, free text */

/* Stable error names (DESIGN.md "The wire"). */
#define WIRE_ERR_NOT_ON_ROSTER       "io.biogate.NotOnRoster"
#define WIRE_ERR_REVOKED             "io.biogate.Revoked"
#define WIRE_ERR_NO_MATCH            "io.biogate.NoMatch"
#define WIRE_ERR_NOT_ENROLLED        "io.biogate.NotEnrolled"
#define WIRE_ERR_NO_OPERATOR         "io.biogate.NoOperator"
#define WIRE_ERR_LOCKED_OUT          "io.biogate.LockedOut"
#define WIRE_ERR_OUTSIDE_SHIFT       "io.biogate.OutsideShift"
#define WIRE_ERR_PLEDGE_MISSING      "io.biogate.PledgeMissing"
#define WIRE_ERR_TRAINING_MISSING    "io.biogate.TrainingMissing"
#define WIRE_ERR_IN_SESSION          "io.biogate.AlreadyInSession"
#define WIRE_ERR_NOT_PERMITTED       "io.biogate.NotPermitted"
#define WIRE_ERR_FORBIDDEN_KEY       "io.biogate.ForbiddenSearchKey"
#define WIRE_ERR_INVALID_PARAMETER   "io.biogate.InvalidParameter"
#define WIRE_ERR_SENSOR_UNAVAILABLE  "io.biogate.SensorUnavailable"
#define WIRE_ERR_NO_READER           "io.biogate.NoReader"
#define WIRE_ERR_TIMEOUT             "io.biogate.Timeout"
#define WIRE_ERR_CANCELLED           "io.biogate.Cancelled"
#define WIRE_ERR_BUSY                "io.biogate.Busy"
#define WIRE_ERR_EXISTS              "io.biogate.AlreadyExists"
#define WIRE_ERR_NOT_FOUND           "io.biogate.NotFound"
#define WIRE_ERR_TICKET              "io.biogate.InvalidTicket"
#define WIRE_ERR_INTERNAL            "io.biogate.InternalError"
#define WIRE_ERR_DISK_FULL           "io.biogate.DiskFull"
#define WIRE_ERR_METHOD_NOT_FOUND    "org.varlink.service.MethodNotFound"
#define WIRE_ERR_INTERFACE_NOT_FOUND "org.varlink.service.InterfaceNotFound"
#define WIRE_ERR_VARLINK_INVALID     "org.varlink.service.InvalidParameter"

/*
 * Framing buffer: accumulates bytes from a stream and hands out complete messages.
 * 'max' is the largest message (without its NUL) the buffer will ever hold; a peer that
 * sends more without a NUL gets -EMSGSIZE and must be disconnected.
 */
typedef struct WireBuf {
	char *data;
	size_t len; /* bytes held */
	size_t off; /* start of the first unconsumed byte */
	size_t max;
} WireBuf;

void wire_buf_init(WireBuf *b, size_t max);
void wire_buf_clear(WireBuf *b); /* wipes and frees */
/* One read(2). Returns bytes read (>0), 0 on EOF, or -errno (-EAGAIN, -EMSGSIZE, ...). */
ssize_t wire_buf_fill(WireBuf *b, int fd);
/* Appends bytes already received (tests, fuzzing). -EMSGSIZE when over the cap. */
int wire_buf_feed(WireBuf *b, const void *p, size_t n);
/*
 * Takes the next complete message. Returns 1 with *ret set (caller owns it), 0 when no
 * complete message is held yet, -EBADMSG when the message is not a valid bounded JSON
 * object (the bytes are consumed; the caller should drop the peer), -EMSGSIZE when the
 * held bytes exceed the cap without a terminator.
 */
int wire_buf_next(WireBuf *b, json_object **ret);

/* Parses exactly one JSON object from data[0..len) (no NUL inside). 0 or -EBADMSG/-EMSGSIZE. */
int wire_parse(const char *data, size_t len, size_t max, json_object **ret);
/* Serializes obj followed by NUL into a new buffer. 0 or -ENOMEM. */
int wire_serialize(json_object *obj, char **ret, size_t *ret_len);
/* Writes all of a serialized message to a blocking fd (clients, sensor). 0 or -errno. */
int wire_write_all(int fd, const char *p, size_t n);
/* Serializes and writes obj to a blocking fd. 0 or -errno. */
int wire_send(int fd, json_object *obj);

/*
 * Varlink envelopes. A call is {"method":S,"parameters":O?,"more":B?,"oneway":B?}; a reply is
 * {"parameters":O?,"continues":B?} or {"error":S,"parameters":O?}. Unknown keys fail.
 * Pointers returned borrow from msg.
 */
typedef struct WireCall {
	const char *method;
	json_object *parameters; /* never NULL: an empty object when absent */
	bool more;
	bool oneway;
} WireCall;

typedef struct WireReply {
	const char *error;       /* NULL for a successful reply */
	json_object *parameters; /* never NULL */
	bool continues;
} WireReply;

int wire_parse_call(json_object *msg, WireCall *ret);
int wire_parse_reply(json_object *msg, WireReply *ret);
/* Constructors take ownership of params (may be NULL). */
json_object *wire_new_call(const char *method, json_object *params, bool more);
json_object *wire_new_reply(json_object *params, bool continues);
json_object *wire_new_error(const char *error, json_object *params);

/*
 * Parameter schemas: a table of the fields a method accepts. Unknown fields, wrong types,
 * missing required fields and over-long strings fail with -EINVAL and *ret_bad naming the
 * field (borrowed).
 */
typedef enum WireType {
	WIRE_STRING,
	WIRE_INT,
	WIRE_BOOL,
	WIRE_OBJECT,
	WIRE_ARRAY,
} WireType;

typedef struct WireField {
	const char *name;
	WireType type;
	bool required;
	size_t max_len;   /* strings: bytes; arrays: elements; 0 = WIRE_MAX_TEXT for strings */
	int64_t min, max; /* ints: inclusive range when min < max */
} WireField;

int wire_check(json_object *params, const WireField *fields, size_t n_fields, const char **ret_bad);

/* Accessors for checked parameters. */
const char *wire_str(json_object *params, const char *key); /* NULL when absent */
int64_t wire_int(json_object *params, const char *key, int64_t def);
bool wire_bool(json_object *params, const char *key, bool def);

/* An identifier: 1..WIRE_MAX_ID bytes of [A-Za-z0-9._@-], not starting with '-' or '.'. */
bool wire_valid_id(const char *s);
/* Free text: valid UTF-8 (json-c checked), no control characters, <= max bytes. */
bool wire_valid_text(const char *s, size_t max);
