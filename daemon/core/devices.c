/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * devices: R15. Owns the USB storage allow-list (<state>/usb-allowed.json) and the decision
 * for every USB mass storage interface that appears: authorize it when its device's serial
 * is allowed, keep it unauthorized otherwise, and record the attempt either way. The udev
 * rule blocks by default and starts biogate-usb-authorize@.service (root, a oneshot) for
 * each storage interface; that helper reads sysfs, asks here (UsbAttempt, phase "plugged"),
 * writes `authorized` only when told the serial is allowed, and reports the write (phase
 * "authorized"). The daemon itself keeps no capability and sees /sys read-only, so an
 * attempt is recorded as allowed only after the helper says the interface really is
 * authorized; a failed write is recorded as a failure and noted as an incident.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actor.h"
#include "audit.h"
#include "caller.h"
#include "clock.h"
#include "devices.h"
#include "incidents.h"
#include "log.h"
#include "manager.h"
#include "record.h"

#define USEC_PER_SEC  1000000LL
#define ATTR_MAX      256
#define ATTEMPTS_DAYS 30

typedef struct Allowed {
	char serial[DEVICES_SERIAL_MAX + 1];
	char note[DEVICES_NOTE_MAX + 1];
	int64_t allowed_at; /* CLOCK_REALTIME usec */
} Allowed;

struct Devices {
	Manager *manager;
	bool watching; /* udev runs: the rule blocks and starts the helper */
	bool list_ok;
	Allowed *allowed; /* DEVICES_ALLOWED_MAX entries */
	size_t n_allowed;
};

/* --- small helpers ------------------------------------------------------------------------ */

/* Printable ASCII without spaces: what a serial number can be compared and logged as. */
static bool
devices_valid_serial(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > DEVICES_SERIAL_MAX)
		return false;
	for (size_t k = 0; k < n; k++)
		if (s[k] <= 0x20 || s[k] >= 0x7f)
			return false;
	return true;
}

static bool
devices_valid_hex4(const char *s)
{
	if (strlen(s) != 4)
		return false;
	for (size_t k = 0; k < 4; k++)
		if (!((s[k] >= '0' && s[k] <= '9') || (s[k] >= 'a' && s[k] <= 'f') ||
		      (s[k] >= 'A' && s[k] <= 'F')))
			return false;
	return true;
}

static const Allowed *
devices_find(const Devices *d, const char *serial)
{
	for (size_t k = 0; k < d->n_allowed; k++)
		if (strcmp(d->allowed[k].serial, serial) == 0)
			return &d->allowed[k];
	return NULL;
}

/* --- the audit trail ---------------------------------------------------------------------- */

/* A reply to c waits until the record is durable (record.h). */
static void
devices_record(Manager *m, Caller *c, const char *action, const char *outcome, const char *reason,
               const char *detail)
{
	AuditRecord rec = {
		.action = action, .outcome = outcome, .reason = reason, .detail = detail
	};
	(void)record_append(m, c, &rec, NULL, NULL);
}

/* --- the allow-list file ------------------------------------------------------------------ */

static int
devices_allowlist_path(const Devices *d, char *buf, size_t size)
{
	if ((size_t)snprintf(buf, size, "%s/%s", d->manager->state_dir, DEVICES_ALLOWLIST_FILE) >=
	    size)
		return -ENAMETOOLONG;
	return 0;
}

/* {"version":1,"allowed":[{"serial":S,"note":S,"allowed_at":N}...]}: nothing else, every
 * field checked, duplicates refused. The file grants access, so a doubt refuses all of it. */
static int
devices_parse_allowlist(const char *text, size_t len, Allowed *out, size_t *ret_n)
{
	json_tokener *tok = json_tokener_new_ex(4);
	if (!tok)
		return -ENOMEM;
	json_object *root = json_tokener_parse_ex(tok, text, (int)len);
	bool parsed = root && json_tokener_get_error(tok) == json_tokener_success;
	size_t used = parsed ? json_tokener_get_parse_end(tok) : 0;
	json_tokener_free(tok);
	int r = -EBADMSG;
	if (!parsed)
		goto out;
	for (size_t k = used; k < len; k++)
		if (text[k] != '\n' && text[k] != ' ' && text[k] != '\t' && text[k] != '\r')
			goto out;
	if (!json_object_is_type(root, json_type_object) || json_object_object_length(root) != 2)
		goto out;
	json_object *ver = NULL, *arr = NULL;
	if (!json_object_object_get_ex(root, "version", &ver) ||
	    !json_object_is_type(ver, json_type_int) || json_object_get_int64(ver) != 1 ||
	    !json_object_object_get_ex(root, "allowed", &arr) ||
	    !json_object_is_type(arr, json_type_array) ||
	    json_object_array_length(arr) > DEVICES_ALLOWED_MAX)
		goto out;
	size_t n = json_object_array_length(arr);
	for (size_t k = 0; k < n; k++) {
		json_object *e = json_object_array_get_idx(arr, k);
		static const WireField fields[] = {
			{ "serial", WIRE_STRING, true, DEVICES_SERIAL_MAX, 0, 0 },
			{ "note", WIRE_STRING, true, DEVICES_NOTE_MAX, 0, 0 },
			{ "allowed_at", WIRE_INT, true, 0, 0, INT64_MAX },
		};
		const char *bad = NULL;
		if (wire_check(e, fields, 3, &bad) < 0)
			goto out;
		const char *serial = wire_str(e, "serial"), *note = wire_str(e, "note");
		if (!devices_valid_serial(serial) || !wire_valid_text(note, DEVICES_NOTE_MAX))
			goto out;
		for (size_t j = 0; j < k; j++)
			if (strcmp(out[j].serial, serial) == 0)
				goto out;
		snprintf(out[k].serial, sizeof(out[k].serial), "%s", serial);
		snprintf(out[k].note, sizeof(out[k].note), "%s", note);
		out[k].allowed_at = wire_int(e, "allowed_at", 0);
	}
	*ret_n = n;
	r = 0;
out:
	json_object_put(root);
	return r;
}

static int
devices_load_allowlist(Devices *d)
{
	char path[PATH_MAX];
	int r = devices_allowlist_path(d, path, sizeof(path));
	if (r < 0)
		return r;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT) {
			d->n_allowed = 0;
			return 0;
		}
		return -errno;
	}
	struct stat st;
	char *buf = NULL;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	/* It decides what may leave the site: only the daemon's user may have written it. */
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0077)) {
		r = -EPERM;
		goto out;
	}
	if (st.st_size > DEVICES_ALLOWLIST_MAX) {
		r = -EFBIG;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	size_t len = 0;
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EBADMSG;
			goto out;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (strlen(buf) != len) {
		r = -EBADMSG;
		goto out;
	}
	size_t n = 0;
	r = devices_parse_allowlist(buf, len, d->allowed, &n);
	if (r == 0)
		d->n_allowed = n;
out:
	free(buf);
	close(fd);
	return r;
}

static int
devices_save_allowlist(Devices *d, const Allowed *v, size_t n)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int r = devices_allowlist_path(d, path, sizeof(path));
	if (r < 0)
		return r;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", d->manager->state_dir,
	                     DEVICES_ALLOWLIST_FILE) >= sizeof(tmp))
		return -ENAMETOOLONG;
	json_object *root = json_object_new_object();
	json_object *arr = json_object_new_array();
	if (!root || !arr) {
		json_object_put(root);
		json_object_put(arr);
		return -ENOMEM;
	}
	json_object_object_add(root, "version", json_object_new_int(1));
	for (size_t k = 0; k < n; k++) {
		json_object *e = json_object_new_object();
		json_object_object_add(e, "serial", json_object_new_string(v[k].serial));
		json_object_object_add(e, "note", json_object_new_string(v[k].note));
		json_object_object_add(e, "allowed_at", json_object_new_int64(v[k].allowed_at));
		json_object_array_add(arr, e);
	}
	json_object_object_add(root, "allowed", arr);
	const char *text =
	    json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		json_object_put(root);
		return -errno;
	}
	size_t len = strlen(text);
	r = 0;
	if (fchmod(fd, 0600) < 0 || write(fd, text, len) != (ssize_t)len ||
	    write(fd, "\n", 1) != 1 || fsync(fd) < 0)
		r = errno ? -errno : -EIO;
	json_object_put(root);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		(void)unlink(tmp);
		return r;
	}
	/* The rename itself must survive a power cut before the admin is told. */
	int dfd = open(d->manager->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
}

bool
devices_udev(const Devices *d)
{
	return d && d->watching;
}

bool
devices_allowlist_ok(const Devices *d)
{
	return d && d->list_ok;
}

/* --- the decision ------------------------------------------------------------------------- */

static const char *
devices_reason(const Devices *d, const char *serial, bool *ret_allow)
{
	*ret_allow = false;
	if (!d || !d->list_ok)
		return "allowlist-unreadable";
	if (!serial)
		return "no-serial";
	if (!devices_find(d, serial))
		return "not-allowed";
	*ret_allow = true;
	return "allowed";
}

static void
devices_record_attempt(Manager *m, Caller *c, const DevicesAttempt *a, const char *outcome,
                       const char *reason, bool applied)
{
	json_object *det = json_object_new_object();
	json_object_object_add(det, "serial", a->serial ? json_object_new_string(a->serial) : NULL);
	json_object_object_add(det, "vendor", json_object_new_string(a->vendor));
	json_object_object_add(det, "product", json_object_new_string(a->product));
	json_object_object_add(det, "interface", json_object_new_string(a->interface));
	json_object_object_add(
	    det, "event", json_object_new_string(a->authorized_phase ? "authorized" : "plugged"));
	json_object_object_add(det, "applied", json_object_new_boolean(applied));
	if (a->error)
		json_object_object_add(det, "error", json_object_new_string(a->error));
	devices_record(m, c, "usb.attempt", outcome, reason,
	               json_object_to_json_string_ext(det, JSON_C_TO_STRING_PLAIN));
	json_object_put(det);
}

static void
devices_incident(Manager *m, const DevicesAttempt *a, const char *what, const char *reason)
{
	char situation[INCIDENTS_SITUATION_MAX];
	snprintf(situation, sizeof(situation),
	         "USB mass storage %.4s:%.4s with serial %.126s %s (%s)", a->vendor, a->product,
	         a->serial ? a->serial : "(none)", what, reason);
	incidents_note(m->incidents, INCIDENT_STORAGE_BLOCKED, NULL, NULL, situation);
}

static bool
devices_valid_interface(const char *s)
{
	/* A USB interface's kernel name: 1-1.2:1.0 */
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > BIOGATE_USB_INTERFACE_MAX)
		return false;
	for (size_t k = 0; k < n; k++)
		if (!((s[k] >= '0' && s[k] <= '9') || s[k] == '-' || s[k] == '.' || s[k] == ':'))
			return false;
	return true;
}

int
devices_attempt(Manager *m, Caller *c, const DevicesAttempt *a, bool *ret_allow,
                const char **ret_reason, const char **ret_bad)
{
	Devices *d = m->devices;
	if (!devices_valid_interface(a->interface))
		return *ret_bad = "interface", -EINVAL;
	/* "????": the helper could not read them. */
	if (strcmp(a->vendor, "????") != 0 && !devices_valid_hex4(a->vendor))
		return *ret_bad = "vendor", -EINVAL;
	if (strcmp(a->product, "????") != 0 && !devices_valid_hex4(a->product))
		return *ret_bad = "product", -EINVAL;
	/* A serial the helper could not read as text counts as none: it cannot be allowed. */
	DevicesAttempt fa = *a;
	if (fa.serial && !devices_valid_serial(fa.serial))
		fa.serial = NULL;
	if (fa.error && !wire_valid_text(fa.error, 128))
		return *ret_bad = "error", -EINVAL;

	bool allow;
	const char *reason = devices_reason(d, fa.serial, &allow);
	*ret_allow = allow;
	*ret_reason = reason;
	if (!fa.authorized_phase) {
		if (allow) {
			/* Nothing is recorded yet: "allowed" only once the write has worked. */
			log_info("USB mass storage %s:%s serial %s on %s is allowed: authorizing",
			         fa.vendor, fa.product, fa.serial, fa.interface);
			return 0;
		}
		log_info("USB mass storage %s:%s serial %s on %s blocked (%s)", fa.vendor,
		         fa.product, fa.serial ? fa.serial : "(none)", fa.interface, reason);
		devices_record_attempt(m, c, &fa, "deny", reason, fa.applied);
		devices_incident(m, &fa, "was blocked", reason);
		return 0;
	}
	/* The helper's report of its write. */
	if (!allow) {
		/* The list changed between the question and the report: undo, and say so. */
		log_error(
		    "USB mass storage serial %s on %s was authorized but is no longer allowed "
		    "(%s)",
		    fa.serial ? fa.serial : "(none)", fa.interface, reason);
		*ret_allow = false;
		return -EPERM;
	}
	if (fa.applied) {
		log_info("USB mass storage %s:%s serial %s on %s authorized (allowed)", fa.vendor,
		         fa.product, fa.serial, fa.interface);
		devices_record_attempt(m, c, &fa, "allow", "allowed", true);
		return 0;
	}
	log_error("USB mass storage %s:%s serial %s on %s is allowed but could not be authorized: "
	          "%s",
	          fa.vendor, fa.product, fa.serial, fa.interface, fa.error ? fa.error : "unknown");
	devices_record_attempt(m, c, &fa, "fail", "authorize-failed", false);
	devices_incident(m, &fa, "was allowed but could not be authorized", "authorize-failed");
	*ret_allow = false;
	return 0;
}

/* --- life cycle ----------------------------------------------------------------------------- */

static int
devices_new_full(Manager *m, bool watch, Devices **ret)
{
	if (!m || !m->state_dir || !ret)
		return -EINVAL;
	Devices *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->manager = m;
	d->allowed = calloc(DEVICES_ALLOWED_MAX, sizeof(Allowed));
	if (!d->allowed) {
		free(d);
		return -ENOMEM;
	}
	int r = devices_load_allowlist(d);
	d->list_ok = r >= 0;
	if (r < 0) {
		/* Fail closed and keep running: the daemon's other duties do not depend on it. */
		d->n_allowed = 0;
		log_error("The USB allow-list %s/%s is refused (%s): every storage device stays "
		          "blocked until it is repaired or removed",
		          m->state_dir, DEVICES_ALLOWLIST_FILE,
		          r == -EPERM     ? "not a 0600 file of the daemon's user"
		          : r == -EFBIG   ? "too large"
		          : r == -EBADMSG ? "malformed"
		                          : strerror(-r));
	}
	/* The helper is started by udev's events: without udevd nobody runs it, and the rule
	 * cannot block anything either. */
	if (watch) {
		d->watching = access("/run/udev/control", F_OK) == 0;
		if (!d->watching)
			log_warning(
			    "no udev: USB storage is not watched here (no rule, no helper)");
	}
	*ret = d;
	return 0;
}

int
devices_new(Manager *m, Devices **ret)
{
	return devices_new_full(m, true, ret);
}

int
devices_new_offline(Manager *m, Devices **ret)
{
	return devices_new_full(m, false, ret);
}

void
devices_free(Devices *d)
{
	if (!d)
		return;
	free(d->allowed);
	free(d);
}

/* --- methods ---------------------------------------------------------------------------------- */

static json_object *
devices_allowed_json(const Allowed *a)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "serial", json_object_new_string(a->serial));
	json_object_object_add(o, "note", json_object_new_string(a->note));
	json_object_object_add(o, "allowed_at", json_object_new_int64(a->allowed_at));
	return o;
}

int
devices_change(Manager *m, Caller *c, const char *serial, const char *note, bool allow,
               const char **ret_bad, json_object **ret)
{
	Devices *d = m->devices;
	if (!devices_valid_serial(serial))
		return *ret_bad = "serial", -EINVAL;
	if (note && !wire_valid_text(note, DEVICES_NOTE_MAX))
		return *ret_bad = "note", -EINVAL;
	if (!d || !d->list_ok) {
		log_error("Refusing to change the USB allow-list: %s/%s could not be read",
		          m->state_dir, DEVICES_ALLOWLIST_FILE);
		return -EIO;
	}

	/* Change a copy; memory follows the file only once the file is in place. */
	Allowed *v = calloc(DEVICES_ALLOWED_MAX, sizeof(Allowed));
	if (!v)
		return -ENOMEM;
	memcpy(v, d->allowed, d->n_allowed * sizeof(Allowed));
	size_t n = d->n_allowed;
	const Allowed *cur = devices_find(d, serial);
	Allowed entry = { 0 };
	if (allow) {
		if (cur) {
			free(v);
			return -EEXIST;
		}
		if (n >= DEVICES_ALLOWED_MAX) {
			free(v);
			log_error("The USB allow-list is full (%d devices)", DEVICES_ALLOWED_MAX);
			return -ENOSPC;
		}
		snprintf(entry.serial, sizeof(entry.serial), "%s", serial);
		snprintf(entry.note, sizeof(entry.note), "%s", note ? note : "");
		entry.allowed_at = now_real_usec();
		v[n++] = entry;
	} else {
		if (!cur) {
			free(v);
			return -ENOENT;
		}
		entry = *cur;
		size_t at = (size_t)(cur - d->allowed);
		memmove(v + at, v + at + 1, (n - at - 1) * sizeof(Allowed));
		n--;
	}
	int r = devices_save_allowlist(d, v, n);
	if (r < 0) {
		free(v);
		log_error("Failed to write the USB allow-list: %s", strerror(-r));
		return -EIO;
	}
	memcpy(d->allowed, v, n * sizeof(Allowed));
	d->n_allowed = n;
	free(v);

	log_info("USB allow-list: %s serial %s (uid %u)", allow ? "allowed" : "revoked", serial,
	         (unsigned)c->peer.uid);
	json_object *det = json_object_new_object();
	json_object_object_add(det, "serial", json_object_new_string(serial));
	if (allow)
		json_object_object_add(det, "note", json_object_new_string(entry.note));
	actor_describe(m, c, det); /* by_uid, by_loginuid, by_matching_id (actor.h) */
	devices_record(m, c, allow ? "usb.allow" : "usb.revoke", "ok", NULL,
	               json_object_to_json_string_ext(det, JSON_C_TO_STRING_PLAIN));
	json_object_put(det);
	/* A stick already plugged in follows the list when it is plugged in again: authorizing
	 * is the root-side helper's, started by udev on arrival. */
	*ret = devices_allowed_json(&entry);
	return 0;
}

/* The newest attempts from the trail, reduced to what the admin reads. */
static json_object *
devices_attempts(Manager *m, bool *ret_truncated)
{
	json_object *out = json_object_new_array();
	*ret_truncated = false;
	if (!m->audit || !out)
		return out;
	/* The newest attempts, however many the window holds; shown oldest first. */
	AuditFilter f = { .action = "usb.attempt",
		          .since_usec =
		              now_real_usec() - (int64_t)ATTEMPTS_DAYS * 86400 * USEC_PER_SEC,
		          .limit = DEVICES_LIST_ATTEMPTS + 1,
		          .newest_first = true };
	json_object *rows = NULL;
	if (audit_query_json(m->audit, &f, &rows) < 0)
		return out;
	size_t n = json_object_array_length(rows);
	*ret_truncated = n > DEVICES_LIST_ATTEMPTS;
	size_t shown = n > DEVICES_LIST_ATTEMPTS ? DEVICES_LIST_ATTEMPTS : n;
	for (size_t k = shown; k-- > 0;) {
		json_object *row = json_object_array_get_idx(rows, k);
		json_object *a = json_object_new_object();
		json_object_object_add(a, "time", json_object_new_int64(wire_int(row, "time", 0)));
		json_object *det = NULL;
		const char *text = wire_str(row, "detail");
		if (text && strlen(text) <= 4096)
			det = json_tokener_parse(text);
		static const char *const keys[] = { "serial", "vendor", "product" };
		for (size_t j = 0; j < 3; j++) {
			const char *v = det ? wire_str(det, keys[j]) : NULL;
			json_object_object_add(a, keys[j], v ? json_object_new_string(v) : NULL);
		}
		json_object_put(det);
		const char *outcome = wire_str(row, "outcome"), *reason = wire_str(row, "reason");
		json_object_object_add(a, "outcome",
		                       outcome ? json_object_new_string(outcome) : NULL);
		json_object_object_add(a, "reason", reason ? json_object_new_string(reason) : NULL);
		json_object_array_add(out, a);
	}
	json_object_put(rows);
	return out;
}

json_object *
devices_list_json(Manager *m)
{
	Devices *d = m->devices;
	json_object *o = json_object_new_object();
	json_object *allowed = json_object_new_array();
	for (size_t k = 0; d && k < d->n_allowed; k++)
		json_object_array_add(allowed, devices_allowed_json(&d->allowed[k]));
	bool truncated = false;
	json_object_object_add(o, "watching", json_object_new_boolean(d && d->watching));
	json_object_object_add(o, "allowlist_ok", json_object_new_boolean(d && d->list_ok));
	json_object_object_add(o, "allowed", allowed);
	json_object_object_add(o, "attempts", devices_attempts(m, &truncated));
	json_object_object_add(o, "attempts_truncated", json_object_new_boolean(truncated));
	return o;
}
