/*
 * render: one report task (see render.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/db.h"
#include "report/manifest.h"
#include "report/numfmt.h"
#include "report/pdf.h"
#include "report/render.h"
#include "report/report.h"
#include "base/util.h"
#include "report/xlsx.h"

int
render_files(PGconn *c, const struct config *cfg, enum report_kind kind, const char *period,
    const char *store, struct render_files *out, char **cause)
{
	int e;

	if (store == NULL)
		snprintf(out->scope, sizeof out->scope, "company");
	else if ((e = slug_assign(c, store, out->scope, cause)) < 0)
		return e;
	if ((size_t)snprintf(out->dir, sizeof out->dir, "%s/reports/%s/%s", cfg->salesd.state_dir,
	    report_kind_name(kind), period) >= sizeof out->dir)
		return util_fail(cause, -ENAMETOOLONG, "[salesd] state_dir: too long a path");
	snprintf(out->pdf, sizeof out->pdf, "%s/%s.pdf", out->dir, out->scope);
	snprintf(out->xlsx, sizeof out->xlsx, "%s/%s.xlsx", out->dir, out->scope);
	snprintf(out->manifest, sizeof out->manifest, "%s/%s.json", out->dir, out->scope);
	return 0;
}

/* The manifest of r's files in f (digests of the files as they now are). */
static int
write_manifest(const struct report *r, const struct render_files *f, char **cause)
{
	struct manifest *m = calloc(1, sizeof *m);
	struct numfmt_headline h;
	char best[512], worst[512], when[32];
	time_t now = time(NULL);
	struct tm tm;
	int e;

	numfmt_headline(r, &h);
	numfmt_extreme_store(r, true, best, sizeof best);
	numfmt_extreme_store(r, false, worst, sizeof worst);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	if (m == NULL || (m->report = util_strdup(report_kind_name(r->kind))) == NULL ||
	    (m->period = util_strdup(r->period_name)) == NULL || (m->scope = util_strdup(f->scope)) == NULL ||
	    (r->store != NULL && (m->store = util_strdup(r->store)) == NULL) ||
	    (m->company = util_strdup(r->company)) == NULL || (m->rendered_at = util_strdup(when)) == NULL ||
	    (m->pdf.name = util_printf("%s.pdf", f->scope)) == NULL ||
	    (m->xlsx.name = util_printf("%s.xlsx", f->scope)) == NULL) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	m->empty = report_is_empty(r);
	{
		/* Every placeholder an e-mail subject or body or a WhatsApp caption may use. */
		const char *names[] = { "company", "store", "report", "period", "sales", "growth", "base", "baseline",
		    "profit", "margin", "margin_change", "best", "worst" };
		const char *values[] = { r->company, r->store ? r->store : "All stores", report_kind_name(r->kind),
		    r->period_name, h.sales, h.growth, h.base, r->kind == REPORT_DAILY ? "7-day average" :
		    r->kind == REPORT_WEEKLY ? "2-week average" : "2-month average", h.profit, h.margin,
		    h.margin_change, best, worst };

		for (size_t i = 0; i < UTIL_NELEM(names); i++) {
			if (manifest_set_figure(m, names[i], values[i]) < 0) {
				e = util_fail(cause, -ENOMEM, "out of memory");
				goto out;
			}
		}
	}
	/*
	 * Each store's sales as this report shows them: the stores table of a
	 * company report, the total of a store's. A later delivery compares
	 * them with what it sent, to decide on a correction (docs/email.md).
	 */
	if (r->store != NULL)
		e = manifest_stores_add(&m->stores, r->store, r->total.sales);
	else {
		const struct report_table *st = &r->tables[REPORT_STORES];

		m->stores.present = true;
		e = 0;
		for (size_t i = 0; i < st->n && e == 0; i++)
			e = manifest_stores_add(&m->stores, st->rows[i].name, st->rows[i].sales);
	}
	if (e < 0) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	/* Delivery says it wherever the figures appear (docs/completeness.md). */
	if (r->warning != NULL && manifest_set_figure(m, "warning", r->warning) < 0) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	if ((e = manifest_digest(f->pdf, &m->pdf, cause)) < 0 || (e = manifest_digest(f->xlsx, &m->xlsx, cause)) < 0)
		goto out;
	e = manifest_write(f->manifest, m, cause);
out:
	manifest_free(m);
	return e;
}

/*
 * A report that is withheld now (a quarantined day) must not be delivered
 * from what was rendered before: its manifest goes, so delivery waits.
 */
static void
forget_withheld(PGconn *c, const struct config *cfg, const struct period *p, const char *store)
{
	struct render_files f;
	char name[PERIOD_STRLEN];

	period_format(p, name);
	if (render_files(c, cfg, report_kind_of(p->kind), name, store, &f, NULL) == 0)
		unlink(f.manifest);
}

int
render_report(const struct config *cfg, const struct period *p, const char *store,
    struct render_result *res, char **cause)
{
	struct render_files *f = &res->files;
	struct report *r = NULL;
	PGconn *c = NULL;
	char tmp_pdf[4300], tmp_xlsx[4300];
	int e;

	memset(res, 0, sizeof *res);
	tmp_pdf[0] = tmp_xlsx[0] = '\0';
	if ((e = db_connect(&c, cfg->database.conninfo, cfg->database.schema, cause)) < 0) {
		e = e == -ECONNREFUSED ? -EAGAIN : e;
		goto out;
	}
	/* Held or withheld: whatever was rendered before must not go out either. */
	if ((e = report_check_days(c, p, &res->held_day, cause)) == -EBADMSG || e == -EINPROGRESS)
		forget_withheld(c, cfg, p, store);
	if (e < 0 || (e = report_build(c, cfg, report_kind_of(p->kind), p, store, &r, cause)) < 0 ||
	    (e = render_files(c, cfg, r->kind, r->period_name, store, f, cause)) < 0)
		goto out;
	/* The files do not need the database; let it go before the slow part. */
	PQfinish(c);
	c = NULL;
	res->empty = report_is_empty(r);
	res->sales = r->total.sales;
	if ((e = util_mkdirs(f->dir, 0755, cause)) < 0)
		goto out;
	/* Hidden names that no reader of the directory mistakes for a report. */
	snprintf(tmp_pdf, sizeof tmp_pdf, "%s/.%s.pdf.%d.tmp", f->dir, f->scope, (int)getpid());
	snprintf(tmp_xlsx, sizeof tmp_xlsx, "%s/.%s.xlsx.%d.tmp", f->dir, f->scope, (int)getpid());
	if ((e = pdf_render(r, tmp_pdf, cause)) < 0 || (e = xlsx_render(r, tmp_xlsx, f->dir, cause)) < 0)
		goto out;
	/*
	 * The manifest goes first and comes back last: while the files are
	 * being replaced there is none, so nothing is delivered from a pair
	 * that is half old, half new.
	 */
	if (unlink(f->manifest) < 0 && errno != ENOENT) {
		e = util_fail(cause, -errno, "cannot remove %s: %s", f->manifest, strerror(errno));
		goto out;
	}
	if ((e = util_commit_file(tmp_pdf, f->pdf, cause)) < 0)
		goto out;
	tmp_pdf[0] = '\0';
	if ((e = util_commit_file(tmp_xlsx, f->xlsx, cause)) < 0)
		goto out;
	tmp_xlsx[0] = '\0';
	e = write_manifest(r, f, cause);
out:
	if (tmp_pdf[0] != '\0')
		unlink(tmp_pdf);
	if (tmp_xlsx[0] != '\0')
		unlink(tmp_xlsx);
	if (c != NULL)
		PQfinish(c);
	report_free(r);
	return e;
}
