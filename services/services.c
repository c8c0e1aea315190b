/* SPDX-License-Identifier: MIT */
/* services.c -- the table of services: names, ports, transports, state */

#include <sock.h>

#include "services.h"

#include <string.h>

#define BOTH (SERVICE_STREAM | SERVICE_DGRAM)

/* Default ports are the standard ones plus 8000, so no privilege is
 * needed; the seeds' own services keep the seeds' ports. */
const struct service services[] = {
	{ "echo", 7, 8007, BOTH, "sends back what it receives (RFC 862)",
	  &echo_service, NULL, NULL },
	{ "discard", 9, 8009, BOTH, "drops what it receives (RFC 863)",
	  &discard_service, NULL, NULL },
	{ "daytime", 13, 8013, BOTH, "the date as a line of text (RFC 867)",
	  &daytime_service, NULL, NULL },
	{ "chargen", 19, 8019, BOTH, "streams characters (RFC 864)",
	  &chargen_service, chargen_new, chargen_free },
	{ "time", 37, 8037, BOTH, "the time as 4 bytes (RFC 868)",
	  &time_service, NULL, NULL },
	{ "clients", 0, 5000, SERVICE_STREAM,
	  "the list of clients as JSON (seed 003)", &clients_service,
	  clients_new, clients_free },
	{ "chat", 0, 5001, SERVICE_STREAM, "a line-based chat room",
	  &chat_service, chat_new, chat_free },
};

const size_t services_count = sizeof(services) / sizeof(services[0]);

const struct service *services_find(const char *name)
{
	size_t i;

	for (i = 0; i < services_count; i++)
		if (!strcmp(services[i].name, name))
			return &services[i];
	return NULL;
}
