/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vdevctl: sends commands to libfprint's virtual_device reader from shell tests, one command
 * per connection, each handled before the next is sent (vdev_send). Stands in for a finger
 * on the reader; it is test code and never part of the product.
 */
#include <stdio.h>
#include <string.h>

#include "vdev.h"

int
main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: vdevctl SOCKET COMMAND...\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		int r = vdev_send(argv[1], argv[i]);
		if (r < 0) {
			fprintf(stderr, "vdevctl: '%s': %s\n", argv[i], strerror(-r));
			return 1;
		}
	}
	return 0;
}
