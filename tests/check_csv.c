/*
 * check_csv: the streaming CSV parser: quoting, CRLF/LF, BOM, embedded line
 * ends, blank lines, per-record problems, fatal errors, and the same records
 * whatever the chunks the bytes arrive in (every split of small inputs,
 * random splits of random larger ones, checked against the values they were
 * written from).
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/csv.h"
#include "base/util.h"

/* Records as "line:problem|f1|f2|...\n" lines, for comparing. */
struct out {
	char *text;
	size_t len;
	int stop_at;            /* record number whose callback fails, 0: none */
	bool values_only;       /* "|f1|f2\n" per record */
};

static int
collect(void *arg, const struct csv_row *row, char **cause)
{
	struct out *o = arg;
	char *add, *joined;

	if (o->stop_at != 0 && (int)row->record == o->stop_at)
		return util_fail(cause, -ECANCELED, "stopped at record %llu", (unsigned long long)row->record);
	add = o->values_only ? strdup("") : util_printf("%llu:%s:%.*s", (unsigned long long)row->line,
	    row->problem ? row->problem : "", (int)row->rawlen, row->raw);
	for (size_t i = 0; i < row->nfields; i++) {
		joined = util_printf("%s|%s", add, row->fields[i]);
		free(add);
		add = joined;
	}
	joined = util_printf("%s%s\n", o->text ? o->text : "", add);
	free(add);
	free(o->text);
	o->text = joined;
	o->len = strlen(joined);
	return 0;
}

/* Parse in chunks given by cuts (sorted offsets); returns the error, output in *o. */
static int
parse_cuts(const char *in, size_t len, const size_t *cuts, size_t ncuts, struct out *o, char **cause)
{
	struct csv *p;
	size_t at = 0;
	int e = 0;

	ck_assert_int_eq(csv_new(&p, collect, o), 0);
	for (size_t i = 0; i <= ncuts && e == 0; i++) {
		size_t end = i < ncuts ? cuts[i] : len;

		e = csv_feed(p, in + at, end - at, cause);
		at = end;
	}
	if (e == 0)
		e = csv_finish(p, cause);
	csv_free(p);
	return e;
}

static char *
parse_all(const char *in, int *err)
{
	struct out o = { 0 };
	char *cause = NULL;

	*err = parse_cuts(in, strlen(in), NULL, 0, &o, &cause);
	free(cause);
	return o.text ? o.text : strdup("");
}

START_TEST(test_basics)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "a,b\n1,2\n", "1::a,b|a|b\n2::1,2|1|2\n" },
		{ "a,b\r\n1,2\r\n", "1::a,b|a|b\n2::1,2|1|2\n" },
		{ "a,b\n1,2", "1::a,b|a|b\n2::1,2|1|2\n" },
		{ "\xef\xbb\xbf" "a,b\n", "1::a,b|a|b\n" },
		{ "x,\"a,b\",\"say \"\"hi\"\"\"\n", "1::x,\"a,b\",\"say \"\"hi\"\"\"|x|a,b|say \"hi\"\n" },
		{ "\"two\nlines\",z\nnext\n", "1::\"two\nlines\",z|two\nlines|z\n3::next|next\n" },
		{ "a\n\n\nb\n", "1::a|a\n4::b|b\n" },
		{ ",,\n", "1::,,|||\n" },
		{ "\"\"\n", "1::\"\"|\n" },
		{ "\"cr\rinside\"\n", "1::\"cr\rinside\"|cr\rinside\n" },
		{ "a\rb\n", "1::a|a\n2::b|b\n" },
		{ "5\" bowl,x\n", "1:line 1: a quote inside an unquoted field in field 1:5\" bowl,x|5\" bowl|x\n" },
		{ "\"a\"b,c\n", "1:line 1: text after the closing quote in field 1:\"a\"b,c|ab|c\n" },
		{ "\xef\xbb" "a\n", "1::\xef\xbb" "a|\xef\xbb" "a\n" },
	};

	for (size_t i = 0; i < UTIL_NELEM(cases); i++) {
		int err;
		char *got = parse_all(cases[i].in, &err);

		ck_assert_int_eq(err, 0);
		ck_assert_msg(strcmp(got, cases[i].want) == 0, "case %zu: got\n%s\nwant\n%s", i, got, cases[i].want);
		free(got);
	}
}
END_TEST

START_TEST(test_errors)
{
	struct out o = { 0 };
	char *cause = NULL, *big;
	int e;

	e = parse_cuts("a,b\n\"open,x\n", 12, NULL, 0, &o, &cause);
	ck_assert_int_eq(e, -EBADMSG);
	ck_assert_msg(strstr(cause, "line 2: a quoted field is still open") != NULL, "%s", cause);
	free(cause);
	free(o.text);
	/* The callback's error stops the parse and comes back as it is. */
	memset(&o, 0, sizeof o);
	o.stop_at = 2;
	cause = NULL;
	e = parse_cuts("a\nb\nc\n", 6, NULL, 0, &o, &cause);
	ck_assert_int_eq(e, -ECANCELED);
	ck_assert_str_eq(cause, "stopped at record 2");
	ck_assert_str_eq(o.text, "1::a|a\n");
	free(cause);
	free(o.text);
	/* A record just below the limit passes. */
	big = malloc(CSV_RECORD_MAX + 3);
	memset(big, 'x', CSV_RECORD_MAX);
	strcpy(big + CSV_RECORD_MAX, "\n");
	memset(&o, 0, sizeof o);
	cause = NULL;
	ck_assert_int_eq(parse_cuts(big, CSV_RECORD_MAX + 1, NULL, 0, &o, &cause), 0);
	ck_assert_ptr_null(strstr(o.text, "longer than"));
	free(o.text);
	free(big);
}
END_TEST

/* Count the records of a parse and remember the problems and first fields. */
struct tally {
	int records;
	char problems[8][160];
	char first[8][32];
	size_t nfields[8];
	size_t rawlen[8];
};

static int
tally_row(void *arg, const struct csv_row *row, char **cause)
{
	struct tally *t = arg;

	(void)cause;
	if (t->records < 8) {
		snprintf(t->problems[t->records], sizeof t->problems[0], "%s", row->problem ? row->problem : "");
		snprintf(t->first[t->records], sizeof t->first[0], "%.20s", row->fields[0]);
		t->nfields[t->records] = row->nfields;
		t->rawlen[t->records] = row->rawlen;
	}
	t->records++;
	return 0;
}

/* Feed text in pieces of step bytes; the parse's result. */
static int
tally_parse(const char *text, size_t len, size_t step, struct tally *t, char **cause)
{
	struct csv *p;
	int e = 0;

	memset(t, 0, sizeof *t);
	ck_assert_int_eq(csv_new(&p, tally_row, t), 0);
	for (size_t at = 0; at < len && e == 0; at += step)
		e = csv_feed(p, text + at, len - at < step ? len - at : step, cause);
	if (e == 0)
		e = csv_finish(p, cause);
	csv_free(p);
	return e;
}

/*
 * A record past a limit (fields, bytes) is a broken record, reported with its
 * line; the records after it come out as they are. Only a quote open at the
 * end refuses the file.
 */
START_TEST(test_limits_per_record)
{
	size_t cap = 4 * CSV_RECORD_MAX, len = 0;
	char *in = malloc(cap), *cause = NULL;
	struct tally t;

	/* Too many fields. */
	len += (size_t)sprintf(in + len, "a,b\n");
	for (int i = 0; i < CSV_FIELDS_MAX + 500; i++)
		len += (size_t)sprintf(in + len, "%s%d", i ? "," : "", i);
	len += (size_t)sprintf(in + len, "\nok,1\n");
	for (size_t step = 1; step <= len; step = step * 7 + 1) {
		ck_assert_int_eq(tally_parse(in, len, step, &t, &cause), 0);
		ck_assert_int_eq(t.records, 3);
		ck_assert_msg(strstr(t.problems[1], "line 2: more than 1024 fields") != NULL, "%s", t.problems[1]);
		ck_assert_uint_eq(t.nfields[1], CSV_FIELDS_MAX);
		ck_assert_str_eq(t.problems[2], "");
		ck_assert_str_eq(t.first[2], "ok");
		ck_assert_uint_eq(t.nfields[2], 2);
	}
	/* Too long, unquoted and quoted (with a line end inside the quotes), then good records. */
	len = (size_t)sprintf(in, "a,b\n");
	memset(in + len, 'x', CSV_RECORD_MAX + 10);
	len += CSV_RECORD_MAX + 10;
	len += (size_t)sprintf(in + len, ",y\nok,2\n\"");
	memset(in + len, 'q', CSV_RECORD_MAX);
	len += CSV_RECORD_MAX;
	len += (size_t)sprintf(in + len, "\n,\"\"\",z\",w\nok,3\n");
	ck_assert_int_eq(tally_parse(in, len, 65536, &t, &cause), 0);
	ck_assert_int_eq(t.records, 5);
	ck_assert_msg(strstr(t.problems[1], "line 2: a record longer than") != NULL, "%s", t.problems[1]);
	ck_assert_uint_eq(t.rawlen[1], CSV_RECORD_MAX);
	ck_assert_str_eq(t.first[2], "ok");
	ck_assert_msg(strstr(t.problems[3], "line 4: a record longer than") != NULL, "%s", t.problems[3]);
	ck_assert_str_eq(t.first[4], "ok");
	ck_assert_str_eq(t.problems[4], "");
	ck_assert_uint_eq(t.nfields[4], 2);
	/* A quote still open at the end: the file cannot be framed. */
	len = (size_t)sprintf(in, "a,b\nok,1\n\"");
	memset(in + len, 'q', CSV_RECORD_MAX + 5);
	len += CSV_RECORD_MAX + 5;
	ck_assert_int_eq(tally_parse(in, len, 65536, &t, &cause), -EBADMSG);
	ck_assert_msg(strstr(cause, "line 3: a quoted field is still open") != NULL, "%s", cause);
	free(cause);
	free(in);
}
END_TEST

/* A lone CR: a line end in a file of CR records, a broken record in a file of LF or CRLF records. */
START_TEST(test_lone_cr)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "a,b\nx\ry,z\n1,2\n", "1::a,b|a|b\n2:line 2: a lone CR (carriage return) outside quotes "
		    "in field 1:x\ry,z|x\ry|z\n3::1,2|1|2\n" },
		{ "a,b\r\nx,y\rz\r\n", "1::a,b|a|b\n2:line 2: a lone CR (carriage return) outside quotes "
		    "in field 2:x,y\rz|x|y\rz\n" },
		{ "a,b\n\"x\ry\",z\n", "1::a,b|a|b\n2::\"x\ry\",z|x\ry|z\n" },
		{ "a,b\rx,y\r", "1::a,b|a|b\n2::x,y|x|y\n" },
	};

	for (size_t i = 0; i < UTIL_NELEM(cases); i++) {
		int err;
		char *got = parse_all(cases[i].in, &err);

		ck_assert_int_eq(err, 0);
		ck_assert_msg(strcmp(got, cases[i].want) == 0, "case %zu: got\n%s\nwant\n%s", i, got, cases[i].want);
		free(got);
	}
}
END_TEST

/* Every single cut and every pair of cuts of some tricky inputs. */
START_TEST(test_every_split)
{
	static const char *const inputs[] = {
		"\xef\xbb\xbf" "h1,h2\r\n\"a,\"\"b\"\"\r\nc\",d\r\n\r\ne,\"f\"\r\n",
		"x\ry\n\"q\"\"\",\"\"\n\"a\"b,5\"c\n",
	};

	for (size_t k = 0; k < UTIL_NELEM(inputs); k++) {
		const char *in = inputs[k];
		size_t len = strlen(in);
		int err;
		char *want = parse_all(in, &err);

		for (size_t i = 0; i <= len; i++)
			for (size_t j = i; j <= len; j++) {
				size_t cuts[2] = { i, j };
				struct out o = { 0 };

				ck_assert_int_eq(parse_cuts(in, len, cuts, 2, &o, NULL), err);
				ck_assert_msg(strcmp(o.text ? o.text : "", want) == 0, "input %zu cut at %zu,%zu", k, i, j);
				free(o.text);
			}
		free(want);
	}
}
END_TEST

/* Random values written as CSV come back as they were, however the bytes are cut. */
START_TEST(test_random_roundtrip)
{
	static const char *const pieces[] = { "a", "Z", "9", ",", "\"", "\r\n", "\n", "\r", " ", "é",
	    "हल्दी", "'", "" };
	uint64_t seed = 12345;

	for (int round = 0; round < 200; round++) {
		char *csv = strdup(""), *want = strdup(""), *tmp;
		size_t nrec = 1 + seed % 5, len, cuts[8];
		struct out o = { .values_only = true };

		for (size_t r = 0; r < nrec; r++) {
			size_t nf = 1 + (seed = seed * 6364136223846793005ULL + 1) % 4;
			char *wline = strdup("");

			for (size_t f = 0; f < nf; f++) {
				char *value = strdup(""), *quoted;
				size_t np = (seed = seed * 6364136223846793005ULL + 1) >> 60;

				for (size_t i = 0; i < np; i++) {
					tmp = util_printf("%s%s", value,
					    pieces[((seed = seed * 6364136223846793005ULL + 1) >> 33) % UTIL_NELEM(pieces)]);
					free(value);
					value = tmp;
				}
				/* Always quoted: the writer's side of RFC 4180. */
				quoted = strdup("\"");
				for (char *c = value; *c; c++) {
					tmp = util_printf("%s%s%c", quoted, *c == '"' ? "\"" : "", *c);
					free(quoted);
					quoted = tmp;
				}
				tmp = util_printf("%s%s%s\"", csv, f ? "," : "", quoted);
				free(csv);
				csv = tmp;
				tmp = util_printf("%s|%s", wline, value);
				free(wline);
				wline = tmp;
				free(value);
				free(quoted);
			}
			tmp = util_printf("%s\r\n", csv);
			free(csv);
			csv = tmp;
			tmp = util_printf("%s%s\n", want, wline);
			free(want);
			want = tmp;
			free(wline);
		}
		len = strlen(csv);
		for (size_t c = 0; c < 8; c++)
			cuts[c] = len ? ((seed = seed * 6364136223846793005ULL + 1) >> 33) % (len + 1) : 0;
		for (size_t a = 0; a < 8; a++)
			for (size_t b = a + 1; b < 8; b++)
				if (cuts[b] < cuts[a]) {
					size_t t = cuts[a];

					cuts[a] = cuts[b];
					cuts[b] = t;
				}
		ck_assert_int_eq(parse_cuts(csv, len, cuts, 8, &o, NULL), 0);
		ck_assert_msg(strcmp(o.text ? o.text : "", want) == 0, "round %d: parsed\n%s\nwritten\n%s",
		    round, o.text, want);
		free(o.text);
		free(csv);
		free(want);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("csv");
	TCase *tc = tcase_create("parse");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_basics);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_limits_per_record);
	tcase_add_test(tc, test_lone_cr);
	tcase_add_test(tc, test_every_split);
	tcase_add_test(tc, test_random_roundtrip);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
