/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * refusals: see refusals.h. Windows are aligned to the daemon's own timer (every
 * refusal-window-sec from start), not to each uid's first refusal: one timer for all, and a
 * summary closes every window in which something was only counted. Counts of a window in
 * progress live only in memory: a crash loses at most one window of counts of refusals
 * that were never recorded one by one anyway.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include <json-c/json.h>

#include "clock.h"
#include "incidents.h"
#include "log.h"
#include "manager.h"
#include "record.h"
#include "refusals.h"

#define USEC_PER_SEC 1000000ULL
#define MIB          (1024ULL * 1024ULL)

typedef struct ActionCount {
	char action[80];
	uint64_t n;
} ActionCount;

typedef struct UidEntry {
	uid_t uid;
	bool pooled; /* the entry for uids beyond REFUSALS_UIDS_MAX */
	uint32_t recorded;
	uint64_t counted, violations, other_actions;
	int64_t first_usec, last_usec; /* CLOCK_REALTIME, of the counted ones */
	ActionCount actions[REFUSALS_ACTIONS_MAX];
	size_t n_actions;
} UidEntry;

struct Refusals {
	Manager *manager;
	sd_event_source *window_timer, *space_timer, *exit_source;
	UidEntry *entries; /* REFUSALS_UIDS_MAX + 1: the last one is the pool */
	size_t n_entries;
	uint32_t recorded_window; /* in full this window, all uids */
	bool space_low;
	uint64_t space_checked_usec; /* CLOCK_MONOTONIC */
};

static uint64_t
refusals_window_usec(const Refusals *r)
{
	return (uint64_t)r->manager->config.refusal_window_sec * USEC_PER_SEC;
}

static void
format_time(int64_t real_usec, char buf[static 32])
{
	time_t t = (time_t)(real_usec / (int64_t)USEC_PER_SEC);
	struct tm tm;
	if (!gmtime_r(&t, &tm) || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 32, "unknown");
}

/* --- the state volume's free space ------------------------------------------------------ */

static void
refusals_space_check(Refusals *r)
{
	Manager *m = r->manager;
	r->space_checked_usec = now_mono_usec();
	struct statvfs sv;
	if (statvfs(m->state_dir, &sv) < 0) {
		log_warning("Failed to look at the free space of %s: %m", m->state_dir);
		return;
	}
	uint64_t avail = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	uint64_t low = (uint64_t)m->config.low_space_mb * MIB;
	/* An eighth above the mark before it counts as recovered: a volume hovering at the
	 * mark raises one incident, not one per look. */
	if (!r->space_low && avail < low) {
		r->space_low = true;
		char situation[160];
		snprintf(situation, sizeof(situation),
		         "state volume low on space: %llu KiB free, below %llu KiB",
		         (unsigned long long)(avail / 1024), (unsigned long long)(low / 1024));
		log_warning("%s (%s)", situation, m->state_dir);
		incidents_note(m->incidents, INCIDENT_STATE_SPACE_LOW, NULL, NULL, situation);
	} else if (r->space_low && avail >= low + low / 8) {
		r->space_low = false;
		log_info("State volume has space again: %llu KiB free",
		         (unsigned long long)(avail / 1024));
	}
}

static int
refusals_on_space_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	Refusals *r = userdata;
	refusals_space_check(r);
	(void)sd_event_source_set_time(s, usec + REFUSALS_SPACE_CHECK_USEC);
	(void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

bool
refusals_space_low(const Refusals *r)
{
	return r && r->space_low;
}

/* --- the window's summaries ------------------------------------------------------------- */

static void
refusals_write_summary(Refusals *r, const UidEntry *e)
{
	Manager *m = r->manager;
	char first[32], last[32];
	format_time(e->first_usec, first);
	format_time(e->last_usec, last);
	json_object *d = json_object_new_object();
	if (!d)
		return;
	json_object_object_add(d, "uid",
	                       e->pooled ? json_object_new_string("other")
	                                 : json_object_new_int64((int64_t)e->uid));
	json_object_object_add(d, "recorded", json_object_new_int64(e->recorded));
	json_object_object_add(d, "counted", json_object_new_int64((int64_t)e->counted));
	json_object_object_add(d, "violations", json_object_new_int64((int64_t)e->violations));
	json_object_object_add(d, "window_sec",
	                       json_object_new_int64(m->config.refusal_window_sec));
	json_object_object_add(d, "first", json_object_new_string(first));
	json_object_object_add(d, "last", json_object_new_string(last));
	json_object *acts = json_object_new_object();
	for (size_t i = 0; i < e->n_actions; i++)
		json_object_object_add(acts, e->actions[i].action,
		                       json_object_new_int64((int64_t)e->actions[i].n));
	if (e->other_actions)
		json_object_object_add(acts, "other",
		                       json_object_new_int64((int64_t)e->other_actions));
	json_object_object_add(d, "actions", acts);
	json_object_object_add(d, "space_low", json_object_new_boolean(r->space_low));
	AuditRecord rec = {
		.action = "refusals.summary",
		.outcome = "deny",
		.reason = "rate-limited",
		.detail = json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN),
	};
	char who[16] = "other";
	if (!e->pooled)
		snprintf(who, sizeof(who), "%u", (unsigned)e->uid);
	/* One log line per uid and window too: the journal is no cheaper a disk to fill. */
	log_info("Refused %llu calls of uid %s without recording each (window of %u s)",
	         (unsigned long long)e->counted, who, m->config.refusal_window_sec);
	/* The daemon's own record: no caller waits for it. */
	(void)record_append(m, NULL, &rec, NULL, NULL);
	json_object_put(d);
}

static void
refusals_flush(Refusals *r)
{
	for (size_t i = 0; i < r->n_entries; i++)
		if (r->entries[i].counted > 0)
			refusals_write_summary(r, &r->entries[i]);
	UidEntry *pool = &r->entries[REFUSALS_UIDS_MAX];
	if (pool->counted > 0)
		refusals_write_summary(r, pool);
	memset(r->entries, 0, sizeof(UidEntry) * (REFUSALS_UIDS_MAX + 1));
	r->entries[REFUSALS_UIDS_MAX].pooled = true;
	r->n_entries = 0;
	r->recorded_window = 0;
}

static int
refusals_on_window(sd_event_source *s, uint64_t usec, void *userdata)
{
	Refusals *r = userdata;
	refusals_flush(r);
	(void)sd_event_source_set_time(s, usec + refusals_window_usec(r));
	(void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

/* The loop is ending (SIGTERM): the summaries go now, while the trail still takes records
 * (once the loop has finished, nothing can be queued). */
static int
refusals_on_exit(sd_event_source *s, void *userdata)
{
	refusals_flush(userdata);
	return 0;
}

/* --- counting ---------------------------------------------------------------------------- */

static UidEntry *
refusals_entry(Refusals *r, uid_t uid)
{
	for (size_t i = 0; i < r->n_entries; i++)
		if (r->entries[i].uid == uid)
			return &r->entries[i];
	if (r->n_entries < REFUSALS_UIDS_MAX) {
		UidEntry *e = &r->entries[r->n_entries++];
		e->uid = uid;
		return e;
	}
	return &r->entries[REFUSALS_UIDS_MAX];
}

static void
refusals_count_action(UidEntry *e, const char *action)
{
	for (size_t i = 0; i < e->n_actions; i++)
		if (strcmp(e->actions[i].action, action) == 0) {
			e->actions[i].n++;
			return;
		}
	/* Action names longer than the slot (only junk is) are counted as other. */
	if (e->n_actions < REFUSALS_ACTIONS_MAX && strlen(action) < sizeof(e->actions[0].action)) {
		ActionCount *a = &e->actions[e->n_actions++];
		snprintf(a->action, sizeof(a->action), "%s", action);
		a->n = 1;
		return;
	}
	e->other_actions++;
}

bool
refusals_admit(Refusals *r, uid_t uid, const char *action, bool violation)
{
	/* Root is trusted with the disk anyway (it can fill it without us): its refusals, and
	 * those of the PAM module in login processes, are recorded one by one as before. */
	if (!r || uid == 0)
		return true;
	if (now_mono_usec() - r->space_checked_usec >= USEC_PER_SEC)
		refusals_space_check(r);
	UidEntry *e = refusals_entry(r, uid);
	uint32_t budget = r->manager->config.refusal_records_per_window;
	if (!r->space_low && !e->pooled && e->recorded < budget &&
	    r->recorded_window < REFUSALS_DETAILED_WINDOW_MAX) {
		e->recorded++;
		r->recorded_window++;
		return true;
	}
	int64_t now = (int64_t)now_real_usec();
	if (e->counted == 0)
		e->first_usec = now;
	e->last_usec = now;
	e->counted++;
	if (violation)
		e->violations++;
	refusals_count_action(e, action ? action : "unknown");
	return false;
}

/* --- life cycle -------------------------------------------------------------------------- */

int
refusals_new(Manager *m, Refusals **ret)
{
	Refusals *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->manager = m;
	r->entries = calloc(REFUSALS_UIDS_MAX + 1, sizeof(UidEntry));
	if (!r->entries) {
		free(r);
		return -ENOMEM;
	}
	r->entries[REFUSALS_UIDS_MAX].pooled = true;
	int k = sd_event_add_time_relative(m->event, &r->window_timer, CLOCK_MONOTONIC,
	                                   refusals_window_usec(r), 0, refusals_on_window, r);
	if (k >= 0)
		k = sd_event_add_exit(m->event, &r->exit_source, refusals_on_exit, r);
	if (k >= 0)
		k = sd_event_add_time_relative(m->event, &r->space_timer, CLOCK_MONOTONIC,
		                               REFUSALS_SPACE_CHECK_USEC, 0,
		                               refusals_on_space_timer, r);
	if (k < 0) {
		refusals_free(r);
		return k;
	}
	refusals_space_check(r);
	*ret = r;
	return 0;
}

void
refusals_free(Refusals *r)
{
	if (!r)
		return;
	refusals_flush(r);
	sd_event_source_disable_unref(r->window_timer);
	sd_event_source_disable_unref(r->space_timer);
	sd_event_source_disable_unref(r->exit_source);
	free(r->entries);
	free(r);
}
