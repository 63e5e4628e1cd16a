/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl-output: documents written to --output FILE (audit export, reports) and streamed
 * documents. The file is new and readable by its owner alone (it names people, R19).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctl-args.h"
#include "ctl-call.h"
#include "ctl-util.h"
#include "ctl-output.h"

/* "cannot create PATH: error" and the exit code: 6 when the name is taken, as it never is
 * overwritten. */
static int
output_fail_create(const char *path, int err)
{
	_cleanup_(freep) char *clean = text_clean(path);
	fprintf(stderr, "%s: ", CTL_NAME);
	fprintf(stderr, _("cannot create %s: %s\n"), clean ? clean : "?", strerror(err));
	return err == EEXIST ? CTL_EXIT_CONFLICT : CTL_EXIT_ERROR;
}

/* A temporary file with a name, in o->dir_fd, for file systems without O_TMPFILE. -errno. */
static int
output_open_named(Output *o)
{
	for (int tries = 0; tries < 64; tries++) {
		uint64_t v = 0;
		if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
			return errno ? -errno : -EIO;
		snprintf(o->tmp, sizeof(o->tmp), ".#biogatectl%016" PRIx64, v);
		int fd = openat(o->dir_fd, o->tmp,
		                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0) {
			o->fd = fd;
			return 0;
		}
		o->tmp[0] = '\0';
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

/*
 * A new file only, readable by its owner alone: exports and reports name people (R19). The
 * directory of path is opened once, here; the document is written to a file without a name
 * in it (O_TMPFILE, or a hidden temporary name where the file system has none) and only
 * output_commit() gives it its name, through that directory. Whatever becomes of the path
 * meanwhile (its directory swapped for a symlink while a confirmer is prompted, say), no
 * other file is ever written, renamed over or removed, and half a document never shows
 * under the name. 0 with *o set up (path NULL: standard output), or the exit code after a
 * message (6 when the name is taken already: nothing is ever overwritten).
 */
int
output_create(const char *path, Output *o)
{
	*o = (Output)OUTPUT_INIT;
	if (!path)
		return 0;
	o->path = path;
	o->fd = -1;
	const char *slash = strrchr(path, '/');
	_cleanup_(freep) char *dir = NULL;
	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	o->name = strdup(slash ? slash + 1 : path);
	if (!dir || !o->name)
		return fail_nomem();

	o->dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (o->dir_fd < 0)
		return output_fail_create(path, errno);
	/* "DIR/": a name that can only be the directory itself, which exists. */
	if (!o->name[0])
		return output_fail_create(path, EEXIST);
	/* Said now, before anyone is asked for a finger; output_commit() checks it again. */
	struct stat st;
	if (fstatat(o->dir_fd, o->name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return output_fail_create(path, EEXIST);
	if (errno != ENOENT)
		return output_fail_create(path, errno);

	o->fd = openat(o->dir_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (o->fd < 0) {
		int err = errno;
		/* Kernels or file systems without O_TMPFILE. */
		if (err != EOPNOTSUPP && err != EISDIR && err != EINVAL)
			return output_fail_create(path, err);
		int r = output_open_named(o);
		if (r < 0)
			return output_fail_create(path, -r);
	}
	return 0;
}

/* Gives the unnamed file o->fd its name in o->dir_fd; never replaces a file. -errno. */
static int
output_link(Output *o)
{
	/* Needs CAP_DAC_READ_SEARCH; /proc/self/fd/N is the same file for anyone else. */
	if (linkat(o->fd, "", o->dir_fd, o->name, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != ENOENT && errno != EPERM)
		return -errno;
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", o->fd);
	if (linkat(AT_FDCWD, proc, o->dir_fd, o->name, AT_SYMLINK_FOLLOW) < 0)
		return -errno;
	return 0;
}

/* Renames the temporary o->tmp to o->name in o->dir_fd; never replaces a file. -errno. */
static int
output_rename(Output *o)
{
	if (renameat2(o->dir_fd, o->tmp, o->dir_fd, o->name, RENAME_NOREPLACE) < 0) {
		if (errno != EINVAL && errno != ENOSYS)
			return -errno;
		/* No RENAME_NOREPLACE here: a hard link fails as well when the name is taken. */
		if (linkat(o->dir_fd, o->tmp, o->dir_fd, o->name, 0) < 0)
			return -errno;
		(void)unlinkat(o->dir_fd, o->tmp, 0);
	}
	o->tmp[0] = '\0';
	return 0;
}

/*
 * The document is whole: on disk, then under its name in the directory output_create()
 * opened. Nothing to do for standard output. 0, or the exit code after a message (6 when
 * the name was taken meanwhile; the document is then dropped).
 */
int
output_commit(Output *o)
{
	if (!o->path)
		return 0;
	if (fsync(o->fd) < 0)
		return output_error(errno);
	int r = o->tmp[0] ? output_rename(o) : output_link(o);
	if (r < 0)
		return output_fail_create(o->path, -r);
	return 0;
}

/* Closes the output; a document never committed goes, through the directory it was made in
 * (an unnamed one needs nothing: it goes with its last descriptor). */
void
output_close(Output *o)
{
	if (o->path && o->fd >= 0)
		close(o->fd);
	if (o->dir_fd >= 0) {
		if (o->tmp[0])
			(void)unlinkat(o->dir_fd, o->tmp, 0);
		close(o->dir_fd);
	}
	free(o->name);
	*o = (Output)OUTPUT_INIT;
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
