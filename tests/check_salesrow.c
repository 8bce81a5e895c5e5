/*
 * check_salesrow: the meaning of POS records: columns by header name, every
 * rejection rule with its field and reason, trimming and aliases, numbers,
 * date formats, and "auto" refusing files it cannot read one way.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/period.h"
#include "etl/salesrow.h"
#include "testutil.h"
#include "base/util.h"

#define HEADER "loyaltyTier,storeName,invoice,orderDate,productId,productName,quantity," \
	"totalProductPrice,brandName,subCategoryOf,orderType,costPrice,customerName"

static char *dir;

/* Split one CSV line (no quoting needed in these tests) into a csv_row. */
struct fake {
	struct csv_row row;
	char *copy;
	char *fields[64];
	size_t lens[64];
};


static void
setup(void)
{
	dir = tu_tmpdir();
}

static struct fake last;
static struct salesrow_file *last_file;

static void
teardown(void)
{
	free(last.copy);
	last.copy = NULL;
	salesrow_file_free(last_file);
	last_file = NULL;
	tu_rmrf(dir);
	free(dir);
}

static const struct csv_row *
fake_row(struct fake *f, const char *text, uint64_t record)
{
	char *p, *save = NULL;
	size_t n = 0;

	memset(f, 0, sizeof *f);
	f->copy = strdup(text);
	/* strsep keeps empty fields. */
	save = f->copy;
	while ((p = strsep(&save, ",")) != NULL && n < 64) {
		f->fields[n] = p;
		f->lens[n] = strlen(p);
		n++;
	}
	f->row.nfields = n;
	f->row.fields = f->fields;
	f->row.lens = f->lens;
	f->row.record = record;
	f->row.line = record;
	f->row.raw = text;
	f->row.rawlen = strlen(text);
	return &f->row;
}

static void
value_is(const struct salesrow_line *line, int col, const char *want)
{
	ck_assert_ptr_nonnull(line->v[col]);
	ck_assert_msg(line->len[col] == strlen(want) && memcmp(line->v[col], want, line->len[col]) == 0,
	    "column %d is \"%.*s\", not \"%s\"", col, (int)line->len[col], line->v[col], want);
}

static struct salesrow_rules *
rules(enum salesrow_date_format fmt, bool keep, const char *aliases)
{
	struct salesrow_options o = { fmt, keep ? SALESROW_CUSTOMER_KEEP : SALESROW_CUSTOMER_DROP, aliases, NULL };
	struct salesrow_rules *r = NULL;
	char *cause = NULL;

	ck_assert_msg(salesrow_rules_new(&r, &o, &cause) == 0, "%s", cause ? cause : "");
	return r;
}

static int32_t
day_of(const char *s)
{
	int32_t d;

	ck_assert_int_eq(period_parse_date(s, &d, NULL), 0);
	return d;
}

/*
 * Run one data record through a fresh file; returns 1 accepted, 0 rejected.
 * The line's values point into the record (last) and the file (last_file),
 * so both live until the next call or the teardown.
 */
static int
one(struct salesrow_rules *r, const char *day, const char *record, struct salesrow_reject *rej,
    struct salesrow_line *line)
{
	struct fake h;

	free(last.copy);
	last.copy = NULL;
	salesrow_file_free(last_file);
	ck_assert_int_eq(salesrow_file_new(&last_file, r, day_of(day)), 0);
	ck_assert_int_eq(salesrow_header(last_file, fake_row(&h, HEADER, 1), NULL), 0);
	free(h.copy);
	return salesrow_record(last_file, fake_row(&last, record, 2), line, rej);
}

START_TEST(test_accepts_and_maps)
{
	struct salesrow_rules *r = rules(SALESROW_DATE_YMD, false, NULL);
	struct salesrow_reject rej;
	struct salesrow_line line;

	ck_assert_int_eq(one(r, "2026-11-23", "gold,  Koramangala ,INV-1,2026-11-23,P1, Haldiram's Bhujia ,2,"
	    "120.50,Haldiram,Snacks,online,40.25,Asha", &rej, &line), 1);
	value_is(&line, SR_STORE, "Koramangala");
	value_is(&line, SR_PRODUCT, "Haldiram's Bhujia");
	value_is(&line, SR_TOTAL, "120.50");
	value_is(&line, SR_CATEGORY, "Snacks");
	/* Personal data is dropped unless kept; columns the header lacks are NULL. */
	ck_assert_ptr_null(line.v[SR_CUSTOMER_NAME]);
	ck_assert_ptr_null(line.v[SR_BARCODE]);
	salesrow_rules_free(r);
	r = rules(SALESROW_DATE_YMD, true, NULL);
	ck_assert_int_eq(one(r, "2026-11-23", "gold,S,INV-1,2026-11-23,P1,Tea,1,10,,  ,online,,Asha",
	    &rej, &line), 1);
	value_is(&line, SR_CUSTOMER_NAME, "Asha");
	/* Blank brand and category show as "(none)"; blank cost is NULL. */
	value_is(&line, SR_BRAND, "(none)");
	value_is(&line, SR_CATEGORY, "(none)");
	ck_assert_ptr_null(line.v[SR_COST_PRICE]);
	salesrow_rules_free(r);
}
END_TEST

/* Personal data as a keyed hash: stable, not the value, different under another key. */
START_TEST(test_customer_hash)
{
	struct salesrow_options o = { SALESROW_DATE_YMD, SALESROW_CUSTOMER_HASH, NULL, "k1" };
	struct salesrow_rules *r = NULL, *r2 = NULL;
	struct salesrow_reject rej;
	struct salesrow_line line;
	char *cause = NULL, first[80];

	ck_assert_int_eq(salesrow_rules_new(&r, &o, NULL), 0);
	ck_assert_int_eq(one(r, "2026-11-23", "g,S,I,2026-11-23,P1,Tea,1,10,B,C,online,1,Asha", &rej, &line), 1);
	ck_assert_uint_eq(line.len[SR_CUSTOMER_NAME], 64);
	/* HMAC-SHA256("k1", "Asha"), as computed by: printf Asha | openssl dgst -sha256 -hmac k1 */
	value_is(&line, SR_CUSTOMER_NAME, "f96adac05cb30851b37eab9a2a94b9ff57a0574a5d818c3b7f79dc971265a859");
	snprintf(first, sizeof first, "%.*s", (int)line.len[SR_CUSTOMER_NAME], line.v[SR_CUSTOMER_NAME]);
	o.hash_key = "k2";
	ck_assert_int_eq(salesrow_rules_new(&r2, &o, NULL), 0);
	ck_assert_int_eq(one(r2, "2026-11-23", "g,S,I,2026-11-23,P1,Tea,1,10,B,C,online,1,Asha", &rej, &line), 1);
	ck_assert(strncmp(first, line.v[SR_CUSTOMER_NAME], 64) != 0);
	salesrow_rules_free(r);
	salesrow_rules_free(r2);
	o.hash_key = NULL;
	ck_assert_int_eq(salesrow_rules_new(&r, &o, &cause), -EINVAL);
	ck_assert(strstr(cause, "customer_hash_key") != NULL);
	free(cause);
}
END_TEST

START_TEST(test_rejects)
{
	static const struct {
		const char *record, *field, *reason;
	} cases[] = {
		{ "g,S,,2026-11-23,P1,Tea,1,10,B,C,online,1,x", "invoice", "invoice is blank" },
		{ "g,S,I,2026-11-22,P1,Tea,1,10,B,C,online,1,x", "orderDate", "is not the requested day 2026-11-23" },
		{ "g,S,I,yesterday,P1,Tea,1,10,B,C,online,1,x", "orderDate", "is not a date in the format ymd" },
		{ "g,S,I,2026-11-23,P1,Tea,0,10,B,C,online,1,x", "quantity", "quantity 0 is not above 0" },
		{ "g,S,I,2026-11-23,P1,Tea,-2,10,B,C,online,1,x", "quantity", "quantity -2 is not above 0" },
		{ "g,S,I,2026-11-23,P1,Tea,12.5x,10,B,C,online,1,x", "quantity", "is not a number" },
		{ "g,S,I,2026-11-23,P1,Tea,1,-10.00,B,C,online,1,x", "totalProductPrice", "is negative" },
		{ "g,S,I,2026-11-23,P1,Tea,1,1e3,B,C,online,1,x", "totalProductPrice", "is not a number" },
		{ "g,S,I,2026-11-23,P1,Tea,1,10,B,C,online,1;5,x", "costPrice", "is not a number" },
		{ "g, ,I,2026-11-23,P1,Tea,1,10,B,C,online,1,x", "storeName", "storeName is blank" },
		{ "g,S,I,2026-11-23,P1,,1,10,B,C,online,1,x", "productName", "productName is blank" },
		{ "g,S,I,2026-11-23,P1,Tea,1,10,B,C,online,1", NULL, "12 fields where the header has 13" },
		{ "g,S,I,2026-11-23,P1,Te\xff,1,10,B,C,online,1,x", "productName",
		    "field 6 (productName) is not valid UTF-8 text (byte 0xff at byte 3)" },
		{ "g,S,I,2026-11-23,P1,Tea,1,10,B,C,online,1,\xc0\xaf", "customerName", "byte 0xc0 at byte 1" },
		{ "g,S,I,2026-11-23,P1,Tea,1,10,B,C,online,\xed\xa0\x80,x", "costPrice", "byte 0xed at byte 1" },
		{ "\xf8,S,I,2026-11-23,P1,Tea,1,10,B,C,online,1,x", NULL, "field 1 is not valid UTF-8" },
		{ "g,S,I,2026-11-23,P1,Tea,1234567890123,10,B,C,online,1,x", "quantity", "is not a number" },
		{ "g,S,I,2026-11-23,P1,Tea,1,10.000000000000000000001,B,C,online,1,x", "totalProductPrice",
		    "is not a number" },
	};
	struct salesrow_rules *r = rules(SALESROW_DATE_YMD, false, NULL);

	for (size_t i = 0; i < UTIL_NELEM(cases); i++) {
		struct salesrow_reject rej;
		struct salesrow_line line;

		ck_assert_msg(one(r, "2026-11-23", cases[i].record, &rej, &line) == 0, "accepted: %s",
		    cases[i].record);
		if (cases[i].field == NULL)
			ck_assert_ptr_null(rej.field);
		else
			ck_assert_str_eq(rej.field, cases[i].field);
		ck_assert_msg(strstr(rej.reason, cases[i].reason) != NULL, "%s: reason \"%s\" lacks \"%s\"",
		    cases[i].record, rej.reason, cases[i].reason);
	}
	salesrow_rules_free(r);
}
END_TEST

/* A NUL in any field is a reject naming the field, never a cut value. */
START_TEST(test_nul_rejected)
{
	struct salesrow_rules *r = rules(SALESROW_DATE_YMD, false, NULL);
	struct salesrow_reject rej;
	struct salesrow_line line;
	struct salesrow_file *f;
	struct fake h, rec;

	ck_assert_int_eq(salesrow_file_new(&f, r, day_of("2026-11-23")), 0);
	ck_assert_int_eq(salesrow_header(f, fake_row(&h, HEADER, 1), NULL), 0);
	fake_row(&rec, "g,S,I,2026-11-23,P1,Tea,1,10,B,C,online,1,x", 2);
	/* "Tea" becomes "T\0a": the C string says "T", the length says 3. */
	rec.fields[5][1] = '\0';
	ck_assert_int_eq(salesrow_record(f, &rec.row, &line, &rej), 0);
	ck_assert_str_eq(rej.field, "productName");
	ck_assert_msg(strstr(rej.reason, "field 6 (productName) holds a NUL byte (at byte 2)") != NULL, "%s",
	    rej.reason);
	free(rec.copy);
	free(h.copy);
	salesrow_file_free(f);
	salesrow_rules_free(r);
}
END_TEST

/* A value quoted in a reason is cut on a character boundary: reasons are stored as text. */
START_TEST(test_reasons_are_utf8)
{
	struct salesrow_rules *r = rules(SALESROW_DATE_YMD, false, NULL);
	const char *cols[] = { "date", "quantity", "total", "cost" };
	char val[1200], rec[5000];

	/* One ASCII byte, then two-byte characters: the 200th byte is the first half of one. */
	val[0] = 'x';
	for (int i = 1; i < 1001; i += 2)
		memcpy(val + i, "\xc3\xa9", 2);
	val[1001] = '\0';
	for (size_t k = 0; k < UTIL_NELEM(cols); k++) {
		struct salesrow_reject rej;
		struct salesrow_line line;

		snprintf(rec, sizeof rec, "g,S,I,%s,P1,Tea,%s,%s,B,C,online,%s,x", k == 0 ? val : "2026-11-23",
		    k == 1 ? val : "1", k == 2 ? val : "10", k == 3 ? val : "1");
		ck_assert_int_eq(one(r, "2026-11-23", rec, &rej, &line), 0);
		ck_assert_msg(util_utf8_valid(rej.reason, strlen(rej.reason)) == strlen(rej.reason),
		    "%s: the reason is not valid UTF-8: %s", cols[k], rej.reason);
	}
	salesrow_rules_free(r);
}
END_TEST

/* A header that did not parse cleanly is refused: its columns cannot be trusted. */
START_TEST(test_broken_header)
{
	struct salesrow_rules *r = rules(SALESROW_DATE_YMD, false, NULL);
	struct salesrow_file *f;
	struct fake h;
	char *cause = NULL;

	ck_assert_int_eq(salesrow_file_new(&f, r, day_of("2026-11-23")), 0);
	fake_row(&h, HEADER, 1);
	h.row.problem = "line 1: more than 1024 fields in a record in field 1025";
	ck_assert_int_eq(salesrow_header(f, &h.row, &cause), -EBADMSG);
	ck_assert_msg(strstr(cause, "the header is malformed: line 1: more than 1024 fields") != NULL, "%s", cause);
	free(cause);
	free(h.copy);
	salesrow_file_free(f);
	salesrow_rules_free(r);
}
END_TEST

START_TEST(test_header)
{
	struct salesrow_rules *r = rules(SALESROW_DATE_YMD, false, NULL);
	struct salesrow_file *f;
	struct fake h;
	char *cause = NULL;

	ck_assert_int_eq(salesrow_file_new(&f, r, day_of("2026-11-23")), 0);
	ck_assert_int_eq(salesrow_header(f, fake_row(&h, "invoice,orderDate,productId,quantity,"
	    "totalProductPrice,brandName,subCategoryOf,orderType,extra", 1), &cause), -EBADMSG);
	ck_assert_msg(strstr(cause, "required columns missing: productName, storeName (the header has: "
	    "invoice, orderDate") != NULL, "%s", cause);
	free(cause);
	free(h.copy);
	cause = NULL;
	ck_assert_int_eq(salesrow_header(f, fake_row(&h, HEADER ",invoice", 1), &cause), -EBADMSG);
	ck_assert_msg(strstr(cause, "column invoice twice") != NULL, "%s", cause);
	free(cause);
	free(h.copy);
	/* Names match whatever their case and surrounding blanks. */
	ck_assert_int_eq(salesrow_header(f, fake_row(&h, " STORENAME ,Invoice,orderdate,productId,"
	    "productName,quantity,totalProductPrice,brandName,subCategoryOf,orderType", 1), NULL), 0);
	free(h.copy);
	salesrow_file_free(f);
	salesrow_rules_free(r);
}
END_TEST

START_TEST(test_dates)
{
	static const struct {
		enum salesrow_date_format f;
		const char *text;
		const char *want;       /* NULL: does not parse */
	} cases[] = {
		{ SALESROW_DATE_YMD, "2026-11-23", "2026-11-23" },
		{ SALESROW_DATE_YMD, "2026-11-23 14:05:00", "2026-11-23" },
		{ SALESROW_DATE_YMD, "2026-02-29", NULL },
		{ SALESROW_DATE_YMD, "2028-02-29", "2028-02-29" },
		{ SALESROW_DATE_YMD, "26-11-23", NULL },
		{ SALESROW_DATE_YMD, "2026/11/23", NULL },
		{ SALESROW_DATE_DMY, "23-11-2026", "2026-11-23" },
		{ SALESROW_DATE_DMY, "3-1-2026", "2026-01-03" },
		{ SALESROW_DATE_DMY_SLASH, "23/11/2026", "2026-11-23" },
		{ SALESROW_DATE_DMY_SLASH, "23/11/26", NULL },
		{ SALESROW_DATE_MDY_SLASH, "11/23/2026", "2026-11-23" },
		{ SALESROW_DATE_MDY_SLASH, "23/11/2026", NULL },
		{ SALESROW_DATE_YMD_SLASH, "2026/11/23", "2026-11-23" },
		{ SALESROW_DATE_YMD_SLASH, "2026/13/01", NULL },
	};

	for (size_t i = 0; i < UTIL_NELEM(cases); i++) {
		int32_t d = salesrow_parse_date(cases[i].f, cases[i].text, strlen(cases[i].text));
		char buf[16];

		if (cases[i].want == NULL) {
			ck_assert_msg(d < 0, "%s parsed", cases[i].text);
			continue;
		}
		ck_assert_msg(d >= 0, "%s did not parse", cases[i].text);
		period_format_date(d, buf);
		ck_assert_str_eq(buf, cases[i].want);
	}
}
END_TEST

/* A whole file's dates through "auto". */
static int
auto_file(const char *day, const char *const *dates, size_t n, enum salesrow_date_format *chosen,
    char **cause, int *accepted)
{
	struct salesrow_rules *r = rules(SALESROW_DATE_AUTO, false, NULL);
	struct salesrow_file *f;
	struct fake h;
	int e;

	*accepted = 0;
	ck_assert_int_eq(salesrow_file_new(&f, r, day_of(day)), 0);
	ck_assert_int_eq(salesrow_header(f, fake_row(&h, HEADER, 1), NULL), 0);
	for (size_t i = 0; i < n; i++) {
		struct fake d;
		struct salesrow_line line;
		struct salesrow_reject rej;
		char *rec = util_printf("g,S,I,%s,P,Tea,1,10,B,C,online,1,x", dates[i]);

		*accepted += salesrow_record(f, fake_row(&d, rec, i + 2), &line, &rej);
		free(d.copy);
		free(rec);
	}
	e = salesrow_finish(f, chosen, cause);
	free(h.copy);
	salesrow_file_free(f);
	salesrow_rules_free(r);
	return e;
}

START_TEST(test_auto_dates)
{
	static const char *const ymd[] = { "2026-11-05", "2026-11-05" };
	static const char *const dmy23[] = { "23/11/2026", "23/11/2026" };
	static const char *const ambiguous[] = { "05/11/2026", "05/11/2026" };
	static const char *const same[] = { "11/11/2026" };
	static const char *const mixed[] = { "2026-11-23", "23/11/2026" };
	enum salesrow_date_format chosen;
	char *cause = NULL;
	int accepted;

	ck_assert_int_eq(auto_file("2026-11-05", ymd, 2, &chosen, &cause, &accepted), 0);
	ck_assert_int_eq(chosen, SALESROW_DATE_YMD);
	ck_assert_int_eq(accepted, 2);
	ck_assert_int_eq(auto_file("2026-11-23", dmy23, 2, &chosen, &cause, &accepted), 0);
	ck_assert_int_eq(chosen, SALESROW_DATE_DMY_SLASH);
	/* Day and month both 12 or less: dmy and mdy read it differently. */
	ck_assert_int_eq(auto_file("2026-11-05", ambiguous, 2, &chosen, &cause, &accepted), -EBADMSG);
	ck_assert_msg(strstr(cause, "ambiguous") && strstr(cause, "date_format = dmy-slash or mdy-slash"),
	    "%s", cause);
	free(cause);
	cause = NULL;
	/* Both read 11/11 the same: nothing to decide. */
	ck_assert_int_eq(auto_file("2026-11-11", same, 1, &chosen, &cause, &accepted), 0);
	/* Two formats in one file: the second record does not fit the first's format. */
	ck_assert_int_eq(auto_file("2026-11-23", mixed, 2, &chosen, &cause, &accepted), 0);
	ck_assert_int_eq(accepted, 1);
}
END_TEST

START_TEST(test_numbers)
{
	static const struct {
		const char *s;
		bool ok;
		int sign;
	} cases[] = {
		{ "0", true, 0 }, { "0.00", true, 0 }, { "-0.0", true, 0 }, { "12", true, 1 },
		{ "+12.50", true, 1 }, { "-3", true, -1 }, { ".5", true, 1 }, { "5.", true, 1 },
		{ "", false, 0 }, { ".", false, 0 }, { "-", false, 0 }, { "1,234", false, 0 },
		{ "1e3", false, 0 }, { "12 ", false, 0 }, { "--1", false, 0 }, { "1.2.3", false, 0 },
		/* Bounded: 12 digits before the point (leading zeros aside), 20 after. */
		{ "999999999999.99", true, 1 }, { "000000000000001", true, 1 },
		{ "1.00000000000000000001", true, 1 }, { "1000000000000", false, 0 },
		{ "1.000000000000000000001", false, 0 },
		{ "99999999999999999999999999999999999999999999999999999999999999999999", false, 0 },
	};

	for (size_t i = 0; i < UTIL_NELEM(cases); i++) {
		int sign = 99;
		bool ok = salesrow_number(cases[i].s, strlen(cases[i].s), &sign);

		ck_assert_msg(ok == cases[i].ok, "\"%s\"", cases[i].s);
		if (ok)
			ck_assert_int_eq(sign, cases[i].sign);
	}
}
END_TEST

START_TEST(test_aliases)
{
	char *path = tu_write(dir, "aliases.csv", "kind,from,to\r\n"
	    "product,Coke 500ml,Coca-Cola 500 ml\n"
	    "store, Koramangala Old ,Koramangala\n"
	    "brand,\"Haldiram's, Delhi\",Haldiram's\n");
	char *bad = tu_write(dir, "bad.csv", "kind,from,to\nflavour,a,b\n");
	struct salesrow_options o = { SALESROW_DATE_YMD, SALESROW_CUSTOMER_DROP, bad, NULL };
	struct salesrow_rules *r, *broken = NULL;
	struct salesrow_reject rej;
	struct salesrow_line line;
	char *cause = NULL;

	r = rules(SALESROW_DATE_YMD, false, path);
	ck_assert_uint_eq(salesrow_rules_naliases(r), 3);
	ck_assert_int_eq(one(r, "2026-11-23", "g,Koramangala Old,I,2026-11-23,P,Coke 500ml,1,10,B,C,online,1,x",
	    &rej, &line), 1);
	value_is(&line, SR_PRODUCT, "Coca-Cola 500 ml");
	value_is(&line, SR_STORE, "Koramangala");
	salesrow_rules_free(r);
	/* The aliases file is configuration: a broken one is -EINVAL (exit 78), not bad POS data. */
	ck_assert_int_eq(salesrow_rules_new(&broken, &o, &cause), -EINVAL);
	ck_assert_msg(strstr(cause, "bad.csv:2: kind \"flavour\"") != NULL, "%s", cause);
	free(cause);
	free(path);
	free(bad);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("salesrow");
	TCase *tc = tcase_create("rules");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_accepts_and_maps);
	tcase_add_test(tc, test_rejects);
	tcase_add_test(tc, test_customer_hash);
	tcase_add_test(tc, test_header);
	tcase_add_test(tc, test_nul_rejected);
	tcase_add_test(tc, test_reasons_are_utf8);
	tcase_add_test(tc, test_broken_header);
	tcase_add_test(tc, test_dates);
	tcase_add_test(tc, test_auto_dates);
	tcase_add_test(tc, test_numbers);
	tcase_add_test(tc, test_aliases);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
