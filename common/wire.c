/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * wire: Varlink framing (JSON object + NUL) and the envelope/parameter checks. This is the
 * one parser every byte from a client, the daemon or the sensor goes through. It must never
 * abort, never read past a length it has not checked, and never accept trailing bytes.
 */
#include "wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WIRE_READ_CHUNK 4096u

void
wire_buf_init(WireBuf *b, size_t max)
{
	*b = (WireBuf){ .max = max };
}

void
wire_buf_clear(WireBuf *b)
{
	if (b->data) {
		explicit_bzero(b->data, b->len);
		free(b->data);
	}
	*b = (WireBuf){ .max = b->max };
}

/* Drops consumed bytes so that the buffer never holds more than one cap's worth. */
static void
wire_buf_compact(WireBuf *b)
{
	if (b->off == 0)
		return;
	size_t rest = b->len - b->off;
	memmove(b->data, b->data + b->off, rest);
	explicit_bzero(b->data + rest, b->off);
	b->len = rest;
	b->off = 0;
}

static int
wire_buf_reserve(WireBuf *b, size_t want)
{
	/* One message plus its NUL may be held, plus the start of the next one. */
	size_t limit = b->max + 1 + WIRE_READ_CHUNK;
	if (want > limit)
		return -EMSGSIZE;
	if (!b->data) {
		b->data = malloc(limit);
		if (!b->data)
			return -ENOMEM;
	}
	return 0;
}

int
wire_buf_feed(WireBuf *b, const void *p, size_t n)
{
	wire_buf_compact(b);
	if (n > b->max + 1 + WIRE_READ_CHUNK - b->len)
		return -EMSGSIZE;
	int r = wire_buf_reserve(b, b->len + n);
	if (r < 0)
		return r;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

ssize_t
wire_buf_fill(WireBuf *b, int fd)
{
	wire_buf_compact(b);
	int r = wire_buf_reserve(b, b->len + WIRE_READ_CHUNK);
	if (r < 0)
		return r;
	size_t room = b->max + 1 + WIRE_READ_CHUNK - b->len;
	if (room == 0)
		return -EMSGSIZE;
	ssize_t n = read(fd, b->data + b->len, room);
	if (n < 0)
		return -errno;
	b->len += (size_t)n;
	return n;
}

/*
 * Well-formed UTF-8 as RFC 3629 defines it: no overlong forms, no UTF-16 surrogates
 * (U+D800..U+DFFF), nothing above U+10FFFF. json-c's VALIDATE_UTF8 lets all three through
 * (json-c 0.16), so the wire checks the raw bytes itself before json-c sees them.
 */
static bool
utf8_well_formed(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t n;
		unsigned char lo = 0x80, hi = 0xbf; /* bounds of the second byte */
		if (c >= 0xc2 && c <= 0xdf)
			n = 2;
		else if (c >= 0xe0 && c <= 0xef) {
			n = 3;
			if (c == 0xe0)
				lo = 0xa0; /* overlong */
			else if (c == 0xed)
				hi = 0x9f; /* surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 4;
			if (c == 0xf0)
				lo = 0x90; /* overlong */
			else if (c == 0xf4)
				hi = 0x8f; /* above U+10FFFF */
		} else
			return false; /* continuation byte, C0/C1, F5..FF */
		if (n > len - i || s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k < n; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
		i += n;
	}
	return true;
}

static int
hex4(const char *p)
{
	int v = 0;
	for (int k = 0; k < 4; k++) {
		char c = p[k];
		int d = c >= '0' && c <= '9'   ? c - '0'
		        : c >= 'a' && c <= 'f' ? c - 'a' + 10
		        : c >= 'A' && c <= 'F' ? c - 'A' + 10
		                               : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/*
 * The escapes json-c would turn into something else than what was sent: \u0000 (a string
 * cut short at the NUL) and unpaired surrogates (silently replaced by U+FFFD). In valid JSON
 * a backslash appears only inside strings and always starts a two-character escape, so one
 * pass pairing backslashes finds every \u escape; anything else is left to json-c.
 */
static bool
escapes_well_formed(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '\\')
			continue;
		if (i + 1 >= len)
			return false;
		if (s[++i] != 'u')
			continue;
		if (len - i < 5)
			return false;
		int v = hex4(s + i + 1);
		i += 4;
		if (v <= 0 || (v >= 0xdc00 && v <= 0xdfff))
			return false;
		if (v >= 0xd800 && v <= 0xdbff) {
			if (len - i < 7 || s[i + 1] != '\\' || s[i + 2] != 'u')
				return false;
			int w = hex4(s + i + 3);
			if (w < 0xdc00 || w > 0xdfff)
				return false;
			i += 6;
		}
	}
	return true;
}

int
wire_parse(const char *data, size_t len, size_t max, json_object **ret)
{
	if (len == 0)
		return -EBADMSG;
	if (len > max || len > INT32_MAX)
		return -EMSGSIZE;
	if (memchr(data, '\0', len))
		return -EBADMSG;
	if (!utf8_well_formed((const unsigned char *)data, len) || !escapes_well_formed(data, len))
		return -EBADMSG;

	json_tokener *tok = json_tokener_new_ex(WIRE_MAX_DEPTH);
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	json_object *obj = json_tokener_parse_ex(tok, data, (int)len);
	enum json_tokener_error err = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);

	if (!obj || err != json_tokener_success || end != len ||
	    !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return -EBADMSG;
	}
	*ret = obj;
	return 0;
}

int
wire_buf_next(WireBuf *b, json_object **ret)
{
	const char *start = b->data ? b->data + b->off : NULL;
	size_t held = b->len - b->off;
	if (held == 0)
		return 0;
	const char *nul = memchr(start, '\0', held);
	if (!nul)
		return held > b->max ? -EMSGSIZE : 0;

	size_t mlen = (size_t)(nul - start);
	b->off += mlen + 1;
	if (mlen > b->max)
		return -EMSGSIZE;
	json_object *obj = NULL;
	int r = wire_parse(start, mlen, b->max, &obj);
	if (r < 0)
		return r == -EMSGSIZE ? r : -EBADMSG;
	*ret = obj;
	return 1;
}

int
wire_serialize(json_object *obj, char **ret, size_t *ret_len)
{
	size_t n = 0;
	const char *s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN, &n);
	if (!s)
		return -ENOMEM;
	char *out = malloc(n + 1);
	if (!out)
		return -ENOMEM;
	memcpy(out, s, n);
	out[n] = '\0';
	*ret = out;
	*ret_len = n + 1;
	return 0;
}

int
wire_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
wire_send(int fd, json_object *obj)
{
	char *buf = NULL;
	size_t n = 0;
	int r = wire_serialize(obj, &buf, &n);
	if (r < 0)
		return r;
	r = wire_write_all(fd, buf, n);
	explicit_bzero(buf, n);
	free(buf);
	return r;
}

/* Accepts only the listed keys with the listed types; the envelope parsers share it. */
static bool
wire_only_keys(json_object *msg, const char *const *keys, const json_type *types, size_t n)
{
	json_object_object_foreach(msg, key, val)
	{
		size_t i;
		for (i = 0; i < n; i++)
			if (strcmp(key, keys[i]) == 0)
				break;
		if (i == n || !json_object_is_type(val, types[i]))
			return false;
	}
	return true;
}

int
wire_parse_call(json_object *msg, WireCall *ret)
{
	static const char *const keys[] = { "method", "parameters", "more", "oneway" };
	static const json_type types[] = { json_type_string, json_type_object, json_type_boolean,
		                           json_type_boolean };
	if (!json_object_is_type(msg, json_type_object) || !wire_only_keys(msg, keys, types, 4))
		return -EBADMSG;
	json_object *m = NULL, *p = NULL, *more = NULL, *oneway = NULL;
	if (!json_object_object_get_ex(msg, "method", &m))
		return -EBADMSG;
	const char *method = json_object_get_string(m);
	size_t mlen = strlen(method);
	if (mlen == 0 || mlen > 255 || mlen != (size_t)json_object_get_string_len(m))
		return -EBADMSG;
	if (!json_object_object_get_ex(msg, "parameters", &p)) {
		p = json_object_new_object();
		if (!p)
			return -ENOMEM;
		json_object_object_add(msg, "parameters", p);
	}
	json_object_object_get_ex(msg, "more", &more);
	json_object_object_get_ex(msg, "oneway", &oneway);
	*ret = (WireCall){
		.method = method,
		.parameters = p,
		.more = more && json_object_get_boolean(more),
		.oneway = oneway && json_object_get_boolean(oneway),
	};
	return 0;
}

int
wire_parse_reply(json_object *msg, WireReply *ret)
{
	static const char *const keys[] = { "error", "parameters", "continues" };
	static const json_type types[] = { json_type_string, json_type_object, json_type_boolean };
	if (!json_object_is_type(msg, json_type_object) || !wire_only_keys(msg, keys, types, 3))
		return -EBADMSG;
	json_object *e = NULL, *p = NULL, *c = NULL;
	json_object_object_get_ex(msg, "error", &e);
	json_object_object_get_ex(msg, "continues", &c);
	if (e && (json_object_get_string_len(e) == 0 || json_object_get_string_len(e) > 255))
		return -EBADMSG;
	if (e && c)
		return -EBADMSG;
	if (!json_object_object_get_ex(msg, "parameters", &p)) {
		p = json_object_new_object();
		if (!p)
			return -ENOMEM;
		json_object_object_add(msg, "parameters", p);
	}
	*ret = (WireReply){
		.error = e ? json_object_get_string(e) : NULL,
		.parameters = p,
		.continues = c && json_object_get_boolean(c),
	};
	return 0;
}

json_object *
wire_new_call(const char *method, json_object *params, bool more)
{
	json_object *o = json_object_new_object();
	if (!o) {
		json_object_put(params);
		return NULL;
	}
	json_object_object_add(o, "method", json_object_new_string(method));
	json_object_object_add(o, "parameters", params ? params : json_object_new_object());
	if (more)
		json_object_object_add(o, "more", json_object_new_boolean(1));
	return o;
}

json_object *
wire_new_reply(json_object *params, bool continues)
{
	json_object *o = json_object_new_object();
	if (!o) {
		json_object_put(params);
		return NULL;
	}
	json_object_object_add(o, "parameters", params ? params : json_object_new_object());
	if (continues)
		json_object_object_add(o, "continues", json_object_new_boolean(1));
	return o;
}

json_object *
wire_new_error(const char *error, json_object *params)
{
	json_object *o = json_object_new_object();
	if (!o) {
		json_object_put(params);
		return NULL;
	}
	json_object_object_add(o, "error", json_object_new_string(error));
	json_object_object_add(o, "parameters", params ? params : json_object_new_object());
	return o;
}

static bool
wire_type_ok(json_object *v, WireType t)
{
	switch (t) {
	case WIRE_STRING:
		return json_object_is_type(v, json_type_string);
	case WIRE_INT:
		return json_object_is_type(v, json_type_int);
	case WIRE_BOOL:
		return json_object_is_type(v, json_type_boolean);
	case WIRE_OBJECT:
		return json_object_is_type(v, json_type_object);
	case WIRE_ARRAY:
		return json_object_is_type(v, json_type_array);
	}
	return false;
}

int
wire_check(json_object *params, const WireField *fields, size_t n_fields, const char **ret_bad)
{
	if (!json_object_is_type(params, json_type_object)) {
		*ret_bad = "parameters";
		return -EINVAL;
	}
	json_object_object_foreach(params, key, val)
	{
		const WireField *f = NULL;
		for (size_t i = 0; i < n_fields; i++)
			if (strcmp(key, fields[i].name) == 0) {
				f = &fields[i];
				break;
			}
		if (!f || !wire_type_ok(val, f->type)) {
			*ret_bad = f ? f->name : "unknown";
			return -EINVAL;
		}
		if (f->type == WIRE_STRING) {
			size_t max = f->max_len ? f->max_len : WIRE_MAX_TEXT;
			size_t len = (size_t)json_object_get_string_len(val);
			/* An embedded NUL would make C see a different string than JSON did. */
			if (len > max || strlen(json_object_get_string(val)) != len) {
				*ret_bad = f->name;
				return -EINVAL;
			}
		} else if (f->type == WIRE_INT && f->min < f->max) {
			int64_t v = json_object_get_int64(val);
			if (v < f->min || v > f->max) {
				*ret_bad = f->name;
				return -EINVAL;
			}
		} else if (f->type == WIRE_ARRAY && f->max_len &&
		           json_object_array_length(val) > f->max_len) {
			*ret_bad = f->name;
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < n_fields; i++)
		if (fields[i].required &&
		    !json_object_object_get_ex(params, fields[i].name, NULL)) {
			*ret_bad = fields[i].name;
			return -EINVAL;
		}
	return 0;
}

const char *
wire_str(json_object *params, const char *key)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(params, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int64_t
wire_int(json_object *params, const char *key, int64_t def)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(params, key, &v) || !json_object_is_type(v, json_type_int))
		return def;
	return json_object_get_int64(v);
}

bool
wire_bool(json_object *params, const char *key, bool def)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(params, key, &v) ||
	    !json_object_is_type(v, json_type_boolean))
		return def;
	return json_object_get_boolean(v);
}

bool
wire_valid_id(const char *s)
{
	if (!s || !*s || *s == '-' || *s == '.')
		return false;
	size_t n = 0;
	for (; s[n]; n++) {
		char c = s[n];
		if (n >= WIRE_MAX_ID)
			return false;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '@' || c == '-'))
			return false;
	}
	return true;
}

bool
wire_valid_text(const char *s, size_t max)
{
	if (!s)
		return false;
	size_t n = strlen(s);
	if (n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}
