/*
 * digest: what a POS day says, as a short string that changes when the
 * day's content changes and not when only its bytes do. Each record (a valid
 * line's normalised fields, or a rejected record's raw text, with its order
 * type) is hashed on its own and the hashes are added up, so the digest
 * does not depend on the order the API lists the lines in, on quoting,
 * line endings or a BOM. It detects restatements (docs/completeness.md); it
 * is not a cryptographic commitment.
 */
#ifndef SALESD_DIGEST_H
#define SALESD_DIGEST_H

#include <stddef.h>
#include <stdint.h>

/* "0123456789abcdef0123456789abcdef-12345678901234567890" and a NUL. */
#define DIGEST_STRLEN 56

struct digest {
	uint64_t a, b;          /* sums of two independent hashes of each record */
	uint64_t n;             /* records */
};

void digest_init(struct digest *d);
/* One record: its fields v[0..n) of len[0..n) bytes (a NULL field is empty), under tag. */
void digest_add(struct digest *d, const char *tag, const char *const *v, const size_t *len, size_t n);
/* into += from (the day's digest from its order types'). */
void digest_merge(struct digest *into, const struct digest *from);
void digest_format(const struct digest *d, char out[DIGEST_STRLEN]);

#endif
