/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl-output: documents to --output FILE or standard output (ctl-output.c).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bgclient.h"

/* An --output FILE being written (ctl-output.c output_create()), or standard output. */
typedef struct Output {
	const char *path; /* as given, for messages; NULL: standard output */
	int fd;           /* where the document is written */
	int dir_fd;       /* path's directory, opened once: every later step goes through it */
	char *name;       /* the last component of path, the name in dir_fd */
	char tmp[32];     /* a named temporary in dir_fd where O_TMPFILE is missing; else "" */
} Output;

#define OUTPUT_INIT                                                                                \
	{                                                                                          \
		.fd = STDOUT_FILENO, .dir_fd = -1                                                  \
	}

int output_create(const char *path, Output *o);
int output_commit(Output *o);
void output_close(Output *o);
int output_error(int err);
int write_all(int fd, const char *s, size_t len);
int stream_chunks(BgClient *c, int fd, bool prompts_ok, bool clean, uint64_t max_bytes,
                  json_object **ret_final, uint64_t *ret_written);
int stream_collect(BgClient *c, uint64_t max_bytes, json_object **ret_final, char **ret_doc,
                   size_t *ret_len);
void document_clean_n(char *s, size_t len);
