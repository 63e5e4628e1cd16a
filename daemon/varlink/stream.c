/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stream: chunked replies for long texts (see stream.h). Owns the chunking rules; it never
 * sends a chunk that splits a UTF-8 character or that would exceed the client's cap.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "stream.h"

/* Raw text per chunk, and its size once escaped as a JSON string. */
#define STREAM_CHUNK_RAW     (48u * 1024u)
#define STREAM_CHUNK_ESCAPED (60u * 1024u)
/* The next chunk waits while this much is still queued for the client: as fast as it reads,
 * never near the connection's output cap. */
#define STREAM_MAX_QUEUED (192u * 1024u)
/* While the client has not read what is queued, look again this much later. */
#define STREAM_RETRY_USEC 1000u

typedef struct Stream {
	Conn *conn;
	sd_event_source *timer;
	int fd;    /* the source: a file ... */
	char *doc; /* ... or a buffer ... */
	/* ... or a reader, which builds the final reply at the end */
	const StreamReader *reader;
	void *reader_data;
	size_t len, off;
	size_t carry; /* bytes of buf held over: the start of a character a chunk would split */
	json_object *final;
	char buf[STREAM_CHUNK_RAW + 1];
} Stream;

static void
stream_free(Stream *s)
{
	if (!s)
		return;
	sd_event_source_disable_unref(s->timer);
	if (s->fd >= 0)
		close(s->fd);
	if (s->reader && s->reader->free)
		s->reader->free(s->reader_data);
	free(s->doc);
	json_object_put(s->final);
	free(s);
}

static void
stream_gone(Conn *c, void *userdata)
{
	stream_free(userdata);
}

/* What a byte costs inside a JSON string as json-c writes it (PLAIN: '/' is escaped). */
static size_t
stream_escaped_len(unsigned char ch)
{
	if (ch == '"' || ch == '\\' || ch == '/' || ch == '\b' || ch == '\f' || ch == '\n' ||
	    ch == '\r' || ch == '\t')
		return 2;
	return ch < 0x20 ? 6 : 1;
}

/* The longest prefix of p[0..n) that fits a chunk and ends on a UTF-8 character boundary. */
static size_t
stream_cut(const char *p, size_t n)
{
	size_t cut = 0, cost = 0;
	while (cut < n && cut < STREAM_CHUNK_RAW &&
	       cost + stream_escaped_len((unsigned char)p[cut]) <= STREAM_CHUNK_ESCAPED)
		cost += stream_escaped_len((unsigned char)p[cut++]);
	if (cut == n)
		return cut;
	size_t k = cut;
	while (k > 0 && ((unsigned char)p[k] & 0xc0) == 0x80)
		k--;
	return k > 0 ? k : cut;
}

/* Fills buf after the carried bytes; returns how many came, 0 at the end, -errno. */
static ssize_t
stream_fill(Stream *s)
{
	size_t room = STREAM_CHUNK_RAW - s->carry;
	if (s->reader)
		return s->reader->read(s->reader_data, s->buf + s->carry, room);
	if (s->fd < 0) {
		size_t k = s->len - s->off < room ? s->len - s->off : room;
		memcpy(s->buf + s->carry, s->doc + s->off, k);
		s->off += k;
		return (ssize_t)k;
	}
	for (;;) {
		ssize_t got = read(s->fd, s->buf + s->carry, room);
		if (got >= 0 || errno != EINTR)
			return got < 0 ? -errno : got;
	}
}

static int
stream_tick(sd_event_source *es, uint64_t usec, void *userdata)
{
	Stream *s = userdata;
	Conn *c = s->conn;
	if (conn_pending_output(c) > STREAM_MAX_QUEUED) {
		(void)sd_event_source_set_time_relative(es, STREAM_RETRY_USEC);
		(void)sd_event_source_set_enabled(es, SD_EVENT_ONESHOT);
		return 0;
	}
	ssize_t got = stream_fill(s);
	if (got == -EAGAIN) {
		/* The reader looked at its share of rows and found nothing yet: next turn. */
		(void)sd_event_source_set_time_relative(es, 0);
		(void)sd_event_source_set_enabled(es, SD_EVENT_ONESHOT);
		return 0;
	}
	if (got < 0) {
		log_error("Stream: cannot read the document back: %s", strerror((int)-got));
		conn_set_gone_hook(c, NULL, NULL);
		stream_free(s);
		conn_error(c, WIRE_ERR_INTERNAL, NULL);
		return 0;
	}
	size_t n = s->carry + (size_t)got;
	if (n == 0) {
		json_object *final = s->final;
		s->final = NULL;
		if (s->reader && s->reader->final)
			final = s->reader->final(s->reader_data);
		conn_set_gone_hook(c, NULL, NULL);
		stream_free(s);
		conn_reply(c, final, false);
		return 0;
	}
	size_t cut = stream_cut(s->buf, n);
	if (got == 0 && cut < n)
		cut = n; /* the end: nothing more will complete a sequence */
	json_object *o = json_object_new_object();
	json_object_object_add(o, "chunk", json_object_new_string_len(s->buf, (int)cut));
	memmove(s->buf, s->buf + cut, n - cut);
	s->carry = n - cut;
	/* On failure the connection is gone and its hook has freed s. */
	if (conn_reply(c, o, true) < 0)
		return 0;
	(void)sd_event_source_set_time_relative(es, 0);
	(void)sd_event_source_set_enabled(es, SD_EVENT_ONESHOT);
	return 0;
}

static int
stream_start(Manager *m, Conn *c, Stream *s)
{
	/* Accuracy 1 us: 0 would mean sd-event's default of 250 ms, and each chunk would wait
	 * that long. Below every other source (the audit commit included): a stream runs only
	 * when nothing else is pending, so other clients are answered meanwhile. */
	int r =
	    sd_event_add_time_relative(m->event, &s->timer, CLOCK_MONOTONIC, 0, 1, stream_tick, s);
	if (r >= 0)
		r = sd_event_source_set_priority(s->timer, SD_EVENT_PRIORITY_IDLE + 1);
	if (r < 0) {
		stream_free(s);
		return r;
	}
	(void)sd_event_source_set_description(s->timer, "stream");
	conn_set_gone_hook(c, stream_gone, s);
	conn_defer(c);
	return 0;
}

int
stream_fd(Manager *m, Conn *c, int fd, json_object *final)
{
	Stream *s = calloc(1, sizeof(*s));
	if (!s) {
		json_object_put(final);
		return -ENOMEM;
	}
	*s = (Stream){ .conn = c, .fd = fd, .final = final };
	return stream_start(m, c, s);
}

int
stream_buffer(Manager *m, Conn *c, char *data, size_t len, json_object *final)
{
	Stream *s = calloc(1, sizeof(*s));
	if (!s) {
		free(data);
		json_object_put(final);
		return -ENOMEM;
	}
	*s = (Stream){ .conn = c, .fd = -1, .doc = data, .len = len, .final = final };
	return stream_start(m, c, s);
}

int
stream_reader(Manager *m, Conn *c, const StreamReader *reader, void *userdata)
{
	Stream *s = calloc(1, sizeof(*s));
	if (!s) {
		if (reader->free)
			reader->free(userdata);
		return -ENOMEM;
	}
	*s = (Stream){ .conn = c, .fd = -1, .reader = reader, .reader_data = userdata };
	return stream_start(m, c, s);
}
