/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * methods: the table of Varlink methods biogated answers, who may call each (decided from
 * the kernel's peer credentials only), the parameter schema of each, and the handlers.
 * Handlers validate everything, translate -errno into stable wire errors here at the edge,
 * and never trust the sensor's answers more than a client's.
 */
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "audit.h"
#include "custody.h"
#include "daemon.h"
#include "devices.h"
#include "incidents.h"
#include "log.h"
#include "policy.h"
#include "report.h"
#include "room.h"
#include "sessions.h"
#include "stream.h"
#include "verify.h"

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

bool
methods_peer_is_admin(const Manager *m, const Peer *p)
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
	else if (r == -ENOSPC)
		conn_error(c, WIRE_ERR_DISK_FULL, NULL);
	else
		conn_error(c, WIRE_ERR_INTERNAL, NULL);
}

/* --- the audit trail ------------------------------------------------------------------ */

static void
record_done(int r, int64_t seq, void *userdata)
{
	/* A full disk is logged by the audit trail once per window, not once per record. */
	if (r < 0 && r != -ENOSPC)
		log_error("An audit record could not be written: %s", strerror(-r));
	if (userdata && r == -ENOSPC)
		conn_release_output_disk_full(userdata);
	else if (userdata)
		conn_release_output(userdata, r >= 0);
}

/*
 * Appends an audit record. With a connection, that connection's output is held until the
 * record is durable, so no reply reports what the trail does not hold; if the record cannot
 * be written, the caller is dropped instead of answered.
 */
void
methods_record(Manager *m, Conn *c, AuditRecord *rec)
{
	if (!m->audit)
		return;
	rec->time_usec = rec->time_usec ? rec->time_usec : now_real_usec();
	rec->terminal = m->terminal;
	if (c)
		conn_hold_output(c);
	int r = audit_append(m->audit, rec, record_done, c);
	if (r < 0)
		record_done(r, 0, c);
}

static void
record_simple(Manager *m, Conn *c, const char *matching_id, const char *operator_id,
              const char *action, const char *outcome, const char *reason, const char *key_hmac)
{
	AuditRecord rec = {
		.matching_id = matching_id,
		.operator_id = operator_id,
		.action = action,
		.outcome = outcome,
		.reason = reason,
		.key_hmac = key_hmac,
	};
	methods_record(m, c, &rec);
}

/* An administrative change: who did it (uid) goes into the detail when none is given. */
static void
record_admin(Manager *m, Conn *c, const char *matching_id, const char *operator_id,
             const char *action, const char *detail)
{
	char buf[64];
	if (!detail) {
		snprintf(buf, sizeof(buf), "{\"by_uid\":%u}", (unsigned)conn_peer(c)->uid);
		detail = buf;
	}
	AuditRecord rec = { .matching_id = matching_id,
		            .operator_id = operator_id,
		            .action = action,
		            .outcome = "ok",
		            .detail = detail };
	methods_record(m, c, &rec);
}

static int lockout_state(Manager *m, const char *matching_id, int64_t now, bool *ret_locked,
                         int64_t *ret_until);

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
	/* Who, for the roster history (R6). */
	char actor[32];
	snprintf(actor, sizeof(actor), "uid %u", (unsigned)conn_peer(c)->uid);
	in.actor = actor;
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
	record_admin(m, c, in.matching_id, NULL, "staff.add", NULL);
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

/* The person behind matching_id, who must be on the roster and not revoked; else the caller
 * is answered (NotOnRoster, Revoked, or the store's error) and false returned. */
static bool
active_person(Manager *m, Conn *c, const char *matching_id, StoreStaff *ret)
{
	int r = store_staff_by_id(m->store, matching_id, ret);
	if (r == -ENOENT)
		conn_error(c, WIRE_ERR_NOT_ON_ROSTER, NULL);
	else if (r < 0)
		reply_store_error(c, r);
	else if (!ret->active)
		conn_error(c, WIRE_ERR_REVOKED, NULL);
	return r >= 0 && ret->active;
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
	/* A role the policy does not define could never do anything: refuse it now rather
	 * than grant an operator ID that every decision denies (R2). */
	if (!wire_valid_id(role) || !policy_role_exists(m->policy, role))
		return reply_invalid(c, "role");
	StoreStaff st;
	if (!active_person(m, c, mid, &st))
		return;
	int r = store_operator_grant(m->store, mid, oid, role, now_real_usec());
	if (r < 0)
		return reply_store_error(c, r);
	log_info("Granted operator ID %s (role %s) to matching ID %s", oid, role, mid);
	char detail[160];
	snprintf(detail, sizeof(detail), "{\"role\":\"%s\"}", role);
	record_admin(m, c, mid, oid, "operator.grant", detail);
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
		return (void)conn_error(c, verify_sensor_error(err), NULL);
	}

	if (local.enroll) {
		if (wire_check(msg, enroll_ok, 3, &bad) < 0)
			return (void)conn_error(c, WIRE_ERR_SENSOR_UNAVAILABLE, NULL);
		json_object *pj = NULL;
		json_object_object_get_ex(msg, "print", &pj);
		uint8_t *print = NULL, *sealed = NULL;
		size_t print_len = 0, sealed_len = 0;
		int r =
		    verify_b64_decode(json_object_get_string(pj),
		                      (size_t)json_object_get_string_len(pj), &print, &print_len);
		if (r < 0)
			return (void)conn_error(c, WIRE_ERR_SENSOR_UNAVAILABLE, NULL);
		char aad[160];
		verify_template_aad(aad, sizeof(aad), local.matching_id, local.finger);
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
		char detail[96];
		snprintf(detail, sizeof(detail), "{\"finger\":\"%s\"}", local.finger);
		AuditRecord rec = { .matching_id = local.matching_id,
			            .action = "enroll",
			            .outcome = "ok",
			            .detail = detail };
		methods_record(m, c, &rec);
		json_object *o = json_object_new_object();
		json_object_object_add(o, "matching_id", json_object_new_string(local.matching_id));
		json_object_object_add(o, "finger", json_object_new_string(local.finger));
		return (void)conn_reply(c, o, false);
	}

	if (wire_check(msg, verify_ok, 3, &bad) < 0)
		return (void)conn_error(c, WIRE_ERR_SENSOR_UNAVAILABLE, NULL);
	if (!wire_bool(msg, "match", false)) {
		int64_t now = now_real_usec();
		log_info("Verification of matching ID %s: no match", local.matching_id);
		(void)store_failure_add(m->store, local.matching_id, now);
		bool locked = false;
		int64_t until = 0;
		(void)lockout_state(m, local.matching_id, now, &locked, &until);
		record_simple(m, c, local.matching_id, NULL, "verify", "fail",
		              locked ? "no-match-locked-out" : "no-match", NULL);
		incidents_note(m->incidents, INCIDENT_FAILED_MATCHES, local.matching_id, NULL,
		               "fingerprint verification did not match");
		return (void)conn_error(c, WIRE_ERR_NO_MATCH, NULL);
	}
	(void)store_failures_clear(m->store, local.matching_id);
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
	record_simple(m, c, local.matching_id, NULL, "verify", "ok", "match", NULL);
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

/* Hands the request to the sensor; the reply comes later through sensor_op_event. On
 * failure op is freed and the caller answered. */
static int
sensor_op_start(Manager *m, Conn *c, SensorOp *op, json_object *req)
{
	int r = sensorlink_start(m->sensor, req, sensor_op_event, op);
	if (r < 0) {
		free(op);
		conn_error(c, r == -EBUSY ? WIRE_ERR_BUSY : WIRE_ERR_SENSOR_UNAVAILABLE, NULL);
		return r;
	}
	conn_set_gone_hook(c, sensor_op_gone, op);
	conn_defer(c);
	return 0;
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
	if (!active_person(m, c, mid, &st))
		return;

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
	(void)sensor_op_start(m, c, op, req);
}

/* --- login gates (R6, R8, R9, R12) and lockout --------------------------------------- */

/* The newest failed matches that can still matter for a lockout. */
#define FAILURES_MAX 64

static int
lockout_state(Manager *m, const char *matching_id, int64_t now, bool *ret_locked,
              int64_t *ret_until)
{
	const PolicySettings *ps = policy_settings(m->policy);
	int64_t failures[FAILURES_MAX];
	size_t n = 0;
	*ret_locked = false;
	*ret_until = 0;
	if (ps->lockout_deny == 0)
		return 0;
	int64_t horizon =
	    now - ((int64_t)ps->lockout_interval_sec + ps->lockout_unlock_sec) * 1000000;
	int r = store_failures_get(m->store, matching_id, horizon, failures, FAILURES_MAX, &n);
	if (r < 0)
		return r;
	*ret_locked = policy_locked_out(m->policy, failures, n, now, ret_until);
	return 0;
}

/* A session whose leader is gone was never closed (a crashed login): close it now, so
 * that it does not hold the person's matching ID forever (R12). */
static void
reap_dead_session(Manager *m, int64_t session_id)
{
	StoreSession s;
	if (store_session_get(m->store, session_id, &s) < 0 || !s.open || s.leader_pid <= 0)
		return;
	if (kill(s.leader_pid, 0) == 0 || errno != ESRCH)
		return;
	log_info("Session %lld: leader %d is gone; closing it", (long long)session_id,
	         (int)s.leader_pid);
	int64_t now = now_real_usec();
	(void)store_session_close(m->store, session_id, "leader-gone", now);
	sessions_closed(m->sessions, session_id);
	room_staff_logout(m->room, session_id, now);
}

static const char *
gate_error(PolicyReason r)
{
	switch (r) {
	case POLICY_NOT_ON_ROSTER:
		return WIRE_ERR_NOT_ON_ROSTER;
	case POLICY_REVOKED:
		return WIRE_ERR_REVOKED;
	case POLICY_LOCKED_OUT:
		return WIRE_ERR_LOCKED_OUT;
	case POLICY_NO_OPERATOR:
		return WIRE_ERR_NO_OPERATOR;
	case POLICY_PLEDGE_MISSING:
		return WIRE_ERR_PLEDGE_MISSING;
	case POLICY_TRAINING_MISSING:
		return WIRE_ERR_TRAINING_MISSING;
	case POLICY_OUTSIDE_SHIFT:
		return WIRE_ERR_OUTSIDE_SHIFT;
	case POLICY_ALREADY_IN_SESSION:
		return WIRE_ERR_IN_SESSION;
	default:
		return WIRE_ERR_NOT_PERMITTED;
	}
}

/*
 * The login gates for a person about to verify (or whose account is checked). On a refusal
 * it records it, answers the caller and returns -EPERM; 0 lets the login go on.
 */
static int
login_gates(Manager *m, Conn *c, const StoreStaff *st, const char *stage)
{
	int64_t now = now_real_usec();
	PolicyLoginFacts f = { .on_roster = true, .revoked = !st->active };

	json_object *ops = NULL;
	int r = store_operators_json(m->store, st->matching_id, &ops);
	if (r < 0) {
		reply_store_error(c, r);
		return r;
	}
	f.has_operator = json_object_array_length(ops) > 0;
	json_object_put(ops);

	int32_t pledge = 0, training = 0;
	if (store_staff_gates(m->store, st->matching_id, &pledge, &training) == 0) {
		f.pledge_recorded = pledge != 0;
		f.training_recorded = training != 0;
	}
	StoreShift shift;
	f.in_shift = store_shift_at(m->store, st->matching_id, now, &shift) == 0;

	int64_t open_id = 0;
	if (store_session_open_for(m->store, st->matching_id, &open_id) == 0) {
		reap_dead_session(m, open_id);
		f.in_open_session =
		    store_session_open_for(m->store, st->matching_id, &open_id) == 0;
		/* Unlocking one's own locked screen is not a second login. */
		StoreSession mine;
		if (f.in_open_session &&
		    sessions_find_by_peer(m->sessions, conn_peer(c), &mine) == 0 &&
		    strcmp(mine.matching_id, st->matching_id) == 0)
			f.in_open_session = false;
	}
	int64_t until = 0;
	r = lockout_state(m, st->matching_id, now, &f.locked_out, &until);
	if (r < 0) {
		reply_store_error(c, r);
		return r;
	}

	PolicyDecision d = policy_check_login(m->policy, &f);
	if (d.allow)
		return 0;
	const char *reason = policy_reason_name(d.reason);
	log_info("Login %s for matching ID %s refused: %s", stage, st->matching_id, reason);
	char action[32];
	snprintf(action, sizeof(action), "login.%s", stage);
	record_simple(m, c, st->matching_id, NULL, action, "deny", reason, NULL);
	json_object *p = NULL;
	if (d.reason == POLICY_LOCKED_OUT)
		p = param_obj("until", json_object_new_int64(until));
	conn_error(c, gate_error(d.reason), p);
	return -EPERM;
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
		if (p->uid == 0 || methods_peer_is_admin(m, p))
			conn_error(c, WIRE_ERR_NOT_ON_ROSTER, NULL);
		else
			conn_error(c, WIRE_ERR_NOT_PERMITTED, NULL);
		return r;
	}
	if (r < 0) {
		reply_store_error(c, r);
		return r;
	}
	if (p->uid != 0 && !methods_peer_is_admin(m, p)) {
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
	if (login_gates(m, c, &st, "account") < 0)
		return;
	json_object *ops = NULL;
	int r = store_operators_json(m->store, st.matching_id, &ops);
	if (r < 0)
		return reply_store_error(c, r);
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
	if (login_gates(m, c, &st, "verify") < 0)
		return;

	json_object *req = NULL;
	int r = verify_request_new(m, st.matching_id, &req);
	if (r == -ENOENT)
		return (void)conn_error(c, WIRE_ERR_NOT_ENROLLED, NULL);
	if (r < 0)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	SensorOp *op = calloc(1, sizeof(*op));
	if (!op) {
		json_object_put(req);
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	}
	*op = (SensorOp){
		.manager = m, .conn = c, .pid = conn_peer(c)->pid, .uid = conn_peer(c)->uid
	};
	snprintf(op->matching_id, sizeof(op->matching_id), "%s", st.matching_id);
	if (sensor_op_start(m, c, op, req) < 0)
		return;
	/* The person's uid is looked up while the reader works, so that NSS (which may ask
	 * systemd-userdbd) never adds to the time a person waits. Unknown stays (uid_t)-1:
	 * never 0, which would make the session root's. */
	op->session_uid = (uid_t)-1;
	(void)uid_of_user(st.unix_user, &op->session_uid);
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
	sessions_opened(m->sessions, id);
	char detail[128];
	snprintf(detail, sizeof(detail), "{\"session_id\":%lld,\"role\":\"%s\"}", (long long)id,
	         role);
	AuditRecord rec = { .matching_id = mid,
		            .operator_id = oid,
		            .action = "session.open",
		            .outcome = "ok",
		            .detail = detail };
	methods_record(m, c, &rec);
	room_staff_login(m->room, mid, id, in.opened_at);
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
	int64_t now = now_real_usec();
	r = store_session_close(m->store, id, "logout", now);
	if (r < 0)
		return reply_store_error(c, r);
	room_staff_logout(m->room, id, now);
	log_info("Session %lld closed (matching ID %s)", (long long)id, s.matching_id);
	sessions_closed(m->sessions, id);
	char detail[64];
	snprintf(detail, sizeof(detail), "{\"session_id\":%lld}", (long long)id);
	AuditRecord rec = { .matching_id = s.matching_id,
		            .operator_id = s.operator_id,
		            .action = "session.close",
		            .outcome = "ok",
		            .reason = "logout",
		            .detail = detail };
	methods_record(m, c, &rec);
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

/* --- roster edits, lockout, schedule (issue 3) ---------------------------------------- */

/* "YYYY-MM-DD" -> YYYYMMDD after checking it is a real calendar date; 0 when not. */
int32_t
methods_parse_date(const char *s)
{
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	int y = atoi(s), mo = atoi(s + 5), d = atoi(s + 8);
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = 12 };
	if (y < 1900 || mo < 1 || mo > 12 || d < 1 || timegm(&tm) == (time_t)-1 ||
	    tm.tm_mday != d || tm.tm_mon != mo - 1)
		return 0;
	return y * 10000 + mo * 100 + d;
}

static const WireField edit_staff_fields[] = {
	{ "matching_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
	{ "name", WIRE_STRING, false, 256, 0, 0 },
	{ "affiliation", WIRE_STRING, false, 256, 0, 0 },
	{ "expertise", WIRE_STRING, false, WIRE_MAX_TEXT, 0, 0 },
	{ "track_record", WIRE_STRING, false, WIRE_MAX_TEXT, 0, 0 },
	{ "pledge_date", WIRE_STRING, false, 10, 0, 0 },
	{ "training_date", WIRE_STRING, false, 10, 0, 0 },
};

static void
method_edit_staff(Manager *m, Conn *c, json_object *params)
{
	const char *mid = wire_str(params, "matching_id");
	if (!wire_valid_id(mid))
		return reply_invalid(c, "matching_id");
	StoreStaffEdit e = {
		.name = wire_str(params, "name"),
		.affiliation = wire_str(params, "affiliation"),
		.expertise = wire_str(params, "expertise"),
		.track_record = wire_str(params, "track_record"),
	};
	static const char *const texts[] = { "name", "affiliation", "expertise", "track_record" };
	for (size_t i = 0; i < 4; i++) {
		const char *v = wire_str(params, texts[i]);
		if (v && (!wire_valid_text(v, WIRE_MAX_TEXT) || (i < 2 && v[0] == '\0')))
			return reply_invalid(c, texts[i]);
	}
	char actor[32];
	snprintf(actor, sizeof(actor), "uid %u", (unsigned)conn_peer(c)->uid);
	e.actor = actor;
	const char *pd = wire_str(params, "pledge_date"), *td = wire_str(params, "training_date");
	if (pd && !(e.pledge_date = methods_parse_date(pd)))
		return reply_invalid(c, "pledge_date");
	if (td && !(e.training_date = methods_parse_date(td)))
		return reply_invalid(c, "training_date");
	int r = store_staff_edit(m->store, mid, &e, now_real_usec());
	if (r == -ENOENT)
		return (void)conn_error(c, WIRE_ERR_NOT_ON_ROSTER, NULL);
	if (r < 0)
		return reply_store_error(c, r);
	/* Which fields changed, never their values: the record outlives the roster (R5, R6). */
	json_object *changed = json_object_new_array();
	json_object_object_foreach(params, key, val)
	{
		(void)val;
		if (strcmp(key, "matching_id") != 0)
			json_object_array_add(changed, json_object_new_string(key));
	}
	json_object *d = param_obj("fields", changed);
	json_object_object_add(d, "by_uid", json_object_new_int64(conn_peer(c)->uid));
	record_admin(m, c, mid, NULL, "staff.edit", json_object_to_json_string(d));
	json_object_put(d);
	json_object *o = NULL;
	r = store_staff_json(m->store, mid, &o);
	if (r < 0)
		return reply_store_error(c, r);
	conn_reply(c, o, false);
}

static void
method_unlock(Manager *m, Conn *c, json_object *params)
{
	const char *mid = wire_str(params, "matching_id");
	if (!wire_valid_id(mid))
		return reply_invalid(c, "matching_id");
	StoreStaff st;
	int r = store_staff_by_id(m->store, mid, &st);
	if (r == -ENOENT)
		return (void)conn_error(c, WIRE_ERR_NOT_ON_ROSTER, NULL);
	if (r < 0 || (r = store_failures_clear(m->store, mid)) < 0)
		return reply_store_error(c, r);
	log_info("Lockout of matching ID %s lifted by uid %u", mid, (unsigned)conn_peer(c)->uid);
	record_admin(m, c, mid, NULL, "staff.unlock", NULL);
	conn_reply(c, param_obj("matching_id", json_object_new_string(mid)), false);
}

/* "HH:MM" -> minutes after midnight, -1 when not a time of day. */
static int
parse_hhmm(const char *s)
{
	if (!s || strlen(s) != 5 || s[2] != ':' || s[0] < '0' || s[0] > '2' || s[1] < '0' ||
	    s[1] > '9' || s[3] < '0' || s[3] > '5' || s[4] < '0' || s[4] > '9')
		return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
	return h < 24 ? h * 60 + m : -1;
}

/* Local date + minutes -> microseconds since the epoch, in the terminal's time zone. */
static int64_t
local_usec(int32_t ymd, int minutes)
{
	struct tm tm = { .tm_year = ymd / 10000 - 1900,
		         .tm_mon = ymd / 100 % 100 - 1,
		         .tm_mday = ymd % 100,
		         .tm_hour = minutes / 60,
		         .tm_min = minutes % 60,
		         .tm_isdst = -1 };
	time_t t = mktime(&tm);
	return t == (time_t)-1 ? -1 : (int64_t)t * 1000000;
}

#define SCHEDULE_MAX_SHIFTS 4096

static const WireField import_schedule_fields[] = {
	{ "month", WIRE_STRING, true, 7, 0, 0 },
	{ "shifts", WIRE_ARRAY, true, SCHEDULE_MAX_SHIFTS, 0, 0 },
};

static const WireField shift_fields[] = {
	{ "matching_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
	{ "date", WIRE_STRING, true, 10, 0, 0 },
	{ "start", WIRE_STRING, true, 5, 0, 0 },
	{ "end", WIRE_STRING, true, 5, 0, 0 },
};

static int32_t
parse_month(const char *s)
{
	char buf[11];
	if (!s || strlen(s) != 7)
		return 0;
	snprintf(buf, sizeof(buf), "%s-01", s);
	return methods_parse_date(buf);
}

static void
method_import_schedule(Manager *m, Conn *c, json_object *params)
{
	const char *month = wire_str(params, "month");
	int32_t first = parse_month(month);
	if (!first)
		return reply_invalid(c, "month");
	int32_t next = first / 100 % 100 == 12 ? (first / 10000 + 1) * 10000 + 101 : first + 100;
	json_object *arr = NULL;
	json_object_object_get_ex(params, "shifts", &arr);
	size_t n = json_object_array_length(arr);
	StoreShift *shifts = calloc(n ? n : 1, sizeof(*shifts));
	if (!shifts)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	for (size_t i = 0; i < n; i++) {
		json_object *row = json_object_array_get_idx(arr, i);
		const char *bad = NULL;
		if (!json_object_is_type(row, json_type_object) ||
		    wire_check(row, shift_fields, 4, &bad) < 0) {
			free(shifts);
			return reply_invalid(c, "shifts");
		}
		int32_t date = methods_parse_date(wire_str(row, "date"));
		int start = parse_hhmm(wire_str(row, "start"));
		int end = parse_hhmm(wire_str(row, "end"));
		const char *mid = wire_str(row, "matching_id");
		if (!wire_valid_id(mid) || date < first || date >= next || start < 0 ||
		    end <= start) {
			free(shifts);
			return reply_invalid(c, "shifts");
		}
		shifts[i] = (StoreShift){ .matching_id = mid,
			                  .start_usec = local_usec(date, start),
			                  .end_usec = local_usec(date, end) };
	}
	int r = store_schedule_replace(m->store, local_usec(first, 0), local_usec(next, 0), shifts,
	                               n, now_real_usec());
	free(shifts);
	if (r == -ENOENT)
		return (void)conn_error(c, WIRE_ERR_NOT_ON_ROSTER, NULL);
	if (r < 0)
		return reply_store_error(c, r);
	log_info("Schedule for %s imported: %zu shifts", month, n);
	char detail[96];
	snprintf(detail, sizeof(detail), "{\"month\":\"%s\",\"shifts\":%zu,\"by_uid\":%u}", month,
	         n, (unsigned)conn_peer(c)->uid);
	record_admin(m, c, NULL, NULL, "schedule.import", detail);
	json_object *o = param_obj("month", json_object_new_string(month));
	json_object_object_add(o, "shifts", json_object_new_int64((int64_t)n));
	conn_reply(c, o, false);
}

static const WireField get_schedule_fields[] = {
	{ "month", WIRE_STRING, false, 7, 0, 0 },
	{ "matching_id", WIRE_STRING, false, WIRE_MAX_ID, 0, 0 },
};

static void
method_get_schedule(Manager *m, Conn *c, json_object *params)
{
	const char *month = wire_str(params, "month");
	const char *mid = wire_str(params, "matching_id");
	int64_t from = 0, to = 0;
	if (month) {
		int32_t first = parse_month(month);
		if (!first)
			return reply_invalid(c, "month");
		int32_t next =
		    first / 100 % 100 == 12 ? (first / 10000 + 1) * 10000 + 101 : first + 100;
		from = local_usec(first, 0);
		to = local_usec(next, 0);
	}
	if (mid && !wire_valid_id(mid))
		return reply_invalid(c, "matching_id");
	json_object *arr = NULL;
	int r = store_schedule_json(m->store, mid, from, to, &arr);
	if (r < 0)
		return reply_store_error(c, r);
	/* Local date and times, as the schedule was written. */
	size_t n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		int64_t st = wire_int(o, "start", 0), en = wire_int(o, "end", 0);
		time_t ts = (time_t)(st / 1000000), te = (time_t)(en / 1000000);
		struct tm a, b;
		char date[16], start[8], end[8];
		localtime_r(&ts, &a);
		localtime_r(&te, &b);
		strftime(date, sizeof(date), "%Y-%m-%d", &a);
		strftime(start, sizeof(start), "%H:%M", &a);
		strftime(end, sizeof(end), "%H:%M", &b);
		json_object_object_add(o, "date", json_object_new_string(date));
		json_object_object_add(o, "start", json_object_new_string(start));
		json_object_object_add(o, "end", json_object_new_string(end));
	}
	conn_reply(c, param_obj("shifts", arr), false);
}

/* --- authorization (R2, R11) --------------------------------------------------------- */

/* The caller's session, operator ID and role: from the connection's cache while that session
 * is still open, else resolved from the peer's credentials (and cached when found). */
static bool
caller_session(Manager *m, Conn *c, PeerSession *ret)
{
	PeerSession *ps = conn_peer_session(c);
	if (ps->known && sessions_is_open(m->sessions, ps->session_id)) {
		*ret = *ps;
		return true;
	}
	ps->known = false;
	StoreSession s;
	char role[WIRE_MAX_ID + 1] = "";
	if (sessions_find_by_peer(m->sessions, conn_peer(c), &s) < 0 ||
	    store_operator_role(m->store, s.matching_id, s.operator_id, role) < 0)
		return false;
	*ps = (PeerSession){ .known = true, .session_id = s.id };
	memcpy(ps->matching_id, s.matching_id, sizeof(ps->matching_id));
	memcpy(ps->operator_id, s.operator_id, sizeof(ps->operator_id));
	memcpy(ps->role, role, sizeof(ps->role));
	*ret = *ps;
	return true;
}

static void
method_whoami(Manager *m, Conn *c, json_object *params)
{
	PeerSession ps;
	json_object *o = json_object_new_object();
	bool in = caller_session(m, c, &ps);
	json_object_object_add(o, "in_session", json_object_new_boolean(in));
	if (in) {
		json_object_object_add(o, "session_id", json_object_new_int64(ps.session_id));
		json_object_object_add(o, "matching_id", json_object_new_string(ps.matching_id));
		json_object_object_add(o, "operator_id", json_object_new_string(ps.operator_id));
		json_object_object_add(o, "role", json_object_new_string(ps.role));
	}
	conn_reply(c, o, false);
}

static const WireField authorize_fields[] = {
	{ "action", WIRE_STRING, true, POLICY_MAX_NAME, 0, 0 },
	{ "key", WIRE_STRING, false, 256, 0, 0 },
};

static void
method_authorize(Manager *m, Conn *c, json_object *params)
{
	const char *action = wire_str(params, "action");
	json_object *kj = NULL;
	const char *key = NULL;
	size_t key_len = 0;
	if (json_object_object_get_ex(params, "key", &kj)) {
		key = json_object_get_string(kj);
		key_len = (size_t)json_object_get_string_len(kj);
	}

	PeerSession s = { 0 };
	bool in_session = caller_session(m, c, &s);
	const char *role = s.role;

	PolicyRequest req = { .in_session = in_session,
		              .role = in_session ? role : NULL,
		              .action = action,
		              .key = key,
		              .key_len = key_len };
	char norm[16] = "";
	PolicyKeyClass kc = POLICY_KEY_GARBAGE;
	PolicyDecision d = policy_authorize(m->policy, &req, norm, sizeof(norm), &kc);

	/* The key is never stored: only its HMAC, so an auditor can later ask whether a number
	 * was searched (R11, R19). */
	char hmac[65] = "";
	if (key && norm[0] && m->audit)
		(void)audit_key_hmac(m->audit, norm, hmac);
	explicit_bzero(norm, sizeof(norm));

	const char *reason = policy_reason_name(d.reason);
	char raction[POLICY_MAX_NAME + 16];
	snprintf(raction, sizeof(raction), "authorize.%s", action);
	record_simple(m, c, in_session ? s.matching_id : NULL, in_session ? s.operator_id : NULL,
	              raction,
	              d.allow       ? "allow"
	              : d.violation ? "violation"
	                            : "deny",
	              reason, hmac[0] ? hmac : NULL);
	/* R17: a search refused for its key counts toward forbidden-searches; a resident
	 * record code is an incident by itself. */
	bool key_refused = d.reason == POLICY_KEY_INVALID || d.reason == POLICY_KEY_CHECK_DIGIT ||
	                   d.reason == POLICY_KEY_RESIDENT_RECORD_CODE ||
	                   d.reason == POLICY_KEY_CORPORATE_NUMBER;
	if (!d.allow && key_refused) {
		char situation[128];
		snprintf(situation, sizeof(situation), "%s refused: %s", action, reason);
		const char *mid = in_session ? s.matching_id : NULL;
		const char *oid = in_session ? s.operator_id : NULL;
		if (d.violation)
			incidents_note(m->incidents, INCIDENT_RESIDENT_CODE_SEARCH, mid, oid,
			               situation);
		incidents_note(m->incidents, INCIDENT_FORBIDDEN_SEARCHES, mid, oid, situation);
	}

	json_object *o = json_object_new_object();
	json_object_object_add(o, "allow", json_object_new_boolean(d.allow));
	json_object_object_add(o, "reason", json_object_new_string(reason));
	json_object_object_add(o, "action", json_object_new_string(action));
	json_object_object_add(o, "violation", json_object_new_boolean(d.violation));
	if (in_session) {
		json_object_object_add(o, "operator_id", json_object_new_string(s.operator_id));
		json_object_object_add(o, "role", json_object_new_string(role));
	}
	conn_reply(c, o, false);
}

/* --- the audit trail: verify, list, export, search by key (R5, R19) ------------------- */

/* A reply must fit the client's 64 KiB message cap with its envelope: lists are cut here. */
#define AUDIT_REPLY_BUDGET (60u * 1024u)
/* AuditVerify shows the bad record when finding it costs at most this many rows. */
#define AUDIT_SHOW_MAX_SEQ 10000

static const WireField audit_list_fields[] = {
	{ "matching_id", WIRE_STRING, false, WIRE_MAX_ID, 0, 0 },
	{ "operator_id", WIRE_STRING, false, WIRE_MAX_ID, 0, 0 },
	{ "action", WIRE_STRING, false, 256, 0, 0 },
	{ "outcome", WIRE_STRING, false, 256, 0, 0 },
	{ "since", WIRE_INT, false, 0, 0, INT64_MAX },
	{ "until", WIRE_INT, false, 0, 0, INT64_MAX },
	{ "limit", WIRE_INT, false, 0, 1, 1000 },
};

static const WireField audit_export_fields[] = {
	{ "format", WIRE_STRING, true, 8, 0, 0 },
	{ "matching_id", WIRE_STRING, false, WIRE_MAX_ID, 0, 0 },
	{ "operator_id", WIRE_STRING, false, WIRE_MAX_ID, 0, 0 },
	{ "action", WIRE_STRING, false, 256, 0, 0 },
	{ "outcome", WIRE_STRING, false, 256, 0, 0 },
	{ "since", WIRE_INT, false, 0, 0, INT64_MAX },
	{ "until", WIRE_INT, false, 0, 0, INT64_MAX },
	{ "limit", WIRE_INT, false, 0, 1, INT64_MAX },
	{ "confirm_by", WIRE_ARRAY, false, 2, 0, 0 },
};

static const WireField audit_search_key_fields[] = {
	{ "key", WIRE_STRING, true, 256, 0, 0 },
};

/* The filters shared by AuditList and AuditExport; strings borrow from params. Returns the
 * name of the bad parameter, or NULL. */
static const char *
audit_filter_from(json_object *params, AuditFilter *ret)
{
	*ret = (AuditFilter){
		.matching_id = wire_str(params, "matching_id"),
		.operator_id = wire_str(params, "operator_id"),
		.action = wire_str(params, "action"),
		.outcome = wire_str(params, "outcome"),
		.since_usec = wire_int(params, "since", 0),
		.until_usec = wire_int(params, "until", 0),
		.limit = wire_int(params, "limit", 0),
	};
	if (ret->matching_id && !wire_valid_id(ret->matching_id))
		return "matching_id";
	if (ret->operator_id && !wire_valid_id(ret->operator_id))
		return "operator_id";
	if (ret->action && !wire_valid_text(ret->action, 256))
		return "action";
	if (ret->outcome && !wire_valid_text(ret->outcome, 256))
		return "outcome";
	if (ret->since_usec && ret->until_usec && ret->until_usec <= ret->since_usec)
		return "until";
	return NULL;
}

/* What an audit query asked for, as the detail of its own record: the filters name whom it
 * was about, while the record's own IDs stay those of the actor (none: an admin's uid). */
static char *
audit_filter_detail(const Conn *c, const AuditFilter *f, const char *format)
{
	json_object *d = json_object_new_object();
	json_object_object_add(d, "by_uid", json_object_new_int64(conn_peer(c)->uid));
	if (format)
		json_object_object_add(d, "format", json_object_new_string(format));
	const char *const names[] = { "matching_id", "operator_id", "action", "outcome" };
	const char *const vals[] = { f->matching_id, f->operator_id, f->action, f->outcome };
	for (size_t i = 0; i < 4; i++)
		if (vals[i])
			json_object_object_add(d, names[i], json_object_new_string(vals[i]));
	if (f->since_usec)
		json_object_object_add(d, "since", json_object_new_int64(f->since_usec));
	if (f->until_usec)
		json_object_object_add(d, "until", json_object_new_int64(f->until_usec));
	if (f->limit)
		json_object_object_add(d, "limit", json_object_new_int64(f->limit));
	const char *txt = json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN);
	char *out = txt ? strdup(txt) : NULL;
	json_object_put(d);
	return out;
}

/* Takes records (an array) and cuts it to what fits the reply budget; adds "truncated". */
static json_object *
audit_bounded_reply(json_object *records, bool truncated)
{
	size_t used = 64, n = json_object_array_length(records), keep = 0;
	for (; keep < n; keep++) {
		size_t len = 0;
		(void)json_object_to_json_string_length(json_object_array_get_idx(records, keep),
		                                        JSON_C_TO_STRING_PLAIN, &len);
		if (used + len + 1 > AUDIT_REPLY_BUDGET)
			break;
		used += len + 1;
	}
	if (keep < n) {
		json_object_array_del_idx(records, keep, n - keep);
		truncated = true;
	}
	json_object *o = param_obj("records", records);
	if (truncated)
		json_object_object_add(o, "truncated", json_object_new_boolean(true));
	return o;
}

static void
reply_audit_error(Conn *c, int r)
{
	if (r == -EINVAL)
		return reply_invalid(c, "parameters");
	conn_error(c, WIRE_ERR_INTERNAL, NULL);
}

/* The record the verification names, when cheap to find: records before a bad MAC are all
 * present, so the seq-th record in order is the one with that seq. */
static json_object *
audit_record_at(Manager *m, int64_t seq)
{
	if (seq < 1 || seq > AUDIT_SHOW_MAX_SEQ)
		return NULL;
	AuditFilter f = { .limit = seq };
	json_object *arr = NULL, *found = NULL;
	if (audit_query_json(m->audit, &f, &arr) < 0)
		return NULL;
	size_t n = json_object_array_length(arr);
	for (size_t i = n; i > 0; i--) {
		json_object *o = json_object_array_get_idx(arr, i - 1);
		if (wire_int(o, "seq", 0) == seq) {
			found = json_object_get(o);
			break;
		}
	}
	json_object_put(arr);
	return found;
}

static void
method_audit_verify(Manager *m, Conn *c, json_object *params)
{
	if (!m->audit)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	AuditVerifyResult v = { 0 };
	int r = audit_verify(m->audit, &v);
	char detail[128];
	if (r < 0) {
		log_error_errno(r, "The audit trail could not be read for verification: %m");
		snprintf(detail, sizeof(detail), "{\"by_uid\":%u}", (unsigned)conn_peer(c)->uid);
		AuditRecord rec = { .action = "audit.verify",
			            .outcome = "fail",
			            .reason = "unreadable",
			            .detail = detail };
		methods_record(m, c, &rec);
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	}
	bool ok = v.problem == AUDIT_OK;
	const char *problem = audit_problem_name(v.problem);
	if (ok)
		log_info("Audit trail verified: %lld records intact", (long long)v.records);
	else
		log_warning("Audit trail verification failed at record %lld: %s",
		            (long long)v.first_bad_seq, problem);
	/* The verification itself is evidence (R5): a broken chain is recorded as a failure
	 * naming the problem, durable before the caller hears of it, and is an incident. */
	snprintf(detail, sizeof(detail), "{\"by_uid\":%u,\"records\":%lld,\"first_bad_seq\":%lld}",
	         (unsigned)conn_peer(c)->uid, (long long)v.records, (long long)v.first_bad_seq);
	AuditRecord rec = { .action = "audit.verify",
		            .outcome = ok ? "ok" : "fail",
		            .reason = ok ? NULL : problem,
		            .detail = detail };
	methods_record(m, c, &rec);
	if (!ok) {
		char situation[96];
		snprintf(situation, sizeof(situation), "audit verify: %s at record %lld", problem,
		         (long long)v.first_bad_seq);
		incidents_note(m->incidents, INCIDENT_AUDIT_TAMPERED, NULL, NULL, situation);
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(ok));
	json_object_object_add(o, "problem", json_object_new_string(problem));
	json_object_object_add(o, "first_bad_seq", json_object_new_int64(v.first_bad_seq));
	json_object_object_add(o, "records", json_object_new_int64(v.records));
	if (v.problem == AUDIT_BAD_MAC || v.problem == AUDIT_OUT_OF_ORDER ||
	    v.problem == AUDIT_BAD_HEAD) {
		json_object *bad = audit_record_at(m, v.first_bad_seq);
		if (bad)
			json_object_object_add(o, "record", bad);
	}
	conn_reply(c, o, false);
}

static void
method_audit_list(Manager *m, Conn *c, json_object *params)
{
	if (!m->audit)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	AuditFilter f;
	const char *bad = audit_filter_from(params, &f);
	if (bad)
		return reply_invalid(c, bad);
	if (!f.limit)
		f.limit = 100;
	json_object *arr = NULL;
	int r = audit_query_json(m->audit, &f, &arr);
	if (r < 0)
		return reply_audit_error(c, r);
	char *detail = audit_filter_detail(c, &f, NULL);
	record_admin(m, c, NULL, NULL, "audit.list", detail);
	free(detail);
	conn_reply(c, audit_bounded_reply(arr, false), false);
}

/* The export read from the trail in steps while it streams (stream.h), so that a long
 * export never stops the daemon answering others. */
static ssize_t
audit_export_stream_read(void *userdata, char *buf, size_t size)
{
	return audit_export_read(userdata, buf, size);
}

static json_object *
audit_export_stream_final(void *userdata)
{
	return param_obj("records", json_object_new_int64(audit_export_records(userdata)));
}

static void
audit_export_stream_free(void *userdata)
{
	audit_export_free(userdata);
}

static const StreamReader audit_export_stream = {
	.read = audit_export_stream_read,
	.final = audit_export_stream_final,
	.free = audit_export_stream_free,
};

static void audit_export_confirmed(Manager *m, Conn *c, json_object *params, const char *actor,
                                   json_object *people);

static void
method_audit_export(Manager *m, Conn *c, json_object *params)
{
	if (!m->audit)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	/* The export is a stream of chunks; a call that cannot take one gets nothing. */
	if (!conn_wants_more(c))
		return (void)conn_error(c, WIRE_ERR_NOT_PERMITTED, NULL);
	const char *format = wire_str(params, "format");
	bool csv = format && strcmp(format, "csv") == 0;
	if (!csv && !(format && strcmp(format, "jsonl") == 0))
		return reply_invalid(c, "format");
	AuditFilter f;
	const char *bad = audit_filter_from(params, &f);
	if (bad)
		return reply_invalid(c, bad);
	/* R13: an export takes the trail off the terminal: two people. */
	custody_two_person(m, c, params, "audit-export", audit_export_confirmed);
}

static void
audit_export_confirmed(Manager *m, Conn *c, json_object *params, const char *actor,
                       json_object *people)
{
	const char *format = wire_str(params, "format");
	bool csv = format && strcmp(format, "csv") == 0;
	AuditFilter f;
	(void)audit_filter_from(params, &f);
	AuditExport *x = NULL;
	int r = audit_export_begin(m->audit, &f, csv, &x);
	if (r >= 0)
		r = stream_reader(m, c, &audit_export_stream, x);
	if (r < 0) {
		log_error_errno(r, "Audit export failed: %m");
		return reply_audit_error(c, r);
	}
	char *detail = audit_filter_detail(c, &f, csv ? "csv" : "jsonl");
	json_object *d = json_tokener_parse(detail ? detail : "{}");
	if (d && json_object_is_type(d, json_type_object)) {
		json_object_object_add(d, "by", json_object_new_string(actor));
		json_object_object_add(d, "confirmed_by", json_object_get(people));
	}
	record_admin(m, c, NULL, NULL, "audit.export",
	             d ? json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN) : detail);
	json_object_put(d);
	free(detail);
}

/* The fields of a record that say when, where and by whom: not the detail or the HMAC. */
static json_object *
audit_search_hit(json_object *rec)
{
	static const char *const keep[] = { "seq",         "time",   "terminal", "matching_id",
		                            "operator_id", "action", "outcome",  "reason" };
	json_object *o = json_object_new_object();
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		json_object *v = NULL;
		if (json_object_object_get_ex(rec, keep[i], &v))
			json_object_object_add(o, keep[i], json_object_get(v));
	}
	return o;
}

static void
method_audit_search_key(Manager *m, Conn *c, json_object *params)
{
	if (!m->audit)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	json_object *kj = NULL;
	json_object_object_get_ex(params, "key", &kj);
	/* The same normalization as Authorize, whatever the class: an 11-digit resident record
	 * code was recorded by its HMAC too, so violations can be found as well (R11). */
	char norm[16] = "";
	PolicyKeyClass kc = policy_key_classify(
	    json_object_get_string(kj), (size_t)json_object_get_string_len(kj), norm, sizeof(norm));
	char hmac[65] = "";
	int r = norm[0] ? audit_key_hmac(m->audit, norm, hmac) : 0;
	explicit_bzero(norm, sizeof(norm));
	if (r < 0)
		return reply_audit_error(c, r);

	json_object *hits = json_object_new_array();
	bool truncated = false;
	int64_t lookups = 0;
	if (hmac[0]) {
		AuditFilter f = { .key_hmac = hmac, .limit = 1000 };
		json_object *arr = NULL;
		r = audit_query_json(m->audit, &f, &arr);
		if (r < 0) {
			json_object_put(hits);
			return reply_audit_error(c, r);
		}
		size_t n = json_object_array_length(arr);
		truncated = n >= 1000;
		for (size_t i = 0; i < n; i++) {
			json_object *rec = json_object_array_get_idx(arr, i);
			const char *action = wire_str(rec, "action");
			/* Earlier lookups by an auditor are not searches of the number. */
			if (action && strcmp(action, "audit.search-key") == 0) {
				lookups++;
				continue;
			}
			json_object_array_add(hits, audit_search_hit(rec));
		}
		json_object_put(arr);
	}
	bool searched = json_object_array_length(hits) > 0;
	/* The lookup is recorded with the number's HMAC only, never the number (R19). */
	char detail[64];
	snprintf(detail, sizeof(detail), "{\"by_uid\":%u}", (unsigned)conn_peer(c)->uid);
	AuditRecord rec = { .action = "audit.search-key",
		            .outcome = "ok",
		            .reason = !hmac[0]   ? "key-invalid"
		                      : searched ? "searched"
		                                 : "not-searched",
		            .detail = detail,
		            .key_hmac = hmac[0] ? hmac : NULL };
	methods_record(m, c, &rec);
	json_object *o = audit_bounded_reply(hits, truncated);
	json_object_object_add(o, "searched", json_object_new_boolean(searched));
	json_object_object_add(o, "key_class", json_object_new_string(policy_key_class_name(kc)));
	json_object_object_add(o, "earlier_lookups", json_object_new_int64(lookups));
	conn_reply(c, o, false);
}

static const WireField room_enter_fields[] = {
	{ "name", WIRE_STRING, true, 128, 0, 0 },
	{ "affiliation", WIRE_STRING, true, 128, 0, 0 },
	{ "purpose", WIRE_STRING, true, 128, 0, 0 },
};

static const WireField room_leave_fields[] = {
	{ "entry_id", WIRE_INT, true, 0, 1, INT64_MAX },
};

static const WireField room_list_fields[] = {
	{ "date", WIRE_STRING, false, 10, 0, 0 },
};

static const WireField monthly_report_fields[] = {
	{ "month", WIRE_STRING, true, 7, 0, 0 },
	{ "format", WIRE_STRING, true, 8, 0, 0 },
};

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
	{ "io.biogate.EditStaff", PERM_ADMIN, method_edit_staff, FIELDS(edit_staff_fields) },
	{ "io.biogate.Unlock", PERM_ADMIN, method_unlock, FIELDS(staff_id_fields) },
	{ "io.biogate.ImportSchedule", PERM_ADMIN, method_import_schedule,
	  FIELDS(import_schedule_fields) },
	{ "io.biogate.GetSchedule", PERM_ADMIN, method_get_schedule, FIELDS(get_schedule_fields) },
	{ "io.biogate.Authorize", PERM_ANYONE, method_authorize, FIELDS(authorize_fields) },
	{ "io.biogate.WhoAmI", PERM_ANYONE, method_whoami, NO_FIELDS },
	{ "io.biogate.Lock", PERM_ANYONE, sessions_method_lock, NO_FIELDS },
	{ "io.biogate.Logoff", PERM_ANYONE, sessions_method_logoff, NO_FIELDS },
	{ "io.biogate.Revoke", PERM_ADMIN, custody_method_revoke, custody_revoke_fields, 3 },
	{ "io.biogate.StaffNationality", PERM_ADMIN, custody_method_nationality,
	  custody_nationality_fields, 3 },
	{ "io.biogate.StaffHistory", PERM_ADMIN, custody_method_history, custody_history_fields,
	  1 },
	{ "io.biogate.DisposalPlan", PERM_ADMIN, custody_method_disposal_plan,
	  custody_disposal_plan_fields, 5 },
	{ "io.biogate.DisposalApprove", PERM_ADMIN, custody_method_disposal_approve,
	  custody_disposal_id_fields, 3 },
	{ "io.biogate.DisposalExecute", PERM_ADMIN, custody_method_disposal_execute,
	  custody_disposal_id_fields, 3 },
	{ "io.biogate.DisposalReport", PERM_ADMIN, custody_method_disposal_report,
	  custody_disposal_id_fields, 3 },
	{ "io.biogate.AuditVerify", PERM_ADMIN, method_audit_verify, NO_FIELDS },
	{ "io.biogate.AuditList", PERM_ADMIN, method_audit_list, FIELDS(audit_list_fields) },
	{ "io.biogate.AuditExport", PERM_ADMIN, method_audit_export, FIELDS(audit_export_fields) },
	{ "io.biogate.AuditSearchKey", PERM_ADMIN, method_audit_search_key,
	  FIELDS(audit_search_key_fields) },
	{ "io.biogate.RoomEnter", PERM_ANYONE, room_method_enter, FIELDS(room_enter_fields) },
	{ "io.biogate.RoomLeave", PERM_ANYONE, room_method_leave, FIELDS(room_leave_fields) },
	{ "io.biogate.RoomList", PERM_ADMIN, room_method_list, FIELDS(room_list_fields) },
	{ "io.biogate.MonthlyReport", PERM_ADMIN, report_method_monthly,
	  FIELDS(monthly_report_fields) },
	{ "io.biogate.UsbAllow", PERM_ADMIN, devices_method_allow, FIELDS(devices_allow_fields) },
	{ "io.biogate.UsbRevoke", PERM_ADMIN, devices_method_revoke,
	  FIELDS(devices_serial_fields) },
	{ "io.biogate.UsbList", PERM_ADMIN, devices_method_list, NO_FIELDS },
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
	               (meth->perm == PERM_ADMIN && methods_peer_is_admin(m, p));
	const char *why = "not-admin";
	if (allowed && meth->perm == PERM_ADMIN &&
	    policy_settings(m->policy)->admin_requires_session) {
		/* The policy wants administration done in an admin-role session too. */
		PeerSession ps;
		allowed = caller_session(m, c, &ps) && policy_is_admin_role(m->policy, ps.role);
		why = "no-admin-session";
	}
	if (!allowed) {
		log_info("Refused %s to uid %u pid %d", meth->name, (unsigned)p->uid, (int)p->pid);
		char detail[64];
		snprintf(detail, sizeof(detail), "{\"uid\":%u,\"pid\":%d}", (unsigned)p->uid,
		         (int)p->pid);
		AuditRecord rec = { .action = meth->name,
			            .outcome = "deny",
			            .reason = meth->perm == PERM_ROOT ? "not-root" : why,
			            .detail = detail };
		methods_record(m, c, &rec);
		return (void)conn_error(c, WIRE_ERR_NOT_PERMITTED, NULL);
	}

	const char *bad = NULL;
	if (wire_check(call->parameters, meth->fields, meth->n_fields, &bad) < 0)
		return reply_invalid(c, bad);
	meth->fn(m, c, call->parameters);
}
