/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl-output: documents to --output FILE or standard output (ctl-output.c).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "bgclient.h"

int output_create(const char *path, int *ret_fd);
void output_finish(const char *path, int fd, int r);
int output_error(int err);
int write_all(int fd, const char *s, size_t len);
int stream_chunks(BgClient *c, int fd, bool prompts_ok, bool clean, uint64_t max_bytes,
                  json_object **ret_final, uint64_t *ret_written);
int stream_collect(BgClient *c, uint64_t max_bytes, json_object **ret_final, char **ret_doc,
                   size_t *ret_len);
void document_clean_n(char *s, size_t len);
