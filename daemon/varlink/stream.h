/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stream: sends a long text (an audit export, a monthly report) to a client as a Varlink
 * stream: continues replies {"chunk": TEXT} of at most 48 KiB, each cut on a UTF-8 character
 * boundary so that every chunk is valid text and fits the client's 64 KiB message cap once
 * escaped, paced one per tick (the pace is the backpressure: the server drops a client with
 * 1 MiB of unsent output), then one final reply. A client that goes away stops the stream.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "conn.h"
#include "manager.h"

/* Streams what fd holds from its current offset to its end; takes fd and final (the last
 * reply's parameters), also on failure. The call must have asked for "more". 0 or -errno;
 * on success the call is answered later (conn_defer). */
int stream_fd(Manager *m, Conn *c, int fd, json_object *final);
/* The same from a buffer; takes data (freed with free()). */
int stream_buffer(Manager *m, Conn *c, char *data, size_t len, json_object *final);
/* The same from a reader that produces the text as it goes (an export read from the trail in
 * steps): read() gives bytes, 0 at the end, -EAGAIN for "nothing yet, ask again next turn",
 * -errno; final() builds the last reply's parameters once read() said 0; free() is called
 * once, whatever happens (also on failure here). */
typedef struct StreamReader {
	ssize_t (*read)(void *userdata, char *buf, size_t size);
	json_object *(*final)(void *userdata);
	void (*free)(void *userdata);
} StreamReader;
int stream_reader(Manager *m, Conn *c, const StreamReader *reader, void *userdata);
