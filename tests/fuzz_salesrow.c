/*
 * fuzz_salesrow: libFuzzer harness for the sales-row validator, which sees
 * untrusted POS fields. The input is parsed as CSV (its first record the
 * header), and every record goes through salesrow_record under options taken
 * from the first byte (date format, customer data kept or hashed, the day).
 *
 * Invariants checked, beyond "no crash, no leak":
 * - a record is accepted (1) or rejected (0), nothing else;
 * - an accepted line has every required column, and every value is valid
 *   UTF-8 without NUL (it goes into a text column) and as long as it says;
 * - quantity is a number above 0, totalProductPrice a number not below 0,
 *   the optional numbers blank (NULL) or numbers, all within the digit limits;
 * - a rejected record has a reason, NUL-terminated in its buffer and valid
 *   UTF-8 (it is stored as text), and a field name that is a column name;
 * - a record the parser marked broken is never accepted.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/csv.h"
#include "etl/salesrow.h"
#include "base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	struct salesrow_file *f;
	bool header;
	bool header_ok;
};

static const int required[] = { SR_INVOICE, SR_STORE, SR_PRODUCT_ID, SR_PRODUCT, SR_BRAND, SR_CATEGORY,
	SR_QUANTITY, SR_TOTAL };
static const int numbers[] = { SR_QUANTITY, SR_SELLING_PRICE, SR_DISCOUNT, SR_TOTAL, SR_COST_PRICE,
	SR_GST_AMOUNT };

static void
check_line(const struct salesrow_line *line)
{
	int sign;

	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
		if (line->v[required[i]] == NULL || line->len[required[i]] == 0)
			abort();
	for (int col = 0; col < SR_NCOLS; col++) {
		if (line->v[col] == NULL)
			continue;
		if (util_utf8_valid(line->v[col], line->len[col]) != line->len[col])
			abort();
	}
	for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
		const char *v = line->v[numbers[i]];
		size_t len = line->len[numbers[i]], k = 0, nint = 0, nfrac = 0;

		if (v == NULL)
			continue;
		if (!salesrow_number(v, len, &sign))
			abort();
		/* In range: the digit limits hold (leading zeros aside). */
		if (k < len && (v[k] == '-' || v[k] == '+'))
			k++;
		while (k < len && v[k] == '0')
			k++;
		for (; k < len && v[k] != '.'; k++)
			nint++;
		if (k < len)
			nfrac = len - k - 1;
		if (nint > SALESROW_NUMBER_INT_DIGITS || nfrac > SALESROW_NUMBER_FRAC_DIGITS)
			abort();
		if (numbers[i] == SR_QUANTITY && sign <= 0)
			abort();
		if (numbers[i] == SR_TOTAL && sign < 0)
			abort();
	}
}

static int
on_row(void *arg, const struct csv_row *row, char **cause)
{
	struct run *r = arg;
	struct salesrow_line line;
	struct salesrow_reject rej;
	int e;

	if (!r->header) {
		r->header = true;
		e = salesrow_header(r->f, row, cause);
		if (e != 0 && e != -EBADMSG)
			abort();
		r->header_ok = e == 0;
		/* A refused header ends the file, as in the ETL. */
		return e;
	}
	memset(&rej, 0, sizeof rej);
	e = salesrow_record(r->f, row, &line, &rej);
	if (e == 1) {
		if (row->problem != NULL)
			abort();
		check_line(&line);
	} else if (e == 0) {
		size_t n = strnlen(rej.reason, sizeof rej.reason);

		if (n == 0 || n == sizeof rej.reason)
			abort();
		if (util_utf8_valid(rej.reason, n) != n)
			abort();
		if (rej.field != NULL && util_utf8_valid(rej.field, strlen(rej.field)) != strlen(rej.field))
			abort();
	} else if (e != -ENOMEM) {
		abort();
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum salesrow_date_format formats[] = { SALESROW_DATE_AUTO, SALESROW_DATE_YMD,
		SALESROW_DATE_DMY, SALESROW_DATE_DMY_SLASH, SALESROW_DATE_MDY_SLASH, SALESROW_DATE_YMD_SLASH };
	struct salesrow_options o = { 0 };
	struct salesrow_rules *rules = NULL;
	struct run r = { 0 };
	struct csv *p = NULL;
	char *cause = NULL;
	unsigned char mode;
	int e;

	if (size < 1)
		return 0;
	mode = data[0];
	data++;
	size--;
	o.date_format = formats[mode % 6];
	o.customer = (mode >> 3) % 3 == 0 ? SALESROW_CUSTOMER_DROP : (mode >> 3) % 3 == 1 ?
	    SALESROW_CUSTOMER_KEEP : SALESROW_CUSTOMER_HASH;
	o.hash_key = "fuzz-key";
	if (salesrow_rules_new(&rules, &o, &cause) < 0)
		abort();
	/* 2026-11-23 or 2026-11-05 (the latter reads two ways in the slash formats). */
	if (salesrow_file_new(&r.f, rules, (mode & 0x80) ? 20762 : 20780) < 0 || csv_new(&p, on_row, &r) < 0)
		abort();
	e = csv_feed(p, (const char *)data, size, &cause);
	if (e == 0)
		e = csv_finish(p, &cause);
	if (e == 0 && r.header_ok) {
		enum salesrow_date_format chosen;

		free(cause);
		cause = NULL;
		e = salesrow_finish(r.f, &chosen, &cause);
		if (e != 0 && e != -EBADMSG)
			abort();
	}
	free(cause);
	csv_free(p);
	salesrow_file_free(r.f);
	salesrow_rules_free(rules);
	return 0;
}
