/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sandbox: how biogated-sensor gives up what it does not need before it reads anything
 * from a reader (OpenSSH's privsep_child_demote()). See sandbox.c for what it keeps.
 */
#pragma once

/*
 * Demotes the calling process, which must still be single-threaded: no new privileges,
 * capabilities dropped, a Landlock ruleset that leaves only the reader's paths reachable
 * (or, without Landlock and as root, an unprivileged uid), and a seccomp allow-list.
 * Returns 0, or -errno when a layer that the kernel offers could not be applied; the
 * caller must then exit rather than read a device unconfined.
 */
int sensor_sandbox_apply(void);
