/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test helper: drives libfprint's virtual_device reader (FP_VIRTUAL_DEVICE=<socket>).
 *
 * The driver takes one command per connection and drops a second connection while one is
 * held, so vdev_send() waits until the driver has read and closed the connection: after it
 * returns, the command has been handled and the next one may be sent. Shared by the sensor
 * test and the whole-system integration test; it never links libfprint.
 */
#pragma once

/*
 * Connects to sock_path (retrying for up to 2 s while the socket does not exist yet or
 * refuses), writes cmd (e.g. "SCAN finger-a"), and waits up to 2 s for the driver to close.
 * Returns 0 or -errno.
 */
int vdev_send(const char *sock_path, const char *cmd);
