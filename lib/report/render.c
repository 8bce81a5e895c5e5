/*
 * render: one report task (see render.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/db.h"
#include "report/pdf.h"
#include "report/render.h"
#include "report/report.h"
#include "base/util.h"
#include "report/xlsx.h"

/* Flush a finished file to disk before it replaces the old one. */
static int
sync_file(const char *path, char **cause)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), e = 0;

	if (fd < 0 || fsync(fd) < 0)
		e = util_fail(cause, -errno, "cannot write %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return e;
}

int
render_files(PGconn *c, const struct config *cfg, enum report_kind kind, const char *period,
    const char *store, struct render_files *out, char **cause)
{
	int e;

	if (store == NULL)
		snprintf(out->scope, sizeof out->scope, "company");
	else if ((e = slug_assign(c, store, out->scope, cause)) < 0)
		return e;
	if ((size_t)snprintf(out->dir, sizeof out->dir, "%s/reports/%s/%s", config_string(cfg, "salesd",
	    "state_dir"), report_kind_name(kind), period) >= sizeof out->dir)
		return util_fail(cause, -ENAMETOOLONG, "[salesd] state_dir: too long a path");
	snprintf(out->pdf, sizeof out->pdf, "%s/%s.pdf", out->dir, out->scope);
	snprintf(out->xlsx, sizeof out->xlsx, "%s/%s.xlsx", out->dir, out->scope);
	return 0;
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
	if ((e = db_connect(&c, config_string(cfg, "database", "conninfo"),
	    config_string(cfg, "database", "schema"), cause)) < 0) {
		e = e == -ECONNREFUSED ? -EAGAIN : e;
		goto out;
	}
	if ((e = report_build(c, cfg, report_kind_of(p->kind), p, store, &r, cause)) < 0 ||
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
	if ((e = pdf_render(r, tmp_pdf, cause)) < 0 || (e = xlsx_render(r, tmp_xlsx, f->dir, cause)) < 0 ||
	    (e = sync_file(tmp_pdf, cause)) < 0 || (e = sync_file(tmp_xlsx, cause)) < 0)
		goto out;
	if (rename(tmp_pdf, f->pdf) < 0 || rename(tmp_xlsx, f->xlsx) < 0) {
		e = util_fail(cause, -errno, "cannot rename into %s: %s", f->dir, strerror(errno));
		goto out;
	}
	tmp_pdf[0] = tmp_xlsx[0] = '\0';
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
