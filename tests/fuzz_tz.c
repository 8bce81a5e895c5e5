/*
 * fuzz_tz: libFuzzer harness for the TZif reader. Each input is parsed as a
 * zone file; whatever is accepted is then queried across its whole range
 * (local time, wall time back to an instant, a copy), which must never crash,
 * read out of bounds or overflow, and must stay consistent: the instant found
 * for a wall time never decreases as the wall time grows.
 */
#include <stdint.h>
#include <stdlib.h>

#include "base/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tz *z = NULL, *d;
	char *cause = NULL;
	int64_t prev = INT64_MIN;

	if (tz_parse(&z, "Fuzz/Zone", data, size, &cause) != 0) {
		if (cause == NULL)
			abort();        /* every refusal says why */
		free(cause);
		return 0;
	}
	for (int64_t t = -62135596800LL; t < 253402300799LL; t += 997 * 86400 + 12345) {
		struct tz_local lt;
		int64_t u;

		if (tz_to_local(z, t, &lt) != 0 || lt.utcoff < -26 * 3600 || lt.utcoff > 26 * 3600)
			abort();
		if (tz_from_wall(z, t, &u) == 0) {
			if (u < prev)
				abort();
			prev = u;
		}
	}
	/* Densely around the present, where the footer rule takes over. */
	prev = INT64_MIN;
	for (int64_t t = 1600000000LL; t < 2000000000LL; t += 3 * 86400 + 3607) {
		struct tz_local lt;
		int64_t u;

		if (tz_to_local(z, t, &lt) != 0 || tz_from_wall(z, t, &u) != 0 || u < prev)
			abort();
		prev = u;
	}
	if ((d = tz_dup(z)) != NULL)
		tz_free(d);
	tz_free(z);
	return 0;
}
