/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl-output: documents written to --output FILE (audit export, reports) and streamed
 * documents. The file is new and readable by its owner alone (it names people, R19).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctl-args.h"
#include "ctl-util.h"
#include "ctl-output.h"

/*
 * A new file only, readable by its owner alone: exports and reports name people (R19). 0 with
 * *ret_fd, or the exit code after a message (6 when the file exists already: nothing is ever
 * overwritten).
 */
int
output_create(const char *path, int *ret_fd)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		int err = errno;
		_cleanup_(freep) char *clean = text_clean(path);
		fprintf(stderr, "%s: ", CTL_NAME);
		fprintf(stderr, _("cannot create %s: %s\n"), clean ? clean : "?", strerror(err));
		return err == EEXIST ? CTL_EXIT_CONFLICT : CTL_EXIT_ERROR;
	}
	*ret_fd = fd;
	return 0;
}

/* Closes an output file; half a document must not pass for a whole one. */
void
output_finish(const char *path, int fd, int r)
{
	if (!path)
		return;
	close(fd);
	if (r != CTL_EXIT_OK)
		(void)unlink(path);
}

/* The output could not be written (err, an errno value): says so; the exit code. */
int
output_error(int err)
{
	fprintf(stderr, "%s: %s: %s\n", CTL_NAME, _("cannot write the output"), strerror(err));
	return CTL_EXIT_ERROR;
}

int
write_all(int fd, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, s, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		s += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Where stream_document() puts the text of each chunk: 0, or an exit code after a message. */
typedef int (*ChunkSink)(const char *s, size_t len, void *userdata);

/*
 * The rest of a streamed document after the call was sent: {"chunk"} replies go to sink as
 * they come, confirmers' prompts (when allowed) go to confirm_progress, and the final reply
 * is handed back (owned). No cap on the number of chunks (an export may be long): each is
 * bounded by the wire and must come within the timeout; max_bytes bounds the whole. With
 * clean, C0 controls other than line breaks and tabs become '?' byte for byte (a document
 * may go to a terminal). 0, or the exit code after a message.
 */
static int
stream_document(BgClient *c, ChunkSink sink, void *userdata, bool prompts_ok, bool clean,
                uint64_t max_bytes, json_object **ret_final, uint64_t *ret_written)
{
	uint64_t written = 0;
	for (unsigned prompts = 0;;) {
		json_object *m = NULL;
		WireReply rep;
		int r = bg_recv(c, timeout_ms(true), &m, &rep);
		if (r < 0)
			return ctl_fail_transport(r, bg_socket_path(arg.socket));
		if (rep.error) {
			r = ctl_fail_reply(&rep);
			json_object_put(m);
			return r;
		}
		if (!rep.continues) {
			*ret_final = json_object_get(rep.parameters);
			*ret_written = written;
			json_object_put(m);
			return 0;
		}
		if (prompts_ok && jstr(rep.parameters, "prompt")) {
			if (++prompts > CTL_MAX_STREAM_REPLIES) {
				json_object_put(m);
				return ctl_fail_transport(-EBADMSG, NULL);
			}
			confirm_progress(rep.parameters);
			json_object_put(m);
			continue;
		}
		json_object *chunk = NULL;
		if (!json_object_object_get_ex(rep.parameters, "chunk", &chunk) ||
		    !json_object_is_type(chunk, json_type_string)) {
			json_object_put(m);
			return ctl_fail_transport(-EBADMSG, NULL);
		}
		const char *s = json_object_get_string(chunk);
		size_t len = (size_t)json_object_get_string_len(chunk);
		if (len > max_bytes - written) {
			json_object_put(m);
			return ctl_fail_transport(-EBADMSG, NULL);
		}
		_cleanup_(freep) char *copy = NULL;
		if (clean && len > 0) {
			copy = malloc(len);
			if (!copy) {
				json_object_put(m);
				return fail_nomem();
			}
			memcpy(copy, s, len);
			document_clean_n(copy, len);
			s = copy;
		}
		r = sink(s, len, userdata);
		json_object_put(m);
		if (r)
			return r;
		written += len;
	}
}

static int
fd_sink(const char *s, size_t len, void *userdata)
{
	int r = write_all(*(int *)userdata, s, len);
	return r < 0 ? output_error(-r) : 0;
}

/* stream_document() into fd, as the chunks come. */
int
stream_chunks(BgClient *c, int fd, bool prompts_ok, bool clean, uint64_t max_bytes,
              json_object **ret_final, uint64_t *ret_written)
{
	if (fd == STDOUT_FILENO)
		fflush(stdout);
	return stream_document(c, fd_sink, &fd, prompts_ok, clean, max_bytes, ret_final,
	                       ret_written);
}

static int
memory_sink(const char *s, size_t len, void *userdata)
{
	return fwrite(s, 1, len, userdata) == len ? 0 : fail_nomem();
}

/*
 * stream_document() into memory, without prompts or cleaning: a document this program reads
 * before anything of it is shown. 0 with *ret_doc (NUL-terminated, owned) and *ret_len, or
 * the exit code after a message.
 */
int
stream_collect(BgClient *c, uint64_t max_bytes, json_object **ret_final, char **ret_doc,
               size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return fail_nomem();
	uint64_t written = 0;
	json_object *final = NULL;
	int r = stream_document(c, memory_sink, f, false, false, max_bytes, &final, &written);
	if (fclose(f) != 0 && r == 0)
		r = fail_nomem();
	if (r) {
		free(buf);
		json_object_put(final);
		return r;
	}
	*ret_final = final;
	*ret_doc = buf;
	*ret_len = len;
	return 0;
}

/* A document from the daemon, as text: no control characters but line breaks and tabs. */
void
document_clean_n(char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if ((ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f)
			s[i] = '?';
	}
}
