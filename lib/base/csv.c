/*
 * csv: streaming RFC 4180 parsing (see csv.h).
 *
 * A small state machine over the bytes. The current record's raw bytes are
 * kept in one growing buffer (for raw and for field values, which are
 * unquoted into a second buffer); nothing else grows with the input. Runs of
 * ordinary bytes are copied with one memchr-bounded loop each, so the common
 * case (unquoted fields) costs little per byte.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/csv.h"
#include "base/util.h"

/* Decided by the first record end: a lone CR is a line end in old Mac files only. */
enum csv_line_end {
	CSV_ENDS_UNKNOWN,
	CSV_ENDS_LF,            /* LF or CRLF: a lone CR outside quotes is a broken record */
	CSV_ENDS_CR,            /* lone CR (LF still ends a record too) */
};

enum csv_state {
	CSV_FIELD_START,        /* at the start of a field */
	CSV_UNQUOTED,           /* inside an unquoted field */
	CSV_QUOTED,             /* inside quotes */
	CSV_QUOTE_IN_QUOTED,    /* a quote inside quotes: doubled, or the closing one */
	CSV_AFTER_CR,           /* a CR outside quotes: CRLF, or a lone CR */
};

struct csv {
	csv_row_fn fn;
	void *arg;
	enum csv_state state;
	uint64_t offset;        /* bytes consumed */
	uint64_t line;          /* current physical line, 1-based */
	uint64_t record_line;   /* where the current record began */
	uint64_t records;
	bool bom_checked;
	unsigned char bom[3];
	size_t nbom;
	bool in_record;         /* a byte of the record has been seen */
	enum csv_line_end ends; /* how records end in this input, once known */
	bool too_long;          /* the record passed CSV_RECORD_MAX: its bytes are no longer kept */
	bool too_wide;          /* the record passed CSV_FIELDS_MAX: its fields are no longer kept */
	/* The record: raw bytes, values, and where each value starts. */
	char *raw;
	size_t rawlen, rawcap;
	char *val;
	size_t vallen, valcap;
	size_t starts[CSV_FIELDS_MAX + 1];
	size_t nfields;
	char *fields[CSV_FIELDS_MAX];
	size_t lens[CSV_FIELDS_MAX];
	char problem[160];
};

int
csv_new(struct csv **out, csv_row_fn fn, void *arg)
{
	struct csv *p = calloc(1, sizeof *p);

	if (p == NULL)
		return -ENOMEM;
	p->fn = fn;
	p->arg = arg;
	p->line = 1;
	p->record_line = 1;
	*out = p;
	return 0;
}

void
csv_free(struct csv *p)
{
	if (p == NULL)
		return;
	free(p->raw);
	free(p->val);
	free(p);
}

uint64_t
csv_offset(const struct csv *p)
{
	return p->offset;
}

static int
grow(char **buf, size_t *cap, size_t need)
{
	size_t cap2 = *cap ? *cap : 1024;
	char *b;

	if (need <= *cap)
		return 0;
	while (cap2 < need)
		cap2 *= 2;
	if ((b = realloc(*buf, cap2)) == NULL)
		return -ENOMEM;
	*buf = b;
	*cap = cap2;
	return 0;
}

static void set_problem(struct csv *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Append n raw bytes of the record. Past CSV_RECORD_MAX the record is marked
 * broken and its further bytes are dropped (memory stays bounded); parsing
 * goes on, so the next record is found where the quoting says it starts.
 */
static int
raw_add(struct csv *p, const char *s, size_t n, char **cause)
{
	if (p->too_long)
		return 0;
	if (p->rawlen + n > CSV_RECORD_MAX) {
		p->too_long = true;
		set_problem(p, "a record longer than %d bytes", CSV_RECORD_MAX);
		n = CSV_RECORD_MAX - p->rawlen;
	}
	if (grow(&p->raw, &p->rawcap, p->rawlen + n + 1) < 0)
		return util_fail(cause, -ENOMEM, "out of memory");
	memcpy(p->raw + p->rawlen, s, n);
	p->rawlen += n;
	return 0;
}

/* Append n bytes to the current value (never longer than raw, so no new limit). */
static int
val_add(struct csv *p, const char *s, size_t n, char **cause)
{
	/* A broken record's values are not used: they need not grow any further. */
	if (p->too_long || p->too_wide)
		return 0;
	if (grow(&p->val, &p->valcap, p->vallen + n + 1) < 0)
		return util_fail(cause, -ENOMEM, "out of memory");
	memcpy(p->val + p->vallen, s, n);
	p->vallen += n;
	return 0;
}

/*
 * The current value is complete. Past CSV_FIELDS_MAX the record is marked
 * broken and the extra values dropped; it still ends where it ends.
 */
static int
field_end(struct csv *p, char **cause)
{
	if (p->nfields >= CSV_FIELDS_MAX) {
		if (!p->too_wide) {
			p->too_wide = true;
			set_problem(p, "more than %d fields in a record", CSV_FIELDS_MAX);
		}
		p->vallen = p->starts[p->nfields];
		return 0;
	}
	/* The NUL, even in a record too long, so that every value ends. */
	if (grow(&p->val, &p->valcap, p->vallen + 1) < 0)
		return util_fail(cause, -ENOMEM, "out of memory");
	p->val[p->vallen++] = '\0';
	p->starts[++p->nfields] = p->vallen;
	return 0;
}

/* Note the record's first problem ("line 12: <what> in field 3"). */
static void
set_problem(struct csv *p, const char *fmt, ...)
{
	char what[96];
	va_list ap;

	if (p->problem[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	snprintf(p->problem, sizeof p->problem, "line %llu: %s in field %zu",
	    (unsigned long long)p->record_line, what, p->nfields + 1);
}

/* The record is complete: hand it over and start the next. */
static int
record_end(struct csv *p, char **cause)
{
	struct csv_row row;
	int e = 0;

	if ((e = field_end(p, cause)) < 0)
		return e;
	/* A blank line is no record. */
	if (!(p->nfields == 1 && p->rawlen == 0)) {
		for (size_t i = 0; i < p->nfields; i++) {
			p->fields[i] = p->val + p->starts[i];
			p->lens[i] = p->starts[i + 1] - p->starts[i] - 1;
		}
		if (grow(&p->raw, &p->rawcap, p->rawlen + 1) < 0)
			return util_fail(cause, -ENOMEM, "out of memory");
		p->raw[p->rawlen] = '\0';
		row.nfields = p->nfields;
		row.fields = p->fields;
		row.lens = p->lens;
		row.record = ++p->records;
		row.line = p->record_line;
		row.raw = p->raw;
		row.rawlen = p->rawlen;
		row.problem = p->problem[0] ? p->problem : NULL;
		e = p->fn(p->arg, &row, cause);
	}
	p->rawlen = 0;
	p->vallen = 0;
	p->nfields = 0;
	p->starts[0] = 0;
	p->problem[0] = '\0';
	p->too_long = false;
	p->too_wide = false;
	p->in_record = false;
	p->state = CSV_FIELD_START;
	return e;
}

static int
feed(struct csv *p, const char *buf, size_t len, char **cause)
{
	const char *s = buf, *end = buf + len;
	int e;

	while (s < end) {
		char c = *s;

		if (!p->in_record) {
			p->in_record = true;
			p->record_line = p->line;
		}
		switch (p->state) {
		case CSV_FIELD_START:
			if (c == '"') {
				if ((e = raw_add(p, s, 1, cause)) < 0)
					return e;
				p->state = CSV_QUOTED;
				s++;
				continue;
			}
			p->state = CSV_UNQUOTED;
			__attribute__((fallthrough));
		case CSV_UNQUOTED: {
			/* The run of ordinary bytes up to the next delimiter, quote, CR or LF. */
			const char *q = s;

			while (q < end && *q != ',' && *q != '\n' && *q != '\r' && *q != '"')
				q++;
			if (q > s) {
				if ((e = raw_add(p, s, (size_t)(q - s), cause)) < 0 ||
				    (e = val_add(p, s, (size_t)(q - s), cause)) < 0)
					return e;
				s = q;
				continue;
			}
			if (c == ',') {
				if ((e = raw_add(p, s, 1, cause)) < 0 || (e = field_end(p, cause)) < 0)
					return e;
				p->state = CSV_FIELD_START;
			} else if (c == '\n') {
				p->line++;
				if (p->ends == CSV_ENDS_UNKNOWN)
					p->ends = CSV_ENDS_LF;
				if ((e = record_end(p, cause)) < 0)
					return e;
			} else if (c == '\r') {
				p->state = CSV_AFTER_CR;
			} else {
				/* A quote inside an unquoted field: kept as it is. */
				set_problem(p, "%s", "a quote inside an unquoted field");
				if ((e = raw_add(p, s, 1, cause)) < 0 || (e = val_add(p, s, 1, cause)) < 0)
					return e;
			}
			s++;
			continue;
		}
		case CSV_QUOTED: {
			const char *q = s;

			while (q < end && *q != '"' && *q != '\n')
				q++;
			if (q > s) {
				if ((e = raw_add(p, s, (size_t)(q - s), cause)) < 0 ||
				    (e = val_add(p, s, (size_t)(q - s), cause)) < 0)
					return e;
				s = q;
				continue;
			}
			if (c == '\n') {
				p->line++;
				if ((e = raw_add(p, s, 1, cause)) < 0 || (e = val_add(p, s, 1, cause)) < 0)
					return e;
			} else {
				if ((e = raw_add(p, s, 1, cause)) < 0)
					return e;
				p->state = CSV_QUOTE_IN_QUOTED;
			}
			s++;
			continue;
		}
		case CSV_QUOTE_IN_QUOTED:
			if (c == '"') {
				/* A doubled quote: one quote in the value. */
				if ((e = raw_add(p, s, 1, cause)) < 0 || (e = val_add(p, s, 1, cause)) < 0)
					return e;
				p->state = CSV_QUOTED;
				s++;
				continue;
			}
			if (c == ',' || c == '\n' || c == '\r') {
				p->state = CSV_UNQUOTED;        /* the closing quote; the delimiter follows */
				continue;
			}
			/* Text after the closing quote: kept, appended. */
			set_problem(p, "%s", "text after the closing quote");
			p->state = CSV_UNQUOTED;
			continue;
		case CSV_AFTER_CR:
			if (c == '\n') {
				/* CRLF: the CR is not part of the record. */
				p->line++;
				if (p->ends == CSV_ENDS_UNKNOWN)
					p->ends = CSV_ENDS_LF;
				s++;
				if ((e = record_end(p, cause)) < 0)
					return e;
				continue;
			}
			if (p->ends == CSV_ENDS_LF) {
				/*
				 * A lone CR in a file whose records end in LF is no line
				 * end but a broken value: ending the record here would
				 * cut it in two, and its first half might pass.
				 */
				set_problem(p, "a lone CR (carriage return) outside quotes");
				if ((e = raw_add(p, "\r", 1, cause)) < 0 || (e = val_add(p, "\r", 1, cause)) < 0)
					return e;
				p->state = CSV_UNQUOTED;
				continue;
			}
			/* A lone CR outside quotes ends the record too (old Mac files). */
			p->ends = CSV_ENDS_CR;
			p->line++;
			if ((e = record_end(p, cause)) < 0)
				return e;
			continue;
		}
	}
	return 0;
}

int
csv_feed(struct csv *p, const char *buf, size_t len, char **cause)
{
	int e;

	/* A UTF-8 byte order mark at the very start is not data; it may span chunks. */
	while (!p->bom_checked && len > 0) {
		static const unsigned char bom[3] = { 0xef, 0xbb, 0xbf };

		if ((unsigned char)*buf != bom[p->nbom]) {
			p->bom_checked = true;
			/* Not a BOM after all: what was held back is data. */
			if (p->nbom > 0 && (e = feed(p, (const char *)bom, p->nbom, cause)) < 0)
				return e;
			break;
		}
		p->nbom++;
		buf++;
		len--;
		p->offset++;
		if (p->nbom == 3)
			p->bom_checked = true;
	}
	p->offset += len;
	return feed(p, buf, len, cause);
}

int
csv_finish(struct csv *p, char **cause)
{
	int e;

	if (!p->bom_checked && p->nbom > 0) {
		p->bom_checked = true;
		if ((e = feed(p, "\xef\xbb\xbf", p->nbom, cause)) < 0)
			return e;
	}
	switch (p->state) {
	case CSV_QUOTED:
		return util_fail(cause, -EBADMSG, "line %llu: a quoted field is still open at the end "
		    "of the data (the body may be cut off)", (unsigned long long)p->record_line);
	case CSV_AFTER_CR:
		p->line++;
		return record_end(p, cause);
	default:
		if (p->in_record)
			return record_end(p, cause);
		return 0;
	}
}
