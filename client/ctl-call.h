/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl-call: the calls to biogated with their errors reported (ctl-call.c).
 */
#pragma once

#include <stdbool.h>

#include <json-c/json.h>

#include "bgclient.h"
#include "wire.h"

typedef void (*ProgressFn)(json_object *params);

/* ctl_query(): the reply is for a person; the command goes on to print it. */
#define CTL_PRINT_TEXT (-1)

void print_locked_out(json_object *params);
int ctl_fail_reply(const WireReply *rep);
/* Until the next call: a refusal with {row: i} names path:lines[i] (i < n). */
void ctl_set_row_lines(const char *path, const unsigned *lines, size_t n);
int ctl_fail_transport(int r, const char *path);
int timeout_ms(bool stream);
int ctl_connect(BgClient **ret);
int ctl_call(const char *method, json_object *params, json_object **ret_msg,
             json_object **ret_params);
int ctl_send_stream(const char *method, json_object *params, BgClient **ret);
int ctl_call_stream(const char *method, json_object *params, ProgressFn on_progress,
                    json_object **ret_msg, json_object **ret_params);
int ctl_query(const char *method, json_object *params, ProgressFn on_progress,
              json_object **ret_msg, json_object **ret_params);
