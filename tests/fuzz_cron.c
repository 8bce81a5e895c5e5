/*
 * fuzz_cron: libFuzzer harness for cron expressions. Each input is an
 * expression (the first byte picks the default zone among a few with
 * unusual daylight saving time); a parsed schedule is asked for a run of
 * fire times from several starting points, which must be strictly
 * increasing, and each is formatted as a calendar line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cron.h"
#include "base/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const zone_names[] = {
	"UTC", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata", "America/New_York",
};
/* Loaded once per process: the harness may keep state, the library may not. */
static struct tz *zones[sizeof zone_names / sizeof zone_names[0]];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t starts[] = { 0, 1711846000, 1729987200, 1728140000, 4102444800LL,
	    -2000000000LL, 253402000000LL };
	struct cron *c = NULL;
	char *expr, *cause = NULL;
	size_t zi;

	if (size == 0)
		return 0;
	zi = data[0] % (sizeof zones / sizeof zones[0]);
	if (zones[zi] == NULL && tz_load(&zones[zi], zone_names[zi], NULL, &cause) != 0)
		abort();
	if ((expr = malloc(size)) == NULL)
		return 0;
	memcpy(expr, data + 1, size - 1);
	expr[size - 1] = '\0';
	if (cron_parse(&c, expr, zones[zi], NULL, &cause) != 0) {
		if (cause == NULL)
			abort();
		free(cause);
		free(expr);
		return 0;
	}
	for (size_t s = 0; s < sizeof starts / sizeof starts[0]; s++) {
		int64_t t = starts[s], next;

		for (int i = 0; i < 20 && cron_next(c, t, &next) == 0; i++) {
			char line[CRON_INSTANT_LEN];

			if (next <= t || cron_format_instant(cron_zone(c), next, line, sizeof line) != 0)
				abort();
			t = next;
		}
	}
	cron_free(c);
	free(expr);
	return 0;
}
