/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl-util: what the verbs of biogatectl share (ctl-util.c): the global options, the exit
 * codes, fields of a reply, and output for a person or a script. The calls are in ctl-call.h,
 * the verbs themselves in ctl-*.c, the verb table in biogatectl.c.
 */
#pragma once

#include <libintl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "bgclient.h"
#include "interface.h"
#include "wire.h"

#define _(s)  gettext(s)
#define N_(s) s

#define _cleanup_(f) __attribute__((cleanup(f)))

#define CTL_NAME               "biogatectl"
#define CTL_STREAM_TIMEOUT_SEC 120
#define CTL_MAX_TIMEOUT_SEC    86400
/* A hostile daemon could stream "continues" replies forever; a real enrollment has a few. */
#define CTL_MAX_STREAM_REPLIES 256

/* The documented exit codes (docs/biogatectl.md, --help). */
enum {
	CTL_EXIT_OK = 0,
	CTL_EXIT_NEGATIVE = 1,
	CTL_EXIT_USAGE = 2,
	CTL_EXIT_UNREACHABLE = 3,
	CTL_EXIT_REFUSED = 4,
	CTL_EXIT_NOT_FOUND = 5,
	CTL_EXIT_CONFLICT = 6,
	CTL_EXIT_READER = 7,
	CTL_EXIT_ERROR = 8,
};

/* The global options, set once by main() or by any verb's option parsing. */
typedef struct Ctl {
	const char *socket;
	bool json;
	int timeout_sec; /* 0: the default of each kind of call */
} Ctl;

extern Ctl arg;

/*
 * One verb ("status") or verb and subcommand ("staff add"): defined next to its function in
 * its group's file, listed in the verb table of biogatectl.c. synopsis and summary are the
 * help's; summary is translated when printed.
 */
typedef struct CtlVerb {
	const char *verb;
	const char *sub; /* NULL: the verb alone */
	int (*fn)(int argc, char **argv);
	const char *synopsis;
	const char *summary;
} CtlVerb;

void json_putp(json_object **o);
void bg_closep(BgClient **c);
void freep(void *p);

/* The help of biogatectl.c's main(), for --help after any verb. */
void help(void);

typedef struct Field {
	const char *label; /* translated */
	char *value;       /* owned, cleaned */
} Field;

/* A table of cleaned cells, row-major, the first row the header; columns sized by width. */
#define TABLE_MAX_COLS 8

typedef struct Table {
	size_t cols, n, alloc;
	char **cells;
} Table;

typedef int (*RowFn)(Table *t, json_object *e);

char *text_clean(const char *s);
char *memstream_clean(FILE *f, char **buf);
void put_clean(FILE *f, const char *s);
void print_json(json_object *o);
void print_json_error(const char *name);
const char *jstr(json_object *o, const char *key);
const char *jstr_or(json_object *o, const char *key, const char *fallback);
bool jint(json_object *o, const char *key, int64_t *ret);
json_object *jarray(json_object *o, const char *key);
size_t text_width(const char *s);
void put_padded(const char *s, size_t width);
void format_time(json_object *o, const char *key, char *buf, size_t size);
void fields_print(Field *f, size_t n);
__attribute__((format(printf, 1, 2))) char *clean_printf(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void print_line(const char *fmt, ...);
int table_add(Table *t, const char *text);
int table_head(Table *t, const char *const *head, size_t from, size_t n);
void table_print(const Table *t);
void table_free(Table *t);
int fail_nomem(void);
int table_finish(Table *t, bool complete);
int table_list(json_object *arr, const char *empty, const char *const *head, size_t cols,
               RowFn row);
const char *finger_label(const char *id);
bool finger_known(const char *id);
const char *word_label(const char *w);
FILE *prompt_out(void);
void prompt(const char *text);
bool jbool(json_object *o, const char *key);
void confirm_progress(json_object *p);
