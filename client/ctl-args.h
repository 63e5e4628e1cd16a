/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl-args: the command line of every verb (ctl-args.c).
 */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

enum {
	OPT_JSON = 0x100,
	OPT_SOCKET,
	OPT_TIMEOUT,
	OPT_VERSION,
	OPT_NAME,
	OPT_AFFILIATION,
	OPT_NATIONALITY,
	OPT_EXPERTISE,
	OPT_TRACK_RECORD,
	OPT_UNIX_USER,
	OPT_FINGER,
	OPT_ROLE,
	OPT_PLEDGE_DATE,
	OPT_TRAINING_DATE,
	OPT_MONTH,
	OPT_MATCHING_ID,
	OPT_KEY,
	OPT_DRY_RUN,
	OPT_OPERATOR_ID,
	OPT_ACTION,
	OPT_OUTCOME,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_LIMIT,
	OPT_FORMAT,
	OPT_OUTPUT,
	OPT_REASON,
	OPT_CONFIRM_BY,
	OPT_PURPOSE,
	OPT_ITEMS,
	OPT_MEDIA,
	OPT_COUNT,
	OPT_METHOD,
	OPT_DATE,
	OPT_NOTE,
	OPT_FORCE,
};

/* Every command also takes the global options, so they may follow the command words. */
/* clang-format off */
#define COMMON_OPTIONS \
	{ "json", no_argument, NULL, OPT_JSON }, \
	{ "socket", required_argument, NULL, OPT_SOCKET }, \
	{ "timeout", required_argument, NULL, OPT_TIMEOUT }, \
	{ "help", no_argument, NULL, 'h' }
/* clang-format on */

typedef int (*OptFn)(int c, const char *value, void *userdata);

/* An option whose value is kept as given, and the member of a command's arguments for it. */
typedef struct OptValue {
	int opt;
	size_t offset;
} OptValue;

/* clang-format off */
#define OPT_MEMBER(opt, type, member) { (opt), offsetof(type, member) }
/* clang-format on */

typedef enum IdKind {
	ID_MATCHING,
	ID_OPERATOR,
	ID_ROLE,
	ID_UNIX_USER,
	ID_ACTION,
} IdKind;

/* The daemon takes at most two confirmers besides the caller (custody.c CONFIRM_MAX). */
#define CTL_CONFIRM_MAX 2

typedef struct ConfirmArgs {
	const char *ids[CTL_CONFIRM_MAX];
	size_t n;
} ConfirmArgs;

__attribute__((format(printf, 1, 2))) int usage_errorf(const char *fmt, ...);
/* A bad input file is a usage error too, told as "biogatectl: FILE:LINE: message" (LINE 0:
 * about the whole file). */
__attribute__((format(printf, 3, 4))) int file_errorf(const char *path, unsigned line,
                                                      const char *fmt, ...);
int getopt_failure(int c, char **argv);
int common_option(int c, const char *value);
int opt_value_set(const OptValue *values, size_t n, int c, const char *value, void *userdata);
int parse_args(int argc, char **argv, const struct option *opts, OptFn fn, void *userdata,
               const char *const *pos_names, const char **ret_pos, int npos);
int check_id(IdKind kind, const char *v);
bool params_valid_utf8(json_object *params);
json_object *params_string(const char *key, const char *value);
int parse_matching_id(int argc, char **argv, const struct option *opts, OptFn fn, void *userdata,
                      const char **ret_id);
int matching_id_params(int argc, char **argv, const char **ret_id, json_object **ret_params);
int matching_id_query(int argc, char **argv, const char *method, const char **ret_id,
                      json_object **ret_msg, json_object **ret_params);
int params_check_utf8(json_object *params);
int ctl_query_noargs(int argc, char **argv, const char *method, json_object **ret_msg,
                     json_object **ret_params);
int check_text(const char *option, const char *v, size_t max, bool required);
int digits_value(const char *s, size_t n);
bool valid_month(const char *s);
bool valid_date(const char *s);
bool valid_hhmm(const char *s);
int check_date(const char *option, const char *v);
int single_option(int c, const char *value, void *userdata);
int confirm_option(ConfirmArgs *a, const char *value);
void confirm_params(const ConfirmArgs *a, json_object *params);
extern const struct option common_options[];
