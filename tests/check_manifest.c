/*
 * check_manifest: a rendered report's manifest written and read back, field
 * for field; files checked against their size and SHA-256 (one byte changed
 * is refused); manifests that are not ones (another version, a file name
 * that leaves the directory, a missing field, no JSON) refused with the
 * file's name; atomic writing leaves no temporary file; the stores' sales
 * (what a correction compares) round-trip exactly, as the manifest's and as
 * the ledger's text, and a manifest of an older salesd reads as without them.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "report/manifest.h"
#include "testutil.h"

static char *dir;

static void
setup(void)
{
	dir = tu_tmpdir();
}

static void
teardown(void)
{
	tu_rmrf(dir);
	free(dir);
}

/* A manifest of two files written into dir. */
static struct manifest *
sample(void)
{
	struct manifest *m = calloc(1, sizeof *m);
	char *pdf = tu_write(dir, "indiranagar.pdf", "%PDF-1.7 not really\n");
	char *xlsx = tu_write(dir, "indiranagar.xlsx", "PK workbook\n");

	ck_assert_ptr_nonnull(m);
	m->report = util_strdup("weekly");
	m->period = util_strdup("2026-W47");
	m->scope = util_strdup("indiranagar");
	m->store = util_strdup("Indiranagar");
	m->company = util_strdup("Sharma & Sons रिटेल");
	m->rendered_at = util_strdup("2026-11-24T01:40:00Z");
	m->pdf.name = util_strdup("indiranagar.pdf");
	m->xlsx.name = util_strdup("indiranagar.xlsx");
	ck_assert_int_eq(manifest_digest(pdf, &m->pdf, NULL), 0);
	ck_assert_int_eq(manifest_digest(xlsx, &m->xlsx, NULL), 0);
	ck_assert_int_eq(manifest_set_figure(m, "sales", "₹ 12,34,567.89"), 0);
	ck_assert_int_eq(manifest_set_figure(m, "growth", "+4.2%"), 0);
	ck_assert_int_eq(manifest_set_figure(m, "growth", "-1.0%"), 0);
	ck_assert_int_eq(manifest_stores_add(&m->stores, "Indiranagar", 52468852), 0);
	ck_assert_int_eq(manifest_stores_add(&m->stores, "Koramangala, \"Bengaluru\" कोरमंगला", -150), 0);
	ck_assert_int_eq(manifest_stores_add(&m->stores, "Big", INT64_C(900000000000000000)), 0);
	free(pdf);
	free(xlsx);
	return m;
}

static char *
path_of(const char *name)
{
	return util_printf("%s/%s", dir, name);
}

START_TEST(test_round_trip)
{
	struct manifest *m = sample(), *r = NULL;
	char *path = path_of("indiranagar.json"), *cause = NULL;
	DIR *d;
	struct dirent *de;

	ck_assert_uint_eq(m->pdf.size, 20);
	ck_assert_int_eq(manifest_write(path, m, &cause), 0);
	ck_assert_int_eq(manifest_read(path, &r, &cause), 0);
	ck_assert_str_eq(r->report, "weekly");
	ck_assert_str_eq(r->period, "2026-W47");
	ck_assert_str_eq(r->scope, "indiranagar");
	ck_assert_str_eq(r->store, "Indiranagar");
	ck_assert_str_eq(r->company, "Sharma & Sons रिटेल");
	ck_assert_str_eq(r->pdf.name, "indiranagar.pdf");
	ck_assert_uint_eq(r->pdf.size, m->pdf.size);
	ck_assert_str_eq(r->pdf.sha256, m->pdf.sha256);
	ck_assert_str_eq(r->xlsx.sha256, m->xlsx.sha256);
	ck_assert_str_eq(r->dir, dir);
	ck_assert(!r->empty);
	ck_assert_str_eq(manifest_figure(r, "sales"), "₹ 12,34,567.89");
	ck_assert_str_eq(manifest_figure(r, "growth"), "-1.0%");
	ck_assert_ptr_null(manifest_figure(r, "profit"));
	{
		int64_t v = 0;

		ck_assert(r->stores.present);
		ck_assert_uint_eq(r->stores.n, 3);
		ck_assert(manifest_stores_find(&r->stores, "Indiranagar", &v));
		ck_assert_int_eq(v, 52468852);
		ck_assert(manifest_stores_find(&r->stores, "Koramangala, \"Bengaluru\" कोरमंगला", &v));
		ck_assert_int_eq(v, -150);
		ck_assert(manifest_stores_find(&r->stores, "Big", &v));
		ck_assert_int_eq(v, INT64_C(900000000000000000));
		ck_assert(!manifest_stores_find(&r->stores, "Whitefield", &v));
	}
	ck_assert_int_eq(manifest_check(r, &cause), 0);
	/* Written aside and renamed: nothing hidden is left. */
	ck_assert_ptr_nonnull(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		ck_assert_msg(de->d_name[0] != '.' || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0,
		    "left behind: %s", de->d_name);
	closedir(d);
	manifest_free(r);
	manifest_free(m);
	free(path);
}
END_TEST

/* The stores as the delivery ledger records them: sorted, compact, and read back exactly. */
START_TEST(test_stores_text)
{
	struct manifest_stores s = { 0 }, r = { 0 };
	char *text = NULL, *cause = NULL;
	int64_t v;

	ck_assert_int_eq(manifest_stores_json(&s, &text), 0);
	ck_assert_ptr_null(text);
	s.present = true;
	ck_assert_int_eq(manifest_stores_json(&s, &text), 0);
	ck_assert_str_eq(text, "{}");
	free(text);
	ck_assert_int_eq(manifest_stores_add(&s, "Whitefield", 100), 0);
	ck_assert_int_eq(manifest_stores_add(&s, "Indiranagar", 0), 0);
	ck_assert_int_eq(manifest_stores_json(&s, &text), 0);
	ck_assert_str_eq(text, "{\"Indiranagar\":0,\"Whitefield\":100}");
	ck_assert_int_eq(manifest_stores_parse(text, &r, &cause), 0);
	ck_assert(r.present);
	ck_assert_uint_eq(r.n, 2);
	ck_assert(manifest_stores_find(&r, "Whitefield", &v) && v == 100);
	manifest_stores_done(&r);
	ck_assert_uint_eq(r.n, 0);
	free(text);
	ck_assert_int_eq(manifest_stores_parse("{\"A\": \"12.00\"}", &r, &cause), -EBADMSG);
	ck_assert_msg(strstr(cause, "stores.A is not an integer") != NULL, "%s", cause);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(manifest_stores_parse("[1]", &r, &cause), -EBADMSG);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(manifest_stores_parse("{", &r, &cause), -EBADMSG);
	free(cause);
	ck_assert_ptr_null(r.names);
	manifest_stores_done(&s);
	manifest_stores_done(NULL);
}
END_TEST

/* A manifest written by a salesd before corrections has no "stores": it reads, without them. */
START_TEST(test_older_manifest)
{
	struct manifest *m = sample(), *r = NULL;
	char *path = path_of("indiranagar.json"), *cause = NULL;

	manifest_stores_done(&m->stores);
	ck_assert_int_eq(manifest_write(path, m, &cause), 0);
	ck_assert_int_eq(manifest_read(path, &r, &cause), 0);
	ck_assert(!r->stores.present);
	ck_assert_uint_eq(r->stores.n, 0);
	manifest_free(r);
	manifest_free(m);
	free(path);
}
END_TEST

/* Money as the PDF prints it, with [report] currency and digit_grouping. */
START_TEST(test_money)
{
	struct config cfg = { 0 };
	char buf[64];

	cfg.report.currency = "₹";
	cfg.report.digit_grouping = "indian";
	ck_assert_str_eq(manifest_money(&cfg, 52468852, buf, sizeof buf), "₹5,24,688.52");
	cfg.report.currency = "EUR ";
	cfg.report.digit_grouping = "western";
	ck_assert_str_eq(manifest_money(&cfg, -123456789, buf, sizeof buf), "-EUR 1,234,567.89");
}
END_TEST

START_TEST(test_file_changed)
{
	struct manifest *m = sample(), *r = NULL;
	char *path = path_of("indiranagar.json"), *cause = NULL, *pdf;

	ck_assert_int_eq(manifest_write(path, m, NULL), 0);
	/* Same size, one byte different. */
	pdf = tu_write(dir, "indiranagar.pdf", "%PDF-1.7 not reallY\n");
	ck_assert_int_eq(manifest_read(path, &r, NULL), 0);
	ck_assert_int_eq(manifest_check(r, &cause), -EBADMSG);
	ck_assert_msg(strstr(cause, "indiranagar.pdf is not the file its manifest describes") != NULL, "%s", cause);
	free(cause);
	cause = NULL;
	/* Gone. */
	unlink(pdf);
	ck_assert_int_eq(manifest_check(r, &cause), -EBADMSG);
	free(cause);
	manifest_free(r);
	manifest_free(m);
	free(pdf);
	free(path);
}
END_TEST

START_TEST(test_not_a_manifest)
{
	static const struct {
		const char *text, *says;
	} cases[] = {
		{ "not json", "not a manifest" },
		{ "[1]", "not a manifest" },
		{ "{\"version\": 2}", "version 2" },
		{ "{\"version\": 1, \"report\": \"weekly\"}", "\"period\" is missing" },
		{ "{\"version\": 1, \"report\": \"weekly\", \"period\": \"2026-W47\", \"scope\": \"x\", \"store\": null, "
		  "\"company\": \"C\", \"rendered_at\": \"t\", \"empty\": false, \"figures\": {}, \"files\": {"
		  "\"pdf\": {\"name\": \"../../etc/passwd\", \"size\": 1, \"sha256\": "
		  "\"0000000000000000000000000000000000000000000000000000000000000000\"}}}", "files.pdf is not a file" },
		{ "{\"version\": 1, \"report\": \"weekly\", \"report\": \"daily\"}", "not a manifest" },
		{ "{\"version\": 1, \"report\": \"weekly\", \"period\": \"2026-W47\", \"scope\": \"x\", \"store\": null, "
		  "\"company\": \"C\", \"rendered_at\": \"t\", \"empty\": false, \"figures\": {}, \"files\": {"
		  "\"pdf\": {\"name\": \"x.pdf\", \"size\": 1, \"sha256\": "
		  "\"0000000000000000000000000000000000000000000000000000000000000000\"}, "
		  "\"xlsx\": {\"name\": \"x.xlsx\", \"size\": 1, \"sha256\": "
		  "\"0000000000000000000000000000000000000000000000000000000000000000\"}}, "
		  "\"stores\": {\"Indiranagar\": 1.5}}", "stores.Indiranagar is not an integer" },
	};
	char *path = path_of("x.json");

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct manifest *m = NULL;
		char *cause = NULL, *p = tu_write(dir, "x.json", cases[i].text);

		ck_assert_int_eq(manifest_read(path, &m, &cause), -EBADMSG);
		ck_assert_ptr_null(m);
		ck_assert_msg(strstr(cause, cases[i].says) != NULL && strstr(cause, path) != NULL,
		    "case %zu: %s", i, cause);
		free(cause);
		free(p);
	}
	unlink(path);
	{
		struct manifest *m = NULL;
		char *cause = NULL;

		ck_assert_int_eq(manifest_read(path, &m, &cause), -ENOENT);
		free(cause);
	}
	free(path);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("manifest");
	TCase *tc = tcase_create("manifest");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_stores_text);
	tcase_add_test(tc, test_older_manifest);
	tcase_add_test(tc, test_money);
	tcase_add_test(tc, test_file_changed);
	tcase_add_test(tc, test_not_a_manifest);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
