/*
 * fuzz_waproto: libFuzzer harness for the WhatsApp child protocol
 * (deliver/waproto.h), the task's side of which reads what a browser driver
 * says. Each input is parsed as an event and as a reply; invariants: no
 * crash or leak; an accepted event is a known type whose name round-trips,
 * and a per-chat event has a non-empty key; an accepted reply has a key and
 * encodes back (waproto_reply) to a line that parses to the same answer.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deliver/waproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_waproto: %s\n", what);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct waproto_event ev;
	char *cause = NULL, *key = NULL;
	bool go = false;

	if (waproto_parse_event((const char *)data, size, &ev, &cause) == 0) {
		check(strcmp(waproto_strevent(ev.type), "?") != 0, "an accepted event of no known type");
		if (ev.type == WAPROTO_READY || ev.type == WAPROTO_SENT || ev.type == WAPROTO_FAILED ||
		    ev.type == WAPROTO_UNSURE || ev.type == WAPROTO_SKIPPED)
			check(ev.key != NULL && ev.key[0] != '\0', "a per-chat event without its key");
		if (ev.type == WAPROTO_EXIT)
			check(ev.status >= 0 && ev.status <= 255, "an exit status out of range");
		waproto_event_done(&ev);
	} else
		check(cause != NULL, "a refusal without a reason");
	free(cause);
	cause = NULL;
	if (waproto_parse_reply((const char *)data, size, &go, &key, &cause) == 0) {
		char *line = waproto_reply(go, key), *again = NULL;
		bool go2 = !go;

		check(key != NULL, "a reply without a key");
		if (line != NULL) {
			check(waproto_parse_reply(line, strlen(line), &go2, &again, NULL) == 0, "a reply that does "
			    "not parse back");
			check(go2 == go && strcmp(again, key) == 0, "a reply that changes on the way back");
		}
		free(again);
		free(line);
	}
	free(key);
	free(cause);
	return 0;
}
