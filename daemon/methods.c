/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * methods: the table of Varlink methods biogated answers, who may call each (decided from
 * the kernel's peer credentials only), the parameter schema of each, and the handlers.
 * Handlers validate everything, translate -errno into stable wire errors here at the edge,
 * and never trust the sensor's answers more than a client's.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "daemon.h"
#include "log.h"

typedef enum Perm {
	PERM_ANYONE,
	PERM_ADMIN, /* root or the admin group */
	PERM_ROOT,  /* the PAM module inside a login process */
	PERM_LOGIN, /* root, admin, or the Unix user the named person maps to (checked later) */
} Perm;

typedef void (*MethodFn)(Manager *m, Conn *c, json_object *params);

typedef struct Method {
	const char *name;
	Perm perm;
	MethodFn fn;
	const WireField *fields;
	size_t n_fields;
} Method;

static const char *const finger_names[] = {
	"left-thumb",  "left-index",  "left-middle",  "left-ring",  "left-little",
	"right-thumb", "right-index", "right-middle", "right-ring", "right-little",
};

static bool
valid_finger(const char *f)
{
	for (size_t i = 0; i < sizeof(finger_names) / sizeof(finger_names[0]); i++)
		if (strcmp(f, finger_names[i]) == 0)
			return true;
	return false;
}

static bool
peer_is_admin(const Manager *m, const Peer *p)
{
	if (p->uid == 0)
		return true;
	char buf[4096];
	struct group gr, *res = NULL;
	if (getgrnam_r(m->config.admin_group, &gr, buf, sizeof(buf), &res) != 0 || !res)
		return false;
	if (p->gid == res->gr_gid)
		return true;
	for (int i = 0; i < p->n_groups; i++)
		if (p->groups[i] == res->gr_gid)
			return true;
	return false;
}

static int
uid_of_user(const char *user, uid_t *ret)
{
	char buf[4096];
	struct passwd pw, *res = NULL;
	if (getpwnam_r(user, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return -ENOENT;
	*ret = res->pw_uid;
	return 0;
}

static json_object *
param_obj(const char *key, json_object *val)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, key, val);
	return o;
}

static void
reply_invalid(Conn *c, const char *field)
{
	conn_error(c, WIRE_ERR_VARLINK_INVALID,
	           param_obj("parameter", json_object_new_string(field)));
}

/* The store's -errno at the edge. */
static void
reply_store_error(Conn *c, int r)
{
	if (r == -ENOENT)
		conn_error(c, WIRE_ERR_NOT_FOUND, NULL);
	else if (r == -EEXIST)
		conn_error(c, WIRE_ERR_EXISTS, NULL);
	else if (r == -EINVAL)
		conn_error(c, WIRE_ERR_INVALID_PARAMETER, NULL);
	else if (r == -EPERM)
		conn_error(c, WIRE_ERR_REVOKED, NULL);
	else if (r == -EALREADY)
		conn_error(c, WIRE_ERR_NOT_FOUND, NULL);
	else
		conn_error(c, WIRE_ERR_INTERNAL, NULL);
}

static char *
b64_encode(const uint8_t *p, size_t n)
{
	if (n > WIRE_SENSOR_MAX_MESSAGE)
		return NULL;
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	if (out)
		EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

static int
b64_decode(const char *s, size_t len, uint8_t **ret, size_t *ret_len)
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

static void
template_aad(char *buf, size_t size, const char *matching_id, const char *finger)
{
	snprintf(buf, size, "biogate-template:v1:%s:%s", matching_id, finger);
}

/* --- org.varlink.service and status ------------------------------------------------ */

static void
method_get_info(Manager *m, Conn *c, json_object *params)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "vendor", json_object_new_string("biogate"));
	json_object_object_add(o, "product", json_object_new_string("biogated"));
	json_object_object_add(o, "version", json_object_new_string(BIOGATE_VERSION));
	json_object_object_add(o, "url", json_object_new_string("https://biogate.invalid/"));
	json_object *ifs = json_object_new_array();
	json_object_array_add(ifs, json_object_new_string("org.varlink.service"));
	json_object_array_add(ifs, json_object_new_string(BIOGATE_INTERFACE));
	json_object_object_add(o, "interfaces", ifs);
	conn_reply(c, o, false);
}

static void
method_get_status(Manager *m, Conn *c, json_object *params)
{
	json_object *o = sensorlink_status(m->sensor);
	int64_t staff = 0, sessions = 0;
	(void)store_staff_count(m->store, &staff);
	(void)store_sessions_open_count(m->store, &sessions);
	json_object_object_add(o, "version", json_object_new_string(BIOGATE_VERSION));
	json_object_object_add(o, "staff", json_object_new_int64(staff));
	json_object_object_add(o, "open_sessions", json_object_new_int64(sessions));
	json_object_object_add(o, "connections",
	                       json_object_new_int64(server_connections(m->server)));
	json_object_object_add(
	    o, "uptime_ms",
	    json_object_new_int64((int64_t)((now_mono_usec() - m->started_usec) / 1000)));
	conn_reply(c, o, false);
}

/* --- roster ------------------------------------------------------------------------ */

static const WireField add_staff_fields[] = {
	{ "matching_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
	{ "name", WIRE_STRING, true, 256, 0, 0 },
	{ "affiliation", WIRE_STRING, true, 256, 0, 0 },
	{ "expertise", WIRE_STRING, false, WIRE_MAX_TEXT, 0, 0 },
	{ "track_record", WIRE_STRING, false, WIRE_MAX_TEXT, 0, 0 },
	{ "nationality", WIRE_STRING, true, 64, 0, 0 },
	{ "unix_user", WIRE_STRING, false, 32, 0, 0 },
};

static void
method_add_staff(Manager *m, Conn *c, json_object *params)
{
	StoreStaffIn in = {
		.matching_id = wire_str(params, "matching_id"),
		.name = wire_str(params, "name"),
		.affiliation = wire_str(params, "affiliation"),
		.expertise = wire_str(params, "expertise"),
		.track_record = wire_str(params, "track_record"),
		.nationality = wire_str(params, "nationality"),
		.unix_user = wire_str(params, "unix_user"),
	};
	if (!in.unix_user)
		in.unix_user = in.matching_id;
	if (!wire_valid_id(in.matching_id))
		return reply_invalid(c, "matching_id");
	if (!wire_valid_id(in.unix_user) || strlen(in.unix_user) > 32)
		return reply_invalid(c, "unix_user");
	static const char *const texts[] = { "name", "affiliation", "expertise", "track_record",
		                             "nationality" };
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		const char *v = wire_str(params, texts[i]);
		if (v && (!wire_valid_text(v, WIRE_MAX_TEXT) || (i != 2 && i != 3 && v[0] == '\0')))
			return reply_invalid(c, texts[i]);
	}
	int r = store_staff_add(m->store, &in, now_real_usec());
	if (r < 0)
		return reply_store_error(c, r);
	log_info("Roster: added matching ID %s (uid %u)", in.matching_id,
	         (unsigned)conn_peer(c)->uid);
	json_object *o = NULL;
	r = store_staff_json(m->store, in.matching_id, &o);
	if (r < 0)
		return reply_store_error(c, r);
	conn_reply(c, o, false);
}

static const WireField staff_id_fields[] = {
	{ "matching_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
};

static void
method_get_staff(Manager *m, Conn *c, json_object *params)
{
	const char *id = wire_str(params, "matching_id");
	if (!wire_valid_id(id))
		return reply_invalid(c, "matching_id");
	json_object *o = NULL;
	int r = store_staff_json(m->store, id, &o);
	if (r == -ENOENT)
		return (void)conn_error(c, WIRE_ERR_NOT_ON_ROSTER, NULL);
	if (r < 0)
		return reply_store_error(c, r);
	conn_reply(c, o, false);
}

static void
method_list_staff(Manager *m, Conn *c, json_object *params)
{
	json_object *arr = NULL;
	int r = store_staff_list_json(m->store, &arr);
	if (r < 0)
		return reply_store_error(c, r);
	conn_reply(c, param_obj("staff", arr), false);
}

static const WireField grant_fields[] = {
	{ "matching_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
	{ "operator_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
	{ "role", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
};

static void
method_grant_operator(Manager *m, Conn *c, json_object *params)
{
	const char *mid = wire_str(params, "matching_id");
	const char *oid = wire_str(params, "operator_id");
	const char *role = wire_str(params, "role");
	if (!wire_valid_id(mid))
		return reply_invalid(c, "matching_id");
	if (!wire_valid_id(oid))
		return reply_invalid(c, "operator_id");
	if (!wire_valid_id(role))
		return reply_invalid(c, "role");
	StoreStaff st;
	int r = store_staff_by_id(m->store, mid, &st);
	if (r == -ENOENT)
		return (void)conn_error(c, WIRE_ERR_NOT_ON_ROSTER, NULL);
	if (r < 0)
		return reply_store_error(c, r);
	if (!st.active)
		return (void)conn_error(c, WIRE_ERR_REVOKED, NULL);
	r = store_operator_grant(m->store, mid, oid, role, now_real_usec());
	if (r < 0)
		return reply_store_error(c, r);
	log_info("Granted operator ID %s (role %s) to matching ID %s", oid, role, mid);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "matching_id", json_object_new_string(mid));
	json_object_object_add(o, "operator_id", json_object_new_string(oid));
	json_object_object_add(o, "role", json_object_new_string(role));
	conn_reply(c, o, false);
}

/* --- sensor operations: enroll and verify --------------------------------------------- */

typedef struct SensorOp {
	Manager *manager;
	Conn *conn;
	bool enroll;
	char matching_id[WIRE_MAX_ID + 1];
	char finger[WIRE_MAX_ID + 1];
	pid_t pid;
	uid_t uid;
	uid_t session_uid;
} SensorOp;

static void
sensor_op_gone(Conn *c, void *userdata)
{
	SensorOp *op = userdata;
	sensorlink_cancel(op->manager->sensor, op);
	free(op);
}

static const char *
sensor_error_name(const char *err)
{
	if (!err)
		return WIRE_ERR_SENSOR_UNAVAILABLE;
	if (strcmp(err, "no-reader") == 0)
		return WIRE_ERR_NO_READER;
	if (strcmp(err, "timeout") == 0)
		return WIRE_ERR_TIMEOUT;
	if (strcmp(err, "cancelled") == 0)
		return WIRE_ERR_CANCELLED;
	if (strcmp(err, "busy") == 0)
		return WIRE_ERR_BUSY;
	return WIRE_ERR_SENSOR_UNAVAILABLE;
}

static void
ticket_issue(Manager *m, const SensorOp *op, char ret_hex[static TICKET_HEX_LEN + 1])
{
	uint8_t raw[TICKET_HEX_LEN / 2];
	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		ret_hex[0] = '\0';
		return;
	}
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(ret_hex + 2 * i, 3, "%02x", raw[i]);
	OPENSSL_cleanse(raw, sizeof(raw));

	/* Reuse an expired slot, else the oldest one. */
	uint64_t now = now_mono_usec();
	Ticket *slot = &m->tickets[0];
	for (size_t i = 0; i < TICKETS_MAX; i++) {
		Ticket *t = &m->tickets[i];
		if (t->hex[0] == '\0' || t->expires_usec <= now) {
			slot = t;
			break;
		}
		if (t->expires_usec < slot->expires_usec)
			slot = t;
	}
	*slot = (Ticket){ .pid = op->pid, .uid = op->uid, .session_uid = op->session_uid };
	memcpy(slot->hex, ret_hex, TICKET_HEX_LEN + 1);
	snprintf(slot->matching_id, sizeof(slot->matching_id), "%s", op->matching_id);
	slot->expires_usec = now + (uint64_t)m->config.ticket_lifetime_sec * 1000000u;
}

/* Finds and consumes a ticket of this process. Constant-time comparison of the secret. */
static bool
ticket_take(Manager *m, const char *hex, const Peer *p, char ret_mid[static WIRE_MAX_ID + 1],
            uid_t *ret_uid)
{
	if (!hex || strlen(hex) != TICKET_HEX_LEN)
		return false;
	uint64_t now = now_mono_usec();
	for (size_t i = 0; i < TICKETS_MAX; i++) {
		Ticket *t = &m->tickets[i];
		if (t->hex[0] == '\0' || CRYPTO_memcmp(t->hex, hex, TICKET_HEX_LEN) != 0)
			continue;
		bool ok = t->expires_usec > now && t->pid == p->pid && t->uid == p->uid;
		if (ok) {
			memcpy(ret_mid, t->matching_id, WIRE_MAX_ID + 1);
			*ret_uid = t->session_uid;
		}
		OPENSSL_cleanse(t, sizeof(*t));
		return ok;
	}
	return false;
}

static void
sensor_op_finish(SensorOp *op, json_object *msg)
{
	static const WireField enroll_ok[] = {
		{ "id", WIRE_INT, true, 0, 0, 0 },
		{ "ok", WIRE_BOOL, true, 0, 0, 0 },
		{ "print", WIRE_STRING, true, WIRE_SENSOR_MAX_MESSAGE, 0, 0 },
	};
	static const WireField verify_ok[] = {
		{ "id", WIRE_INT, true, 0, 0, 0 },
		{ "ok", WIRE_BOOL, true, 0, 0, 0 },
		{ "match", WIRE_BOOL, true, 0, 0, 0 },
	};
	static const WireField failed[] = {
		{ "id", WIRE_INT, false, 0, 0, 0 },
		{ "ok", WIRE_BOOL, true, 0, 0, 0 },
		{ "error", WIRE_STRING, true, 64, 0, 0 },
		{ "message", WIRE_STRING, false, 512, 0, 0 },
	};
	Manager *m = op->manager;
	Conn *c = op->conn;
	SensorOp local = *op;
	free(op);
	conn_set_gone_hook(c, NULL, NULL);
	const char *bad = NULL;

	if (!wire_bool(msg, "ok", false)) {
		if (wire_check(msg, failed, 4, &bad) < 0)
			return (void)conn_error(c, WIRE_ERR_SENSOR_UNAVAILABLE, NULL);
		const char *err = wire_str(msg, "error");
		log_info("%s for %s failed: %s", local.enroll ? "Enrollment" : "Verification",
		         local.matching_id, err);
		return (void)conn_error(c, sensor_error_name(err), NULL);
	}

	if (local.enroll) {
		if (wire_check(msg, enroll_ok, 3, &bad) < 0)
			return (void)conn_error(c, WIRE_ERR_SENSOR_UNAVAILABLE, NULL);
		json_object *pj = NULL;
		json_object_object_get_ex(msg, "print", &pj);
		uint8_t *print = NULL, *sealed = NULL;
		size_t print_len = 0, sealed_len = 0;
		int r = b64_decode(json_object_get_string(pj),
		                   (size_t)json_object_get_string_len(pj), &print, &print_len);
		if (r < 0)
			return (void)conn_error(c, WIRE_ERR_SENSOR_UNAVAILABLE, NULL);
		char aad[160];
		template_aad(aad, sizeof(aad), local.matching_id, local.finger);
		r = secret_seal(m->secret, aad, print, print_len, &sealed, &sealed_len);
		secret_wipe_free(print, print_len);
		if (r < 0)
			return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
		r = store_finger_put(m->store, local.matching_id, local.finger, sealed, sealed_len,
		                     now_real_usec());
		free(sealed);
		if (r < 0)
			return reply_store_error(c, r);
		log_info("Enrolled %s of matching ID %s", local.finger, local.matching_id);
		json_object *o = json_object_new_object();
		json_object_object_add(o, "matching_id", json_object_new_string(local.matching_id));
		json_object_object_add(o, "finger", json_object_new_string(local.finger));
		return (void)conn_reply(c, o, false);
	}

	if (wire_check(msg, verify_ok, 3, &bad) < 0)
		return (void)conn_error(c, WIRE_ERR_SENSOR_UNAVAILABLE, NULL);
	if (!wire_bool(msg, "match", false)) {
		log_info("Verification of matching ID %s: no match", local.matching_id);
		return (void)conn_error(c, WIRE_ERR_NO_MATCH, NULL);
	}
	json_object *ops = NULL;
	int r = store_operators_json(m->store, local.matching_id, &ops);
	if (r < 0)
		return reply_store_error(c, r);
	char ticket[TICKET_HEX_LEN + 1];
	ticket_issue(m, &local, ticket);
	if (!ticket[0]) {
		json_object_put(ops);
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	}
	log_info("Verification of matching ID %s: match", local.matching_id);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "matching_id", json_object_new_string(local.matching_id));
	json_object_object_add(o, "ticket", json_object_new_string(ticket));
	json_object_object_add(o, "operators", ops);
	OPENSSL_cleanse(ticket, sizeof(ticket));
	conn_reply(c, o, false);
}

static void
sensor_op_event(json_object *msg, bool final, void *userdata)
{
	static const WireField progress[] = {
		{ "id", WIRE_INT, true, 0, 0, 0 },
		{ "event", WIRE_STRING, true, 32, 0, 0 },
		{ "stage", WIRE_INT, true, 0, 0, 100 },
		{ "stages", WIRE_INT, true, 0, 1, 100 },
	};
	static const WireField other[] = {
		{ "id", WIRE_INT, true, 0, 0, 0 },
		{ "event", WIRE_STRING, true, 32, 0, 0 },
		{ "message", WIRE_STRING, false, 512, 0, 0 },
	};
	SensorOp *op = userdata;
	if (final)
		return sensor_op_finish(op, msg);

	const char *ev = wire_str(msg, "event");
	const char *bad = NULL;
	if (!ev)
		return;
	if (strcmp(ev, "progress") == 0 && op->enroll) {
		if (wire_check(msg, progress, 4, &bad) < 0)
			return;
		json_object *o = json_object_new_object();
		json_object_object_add(o, "stage",
		                       json_object_new_int64(wire_int(msg, "stage", 0)));
		json_object_object_add(o, "stages",
		                       json_object_new_int64(wire_int(msg, "stages", 0)));
		conn_reply(op->conn, o, true);
	} else if (strcmp(ev, "place-finger") == 0 || strcmp(ev, "retry") == 0) {
		if (wire_check(msg, other, 3, &bad) < 0)
			return;
		conn_reply(op->conn, param_obj("prompt", json_object_new_string(ev)), true);
	}
}

static void
sensor_op_start(Manager *m, Conn *c, SensorOp *op, json_object *req)
{
	int r = sensorlink_start(m->sensor, req, sensor_op_event, op);
	if (r < 0) {
		free(op);
		return (void)conn_error(
		    c, r == -EBUSY ? WIRE_ERR_BUSY : WIRE_ERR_SENSOR_UNAVAILABLE, NULL);
	}
	conn_set_gone_hook(c, sensor_op_gone, op);
	conn_defer(c);
}

static const WireField enroll_fields[] = {
	{ "matching_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
	{ "finger", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
};

static void
method_enroll(Manager *m, Conn *c, json_object *params)
{
	const char *mid = wire_str(params, "matching_id");
	const char *finger = wire_str(params, "finger");
	if (!wire_valid_id(mid))
		return reply_invalid(c, "matching_id");
	if (!valid_finger(finger))
		return reply_invalid(c, "finger");
	StoreStaff st;
	int r = store_staff_by_id(m->store, mid, &st);
	if (r == -ENOENT)
		return (void)conn_error(c, WIRE_ERR_NOT_ON_ROSTER, NULL);
	if (r < 0)
		return reply_store_error(c, r);
	if (!st.active)
		return (void)conn_error(c, WIRE_ERR_REVOKED, NULL);

	SensorOp *op = calloc(1, sizeof(*op));
	if (!op)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	*op = (SensorOp){ .manager = m, .conn = c, .enroll = true };
	snprintf(op->matching_id, sizeof(op->matching_id), "%s", mid);
	snprintf(op->finger, sizeof(op->finger), "%s", finger);
	json_object *req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("enroll"));
	json_object_object_add(req, "finger", json_object_new_string(finger));
	json_object_object_add(req, "timeout_ms",
	                       json_object_new_int64((int64_t)m->config.enroll_timeout_sec * 1000));
	sensor_op_start(m, c, op, req);
}

static const WireField account_fields[] = {
	{ "user", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
};

/* Resolves the person behind a login and checks that the caller may act for them. */
static int
resolve_login(Manager *m, Conn *c, json_object *params, StoreStaff *ret)
{
	const char *user = wire_str(params, "user");
	const char *mid = wire_str(params, "matching_id");
	int r;
	if ((user && mid) || (!user && !mid)) {
		reply_invalid(c, "user");
		return -EINVAL;
	}
	if (user ? !wire_valid_id(user) : !wire_valid_id(mid)) {
		reply_invalid(c, user ? "user" : "matching_id");
		return -EINVAL;
	}
	const Peer *p = conn_peer(c);
	r = user ? store_staff_by_user(m->store, user, ret) : store_staff_by_id(m->store, mid, ret);
	if (r == -ENOENT) {
		/* Only privileged callers learn who is on the roster. */
		if (p->uid == 0 || peer_is_admin(m, p))
			conn_error(c, WIRE_ERR_NOT_ON_ROSTER, NULL);
		else
			conn_error(c, WIRE_ERR_NOT_PERMITTED, NULL);
		return r;
	}
	if (r < 0) {
		reply_store_error(c, r);
		return r;
	}
	if (p->uid != 0 && !peer_is_admin(m, p)) {
		uid_t uid;
		if (uid_of_user(ret->unix_user, &uid) < 0 || uid != p->uid) {
			conn_error(c, WIRE_ERR_NOT_PERMITTED, NULL);
			return -EPERM;
		}
	}
	if (!ret->active) {
		conn_error(c, WIRE_ERR_REVOKED, NULL);
		return -EPERM;
	}
	return 0;
}

static void
method_check_account(Manager *m, Conn *c, json_object *params)
{
	StoreStaff st;
	if (resolve_login(m, c, params, &st) < 0)
		return;
	json_object *ops = NULL;
	int r = store_operators_json(m->store, st.matching_id, &ops);
	if (r < 0)
		return reply_store_error(c, r);
	if (json_object_array_length(ops) == 0) {
		json_object_put(ops);
		return (void)conn_error(c, WIRE_ERR_NO_OPERATOR, NULL);
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "matching_id", json_object_new_string(st.matching_id));
	json_object_object_add(o, "operators", ops);
	conn_reply(c, o, false);
}

static const WireField verify_fields[] = {
	{ "user", WIRE_STRING, false, WIRE_MAX_ID, 0, 0 },
	{ "matching_id", WIRE_STRING, false, WIRE_MAX_ID, 0, 0 },
};

static void
method_verify(Manager *m, Conn *c, json_object *params)
{
	StoreStaff st;
	if (resolve_login(m, c, params, &st) < 0)
		return;

	json_object *ops = NULL;
	int r = store_operators_json(m->store, st.matching_id, &ops);
	if (r < 0)
		return reply_store_error(c, r);
	size_t n_ops = json_object_array_length(ops);
	json_object_put(ops);
	if (n_ops == 0)
		return (void)conn_error(c, WIRE_ERR_NO_OPERATOR, NULL);

	StoreFinger *fingers = NULL;
	size_t n = 0;
	r = store_fingers_get(m->store, st.matching_id, &fingers, &n);
	if (r < 0)
		return reply_store_error(c, r);
	if (n == 0) {
		store_fingers_free(fingers, n);
		return (void)conn_error(c, WIRE_ERR_NOT_ENROLLED, NULL);
	}
	/* 1:1 against the first enrolled finger (in name order), as fprintd does for
	 * readers without identify. */
	char aad[160];
	template_aad(aad, sizeof(aad), st.matching_id, fingers[0].finger);
	uint8_t *print = NULL;
	size_t print_len = 0;
	r = secret_open(m->secret, aad, fingers[0].blob, fingers[0].blob_len, &print, &print_len);
	store_fingers_free(fingers, n);
	if (r < 0) {
		log_error("Template of matching ID %s failed authentication", st.matching_id);
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	}
	char *b64 = b64_encode(print, print_len);
	secret_wipe_free(print, print_len);
	if (!b64)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);

	SensorOp *op = calloc(1, sizeof(*op));
	if (!op) {
		secret_wipe_free(b64, strlen(b64));
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	}
	*op = (SensorOp){
		.manager = m, .conn = c, .pid = conn_peer(c)->pid, .uid = conn_peer(c)->uid
	};
	snprintf(op->matching_id, sizeof(op->matching_id), "%s", st.matching_id);
	json_object *req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("verify"));
	json_object_object_add(req, "print", json_object_new_string(b64));
	json_object_object_add(req, "timeout_ms",
	                       json_object_new_int64((int64_t)m->config.verify_timeout_sec * 1000));
	secret_wipe_free(b64, strlen(b64));
	sensor_op_start(m, c, op, req);
}

/* --- sessions ----------------------------------------------------------------------- */

static const WireField open_session_fields[] = {
	{ "ticket", WIRE_STRING, true, TICKET_HEX_LEN, 0, 0 },
	{ "operator_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
	{ "tty", WIRE_STRING, false, 64, 0, 0 },
	{ "service", WIRE_STRING, false, 64, 0, 0 },
	{ "logind_session", WIRE_STRING, false, 64, 0, 0 },
	{ "rhost", WIRE_STRING, false, 256, 0, 0 },
};

static void
method_open_session(Manager *m, Conn *c, json_object *params)
{
	const Peer *p = conn_peer(c);
	const char *oid = wire_str(params, "operator_id");
	static const char *const texts[] = { "tty", "service", "logind_session", "rhost" };
	for (size_t i = 0; i < 4; i++) {
		const char *v = wire_str(params, texts[i]);
		if (v && !wire_valid_text(v, 256))
			return reply_invalid(c, texts[i]);
	}
	if (!wire_valid_id(oid))
		return reply_invalid(c, "operator_id");

	char mid[WIRE_MAX_ID + 1];
	uid_t uid = (uid_t)-1;
	if (!ticket_take(m, wire_str(params, "ticket"), p, mid, &uid))
		return (void)conn_error(c, WIRE_ERR_TICKET, NULL);

	StoreStaff st;
	int r = store_staff_by_id(m->store, mid, &st);
	if (r < 0)
		return (void)conn_error(c, WIRE_ERR_NOT_ON_ROSTER, NULL);
	if (!st.active)
		return (void)conn_error(c, WIRE_ERR_REVOKED, NULL);
	char role[WIRE_MAX_ID + 1];
	r = store_operator_role(m->store, mid, oid, role);
	if (r < 0)
		return (void)conn_error(c, WIRE_ERR_NO_OPERATOR, NULL);

	StoreSessionIn in = {
		.matching_id = mid,
		.operator_id = oid,
		.uid = uid,
		.leader_pid = p->pid,
		.tty = wire_str(params, "tty"),
		.service = wire_str(params, "service"),
		.logind_session = wire_str(params, "logind_session"),
		.opened_at = now_real_usec(),
	};
	int64_t id = 0;
	r = store_session_open(m->store, &in, &id);
	if (r < 0)
		return reply_store_error(c, r);
	log_info("Session %lld opened: matching ID %s as operator ID %s (role %s), tty %s",
	         (long long)id, mid, oid, role, in.tty ? in.tty : "-");
	json_object *o = json_object_new_object();
	json_object_object_add(o, "session_id", json_object_new_int64(id));
	json_object_object_add(o, "operator_id", json_object_new_string(oid));
	json_object_object_add(o, "role", json_object_new_string(role));
	conn_reply(c, o, false);
}

static const WireField close_session_fields[] = {
	{ "session_id", WIRE_INT, true, 0, 1, INT64_MAX },
};

static void
method_close_session(Manager *m, Conn *c, json_object *params)
{
	int64_t id = wire_int(params, "session_id", 0);
	StoreSession s;
	int r = store_session_get(m->store, id, &s);
	if (r == -ENOENT || (r == 0 && !s.open))
		return (void)conn_error(c, WIRE_ERR_NOT_FOUND, NULL);
	if (r < 0)
		return reply_store_error(c, r);
	r = store_session_close(m->store, id, "logout", now_real_usec());
	if (r < 0)
		return reply_store_error(c, r);
	log_info("Session %lld closed (matching ID %s)", (long long)id, s.matching_id);
	conn_reply(c, NULL, false);
}

static void
method_list_sessions(Manager *m, Conn *c, json_object *params)
{
	json_object *arr = NULL;
	int r = store_sessions_json(m->store, &arr);
	if (r < 0)
		return reply_store_error(c, r);
	conn_reply(c, param_obj("sessions", arr), false);
}

#define FIELDS(f) f, sizeof(f) / sizeof((f)[0])
#define NO_FIELDS NULL, 0

static const Method methods[] = {
	{ "org.varlink.service.GetInfo", PERM_ANYONE, method_get_info, NO_FIELDS },
	{ "io.biogate.GetStatus", PERM_ANYONE, method_get_status, NO_FIELDS },
	{ "io.biogate.AddStaff", PERM_ADMIN, method_add_staff, FIELDS(add_staff_fields) },
	{ "io.biogate.GetStaff", PERM_ADMIN, method_get_staff, FIELDS(staff_id_fields) },
	{ "io.biogate.ListStaff", PERM_ADMIN, method_list_staff, NO_FIELDS },
	{ "io.biogate.GrantOperator", PERM_ADMIN, method_grant_operator, FIELDS(grant_fields) },
	{ "io.biogate.Enroll", PERM_ADMIN, method_enroll, FIELDS(enroll_fields) },
	{ "io.biogate.CheckAccount", PERM_LOGIN, method_check_account, FIELDS(account_fields) },
	{ "io.biogate.Verify", PERM_LOGIN, method_verify, FIELDS(verify_fields) },
	{ "io.biogate.OpenSession", PERM_ROOT, method_open_session, FIELDS(open_session_fields) },
	{ "io.biogate.CloseSession", PERM_ROOT, method_close_session,
	  FIELDS(close_session_fields) },
	{ "io.biogate.ListSessions", PERM_ADMIN, method_list_sessions, NO_FIELDS },
};

void
methods_dispatch(Manager *m, Conn *c, const WireCall *call)
{
	const Method *meth = NULL;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(call->method, methods[i].name) == 0) {
			meth = &methods[i];
			break;
		}
	if (!meth) {
		const char *dot = strrchr(call->method, '.');
		size_t iflen = dot ? (size_t)(dot - call->method) : 0;
		bool known_if =
		    (iflen == strlen(BIOGATE_INTERFACE) &&
		     strncmp(call->method, BIOGATE_INTERFACE, iflen) == 0) ||
		    (iflen == 19 && strncmp(call->method, "org.varlink.service", 19) == 0);
		if (!known_if)
			return (void)conn_error(c, WIRE_ERR_INTERFACE_NOT_FOUND, NULL);
		return (void)conn_error(c, WIRE_ERR_METHOD_NOT_FOUND, NULL);
	}

	const Peer *p = conn_peer(c);
	bool allowed = meth->perm == PERM_ANYONE || meth->perm == PERM_LOGIN ||
	               (meth->perm == PERM_ROOT && p->uid == 0) ||
	               (meth->perm == PERM_ADMIN && peer_is_admin(m, p));
	if (!allowed) {
		log_info("Refused %s to uid %u pid %d", meth->name, (unsigned)p->uid, (int)p->pid);
		return (void)conn_error(c, WIRE_ERR_NOT_PERMITTED, NULL);
	}

	const char *bad = NULL;
	if (wire_check(call->parameters, meth->fields, meth->n_fields, &bad) < 0)
		return reply_invalid(c, bad);
	meth->fn(m, c, call->parameters);
}
