/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The io.biogate interface as data (common/interface.c): every method once, in the list,
 * named in its interface; every parameter table well-formed; every error name once, the
 * ones clients must know among them. The interface definition that GetInterfaceDescription
 * returns (common/io.biogate.varlink) names exactly the io.biogate methods of the table,
 * each with the same parameters, types and optionality, and exactly its errors.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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

/* The type of a parameter in the IDL matches the table's kind (an array is any []T). */
static bool
idl_type_matches(const char *t, WireType type, bool required)
{
	bool optional = t[0] == '?';
	if (optional == required)
		return false;
	t += optional;
	switch (type) {
	case WIRE_STRING:
		return strcmp(t, "string") == 0;
	case WIRE_INT:
		return strcmp(t, "int") == 0;
	case WIRE_BOOL:
		return strcmp(t, "bool") == 0;
	case WIRE_ARRAY:
		return strncmp(t, "[]", 2) == 0;
	default:
		return false;
	}
}

/* One "method Name(params) -> (...)" of the IDL against the table: 0 when they agree. */
static int
idl_check_method(const char *name, const char *params, size_t len)
{
	char full[128];
	snprintf(full, sizeof(full), "%s.%s", BIOGATE_INTERFACE, name);
	const InterfaceMethod *m = interface_method(full);
	if (!m) {
		fprintf(stderr, "FAIL: the IDL has %s, the table does not\n", full);
		return -1;
	}
	char *copy = strndup(params, len), *save = NULL;
	size_t n = 0;
	int r = 0;
	for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		char pname[64] = "", ptype[64] = "";
		if (sscanf(p, " %63[a-z_] : %63s", pname, ptype) != 2) {
			fprintf(stderr, "FAIL: %s: cannot read parameter '%s'\n", full, p);
			r = -1;
			continue;
		}
		const WireField *f = NULL;
		for (size_t i = 0; i < m->n_fields; i++)
			if (strcmp(m->fields[i].name, pname) == 0)
				f = &m->fields[i];
		if (!f || !idl_type_matches(ptype, f->type, f->required)) {
			fprintf(stderr, "FAIL: %s: parameter %s: %s in the IDL, %s in the table\n",
			        full, pname, ptype, f ? "another type" : "absent");
			r = -1;
		}
		n++;
	}
	free(copy);
	if (n != m->n_fields) {
		fprintf(stderr, "FAIL: %s: %zu parameters in the IDL, %zu in the table\n", full, n,
		        m->n_fields);
		r = -1;
	}
	return r;
}

static void
check_description(void)
{
	const char *d = interface_description;
	CHECK(strncmp(d, "# ", 2) == 0 || strncmp(d, "interface ", 10) == 0);
	CHECK(strstr(d, "\ninterface " BIOGATE_INTERFACE "\n") != NULL);
	size_t methods = 0, errors = 0;
	for (const char *p = d; (p = strchr(p, '\n')); p++) {
		const char *line = p + 1;
		if (strncmp(line, "method ", 7) == 0) {
			const char *name = line + 7, *open = strchr(name, '(');
			const char *close = open ? strchr(open, ')') : NULL;
			CHECK(open && close);
			if (!open || !close)
				continue;
			char nm[64];
			snprintf(nm, sizeof(nm), "%.*s", (int)(open - name), name);
			if (idl_check_method(nm, open + 1, (size_t)(close - open - 1)) < 0)
				failures++;
			methods++;
		} else if (strncmp(line, "error ", 6) == 0) {
			char nm[64], full[128];
			CHECK(sscanf(line + 6, "%63[A-Za-z]", nm) == 1);
			snprintf(full, sizeof(full), "%s.%s", BIOGATE_INTERFACE, nm);
			if (!interface_is_error(full)) {
				fprintf(stderr, "FAIL: the IDL has error %s, the table does not\n",
				        full);
				failures++;
			}
			errors++;
		}
	}
	size_t want_methods = 0, want_errors = 0;
	for (size_t i = 0; i < interface_n_methods; i++)
		want_methods += strncmp(interface_methods[i]->name, BIOGATE_INTERFACE ".",
		                        strlen(BIOGATE_INTERFACE) + 1) == 0;
	for (size_t i = 0; i < interface_n_errors; i++)
		want_errors += strncmp(interface_errors[i], BIOGATE_INTERFACE ".",
		                       strlen(BIOGATE_INTERFACE) + 1) == 0;
	if (methods != want_methods || errors != want_errors) {
		fprintf(stderr,
		        "FAIL: the IDL has %zu methods and %zu errors, the table %zu and %zu\n",
		        methods, errors, want_methods, want_errors);
		failures++;
	}
}

int
main(void)
{
	CHECK(interface_n_methods == 46);
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
	CHECK(interface_is_error(WIRE_ERR_DISK_FULL));
	CHECK(interface_is_error(WIRE_ERR_NOT_PERMITTED));
	CHECK(interface_is_error(WIRE_ERR_VARLINK_INVALID));
	CHECK(!interface_is_error("io.biogate.NoSuchError"));

	check_description();

	if (failures)
		fprintf(stderr, "%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
