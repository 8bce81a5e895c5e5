/*
 * salesrow: columns, validation and aliases of POS lines (see salesrow.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "base/period.h"
#include "etl/salesrow.h"
#include "base/util.h"

#define RAW_NAME_MAX 200        /* how much of a bad value a message quotes */

enum alias_kind { ALIAS_PRODUCT, ALIAS_STORE, ALIAS_BRAND, ALIAS_CATEGORY, ALIAS_NKINDS };
static const char *const alias_kinds[] = { "product", "store", "brand", "category" };

struct alias {
	int kind;
	char *from, *to;
	size_t fromlen, tolen;
};

struct salesrow_rules {
	struct salesrow_options o;
	char *hash_key;
	struct alias *aliases;          /* sorted by (kind, from) */
	size_t naliases;
};

/* Header names, and which stored column each one fills. */
static const struct {
	const char *name;
	int col;                        /* SR_*, or -1: checked, not stored */
	bool required;
} columns[] = {
	{ "invoice", SR_INVOICE, true },
	{ "storeInvoice", SR_STORE_INVOICE, false },
	{ "orderDate", -1, true },
	{ "time", SR_TIME, false },
	{ "productId", SR_PRODUCT_ID, true },
	{ "productName", SR_PRODUCT, true },
	{ "barcode", SR_BARCODE, false },
	{ "quantity", SR_QUANTITY, true },
	{ "sellingPrice", SR_SELLING_PRICE, false },
	{ "discountAmount", SR_DISCOUNT, false },
	{ "totalProductPrice", SR_TOTAL, true },
	{ "GSTAmount", SR_GST_AMOUNT, false },
	{ "costPrice", SR_COST_PRICE, false },
	{ "brandName", SR_BRAND, true },
	{ "categoryName", SR_SUB_CATEGORY, false },
	{ "subCategoryOf", SR_CATEGORY, true },
	{ "storeName", SR_STORE, true },
	{ "orderType", -1, true },
	{ "paymentMethod", SR_PAYMENT_METHOD, false },
	{ "orderStatus", SR_ORDER_STATUS, false },
	{ "customerName", SR_CUSTOMER_NAME, false },
	{ "customerNumber", SR_CUSTOMER_NUMBER, false },
};
#define NCOLUMNS UTIL_NELEM(columns)
#define COLUMN_ORDER_DATE 2

struct salesrow_file {
	const struct salesrow_rules *r;
	int32_t day;
	size_t nheader;                 /* fields in the header */
	int index[NCOLUMNS];            /* field index of each known column, -1 if absent */
	/* auto date format */
	unsigned possible;              /* bit f-1: format f still possible */
	bool disagree[SALESROW_NFORMATS + 1][SALESROW_NFORMATS + 1];
	uint64_t miss[SALESROW_NFORMATS + 1];   /* accepted records not the day in format f */
	uint64_t dated;                 /* records whose date was checked */
	char hashed[2][2 * SHA256_DIGEST_LENGTH + 1];   /* customer values, hashed */
};

static const char *const format_names[] = {
	"auto", "ymd", "dmy", "dmy-slash", "mdy-slash", "ymd-slash",
};
static const char *const format_examples[] = {
	"", "YYYY-MM-DD", "DD-MM-YYYY", "DD/MM/YYYY", "MM/DD/YYYY", "YYYY/MM/DD",
};

int
salesrow_date_format_parse(const char *name, enum salesrow_date_format *f)
{
	for (size_t i = 0; i < UTIL_NELEM(format_names); i++)
		if (strcmp(name, format_names[i]) == 0) {
			*f = (enum salesrow_date_format)i;
			return 0;
		}
	return -EINVAL;
}

const char *
salesrow_date_format_name(enum salesrow_date_format f)
{
	return (size_t)f < UTIL_NELEM(format_names) ? format_names[f] : "?";
}

/* min to max digits at *p; advances *p. -1 when there are not min of them. */
static int
digits(const char **p, const char *end, int min, int max)
{
	int v = 0, n = 0;

	while (*p < end && n < max && **p >= '0' && **p <= '9') {
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	return n < min ? -1 : v;
}

int32_t
salesrow_parse_date(enum salesrow_date_format f, const char *s, size_t len)
{
	const char *p = s, *end = s + len;
	int a, b, c, y, m, d, yy, mm, dd;
	char sep = f == SALESROW_DATE_YMD || f == SALESROW_DATE_DMY ? '-' : '/';
	bool year_first = f == SALESROW_DATE_YMD || f == SALESROW_DATE_YMD_SLASH;
	int32_t day;

	if (f == SALESROW_DATE_AUTO)
		return -1;
	/* Four-digit years only: "23/11/26" could be 1926 or 2026. */
	if ((a = year_first ? digits(&p, end, 4, 4) : digits(&p, end, 1, 2)) < 0 ||
	    p >= end || *p++ != sep || (b = digits(&p, end, 1, 2)) < 0 || p >= end || *p++ != sep ||
	    (c = year_first ? digits(&p, end, 1, 2) : digits(&p, end, 4, 4)) < 0)
		return -1;
	/* A time may follow ("2026-11-23 14:05:00", "2026-11-23T14:05"); it is not needed. */
	if (p < end && *p != ' ' && *p != 'T')
		return -1;
	switch (f) {
	case SALESROW_DATE_YMD:
	case SALESROW_DATE_YMD_SLASH: y = a; m = b; d = c; break;
	case SALESROW_DATE_DMY:
	case SALESROW_DATE_DMY_SLASH: d = a; m = b; y = c; break;
	case SALESROW_DATE_MDY_SLASH: m = a; d = b; y = c; break;
	default: return -1;
	}
	if (y < 1000 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	day = period_day_from_civil(y, m, d);
	period_civil_from_day(day, &yy, &mm, &dd);
	return yy == y && mm == m && dd == d ? day : -1;
}

bool
salesrow_number(const char *s, size_t len, int *sign)
{
	size_t i = 0, nint = 0, nfrac = 0, lead = 0;
	bool neg = false, nonzero = false;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, nint++) {
		if (!nonzero && s[i] == '0')
			lead++;
		nonzero |= s[i] != '0';
	}
	if (i < len && s[i] == '.')
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, nfrac++)
			nonzero |= s[i] != '0';
	if (nint + nfrac == 0 || i != len)
		return false;
	/*
	 * Bounded, so that one line cannot overflow a sum in the reports (int64
	 * minor units) or PostgreSQL's numeric input; leading zeros do not count.
	 */
	if (nint - lead > SALESROW_NUMBER_INT_DIGITS || nfrac > SALESROW_NUMBER_FRAC_DIGITS)
		return false;
	if (sign != NULL)
		*sign = !nonzero ? 0 : neg ? -1 : 1;
	return true;
}

static bool
utf8_ok(const unsigned char *s, size_t len)
{
	return util_utf8_valid((const char *)s, len) == len;
}

/* How many of len bytes to quote in a message: at most RAW_NAME_MAX, whole characters only. */
static int
quoted(const char *s, size_t len)
{
	if (len > RAW_NAME_MAX)
		len = RAW_NAME_MAX;
	return (int)util_utf8_valid(s, len);
}

/* Trim ASCII white space: adjusts *s and *len. */
static void
trim(const char **s, size_t *len)
{
	while (*len > 0 && (**s == ' ' || **s == '\t' || **s == '\r' || **s == '\n')) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t' ||
	    (*s)[*len - 1] == '\r' || (*s)[*len - 1] == '\n'))
		(*len)--;
}

static int
alias_cmp(int kind, const char *from, size_t fromlen, const struct alias *a)
{
	int c;

	if (kind != a->kind)
		return kind < a->kind ? -1 : 1;
	c = memcmp(from, a->from, fromlen < a->fromlen ? fromlen : a->fromlen);
	if (c != 0)
		return c;
	return fromlen < a->fromlen ? -1 : fromlen > a->fromlen ? 1 : 0;
}

static int
alias_sort(const void *x, const void *y)
{
	const struct alias *a = x, *b = y;

	return alias_cmp(a->kind, a->from, a->fromlen, b);
}

static const struct alias *
alias_find(const struct salesrow_rules *r, int kind, const char *s, size_t len)
{
	size_t lo = 0, hi = r->naliases;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = alias_cmp(kind, s, len, &r->aliases[mid]);

		if (c == 0)
			return &r->aliases[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Reading the aliases file, with the csv module. */
struct alias_load {
	struct salesrow_rules *r;
	const char *path;
	size_t cap;
};

static int
alias_row(void *arg, const struct csv_row *row, char **cause)
{
	struct alias_load *al = arg;
	struct salesrow_rules *r = al->r;
	const char *from, *to, *kind;
	size_t fromlen, tolen, kindlen;
	int k = -1;

	if (row->record == 1) {
		if (row->nfields != 3 || strcmp(row->fields[0], "kind") != 0 ||
		    strcmp(row->fields[1], "from") != 0 || strcmp(row->fields[2], "to") != 0)
			return util_fail(cause, -EBADMSG, "%s:%llu: the header must be \"kind,from,to\"",
			    al->path, (unsigned long long)row->line);
		return 0;
	}
	if (row->problem != NULL || row->nfields != 3)
		return util_fail(cause, -EBADMSG, "%s:%llu: %s", al->path, (unsigned long long)row->line,
		    row->problem ? row->problem : "expected 3 fields: kind,from,to");
	kind = row->fields[0];
	kindlen = row->lens[0];
	trim(&kind, &kindlen);
	for (int i = 0; i < ALIAS_NKINDS; i++)
		if (strlen(alias_kinds[i]) == kindlen && strncmp(kind, alias_kinds[i], kindlen) == 0)
			k = i;
	if (k < 0)
		return util_fail(cause, -EBADMSG, "%s:%llu: kind \"%.*s\": expected product, store, brand "
		    "or category", al->path, (unsigned long long)row->line, (int)kindlen, kind);
	from = row->fields[1];
	fromlen = row->lens[1];
	to = row->fields[2];
	tolen = row->lens[2];
	trim(&from, &fromlen);
	trim(&to, &tolen);
	if (fromlen == 0 || tolen == 0 || !utf8_ok((const unsigned char *)from, fromlen) ||
	    !utf8_ok((const unsigned char *)to, tolen))
		return util_fail(cause, -EBADMSG, "%s:%llu: from and to must be non-empty UTF-8 text",
		    al->path, (unsigned long long)row->line);
	if (r->naliases == al->cap) {
		size_t cap = al->cap ? al->cap * 2 : 64;
		struct alias *a = realloc(r->aliases, cap * sizeof *a);

		if (a == NULL)
			return util_fail(cause, -ENOMEM, "out of memory");
		r->aliases = a;
		al->cap = cap;
	}
	r->aliases[r->naliases] = (struct alias){ k, strndup(from, fromlen), strndup(to, tolen),
	    fromlen, tolen };
	if (r->aliases[r->naliases].from == NULL || r->aliases[r->naliases].to == NULL) {
		free(r->aliases[r->naliases].from);
		free(r->aliases[r->naliases].to);
		return util_fail(cause, -ENOMEM, "out of memory");
	}
	r->naliases++;
	return 0;
}

static int
aliases_load(struct salesrow_rules *r, const char *path, char **cause)
{
	struct alias_load al = { r, path, 0 };
	struct csv *p = NULL;
	char *text = NULL;
	size_t len = 0;
	int e;

	if ((e = util_read_file(path, 64 << 20, &text, &len)) < 0)
		return util_fail(cause, e, "[source] aliases: cannot read %s: %s", path, strerror(-e));
	if ((e = csv_new(&p, alias_row, &al)) < 0 ||
	    (e = csv_feed(p, text, len, cause)) < 0 || (e = csv_finish(p, cause)) < 0)
		goto out;
	qsort(r->aliases, r->naliases, sizeof *r->aliases, alias_sort);
	for (size_t i = 1; i < r->naliases; i++)
		if (alias_sort(&r->aliases[i - 1], &r->aliases[i]) == 0) {
			e = util_fail(cause, -EBADMSG, "%s: %s \"%s\" is renamed twice", path,
			    alias_kinds[r->aliases[i].kind], r->aliases[i].from);
			goto out;
		}
out:
	csv_free(p);
	free(text);
	return e;
}

int
salesrow_rules_new(struct salesrow_rules **out, const struct salesrow_options *o, char **cause)
{
	struct salesrow_rules *r = calloc(1, sizeof *r);
	int e;

	if (r == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	r->o = *o;
	r->o.aliases_path = NULL;
	r->o.hash_key = NULL;
	if (o->customer == SALESROW_CUSTOMER_HASH) {
		if (o->hash_key == NULL || *o->hash_key == '\0') {
			free(r);
			return util_fail(cause, -EINVAL, "[source] customer_data = hash needs "
			    "customer_hash_key (a secret of your own)");
		}
		if ((r->hash_key = strdup(o->hash_key)) == NULL) {
			free(r);
			return util_fail(cause, -ENOMEM, "out of memory");
		}
	}
	if (o->aliases_path != NULL && (e = aliases_load(r, o->aliases_path, cause)) < 0) {
		salesrow_rules_free(r);
		/* The aliases file is the operator's configuration: fixing it is theirs, not the POS's. */
		return e == -ENOMEM ? e : -EINVAL;
	}
	*out = r;
	return 0;
}

void
salesrow_rules_free(struct salesrow_rules *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->naliases; i++) {
		free(r->aliases[i].from);
		free(r->aliases[i].to);
	}
	free(r->aliases);
	if (r->hash_key != NULL)
		explicit_bzero(r->hash_key, strlen(r->hash_key));
	free(r->hash_key);
	free(r);
}

size_t
salesrow_rules_naliases(const struct salesrow_rules *r)
{
	return r->naliases;
}

int
salesrow_file_new(struct salesrow_file **out, const struct salesrow_rules *r, int32_t day)
{
	struct salesrow_file *f = calloc(1, sizeof *f);

	if (f == NULL)
		return -ENOMEM;
	f->r = r;
	f->day = day;
	f->possible = r->o.date_format == SALESROW_DATE_AUTO ? (1u << SALESROW_NFORMATS) - 1 :
	    1u << (r->o.date_format - 1);
	*out = f;
	return 0;
}

void
salesrow_file_free(struct salesrow_file *f)
{
	free(f);
}

int
salesrow_header(struct salesrow_file *f, const struct csv_row *row, char **cause)
{
	char *missing = NULL, *present = NULL, *tmp;
	int e = 0;

	for (size_t c = 0; c < NCOLUMNS; c++)
		f->index[c] = -1;
	/* Columns cannot be found in a header that did not parse cleanly. */
	if (row->problem != NULL)
		return util_fail(cause, -EBADMSG, "the header is malformed: %s", row->problem);
	f->nheader = row->nfields;
	for (size_t i = 0; i < row->nfields; i++) {
		const char *name = row->fields[i];
		size_t len = row->lens[i];

		trim(&name, &len);
		for (size_t c = 0; c < NCOLUMNS; c++) {
			if (strlen(columns[c].name) != len || strncasecmp(name, columns[c].name, len) != 0)
				continue;
			if (f->index[c] >= 0)
				return util_fail(cause, -EBADMSG, "the header has column %s twice "
				    "(fields %d and %zu)", columns[c].name, f->index[c] + 1, i + 1);
			f->index[c] = (int)i;
		}
	}
	for (size_t c = 0; c < NCOLUMNS; c++) {
		if (!columns[c].required || f->index[c] >= 0)
			continue;
		tmp = util_printf("%s%s%s", missing ? missing : "", missing ? ", " : "", columns[c].name);
		free(missing);
		missing = tmp;
	}
	if (missing == NULL)
		return 0;
	for (size_t i = 0; i < row->nfields && i < 60; i++) {
		tmp = util_printf("%s%s%.*s", present ? present : "", present ? ", " : "",
		    (int)util_utf8_valid(row->fields[i], row->lens[i] < 60 ? row->lens[i] : 60),
		    row->fields[i]);
		free(present);
		present = tmp;
	}
	e = util_fail(cause, -EBADMSG, "required column%s missing: %s (the header has: %s)",
	    strchr(missing, ',') ? "s" : "", missing, present ? present : "nothing");
	free(missing);
	free(present);
	return e;
}

static int
reject(struct salesrow_reject *rej, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
reject(struct salesrow_reject *rej, const char *field, const char *fmt, ...)
{
	va_list ap;

	rej->field = field;
	va_start(ap, fmt);
	vsnprintf(rej->reason, sizeof rej->reason, fmt, ap);
	va_end(ap);
	/* A reason cut to fit may end inside a character: it goes into a text column. */
	rej->reason[util_utf8_valid(rej->reason, strlen(rej->reason))] = '\0';
	return 0;
}

/* The orderDate rule; 1 accepted, 0 rejected. */
static int
check_date(struct salesrow_file *f, const char *s, size_t len, struct salesrow_reject *rej)
{
	int32_t d[SALESROW_NFORMATS + 1];
	unsigned parses = 0, matches = 0;
	char want[16];

	for (int k = 1; k <= SALESROW_NFORMATS; k++) {
		d[k] = (f->possible & (1u << (k - 1))) ? salesrow_parse_date(k, s, len) : -1;
		if (d[k] >= 0)
			parses |= 1u << (k - 1);
		if (d[k] == f->day)
			matches |= 1u << (k - 1);
	}
	period_format_date(f->day, want);
	if (parses == 0) {
		if (f->r->o.date_format != SALESROW_DATE_AUTO)
			return reject(rej, "orderDate", "\"%.*s\" is not a date in the format %s (%s)",
			    quoted(s, len), s,
			    format_names[f->r->o.date_format], format_examples[f->r->o.date_format]);
		return reject(rej, "orderDate", "\"%.*s\" is not a date in any format this file can have",
		    quoted(s, len), s);
	}
	if (matches == 0)
		return reject(rej, "orderDate", "\"%.*s\" is not the requested day %s",
		    quoted(s, len), s, want);
	/* Accepted: narrow the formats, note where they read it differently. */
	f->possible = parses;
	f->dated++;
	for (int k = 1; k <= SALESROW_NFORMATS; k++) {
		if (!(parses & (1u << (k - 1))))
			continue;
		if (d[k] != f->day)
			f->miss[k]++;
		for (int m = k + 1; m <= SALESROW_NFORMATS; m++)
			if ((parses & (1u << (m - 1))) && d[k] != d[m])
				f->disagree[k][m] = true;
	}
	return 1;
}

/* A required text value: trimmed, not blank. */
static int
text_value(const char **v, size_t *len, const char *field, struct salesrow_reject *rej)
{
	trim(v, len);
	if (*len == 0)
		return reject(rej, field, "%s is blank", field);
	return 1;
}

/* An optional number: blank becomes NULL. */
static int
optional_number(const char **v, size_t *len, const char *field, struct salesrow_reject *rej)
{
	trim(v, len);
	if (*len == 0) {
		*v = NULL;
		return 1;
	}
	if (!salesrow_number(*v, *len, NULL))
		return reject(rej, field, "%s \"%.*s\" is not a number", field,
		    quoted(*v, *len), *v);
	return 1;
}

static void
apply_alias(const struct salesrow_rules *r, int kind, const char **v, size_t *len)
{
	const struct alias *a;

	if (r->naliases > 0 && (a = alias_find(r, kind, *v, *len)) != NULL) {
		*v = a->to;
		*len = a->tolen;
	}
}

/*
 * Personal data as a keyed hash: the same customer gives the same value (so
 * repeat customers can be counted) but the value cannot be turned back into
 * a name or number without the key. NULL stays NULL.
 */
static void
hash_value(struct salesrow_file *f, int slot, const char **v, size_t *len)
{
	unsigned char mac[SHA256_DIGEST_LENGTH];
	unsigned int maclen = 0;
	static const char hex[] = "0123456789abcdef";

	if (*v == NULL)
		return;
	if (HMAC(EVP_sha256(), f->r->hash_key, (int)strlen(f->r->hash_key), (const unsigned char *)*v, *len,
	    mac, &maclen) == NULL) {
		*v = NULL;
		return;
	}
	for (unsigned int i = 0; i < maclen; i++) {
		f->hashed[slot][2 * i] = hex[mac[i] >> 4];
		f->hashed[slot][2 * i + 1] = hex[mac[i] & 15];
	}
	f->hashed[slot][2 * maclen] = '\0';
	*v = f->hashed[slot];
	*len = 2 * maclen;
}

int
salesrow_record(struct salesrow_file *f, const struct csv_row *row, struct salesrow_line *line,
    struct salesrow_reject *rej)
{
	int sign, ok;

	memset(line, 0, sizeof *line);
	if (row->problem != NULL)
		return reject(rej, NULL, "%s", row->problem);
	if (row->nfields != f->nheader)
		return reject(rej, NULL, "%zu fields where the header has %zu", row->nfields, f->nheader);
	for (size_t i = 0; i < row->nfields; i++) {
		size_t at = util_utf8_valid(row->fields[i], row->lens[i]);
		const char *name = NULL;

		if (at == row->lens[i])
			continue;
		for (size_t c = 0; c < NCOLUMNS; c++)
			if (f->index[c] == (int)i)
				name = columns[c].name;
		if (row->fields[i][at] == '\0')
			return reject(rej, name, "field %zu%s%s%s holds a NUL byte (at byte %zu)", i + 1,
			    name ? " (" : "", name ? name : "", name ? ")" : "", at + 1);
		return reject(rej, name, "field %zu%s%s%s is not valid UTF-8 text (byte 0x%02x at byte %zu)",
		    i + 1, name ? " (" : "", name ? name : "", name ? ")" : "",
		    (unsigned char)row->fields[i][at], at + 1);
	}
	for (size_t c = 0; c < NCOLUMNS; c++) {
		int col = columns[c].col;

		if (f->index[c] < 0 || col < 0)
			continue;
		line->v[col] = row->fields[f->index[c]];
		line->len[col] = row->lens[f->index[c]];
	}
	/* In the order a person would fix them. */
	if (!(ok = text_value(&line->v[SR_INVOICE], &line->len[SR_INVOICE], "invoice", rej)))
		return ok;
	{
		const char *d = row->fields[f->index[COLUMN_ORDER_DATE]];
		size_t dlen = row->lens[f->index[COLUMN_ORDER_DATE]];

		trim(&d, &dlen);
		if (!(ok = check_date(f, d, dlen, rej)))
			return ok;
	}
	if (!(ok = text_value(&line->v[SR_STORE], &line->len[SR_STORE], "storeName", rej)) ||
	    !(ok = text_value(&line->v[SR_PRODUCT_ID], &line->len[SR_PRODUCT_ID], "productId", rej)) ||
	    !(ok = text_value(&line->v[SR_PRODUCT], &line->len[SR_PRODUCT], "productName", rej)))
		return ok;
	trim(&line->v[SR_QUANTITY], &line->len[SR_QUANTITY]);
	if (!salesrow_number(line->v[SR_QUANTITY], line->len[SR_QUANTITY], &sign))
		return reject(rej, "quantity", "quantity \"%.*s\" is not a number",
		    quoted(line->v[SR_QUANTITY], line->len[SR_QUANTITY]), line->v[SR_QUANTITY]);
	if (sign <= 0)
		return reject(rej, "quantity", "quantity %.*s is not above 0", quoted(line->v[SR_QUANTITY], line->len[SR_QUANTITY]),
		    line->v[SR_QUANTITY]);
	trim(&line->v[SR_TOTAL], &line->len[SR_TOTAL]);
	if (!salesrow_number(line->v[SR_TOTAL], line->len[SR_TOTAL], &sign))
		return reject(rej, "totalProductPrice", "totalProductPrice \"%.*s\" is not a number",
		    quoted(line->v[SR_TOTAL], line->len[SR_TOTAL]), line->v[SR_TOTAL]);
	if (sign < 0)
		return reject(rej, "totalProductPrice", "totalProductPrice %.*s is negative",
		    quoted(line->v[SR_TOTAL], line->len[SR_TOTAL]), line->v[SR_TOTAL]);
	if (!(ok = optional_number(&line->v[SR_SELLING_PRICE], &line->len[SR_SELLING_PRICE],
	    "sellingPrice", rej)) ||
	    !(ok = optional_number(&line->v[SR_DISCOUNT], &line->len[SR_DISCOUNT], "discountAmount", rej)) ||
	    !(ok = optional_number(&line->v[SR_COST_PRICE], &line->len[SR_COST_PRICE], "costPrice", rej)) ||
	    !(ok = optional_number(&line->v[SR_GST_AMOUNT], &line->len[SR_GST_AMOUNT], "GSTAmount", rej)))
		return ok;
	/* Names: trimmed, blank brand and category shown as "(none)", then renamed. */
	for (int col = 0; col < SR_NCOLS; col++)
		if (line->v[col] != NULL)
			trim(&line->v[col], &line->len[col]);
	if (line->len[SR_BRAND] == 0) {
		line->v[SR_BRAND] = "(none)";
		line->len[SR_BRAND] = 6;
	}
	if (line->len[SR_CATEGORY] == 0) {
		line->v[SR_CATEGORY] = "(none)";
		line->len[SR_CATEGORY] = 6;
	}
	apply_alias(f->r, ALIAS_PRODUCT, &line->v[SR_PRODUCT], &line->len[SR_PRODUCT]);
	apply_alias(f->r, ALIAS_STORE, &line->v[SR_STORE], &line->len[SR_STORE]);
	apply_alias(f->r, ALIAS_BRAND, &line->v[SR_BRAND], &line->len[SR_BRAND]);
	apply_alias(f->r, ALIAS_CATEGORY, &line->v[SR_CATEGORY], &line->len[SR_CATEGORY]);
	/* Blank optional text is NULL. */
	for (int col = 0; col < SR_NCOLS; col++)
		if (line->v[col] != NULL && line->len[col] == 0)
			line->v[col] = NULL;
	switch (f->r->o.customer) {
	case SALESROW_CUSTOMER_KEEP:
		break;
	case SALESROW_CUSTOMER_HASH:
		hash_value(f, 0, &line->v[SR_CUSTOMER_NAME], &line->len[SR_CUSTOMER_NAME]);
		hash_value(f, 1, &line->v[SR_CUSTOMER_NUMBER], &line->len[SR_CUSTOMER_NUMBER]);
		break;
	default:
		line->v[SR_CUSTOMER_NAME] = NULL;
		line->v[SR_CUSTOMER_NUMBER] = NULL;
		break;
	}
	return 1;
}

int
salesrow_finish(struct salesrow_file *f, enum salesrow_date_format *chosen, char **cause)
{
	char want[16];
	int k, first = 0;

	if (f->r->o.date_format != SALESROW_DATE_AUTO) {
		if (chosen != NULL)
			*chosen = f->r->o.date_format;
		return 0;
	}
	if (f->dated == 0) {
		/* No dated line at all: nothing was loaded, nothing to decide. */
		if (chosen != NULL)
			*chosen = SALESROW_DATE_AUTO;
		return 0;
	}
	for (k = 1; k <= SALESROW_NFORMATS; k++) {
		if (!(f->possible & (1u << (k - 1))))
			continue;
		if (first == 0) {
			first = k;
			continue;
		}
		if (f->disagree[first][k])
			return util_fail(cause, -EBADMSG, "orderDate is ambiguous: its dates read as %s (%s) "
			    "and as %s (%s) give different days; set [source] date_format = %s or %s",
			    format_names[first], format_examples[first], format_names[k], format_examples[k],
			    format_names[first], format_names[k]);
	}
	period_format_date(f->day, want);
	if (f->miss[first] > 0)
		return util_fail(cause, -EBADMSG, "%llu lines are not of the requested day %s when orderDate "
		    "is read as %s (%s); set [source] date_format", (unsigned long long)f->miss[first], want,
		    format_names[first], format_examples[first]);
	if (chosen != NULL)
		*chosen = (enum salesrow_date_format)first;
	return 0;
}
