/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * origin: whether a login comes from this terminal, from what PAM says about it (rhost,
 * service, tty). A fingerprint only proves that someone's finger is on this terminal's
 * reader; the person using the session must be here too. PAM's items come from the login
 * program, a root process: they are trusted as far as that program is, which is why every
 * one of them is looked at, not only rhost.
 */
#pragma once

#include <stdbool.h>

#include "forward.h"

/*
 * NULL when the login is local; else why it is not: "remote-host" (rhost set and neither
 * this terminal's host name nor listed in local-rhosts: loopback addresses are remote, they
 * are what a tunnel looks like), "remote-service" (service in remote-services),
 * "remote-tty" (tty in remote-ttys; a word ending in '*' matches by prefix; a "/dev/"
 * prefix of the tty is ignored). NULL items are unknown and pass; the PAM module always
 * sends what it has.
 */
const char *origin_remote_reason(const Manager *m, const char *rhost, const char *service,
                                 const char *tty);

/* OpenSession's first step: 0 for a local login; else records session.open, outcome deny,
 * with the reason and the rhost, service and tty as detail, and returns -EREMOTE (the
 * caller's reply waits for the record). */
int origin_check_session(Manager *m, Caller *c, const char *rhost, const char *service,
                         const char *tty);
