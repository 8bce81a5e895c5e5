/*
 * fuzz_csv: libFuzzer harness for the streaming CSV parser. Each input is
 * parsed twice, whole and split at a point taken from its first byte (and
 * byte by byte for short inputs), and both parses must give the same records
 * (fields, lines, raw bytes, problems) and the same outcome: the parse must
 * not depend on how the bytes arrive.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A digest of every record, built by the callback. */
struct digest {
	char *text;
	size_t len, cap;
};

static void
add(struct digest *d, const void *p, size_t n)
{
	if (d->len + n + 1 > d->cap) {
		d->cap = (d->len + n + 1) * 2;
		if ((d->text = realloc(d->text, d->cap)) == NULL)
			abort();
	}
	memcpy(d->text + d->len, p, n);
	d->len += n;
}

static int
on_row(void *arg, const struct csv_row *row, char **cause)
{
	struct digest *d = arg;
	char head[96];

	(void)cause;
	snprintf(head, sizeof head, "|%llu:%llu:%zu:%s|", (unsigned long long)row->record,
	    (unsigned long long)row->line, row->nfields, row->problem ? row->problem : "");
	add(d, head, strlen(head));
	for (size_t i = 0; i < row->nfields; i++) {
		if (strlen(row->fields[i]) > row->lens[i])
			abort();        /* the NUL must end the value */
		add(d, row->fields[i], row->lens[i]);
		add(d, "\x1f", 1);
	}
	add(d, row->raw, row->rawlen);
	return 0;
}

/* Parse data in pieces of at most step bytes after a first piece of first bytes. */
static int
parse(const uint8_t *data, size_t size, size_t first, size_t step, struct digest *d)
{
	struct csv *p;
	char *cause = NULL;
	int e = 0;

	if (csv_new(&p, on_row, d) < 0)
		abort();
	for (size_t off = 0; off < size && e == 0;) {
		size_t n = off == 0 && first > 0 ? first : step;

		if (n > size - off)
			n = size - off;
		e = csv_feed(p, (const char *)data + off, n, &cause);
		off += n;
	}
	if (e == 0)
		e = csv_finish(p, &cause);
	free(cause);
	csv_free(p);
	return e;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct digest whole = { 0 }, split = { 0 };
	size_t at = size > 0 ? data[0] % (size + 1) : 0;
	int e1, e2;

	e1 = parse(data, size, size, size, &whole);
	e2 = parse(data, size, at, size > 64 ? 7 : 1, &split);
	if (e1 != e2 || whole.len != split.len || (whole.len && memcmp(whole.text, split.text, whole.len) != 0))
		abort();
	free(whole.text);
	free(split.text);
	return 0;
}
