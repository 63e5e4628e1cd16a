/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * manager: the daemon's shared state, one per process, built by biogated.c's manager_new().
 * Every core module gets it at creation and reads its neighbours from it; nothing here may
 * reach up into the varlink layer (server is only held, for the manager to free).
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "config.h"
#include "forward.h"
#include "tickets.h"

struct Manager {
	sd_event *event;
	Config config;
	char *state_dir;
	char *runtime_dir;
	Store *store;
	Secret *secret;
	Server *server;
	SensorLink *sensor;
	Policy *policy;
	Audit *audit;
	Sessions *sessions;
	Incidents *incidents;
	Devices *devices;
	Room *room;
	Refusals *refusals;
	Fleet *fleet;          /* NULL unless biogate.conf has [fleet] */
	char terminal[64];     /* this terminal's name (hostname) for records */
	uint64_t started_usec; /* CLOCK_MONOTONIC */
	Tickets tickets;
};
