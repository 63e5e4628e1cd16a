/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * biogate-usb-authorize INTERFACE: R15's root-side half. Started by udev (through
 * biogate-usb-authorize@INTERFACE.service) for every USB mass storage interface that
 * appears, e.g. 2-1:1.0. The udev rule has already set its `authorized` to 0. This helper
 * reads the device's serial, vendor and product from sysfs, asks biogated whether that serial
 * is allowed (io.biogate.UsbAttempt, phase "plugged": a refusal is recorded there before the
 * answer), writes 1 to `authorized` only when the daemon says so, and reports the write
 * (phase "authorized"), so the trail says "allowed" only for an interface that really is
 * authorized. Anything that goes wrong leaves the interface blocked: the daemon unreachable,
 * a report that cannot be recorded (then the write is undone), a serial revoked meanwhile.
 *
 * It is the only biogate process that writes to /sys, and it writes nothing but the
 * `authorized` attribute of the interface it was started for; biogated keeps no capability.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bgclient.h"
#include "interface.h"

#define ATTR_MAX   256
#define CALL_MS    60000 /* socket activation on a slow terminal, then a durable record */
#define CONNECT_MS 60000

static bool
valid_interface(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > BIOGATE_USB_INTERFACE_MAX)
		return false;
	for (size_t k = 0; k < n; k++)
		if (!((s[k] >= '0' && s[k] <= '9') || s[k] == '-' || s[k] == '.' || s[k] == ':'))
			return false;
	return true;
}

static bool
valid_hex4(const char *s)
{
	if (strlen(s) != 4)
		return false;
	for (size_t k = 0; k < 4; k++)
		if (!((s[k] >= '0' && s[k] <= '9') || (s[k] >= 'a' && s[k] <= 'f') ||
		      (s[k] >= 'A' && s[k] <= 'F')))
			return false;
	return true;
}

/* Printable ASCII without spaces, as the daemon compares serials. */
static bool
valid_serial(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > BIOGATE_USB_SERIAL_MAX)
		return false;
	for (size_t k = 0; k < n; k++)
		if (s[k] <= 0x20 || s[k] >= 0x7f)
			return false;
	return true;
}

/* One sysfs attribute, bounded, without its trailing newline. -errno, or the length. */
static int
read_attr(const char *dir, const char *name, char *buf, size_t size)
{
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, size - 1);
	int r = n < 0 ? -errno : 0;
	close(fd);
	if (r < 0)
		return r;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	if (strlen(buf) != (size_t)n)
		return -EBADMSG;
	return (int)n;
}

static int
write_authorized(const char *dir, const char *value)
{
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof(path), "%s/authorized", dir) >= sizeof(path))
		return -ENAMETOOLONG;
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	int r = write(fd, value, 1) == 1 ? 0 : -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

/* sysfs is .../bus/usb/devices: its parent holds drivers_probe. */
static int
probe_drivers(const char *sysfs, const char *iface)
{
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof(path), "%s/../drivers_probe", sysfs) >= sizeof(path))
		return -ENAMETOOLONG;
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	size_t len = strlen(iface);
	int r = write(fd, iface, len) == (ssize_t)len ? 0 : -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

typedef struct Facts {
	const char *interface;
	char dir[PATH_MAX];
	char serial[ATTR_MAX], vendor[ATTR_MAX], product[ATTR_MAX];
	bool has_serial;
} Facts;

/* -EMEDIUMTYPE: not mass storage, nothing to do. */
static int
read_facts(const char *sysfs, const char *interface, Facts *f)
{
	char link[PATH_MAX], cls[ATTR_MAX];
	f->interface = interface;
	if ((size_t)snprintf(link, sizeof(link), "%s/%s", sysfs, interface) >= sizeof(link))
		return -ENAMETOOLONG;
	/* /sys/bus/usb/devices/2-1:1.0 links to .../2-1/2-1:1.0: the device is the parent. */
	if (!realpath(link, f->dir))
		return -errno;
	int r = read_attr(f->dir, "bInterfaceClass", cls, sizeof(cls));
	if (r < 0)
		return r;
	if (strcmp(cls, "08") != 0)
		return -EMEDIUMTYPE;
	char parent[PATH_MAX];
	snprintf(parent, sizeof(parent), "%s", f->dir);
	char *slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return -EINVAL;
	*slash = '\0';
	if (!(read_attr(parent, "idVendor", f->vendor, sizeof(f->vendor)) > 0 &&
	      read_attr(parent, "idProduct", f->product, sizeof(f->product)) > 0 &&
	      valid_hex4(f->vendor) && valid_hex4(f->product))) {
		snprintf(f->vendor, sizeof(f->vendor), "????");
		snprintf(f->product, sizeof(f->product), "????");
	}
	f->has_serial = read_attr(parent, "serial", f->serial, sizeof(f->serial)) > 0 &&
	                valid_serial(f->serial);
	return 0;
}

/* One UsbAttempt call. 1: allowed, 0: not, -errno / -EPROTO with *ret_error set. */
static int
ask(BgClient *c, const Facts *f, const char *phase, bool applied, const char *error,
    const char **ret_error)
{
	json_object *p = json_object_new_object();
	json_object_object_add(p, "phase", json_object_new_string(phase));
	json_object_object_add(p, "interface", json_object_new_string(f->interface));
	if (f->has_serial)
		json_object_object_add(p, "serial", json_object_new_string(f->serial));
	json_object_object_add(p, "vendor", json_object_new_string(f->vendor));
	json_object_object_add(p, "product", json_object_new_string(f->product));
	json_object_object_add(p, "applied", json_object_new_boolean(applied));
	if (error)
		json_object_object_add(p, "error", json_object_new_string(error));
	json_object *msg = NULL;
	WireReply rep;
	int r = bg_call(c, BIOGATE_METHOD_USB_ATTEMPT, p, CALL_MS, &msg, &rep);
	if (r < 0)
		return r;
	static char err[128];
	if (rep.error) {
		snprintf(err, sizeof(err), "%s", rep.error);
		*ret_error = err;
		json_object_put(msg);
		return -EPROTO;
	}
	json_object *v = NULL;
	r = json_object_object_get_ex(rep.parameters, "allow", &v) && json_object_get_boolean(v);
	json_object_put(msg);
	return r;
}

static void
usage(FILE *out)
{
	fprintf(out,
	        "Usage: biogate-usb-authorize [--sysfs DIR] [--socket PATH] INTERFACE\n\n"
	        "Authorizes the USB mass storage interface INTERFACE (e.g. 2-1:1.0) when\n"
	        "biogated says its serial is allowed; leaves it blocked otherwise. Started by\n"
	        "udev through biogate-usb-authorize@.service. See biogated(8).\n\n"
	        "  --sysfs DIR    where the interfaces are (default /sys/bus/usb/devices)\n"
	        "  --socket PATH  biogated's socket\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sysfs", required_argument, NULL, 's' },
		{ "socket", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const char *sysfs = "/sys/bus/usb/devices", *socket = NULL;
	int o;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
		if (o == 's')
			sysfs = optarg;
		else if (o == 'S')
			socket = optarg;
		else if (o == 'h') {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || !valid_interface(argv[optind])) {
		usage(stderr);
		return 2;
	}
	const char *iface = argv[optind];
	Facts f = { 0 };
	int r = read_facts(sysfs, iface, &f);
	if (r == -EMEDIUMTYPE || r == -ENOENT)
		return 0; /* not storage, or already unplugged */
	if (r < 0) {
		fprintf(stderr, "biogate-usb-authorize: cannot read %s/%s: %s; it stays blocked\n",
		        sysfs, iface, strerror(-r));
		return 1;
	}
	const char *serial = f.has_serial ? f.serial : "(none)";
	/* Blocked whatever happens next, even without the udev rule's own write. */
	char cur[ATTR_MAX];
	bool blocked =
	    read_attr(f.dir, "authorized", cur, sizeof(cur)) > 0 && strcmp(cur, "0") == 0;
	if (!blocked)
		blocked = write_authorized(f.dir, "0") == 0;

	BgClient *c = NULL;
	r = bg_connect(bg_socket_path(socket), CONNECT_MS, &c);
	if (r < 0) {
		fprintf(stderr,
		        "biogate-usb-authorize: USB storage serial %s on %s: biogated cannot be "
		        "reached (%s); it stays blocked and the attempt is not in the trail\n",
		        serial, iface, strerror(-r));
		return 1;
	}
	const char *error = NULL;
	r = ask(c, &f, "plugged", blocked, NULL, &error);
	if (r <= 0) {
		if (r < 0)
			fprintf(stderr,
			        "biogate-usb-authorize: USB storage serial %s on %s: %s; it "
			        "stays blocked\n",
			        serial, iface, error ? error : strerror(-r));
		else
			fprintf(stderr,
			        "biogate-usb-authorize: USB storage serial %s on %s: blocked\n",
			        serial, iface);
		bg_close(c);
		return r < 0 ? 1 : 0;
	}
	r = write_authorized(f.dir, "1");
	char why[128] = "";
	if (r < 0)
		snprintf(why, sizeof(why), "%s", strerror(-r));
	else {
		/* Authorizing does not bind a driver: the kernel's probe was refused at arrival
		 * (Documentation/usb/authorization.rst), so ask the bus to probe it again. */
		int p = probe_drivers(sysfs, iface);
		if (p < 0)
			fprintf(stderr,
			        "biogate-usb-authorize: %s authorized, but asking for a driver "
			        "failed: %s\n",
			        iface, strerror(-p));
	}
	int q = ask(c, &f, "authorized", r == 0, r < 0 ? why : NULL, &error);
	bg_close(c);
	if (r < 0) {
		fprintf(stderr,
		        "biogate-usb-authorize: USB storage serial %s on %s is allowed but writing "
		        "authorized failed: %s%s\n",
		        serial, iface, why,
		        q < 0 ? " (and the failure could not be recorded)" : "");
		return 1;
	}
	if (q <= 0) {
		/* Not in the trail as allowed (or no longer allowed): nothing gets through. */
		int u = write_authorized(f.dir, "0");
		fprintf(stderr,
		        "biogate-usb-authorize: USB storage serial %s on %s: the authorization was "
		        "not recorded (%s); blocked again%s\n",
		        serial, iface, q < 0 ? (error ? error : strerror(-q)) : "refused",
		        u < 0 ? " FAILED" : "");
		return 1;
	}
	fprintf(stderr, "biogate-usb-authorize: USB storage serial %s on %s: authorized\n", serial,
	        iface);
	return 0;
}
