/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The io.biogate interface as data (common/interface.c): every method once, in the list,
 * named in its interface; every parameter table well-formed; every error name once, the
 * ones clients must know among them.
 */
#include <stdio.h>
#include <string.h>

#include "interface.h"

static int failures;
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);            \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

int
main(void)
{
	CHECK(interface_n_methods == 39);
	for (size_t i = 0; i < interface_n_methods; i++) {
		const InterfaceMethod *m = interface_methods[i];
		CHECK(strncmp(m->name, BIOGATE_INTERFACE ".", strlen(BIOGATE_INTERFACE) + 1) == 0 ||
		      strncmp(m->name, "org.varlink.service.", 20) == 0);
		CHECK(interface_method(m->name) == m);
		CHECK((m->fields == NULL) == (m->n_fields == 0));
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(interface_methods[j]->name, m->name) != 0);
		for (size_t f = 0; f < m->n_fields; f++) {
			CHECK(m->fields[f].name && m->fields[f].name[0]);
			for (size_t g = 0; g < f; g++)
				CHECK(strcmp(m->fields[g].name, m->fields[f].name) != 0);
		}
	}
	CHECK(interface_method("io.biogate.NoSuchMethod") == NULL);
	/* The tables are what the daemon checks: e.g. Revoke's three parameters. */
	CHECK(iface_revoke.n_fields == 3);
	CHECK(iface_open_session.n_fields == 6);
	CHECK(iface_usb_attempt.n_fields == 7);
	CHECK(strcmp(iface_verify.name, BIOGATE_METHOD_VERIFY) == 0);

	for (size_t i = 0; i < interface_n_errors; i++)
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(interface_errors[i], interface_errors[j]) != 0);
	/* Once defined only in the daemon's sessions.h, unknown to biogatectl. */
	CHECK(interface_is_error(WIRE_ERR_CANNOT_LOCK));
	CHECK(interface_is_error(WIRE_ERR_NOT_PERMITTED));
	CHECK(interface_is_error(WIRE_ERR_VARLINK_INVALID));
	CHECK(!interface_is_error("io.biogate.NoSuchError"));

	if (failures)
		fprintf(stderr, "%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
