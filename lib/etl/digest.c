/*
 * digest: an order-independent digest of a day's records (see digest.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "etl/digest.h"

#define FNV_PRIME 0x100000001b3ULL

/* splitmix64's finaliser: every input bit reaches every output bit. */
static uint64_t
mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint64_t
fnv(uint64_t h, const void *p, size_t len)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < len; i++) {
		h ^= s[i];
		h *= FNV_PRIME;
	}
	return h;
}

void
digest_init(struct digest *d)
{
	memset(d, 0, sizeof *d);
}

void
digest_add(struct digest *d, const char *tag, const char *const *v, const size_t *len, size_t n)
{
	/* Two offsets, two hashes; each field ends with its length, so "ab","c" is not "a","bc". */
	uint64_t h1 = 0xcbf29ce484222325ULL, h2 = 0x84222325cbf29ce4ULL;

	h1 = fnv(h1, tag, strlen(tag) + 1);
	h2 = fnv(h2, tag, strlen(tag) + 1);
	for (size_t i = 0; i < n; i++) {
		uint64_t l = v[i] != NULL ? (uint64_t)len[i] : 0;

		if (l > 0) {
			h1 = fnv(h1, v[i], len[i]);
			h2 = fnv(h2, v[i], len[i]);
		}
		h1 = fnv(h1, &l, sizeof l);
		h2 = fnv(h2, &l, sizeof l);
	}
	d->a += mix(h1);
	d->b += mix(h2 ^ 0x9e3779b97f4a7c15ULL);
	d->n++;
}

void
digest_merge(struct digest *into, const struct digest *from)
{
	into->a += from->a;
	into->b += from->b;
	into->n += from->n;
}

void
digest_format(const struct digest *d, char out[DIGEST_STRLEN])
{
	snprintf(out, DIGEST_STRLEN, "%016" PRIx64 "%016" PRIx64 "-%" PRIu64, d->a, d->b, d->n);
}
