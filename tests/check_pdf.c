/*
 * check_pdf: the PDF renderer on synthetic models (report_sample), checked
 * from the outside with poppler: the text a reader can extract (figures as
 * numfmt writes them, "Page N of M", header rows repeated after a page
 * break, "new", awkward names literally, Devanagari, the Dropped lists
 * kept whole on a page), the page count, and every font embedded and one
 * of the renderer's own. The PDFs and a PNG of
 * each first page stay in $SALESD_ARTIFACTS/pdf for a person to look at.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/numfmt.h"
#include "report/pdf.h"
#include "report_sample.h"
#include "testutil.h"
#include "base/util.h"

#define DEVANAGARI "\xe0\xa4\xb9\xe0\xa4\xb2\xe0\xa5\x8d\xe0\xa4\xa6\xe0\xa5\x80\xe0\xa4\xb0\xe0\xa4\xbe\xe0\xa4\xae"
#define THAI "\xe0\xb8\x81\xe0\xb8\xa3\xe0\xb8\xb8\xe0\xb8\x87\xe0\xb9\x80\xe0\xb8\x97\xe0\xb8\x9e"    /* no font of pdf_text.c has it */
#define FORMULA "=HYPERLINK(\"http://example.com\",\"click\")"
#define NO_BASELINE "+91 98450 12345"       /* report_sample's row without a baseline */
#define STORE "Koramangala 4th Block"

/* A rendered sample and what poppler makes of it. */
struct doc {
	char *pdf;
	char *text;     /* pdftotext -layout; pages end with a form feed */
	char *info;     /* pdfinfo */
	char *fonts;    /* pdffonts */
	int pages;
};

/* The full path of a program on PATH, or NULL (what execvp would run). */
static char *
tool(const char *name)
{
	const char *path = getenv("PATH");
	char *dirs = strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin"), *save = NULL;

	for (char *d = strtok_r(dirs, ":", &save); d != NULL; d = strtok_r(NULL, ":", &save)) {
		char *full;

		if (asprintf(&full, "%s/%s", d, name) < 0)
			abort();
		if (access(full, X_OK) == 0) {
			free(dirs);
			return full;
		}
		free(full);
	}
	free(dirs);
	return NULL;
}

/* Run a poppler tool with argv (no shell); its stdout, which the caller frees. */
static char *
run(const char *const *argv)
{
	struct tu_result res;
	char *v[16], *out;
	size_t n = 0;

	ck_assert_msg((v[0] = tool(argv[0])) != NULL, "%s is not installed (poppler-utils)", argv[0]);
	for (n = 1; argv[n] != NULL && n < UTIL_NELEM(v) - 1; n++)
		v[n] = strdup(argv[n]);
	v[n] = NULL;
	ck_assert_int_eq(tu_run(v, NULL, 60, &res), 0);
	ck_assert_msg(res.status == 0, "%s exited %d: %s", v[0], res.status, res.err);
	out = res.out;
	res.out = NULL;
	tu_result_done(&res);
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	return out;
}

/* $SALESD_ARTIFACTS/pdf, made if need be; a temporary directory outside ctest. */
static char *
outdir(void)
{
	const char *base = getenv("SALESD_ARTIFACTS");
	char *dir;

	if (base == NULL || *base == '\0')
		return tu_tmpdir();
	ck_assert(mkdir(base, 0755) == 0 || errno == EEXIST);
	if (asprintf(&dir, "%s/pdf", base) < 0)
		abort();
	ck_assert(mkdir(dir, 0755) == 0 || errno == EEXIST);
	return dir;
}

/* Every font in pdffonts' table embedded: "yes" in the emb column, found by its dashes. */
static void
assert_embedded(const char *fonts)
{
	const char *dashes = strstr(fonts, "\n---"), *line;
	size_t col = 0, group = 0, nfonts = 0;

	ck_assert_msg(dashes != NULL, "pdffonts: %s", fonts);
	dashes++;
	for (size_t i = 0; dashes[i] != '\n' && group < 4; i++)
		if (dashes[i] == '-' && (i == 0 || dashes[i - 1] == ' ') && ++group == 4)
			col = i;
	ck_assert_int_eq(group, 4);
	for (line = strchr(dashes, '\n'); line != NULL && line[1] != '\0'; line = strchr(line + 1, '\n')) {
		const char *l = line + 1, *end = strchr(l, '\n');

		if (end != NULL && (size_t)(end - l) <= col)
			continue;
		ck_assert_msg(strncmp(l + col, "yes", 3) == 0, "font not embedded: %.*s",
		    (int)(end ? end - l : (long)strlen(l)), l);
		nfonts++;
	}
	ck_assert_uint_gt(nfonts, 0);
}

/* The fonts pdf_text.c reads (its font_files), as pdffonts names them. */
static const char *const own_fonts[] = {
	"DejaVuSans", "DejaVuSans-Bold", "NotoSansDevanagari-Regular", "NotoSansDevanagari-Bold",
	"NotoSansTamil-Regular", "NotoSansTamil-Bold", "NotoSansArabic-Regular", "NotoSansArabic-Bold",
	"NotoSansBengali-Regular", "NotoSansBengali-Bold", "NotoSansGujarati-Regular", "NotoSansGujarati-Bold",
	"NotoSansGurmukhi-Regular", "NotoSansGurmukhi-Bold", "NotoSansKannada-Regular", "NotoSansKannada-Bold",
	"NotoSansMalayalam-Regular", "NotoSansMalayalam-Bold", "NotoSansOriya-Regular", "NotoSansOriya-Bold",
	"NotoSansTelugu-Regular", "NotoSansTelugu-Bold",
};

/* Every font in pdffonts' table is one of pdf_text.c's own, whatever else the machine has. */
static void
assert_own_fonts(const char *fonts)
{
	const char *line = strstr(fonts, "\n---");

	ck_assert_msg(line != NULL, "pdffonts: %s", fonts);
	for (line = strchr(line + 1, '\n'); line != NULL && line[1] != '\0'; line = strchr(line + 1, '\n')) {
		const char *name = line + 1, *plus;
		size_t len = strcspn(name, " \n"), i;

		/* A subset is named by a tag and its font's name: "QKGAMO+DejaVuSans". */
		if ((plus = memchr(name, '+', len)) != NULL) {
			len -= (size_t)(plus + 1 - name);
			name = plus + 1;
		}
		for (i = 0; i < UTIL_NELEM(own_fonts); i++)
			if (strlen(own_fonts[i]) == len && strncmp(name, own_fonts[i], len) == 0)
				break;
		ck_assert_msg(i < UTIL_NELEM(own_fonts), "not one of the report's fonts: %.*s", (int)len, name);
	}
}

/* Render r as NAME.pdf and NAME.png; fills d with poppler's view of it. Frees r. */
static void
render(const char *name, struct report *r, struct doc *d)
{
	char *dir = outdir(), *cause = NULL, *png, *pages, want[64];
	const char *text_argv[] = { "pdftotext", "-layout", "-enc", "UTF-8", NULL, "-", NULL };
	const char *info_argv[] = { "pdfinfo", NULL, NULL };
	const char *fonts_argv[] = { "pdffonts", NULL, NULL };
	const char *png_argv[] = { "pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile",
	    NULL, NULL, NULL };
	int e;

	if (asprintf(&d->pdf, "%s/%s.pdf", dir, name) < 0 || asprintf(&png, "%s/%s", dir, name) < 0)
		abort();
	e = pdf_render(r, d->pdf, &cause);
	ck_assert_msg(e == 0, "pdf_render: %d %s", e, cause);
	report_free(r);
	text_argv[4] = info_argv[1] = fonts_argv[1] = png_argv[9] = d->pdf;
	png_argv[10] = png;
	d->text = run(text_argv);
	d->info = run(info_argv);
	d->fonts = run(fonts_argv);
	free(run(png_argv));
	assert_embedded(d->fonts);
	assert_own_fonts(d->fonts);
	/* The company's name has Devanagari: the fallback font is there, embedded. */
	ck_assert_msg(tu_contains(d->fonts, "NotoSansDevanagari"), "%s", d->fonts);
	ck_assert_msg(tu_contains(d->info, "(A4)"), "%s", d->info);
	ck_assert((pages = strstr(d->info, "Pages:")) != NULL);
	d->pages = atoi(pages + strlen("Pages:"));
	ck_assert_int_ge(d->pages, 1);
	/* The page count on the pages is the real one, first and last. */
	snprintf(want, sizeof want, "Page 1 of %d", d->pages);
	ck_assert_msg(tu_contains(d->text, want), "no \"%s\"", want);
	snprintf(want, sizeof want, "Page %d of %d", d->pages, d->pages);
	ck_assert_msg(tu_contains(d->text, want), "no \"%s\"", want);
	free(png);
	free(dir);
}

static void
doc_done(struct doc *d)
{
	free(d->pdf);
	free(d->text);
	free(d->info);
	free(d->fonts);
}

/* Page n (from 1) of pdftotext's output, as a new string. */
static char *
page(const char *text, int n)
{
	const char *end;

	for (int k = 1; k < n && text != NULL; k++)
		if ((text = strchr(text, '\f')) != NULL)
			text++;
	ck_assert_msg(text != NULL, "no page %d", n);
	end = strchr(text, '\f');
	return strndup(text, end ? (size_t)(end - text) : strlen(text));
}

/* The page (from 1) of pdftotext's output that holds needle; 0 when none does. */
static int
page_of(const char *text, const char *needle)
{
	const char *at = strstr(text, needle);
	int n = 1;

	if (at == NULL)
		return 0;
	for (const char *c = text; c < at; c++)
		n += *c == '\f';
	return n;
}

/* True when one line of text holds every needle (a NULL-terminated list). */
static bool
line_with(const char *text, const char *const *needles)
{
	for (const char *l = text; l != NULL && *l != '\0'; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		char *line = strndup(l, strcspn(l, "\n\f"));
		bool all = true;

		for (size_t i = 0; needles[i] != NULL && all; i++)
			all = strstr(line, needles[i]) != NULL;
		free(line);
		if (all)
			return true;
	}
	return false;
}

/* The model's totals, formatted by numfmt, appear as they are. */
static void
assert_money(const struct doc *d, int64_t minor)
{
	char want[NUMFMT_LEN];

	numfmt_money(want, sizeof want, minor, REPORT_GROUPING_INDIAN, "\xe2\x82\xb9");
	ck_assert_msg(tu_contains(d->text, want), "no %s in:\n%s", want, d->text);
}

/* A long report: page 2 and every page that continues a table start with its header row. */
static void
assert_headers_repeat(const struct doc *d, const char *const *header)
{
	int continued = 0;

	ck_assert_int_gt(d->pages, 1);
	for (int n = 2; n <= d->pages; n++) {
		char *text = page(d->text, n);

		if (n == 2 || tu_contains(text, "(continued)"))
			ck_assert_msg(line_with(text, header), "page %d has no header row:\n%s", n, text);
		continued += tu_contains(text, "(continued)");
		free(text);
	}
	ck_assert_int_gt(continued, 0);
}

/* What every non-empty sample shows: awkward names survive, "new" for no baseline. */
static void
assert_rows(const struct doc *d)
{
	ck_assert(line_with(d->text, (const char *const[]){ NO_BASELINE, "new", NULL }));
	ck_assert_msg(tu_contains(d->text, DEVANAGARI), "Devanagari name not extractable");
	ck_assert_msg(tu_contains(d->fonts, "NotoSansTamil"), "%s", d->fonts);
	/* Names are text, never markup or formulas. */
	ck_assert(tu_contains(d->text, "<b>not bold</b>"));
	ck_assert(tu_contains(d->text, FORMULA));
	/* Nothing sold now, something before: 0 and -100%. */
	ck_assert(line_with(d->text, (const char *const[]){ "\xe2\x82\xb9" "0.00", "-100.0%", NULL }));
}

/* A Dropped list as the PDF should show it, taken from the model before render() frees it. */
struct dropped_want {
	char title[256], more[64];
	char lines[REPORT_DROPPED_MAX][2][NUMFMT_LEN];  /* name, baseline average */
	size_t n;
};

/* Table dim's list with its sentence title and its "and K more" line (NULL: none). */
static void
dropped_want(const struct report *r, enum report_dim dim, const char *title, const char *more,
    struct dropped_want *w)
{
	const struct report_table *t = &r->tables[dim];

	snprintf(w->title, sizeof w->title, "%s", title);
	snprintf(w->more, sizeof w->more, "%s", more ? more : "");
	w->n = t->ndropped;
	for (size_t k = 0; k < w->n; k++) {
		/* The first name is too long for its line: its start is enough. */
		snprintf(w->lines[k][0], sizeof w->lines[k][0], "%.24s", t->dropped[k].name);
		numfmt_money(w->lines[k][1], sizeof w->lines[k][1], report_div_round(t->dropped[k].b_sales,
		    r->base_windows), REPORT_GROUPING_INDIAN, "\xe2\x82\xb9");
	}
}

/* The sentence over "Baseline avg", then each key on a line with its baseline average. */
static void
assert_dropped(const struct doc *d, const struct dropped_want *w)
{
	ck_assert_msg(line_with(d->text, (const char *const[]){ w->title, "Baseline avg", NULL }),
	    "no \"%s\" in:\n%s", w->title, d->text);
	for (size_t k = 0; k < w->n; k++)
		ck_assert_msg(line_with(d->text, (const char *const[]){ w->lines[k][0], w->lines[k][1], NULL }),
		    "no line with %s and %s", w->lines[k][0], w->lines[k][1]);
	if (w->more[0] != '\0')
		ck_assert_msg(tu_contains(d->text, w->more), "no \"%s\"", w->more);
}

/* An empty period: the sentence, the headline figures, and no table at all. */
static void
assert_empty(const struct doc *d, const char *sentence)
{
	static const char *const titles[] = { "Stores", "Categories", "Sub-categories", "Brands", "Products" };

	ck_assert_msg(tu_contains(d->text, sentence), "no \"%s\" in:\n%s", sentence, d->text);
	for (size_t i = 0; i < UTIL_NELEM(titles); i++)
		ck_assert_msg(!tu_contains(d->text, titles[i]), "%s in an empty report", titles[i]);
	ck_assert(!line_with(d->text, (const char *const[]){ "#", "Sales", NULL }));
	ck_assert(tu_contains(d->text, "avg"));
	/* Nor the Dropped lists the model has: everything of the baseline dropped, as the sentence says. */
	ck_assert(!tu_contains(d->text, "Dropped"));
	ck_assert_int_eq(d->pages, 1);
	assert_money(d, 0);
}

START_TEST(test_daily_company)
{
	struct report *r = report_sample(REPORT_DAILY, NULL, 200, false);
	int64_t sales = r->total.sales;
	struct doc d;

	render("daily-company", r, &d);
	assert_money(&d, sales);
	ck_assert(tu_contains(d.text, "Daily sales report \xe2\x80\x94 2026-11-22"));
	ck_assert(tu_contains(d.text, "43,210"));
	ck_assert(tu_contains(d.text, "Top 30 stores by sales"));
	assert_headers_repeat(&d, (const char *const[]){ "#", "Orders", "Sales", "Change", NULL });
	assert_rows(&d);
	ck_assert(!tu_contains(d.text, "Dropped"));
	doc_done(&d);
}
END_TEST

START_TEST(test_daily_empty)
{
	struct doc d;

	render("daily-empty", report_sample(REPORT_DAILY, NULL, 20, true), &d);
	assert_empty(&d, "No sales in 2026-11-22 at any store.");
	doc_done(&d);
}
END_TEST

START_TEST(test_weekly_store)
{
	struct report *r = report_sample(REPORT_WEEKLY, STORE, 200, false);
	int64_t sales = r->total.sales, cost = r->total.cost, m, bm;
	char pp[NUMFMT_LEN];
	struct dropped_want brands, products;
	struct doc d;

	/* The margin against the baseline's margin, in percentage points. */
	ck_assert(report_pct(sales - cost, sales, &m) && report_pct(r->total.b_sales - r->total.b_cost,
	    r->total.b_sales, &bm));
	numfmt_pct(pp, sizeof pp, m - bm, 1);
	strcpy(strchr(pp, '%'), " pp");
	dropped_want(r, REPORT_BRANDS, "Dropped: 12 of the baseline's top 50 brands sold nothing in 2026-W47",
	    "and 2 more", &brands);
	dropped_want(r, REPORT_PRODUCTS, "Dropped: 3 of the baseline's top 100 products sold nothing in 2026-W47",
	    NULL, &products);
	render("weekly-store", r, &d);
	ck_assert_msg(tu_contains(d.text, pp), "no %s", pp);
	assert_money(&d, sales);
	assert_money(&d, cost);
	assert_money(&d, sales - cost);
	ck_assert(tu_contains(d.text, "Weekly report 2026-W47 \xe2\x80\x94 " STORE));
	ck_assert(tu_contains(d.text, "Top 10 brands by sales"));
	ck_assert(tu_contains(d.text, "Top 10 sub-categories by sales"));
	ck_assert(!tu_contains(d.text, "Stores"));
	assert_headers_repeat(&d, (const char *const[]){ "#", "Qty", "Sales", "Share", "Margin", NULL });
	assert_rows(&d);
	/* Under the brands and the products; the sub-categories lost none. */
	assert_dropped(&d, &brands);
	assert_dropped(&d, &products);
	/* The products' list names all three of them: one "more" line, the brands'. */
	ck_assert_ptr_null(strstr(strstr(d.text, "and 2 more") + strlen("and 2 more"), " more"));
	ck_assert(!tu_contains(d.text, "sub-categories sold nothing"));
	ck_assert_int_lt(page_of(d.text, brands.title), page_of(d.text, products.title));
	doc_done(&d);
}
END_TEST

START_TEST(test_weekly_company)
{
	struct report *r = report_sample(REPORT_WEEKLY, NULL, 40, false);
	int64_t sales = r->total.sales;
	struct dropped_want stores;
	struct doc d;

	/* The stores table has no cut: every store of the baseline counts. */
	dropped_want(r, REPORT_STORES, "Dropped: 2 of the baseline's stores sold nothing in 2026-W47", NULL,
	    &stores);
	render("weekly-company", r, &d);
	assert_money(&d, sales);
	ck_assert(tu_contains(d.text, "Weekly report 2026-W47 \xe2\x80\x94 All stores"));
	ck_assert(line_with(d.text, (const char *const[]){ "Store", "Sales", "Profit", "Margin", NULL }));
	/* The stores table ends with the total of every store. */
	ck_assert(line_with(d.text, (const char *const[]){ "All stores", "\xe2\x82\xb9" "98,76,543.21", NULL }));
	assert_rows(&d);
	assert_dropped(&d, &stores);
	doc_done(&d);
}
END_TEST

START_TEST(test_monthly_store)
{
	struct report *r = report_sample(REPORT_MONTHLY, STORE, 60, false);
	int64_t sales = r->total.sales;
	struct doc d;

	render("monthly-store", r, &d);
	assert_money(&d, sales);
	ck_assert(tu_contains(d.text, "Monthly report 2026-11 \xe2\x80\x94 " STORE));
	ck_assert(tu_contains(d.text, "1 Nov \xe2\x80\x93 30 Nov 2026"));
	assert_rows(&d);
	doc_done(&d);
}
END_TEST

START_TEST(test_monthly_empty_store)
{
	struct doc d;

	render("monthly-empty-store", report_sample(REPORT_MONTHLY, STORE, 30, true), &d);
	assert_empty(&d, "No sales at " STORE " in 2026-11.");
	doc_done(&d);
}
END_TEST

/*
 * A Dropped list is never cut by a page break: however long the table over
 * it, its sentence, its last key and "and 2 more" are on one page, which
 * for some lengths is the page after the table's.
 */
START_TEST(test_dropped_kept_whole)
{
	const char *argv[] = { "pdftotext", "-layout", "-enc", "UTF-8", NULL, "-", NULL };
	const char *title = "top 50 brands sold nothing";
	char *dir = tu_tmpdir(), *path, *cause = NULL;
	int moved = 0, stayed = 0;

	if (asprintf(&path, "%s/kept.pdf", dir) < 0)
		abort();
	argv[4] = path;
	for (size_t rows = 4; rows <= 26; rows++) {
		struct report *r = report_sample(REPORT_WEEKLY, STORE, rows, false);
		char *text, *pg;

		ck_assert_msg(pdf_render(r, path, &cause) == 0, "%s", cause);
		report_free(r);
		text = run(argv);
		ck_assert_int_gt(page_of(text, title), 0);
		pg = page(text, page_of(text, title));
		ck_assert_msg(tu_contains(pg, "Brand gone 10") && tu_contains(pg, "and 2 more"),
		    "%zu rows: the brands' Dropped list is cut:\n%s", rows, text);
		/* The table's heading ("Brands" or "Brands (continued)") on the same page, or not. */
		if (tu_contains(pg, "Brands"))
			stayed++;
		else
			moved++;
		free(pg);
		free(text);
	}
	ck_assert_int_gt(moved, 0);
	ck_assert_int_gt(stayed, 0);
	free(path);
	free(dir);
}
END_TEST

/*
 * A name in a script none of the report's fonts covers (Thai; fonts-noto-core
 * has it) brings in no font of the machine's: the PDF is the same wherever
 * it is made. The name is drawn as boxes; a script the reports need gets
 * its font in pdf_text.c.
 */
START_TEST(test_own_fonts)
{
	struct report *r = report_sample(REPORT_WEEKLY, STORE, 20, false);
	struct report_row *row = &r->tables[REPORT_BRANDS].rows[0];
	struct doc d;

	free(row->name);
	row->name = strdup(THAI " brand");
	render("own-fonts", r, &d);
	ck_assert_msg(tu_contains(d.text, " brand"), "%s", d.text);
	doc_done(&d);
}
END_TEST

/* The other scripts of India's names have their fonts: shaped, embedded, extractable. */
START_TEST(test_indian_scripts)
{
	/* Kannada "ಬೆಂಗಳೂರು", Telugu "హైదరాబాద్", Bengali "কলকাতা". */
	static const char *const names[] = {
		"\xe0\xb2\xac\xe0\xb3\x86\xe0\xb2\x82\xe0\xb2\x97\xe0\xb2\xb3\xe0\xb3\x82\xe0\xb2\xb0\xe0\xb3\x81",
		"\xe0\xb0\xb9\xe0\xb1\x88\xe0\xb0\xa6\xe0\xb0\xb0\xe0\xb0\xbe\xe0\xb0\xac\xe0\xb0\xbe\xe0\xb0\xa6\xe0\xb1\x8d",
		"\xe0\xa6\x95\xe0\xa6\xb2\xe0\xa6\x95\xe0\xa6\xbe\xe0\xa6\xa4\xe0\xa6\xbe",
	};
	static const char *const fonts[] = { "NotoSansKannada", "NotoSansTelugu", "NotoSansBengali" };
	struct report *r = report_sample(REPORT_WEEKLY, STORE, 20, false);
	struct doc d;

	for (size_t k = 0; k < 3; k++) {
		free(r->tables[REPORT_BRANDS].rows[k].name);
		r->tables[REPORT_BRANDS].rows[k].name = strdup(names[k]);
	}
	render("indian-scripts", r, &d);
	for (size_t k = 0; k < 3; k++) {
		ck_assert_msg(tu_contains(d.text, names[k]), "%s not extractable", names[k]);
		ck_assert_msg(tu_contains(d.fonts, fonts[k]), "%s not embedded: %s", fonts[k], d.fonts);
	}
	doc_done(&d);
}
END_TEST

START_TEST(test_bad_path)
{
	struct report *r = report_sample(REPORT_WEEKLY, STORE, 5, false);
	char *dir = tu_tmpdir(), *path, *cause = NULL;

	if (asprintf(&path, "%s/no/such/dir/report.pdf", dir) < 0)
		abort();
	ck_assert_int_eq(pdf_render(r, path, &cause), -ENOENT);
	ck_assert_msg(cause != NULL && tu_contains(cause, path), "%s", cause);
	free(cause);
	free(path);
	free(dir);
	report_free(r);
}
END_TEST

/* A name that is not UTF-8 (user data) is drawn with replacement characters, not refused. */
START_TEST(test_bad_utf8)
{
	struct report *r = report_sample(REPORT_WEEKLY, STORE, 20, false);
	char *dir = tu_tmpdir(), *path, *cause = NULL, *text;
	const char *argv[] = { "pdftotext", "-layout", "-enc", "UTF-8", NULL, "-", NULL };
	struct report_row *row = &r->tables[REPORT_BRANDS].rows[12];

	free(row->name);
	row->name = strdup("Broken \xff\xfe brand");
	if (asprintf(&path, "%s/bad.pdf", dir) < 0)
		abort();
	ck_assert_int_eq(pdf_render(r, path, &cause), 0);
	argv[4] = path;
	text = run(argv);
	ck_assert_msg(tu_contains(text, "Broken ") && tu_contains(text, " brand"), "%s", text);
	free(text);
	free(path);
	free(dir);
	report_free(r);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("pdf");
	TCase *tc = tcase_create("render");
	TCase *te = tcase_create("errors");
	SRunner *sr;
	char *pdftotext = tool("pdftotext");
	int failed;

	if (pdftotext == NULL) {
		fprintf(stderr, "check_pdf: pdftotext not found (install poppler-utils); skipping\n");
		return 77;
	}
	free(pdftotext);
	tcase_add_test(tc, test_daily_company);
	tcase_add_test(tc, test_daily_empty);
	tcase_add_test(tc, test_weekly_store);
	tcase_add_test(tc, test_weekly_company);
	tcase_add_test(tc, test_monthly_store);
	tcase_add_test(tc, test_monthly_empty_store);
	tcase_add_test(tc, test_dropped_kept_whole);
	tcase_add_test(tc, test_own_fonts);
	tcase_add_test(tc, test_indian_scripts);
	tcase_add_test(te, test_bad_path);
	tcase_add_test(te, test_bad_utf8);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, te);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
