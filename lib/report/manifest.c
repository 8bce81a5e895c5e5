/*
 * manifest: a rendered report's description, beside its files (see manifest.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "base/util.h"
#include "report/manifest.h"
#include "report/numfmt.h"
#include "report/report.h"
#include "report/slug.h"

/* A manifest is small; anything larger is not one. */
#define MANIFEST_MAX (1024 * 1024)

const char *
manifest_figure(const struct manifest *m, const char *name)
{
	for (size_t i = 0; i < m->nfigures; i++)
		if (strcmp(m->names[i], name) == 0)
			return m->values[i];
	return NULL;
}

int
manifest_set_figure(struct manifest *m, const char *name, const char *value)
{
	char **names, **values, *v = util_strdup(value), *n;

	if (v == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < m->nfigures; i++) {
		if (strcmp(m->names[i], name) == 0) {
			free(m->values[i]);
			m->values[i] = v;
			return 0;
		}
	}
	if ((n = util_strdup(name)) == NULL ||
	    (names = realloc(m->names, (m->nfigures + 1) * sizeof *names)) == NULL) {
		free(n);
		free(v);
		return -ENOMEM;
	}
	m->names = names;
	if ((values = realloc(m->values, (m->nfigures + 1) * sizeof *values)) == NULL) {
		free(n);
		free(v);
		return -ENOMEM;
	}
	m->values = values;
	m->names[m->nfigures] = n;
	m->values[m->nfigures++] = v;
	return 0;
}

int
manifest_stores_add(struct manifest_stores *s, const char *name, int64_t sales)
{
	char **names, *n = util_strdup(name);
	int64_t *v;

	if (n == NULL || (names = realloc(s->names, (s->n + 1) * sizeof *names)) == NULL) {
		free(n);
		return -ENOMEM;
	}
	s->names = names;
	if ((v = realloc(s->sales, (s->n + 1) * sizeof *v)) == NULL) {
		free(n);
		return -ENOMEM;
	}
	s->sales = v;
	s->names[s->n] = n;
	s->sales[s->n++] = sales;
	s->present = true;
	return 0;
}

bool
manifest_stores_find(const struct manifest_stores *s, const char *name, int64_t *sales)
{
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->names[i], name) == 0) {
			*sales = s->sales[i];
			return true;
		}
	}
	return false;
}

/* The stores as a JSON object; NULL when out of memory (or a name that is not UTF-8). */
static json_t *
stores_object(const struct manifest_stores *s)
{
	json_t *o = json_object();

	for (size_t i = 0; o != NULL && i < s->n; i++) {
		if (json_object_set_new(o, s->names[i], json_integer((json_int_t)s->sales[i])) < 0) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}

int
manifest_stores_json(const struct manifest_stores *s, char **out)
{
	json_t *o;

	*out = NULL;
	if (!s->present)
		return 0;
	if ((o = stores_object(s)) == NULL)
		return -ENOMEM;
	/* Sorted: the same stores and sales are always the same text. */
	*out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return *out != NULL ? 0 : -ENOMEM;
}

/* The stores of a JSON object into out, or -EBADMSG naming where (what) and the member. */
static int
stores_from(json_t *o, const char *what, struct manifest_stores *out, char **cause)
{
	struct manifest_stores s = { 0 };
	const char *name;
	json_t *v;
	int e = 0;

	if (!json_is_object(o))
		return util_fail(cause, -EBADMSG, "%s: \"stores\" is not an object", what);
	json_object_foreach(o, name, v) {
		if (!json_is_integer(v)) {
			e = util_fail(cause, -EBADMSG, "%s: stores.%s is not an integer (minor units)", what, name);
			break;
		}
		if (manifest_stores_add(&s, name, (int64_t)json_integer_value(v)) < 0) {
			e = util_fail(cause, -ENOMEM, "out of memory");
			break;
		}
	}
	if (e < 0) {
		manifest_stores_done(&s);
		return e;
	}
	s.present = true;
	*out = s;
	return 0;
}

int
manifest_stores_parse(const char *text, struct manifest_stores *out, char **cause)
{
	json_error_t jerr;
	json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	int e;

	if (o == NULL)
		return util_fail(cause, -EBADMSG, "the stores' figures are not JSON: %s", jerr.text);
	e = stores_from(o, "the stores' figures", out, cause);
	json_decref(o);
	return e;
}

void
manifest_stores_done(struct manifest_stores *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->names[i]);
	free(s->names);
	free(s->sales);
	*s = (struct manifest_stores){ 0 };
}

char *
manifest_money(const struct config *cfg, int64_t minor, char *buf, size_t len)
{
	/* The same choice of grouping as report_build makes for the PDF. */
	enum report_grouping g = cfg->report.digit_grouping != NULL && strcmp(cfg->report.digit_grouping,
	    "western") == 0 ? REPORT_GROUPING_WESTERN : REPORT_GROUPING_INDIAN;

	return numfmt_money(buf, len, minor, g, cfg->report.currency);
}

int
manifest_digest(const char *path, struct manifest_file *f, char **cause)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = NULL;
	ssize_t n;
	int fd, e = 0;

	f->size = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return util_fail(cause, -errno, "%s: %s", path, strerror(errno));
	if ((ctx = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = util_fail(cause, -errno, "%s: %s", path, strerror(errno));
			goto out;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		f->size += (uint64_t)n;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) {
		e = util_fail(cause, -EIO, "%s: SHA-256 failed", path);
		goto out;
	}
	for (unsigned i = 0; i < mdlen; i++) {
		f->sha256[2 * i] = hex[md[i] >> 4];
		f->sha256[2 * i + 1] = hex[md[i] & 15];
	}
	f->sha256[64] = '\0';
out:
	EVP_MD_CTX_free(ctx);
	close(fd);
	return e;
}

static json_t *
file_json(const struct manifest_file *f)
{
	return json_pack("{s:s, s:I, s:s}", "name", f->name, "size", (json_int_t)f->size, "sha256", f->sha256);
}

int
manifest_write(const char *path, const struct manifest *m, char **cause)
{
	json_t *o = NULL, *figures = json_object(), *stores = NULL;
	char *text = NULL;
	int e;

	for (size_t i = 0; figures != NULL && i < m->nfigures; i++)
		json_object_set_new(figures, m->names[i], json_string(m->values[i]));
	o = json_pack("{s:i, s:s, s:s, s:s, s:o, s:s, s:b, s:s, s:{s:o, s:o}, s:o*}",
	    "version", MANIFEST_VERSION, "report", m->report, "period", m->period, "scope", m->scope,
	    "store", m->store ? json_string(m->store) : json_null(), "company", m->company, "empty", m->empty,
	    "rendered_at", m->rendered_at, "files", "pdf", file_json(&m->pdf), "xlsx", file_json(&m->xlsx),
	    "figures", figures);
	/* Absent, not empty, when the caller has none: an empty object would say "no store sold". */
	if (o != NULL && m->stores.present && ((stores = stores_object(&m->stores)) == NULL ||
	    json_object_set_new(o, "stores", stores) < 0)) {
		json_decref(o);
		o = NULL;
	}
	if (o == NULL || (text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS)) == NULL) {
		e = util_fail(cause, -ENOMEM, "%s: cannot build the manifest (out of memory, or text that is not "
		    "UTF-8)", path);
		goto out;
	}
	e = util_write_atomic(path, text, strlen(text), 0644, cause);
out:
	free(text);
	json_decref(o);
	return e;
}

/* A string member: its copy into *out, or -EBADMSG naming it. */
static int
member(json_t *o, const char *path, const char *key, bool nullable, char **out, char **cause)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (nullable && json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0)
		return util_fail(cause, -EBADMSG, "%s: \"%s\" is missing or not a string", path, key);
	if ((*out = util_strdup(json_string_value(v))) == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	return 0;
}

/* A file's name must stay in the report's directory. */
static int
file_member(json_t *files, const char *path, const char *key, struct manifest_file *f, char **cause)
{
	json_t *o = json_object_get(files, key), *size;
	char *sha = NULL;
	int e;

	if (!json_is_object(o))
		return util_fail(cause, -EBADMSG, "%s: files.%s is missing", path, key);
	if ((e = member(o, path, "name", false, &f->name, cause)) < 0 ||
	    (e = member(o, path, "sha256", false, &sha, cause)) < 0)
		goto out;
	size = json_object_get(o, "size");
	if (strchr(f->name, '/') != NULL || f->name[0] == '.' || !json_is_integer(size) ||
	    json_integer_value(size) < 0 || strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64) {
		e = util_fail(cause, -EBADMSG, "%s: files.%s is not a file of the report's directory with a size "
		    "and a SHA-256", path, key);
		goto out;
	}
	f->size = (uint64_t)json_integer_value(size);
	memcpy(f->sha256, sha, 65);
out:
	free(sha);
	return e;
}

int
manifest_read(const char *path, struct manifest **out, char **cause)
{
	struct manifest *m = NULL;
	json_t *o = NULL, *v, *figures, *stores;
	json_error_t jerr;
	const char *key, *slash;
	char *text = NULL;
	size_t len;
	int e;

	*out = NULL;
	if ((e = util_read_file(path, MANIFEST_MAX, &text, &len)) < 0)
		return e == -ENOENT ? util_fail(cause, -ENOENT, "%s: no such file", path) :
		    util_fail(cause, e == -EFBIG ? -EBADMSG : e, "%s: %s", path, e == -EFBIG ? "too large for a "
		    "manifest" : strerror(-e));
	if ((o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL || !json_is_object(o)) {
		e = util_fail(cause, -EBADMSG, "%s: line %d: not a manifest: %s", path, jerr.line,
		    o == NULL ? jerr.text : "not an object");
		goto out;
	}
	v = json_object_get(o, "version");
	if (!json_is_integer(v) || json_integer_value(v) != MANIFEST_VERSION) {
		e = util_fail(cause, -EBADMSG, "%s: version %lld, this salesd reads version %d (render the report "
		    "again)", path, json_is_integer(v) ? (long long)json_integer_value(v) : -1LL, MANIFEST_VERSION);
		goto out;
	}
	if ((m = calloc(1, sizeof *m)) == NULL) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	slash = strrchr(path, '/');
	if ((m->dir = slash ? util_printf("%.*s", (int)(slash - path), path) : util_strdup(".")) == NULL) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	if ((e = member(o, path, "report", false, &m->report, cause)) < 0 ||
	    (e = member(o, path, "period", false, &m->period, cause)) < 0 ||
	    (e = member(o, path, "scope", false, &m->scope, cause)) < 0 ||
	    (e = member(o, path, "store", true, &m->store, cause)) < 0 ||
	    (e = member(o, path, "company", false, &m->company, cause)) < 0 ||
	    (e = member(o, path, "rendered_at", false, &m->rendered_at, cause)) < 0 ||
	    (e = file_member(json_object_get(o, "files"), path, "pdf", &m->pdf, cause)) < 0 ||
	    (e = file_member(json_object_get(o, "files"), path, "xlsx", &m->xlsx, cause)) < 0)
		goto out;
	if (!json_is_boolean(json_object_get(o, "empty"))) {
		e = util_fail(cause, -EBADMSG, "%s: \"empty\" is missing or not true/false", path);
		goto out;
	}
	m->empty = json_is_true(json_object_get(o, "empty"));
	if (!json_is_object(figures = json_object_get(o, "figures"))) {
		e = util_fail(cause, -EBADMSG, "%s: \"figures\" is missing", path);
		goto out;
	}
	json_object_foreach(figures, key, v) {
		if (!json_is_string(v)) {
			e = util_fail(cause, -EBADMSG, "%s: figures.%s is not a string", path, key);
			goto out;
		}
		if (manifest_set_figure(m, key, json_string_value(v)) < 0) {
			e = util_fail(cause, -ENOMEM, "out of memory");
			goto out;
		}
	}
	/* A manifest of an older salesd has none: they read as not present. */
	if ((stores = json_object_get(o, "stores")) != NULL && (e = stores_from(stores, path, &m->stores, cause)) < 0)
		goto out;
	*out = m;
	m = NULL;
	e = 0;
out:
	manifest_free(m);
	json_decref(o);
	free(text);
	return e;
}

char *
manifest_path_of(const struct manifest *m, const struct manifest_file *f)
{
	return util_printf("%s/%s", m->dir ? m->dir : ".", f->name);
}

int
manifest_check(const struct manifest *m, char **cause)
{
	const struct manifest_file *want[] = { &m->pdf, &m->xlsx };

	for (size_t i = 0; i < 2; i++) {
		struct manifest_file got = { 0 };
		char *path = manifest_path_of(m, want[i]);
		int e;

		if (path == NULL)
			return util_fail(cause, -ENOMEM, "out of memory");
		if ((e = manifest_digest(path, &got, cause)) < 0) {
			/* The manifest names it, so it was there: gone or unreadable now is not "not rendered". */
			free(path);
			return e == -ENOMEM ? e : -EBADMSG;
		}
		if (got.size != want[i]->size || strcmp(got.sha256, want[i]->sha256) != 0) {
			e = util_fail(cause, -EBADMSG, "%s is not the file its manifest describes (%llu bytes, SHA-256 "
			    "%.12s..., the manifest says %llu bytes, %.12s...); nothing is sent from it: render the "
			    "report again", path, (unsigned long long)got.size, got.sha256,
			    (unsigned long long)want[i]->size, want[i]->sha256);
			free(path);
			return e;
		}
		free(path);
	}
	return 0;
}

int
manifest_open(PGconn *c, const struct config *cfg, const struct period *p, const char *store,
    struct manifest **out, char **cause)
{
	const char *kind = report_kind_name(report_kind_of(p->kind));
	char scope[SLUG_LEN], period[PERIOD_STRLEN], *path = NULL;
	struct manifest *m = NULL;
	int e;

	*out = NULL;
	period_format(p, period);
	if (store == NULL)
		snprintf(scope, sizeof scope, "company");
	else if ((e = slug_find(c, store, scope, cause)) == -ENOENT)
		return util_fail(cause, -EAGAIN, "the %s report %s of %s has not been rendered yet; the report "
		    "job renders it first", kind, period, store);
	else if (e < 0)
		return e;
	if ((path = util_printf("%s/reports/%s/%s/%s.json", cfg->salesd.state_dir, kind, period,
	    scope)) == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	if ((e = manifest_read(path, &m, cause)) == -ENOENT) {
		free(*cause);
		*cause = NULL;
		e = util_fail(cause, -EAGAIN, "the %s report %s of %s has not been rendered yet (no %s); the report "
		    "job renders it first", kind, period, store ? store : "the company", path);
		goto out;
	}
	if (e < 0)
		goto out;
	if (strcmp(m->report, kind) != 0 || strcmp(m->period, period) != 0 || strcmp(m->scope, scope) != 0 ||
	    (store == NULL) != (m->store == NULL) || (store != NULL && strcmp(store, m->store) != 0)) {
		e = util_fail(cause, -EBADMSG, "%s describes the %s report %s of %s, not this one; render the "
		    "report again", path, m->report, m->period, m->store ? m->store : "the company");
		goto out;
	}
	if ((e = manifest_check(m, cause)) < 0)
		goto out;
	*out = m;
	m = NULL;
out:
	manifest_free(m);
	free(path);
	return e;
}

static void
file_done(struct manifest_file *f)
{
	free(f->name);
}

void
manifest_free(struct manifest *m)
{
	if (m == NULL)
		return;
	free(m->report);
	free(m->period);
	free(m->scope);
	free(m->store);
	free(m->company);
	free(m->rendered_at);
	free(m->dir);
	file_done(&m->pdf);
	file_done(&m->xlsx);
	for (size_t i = 0; i < m->nfigures; i++) {
		free(m->names[i]);
		free(m->values[i]);
	}
	free(m->names);
	free(m->values);
	manifest_stores_done(&m->stores);
	free(m);
}
