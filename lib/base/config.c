/*
 * config: load, layer and validate the salesd configuration into typed values.
 *
 * Loading is one pass per layer (main file, FILE.d/\*.conf in lexical order,
 * --set overrides). Every value is checked against the schema
 * (config_schema.c) the moment it is read, so each error can name the file
 * and line it came from.
 * Afterwards secrets are resolved (KEY_file, systemd credentials), required
 * keys are checked, and defaults are filled in as entries of their own.
 * Finally every key's field of struct config (config.h) is pointed at its
 * entry's value, so a module reads a field and nothing parses or searches
 * after the load. The entries stay, for origins (config_origin).
 *
 * inih reads the INI syntax. It does not report line numbers to its handler
 * in the build Debian ships, so the file is fed to it through our own line
 * reader, which counts lines, notes section headers, and refuses lines longer
 * than inih's buffer (inih would silently split them).
 */
#include <ctype.h>
#include <stddef.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "base/config.h"
#include "base/config_schema.h"
#include "base/util.h"

/* Where each section's struct sits in struct config ("job" has an array of its own). */
static const struct {
	const char *name;
	size_t offset, size;
} config_section_structs[] = {
	{ "salesd", offsetof(struct config, salesd), sizeof(struct config_salesd_section) },
	{ "database", offsetof(struct config, database), sizeof(struct config_database_section) },
	{ "source", offsetof(struct config, source), sizeof(struct config_source_section) },
	{ "smtp", offsetof(struct config, smtp), sizeof(struct config_smtp_section) },
	{ "whatsapp", offsetof(struct config, whatsapp), sizeof(struct config_whatsapp_section) },
	{ "recipients", offsetof(struct config, recipients), sizeof(struct config_recipients_section) },
	{ "report", offsetof(struct config, report), sizeof(struct config_report_section) },
};

/* What an unset list without a default points to. */
static char *const config_empty_list[] = { NULL };

/*
 * The standard pipeline (DESIGN.md), used when no file defines any job. It is
 * parsed through the same code as a file, so it is validated the same way.
 */
static const char config_builtin_jobs[] =
	"[job etl]\n"
	"kind = etl\n"
	"schedule = 30 1 * * *\n"
	"period = day\n"
	"[job daily-report]\n"
	"kind = report\n"
	"after = etl\n"
	"period = day\n"
	"[job daily-whatsapp]\n"
	"kind = whatsapp\n"
	"after = daily-report\n"
	"period = day\n"
	"[job weekly-reports]\n"
	"kind = report\n"
	"after = etl\n"
	"period = week\n"
	"scope = both\n"
	"[job weekly-email]\n"
	"kind = email\n"
	"after = weekly-reports\n"
	"period = week\n"
	"scope = both\n"
	"[job monthly-reports]\n"
	"kind = report\n"
	"after = etl\n"
	"period = month\n"
	"scope = both\n"
	"[job monthly-email]\n"
	"kind = email\n"
	"after = monthly-reports\n"
	"period = month\n"
	"scope = both\n";

#define ORIGIN_SET     "--set"
#define ORIGIN_BUILTIN "(built-in)"
#define MAX_ERRORS     50
#define MAX_SECRET     65536

struct config_entry {
	const struct config_key *key;
	char *section;          /* "smtp", "job etl" */
	char *name;             /* key name as written ("password_file" for a file reference) */
	bool file_ref;          /* NAME_file of a secret key */
	char *text;             /* the value (for PATH: resolved) */
	const char *file;       /* origin, owned by config->files */
	int line;
	union {
		long long i;
		bool b;
		unsigned long long ms;
	} v;
	char **list;            /* CONFIG_LIST */
	size_t nlist;
};

struct config_section {
	char *name;
	const char *file;
	int line;
};

/*
 * A configuration as config.c keeps it: the typed values everyone reads
 * first (a struct config * is a pointer to one of these), then every entry
 * with its origin, which the values point into.
 */
struct config_store {
	struct config pub;
	int refs;
	char *path;
	char **files;           /* every origin name, for entries to point at */
	size_t nfiles;
	struct config_entry *entries;
	size_t nentries, centries;
	struct config_section *sections;
	size_t nsections, csections;
	char **jobs;            /* job names in order of definition */
	char **job_sections;    /* "job NAME" of each */
	size_t njobs;
	struct config_job *job_values;
};

/* State of one load: the configuration being built and the errors found. */
struct loader {
	struct config_store *c;
	const struct config_source *src;
	char *errors;           /* newline-separated */
	size_t nerrors;
	bool oom;

	/* The file being parsed. */
	const char *file;       /* origin name (config->files) */
	char *dir;              /* its directory, for relative paths */
	FILE *fp;
	char *linebuf;
	size_t linecap;
	int lineno;
	bool indented;          /* the current line starts with white space */
	char *prev_section, *prev_name;
	int prev_line;
};

static void loader_error(struct loader *, const char *, int, const char *, ...)
    __attribute__((format(printf, 4, 5)));

/* Record one error, prefixed "FILE:LINE: " (or "FILE: " when line is 0). */
static void
loader_error(struct loader *ld, const char *file, int line, const char *fmt, ...)
{
	char *msg, *prefix, *joined;
	va_list ap;

	ld->nerrors++;
	if (ld->nerrors > MAX_ERRORS)
		return;
	va_start(ap, fmt);
	msg = util_vprintf(fmt, ap);
	va_end(ap);
	if (ld->nerrors == MAX_ERRORS)
		prefix = util_printf("%s: too many errors, stopping", file);
	else if (line > 0)
		prefix = util_printf("%s:%d: %s", file, line, msg ? msg : "");
	else
		prefix = util_printf("%s: %s", file, msg ? msg : "");
	free(msg);
	if (prefix == NULL) {
		ld->oom = true;
		return;
	}
	if (ld->errors == NULL) {
		ld->errors = prefix;
		return;
	}
	joined = util_printf("%s\n%s", ld->errors, prefix);
	free(prefix);
	if (joined == NULL) {
		ld->oom = true;
		return;
	}
	free(ld->errors);
	ld->errors = joined;
}

/* Keep a copy of an origin name; entries point into config->files. */
static const char *
config_intern_file(struct config_store *c, const char *name)
{
	char **files;

	for (size_t i = 0; i < c->nfiles; i++)
		if (strcmp(c->files[i], name) == 0)
			return c->files[i];
	if ((files = realloc(c->files, (c->nfiles + 1) * sizeof *files)) == NULL)
		return NULL;
	c->files = files;
	if ((files[c->nfiles] = strdup(name)) == NULL)
		return NULL;
	return files[c->nfiles++];
}

/*
 * Check a section name; returns its schema section or NULL after recording
 * an error with a suggestion.
 */
static const char *
loader_check_section(struct loader *ld, const char *section, const char *file, int line)
{
	const char *schema, *hint;

	if ((schema = config_schema_section(section)) != NULL) {
		if (strcmp(schema, "job") == 0 && !config_job_name_valid(section + 4)) {
			loader_error(ld, file, line, "[%s]: job name \"%s\" must be 1-%d "
			    "lower-case letters, digits, \"-\" or \"_\", starting with a letter or digit",
			    section, section + 4, CONFIG_MAX_JOB_NAME);
			return NULL;
		}
		return schema;
	}
	if (strcmp(section, "job") == 0) {
		loader_error(ld, file, line, "[job]: a job section needs a name, e.g. [job etl]");
		return NULL;
	}
	if (strncmp(section, "job", 3) == 0 || strncmp(section, "jobs ", 5) == 0) {
		loader_error(ld, file, line, "[%s]: unknown section (job sections are written [job NAME])", section);
		return NULL;
	}
	if ((hint = util_suggest(section, config_sections)) != NULL &&
	    strcmp(hint, "job") != 0)
		loader_error(ld, file, line, "[%s]: unknown section (did you mean [%s]?)", section, hint);
	else
		loader_error(ld, file, line, "[%s]: unknown section", section);
	return NULL;
}

/* Resolve a relative path against dir; returns a new string. */
static char *
resolve_path(const char *dir, const char *path)
{
	if (path[0] == '/' || dir == NULL)
		return strdup(path);
	return util_printf("%s/%s", dir, path);
}

/*
 * Parse and check text as a value of key, filling e. Returns 0, or a negative
 * error with *why set (never quoting a secret).
 */
static int
entry_parse(struct loader *ld, struct config_entry *e, const char *dir, char **why)
{
	const struct config_key *k = e->key;
	char *list, *tmp;
	int r;

	if (e->file_ref || k->type == CONFIG_PATH) {
		if (e->text[0] == '\0')
			return util_fail(why, -EINVAL, "empty path");
		if ((tmp = resolve_path(dir, e->text)) == NULL)
			return -ENOMEM;
		free(e->text);
		e->text = tmp;
		/* A default file need not exist until something uses it. */
		if ((k->flags & CONFIG_EXISTS) && strcmp(e->file, ORIGIN_BUILTIN) != 0 &&
		    access(e->text, R_OK) < 0)
			return util_fail(why, -errno, "cannot read \"%s\": %s", e->text, strerror(errno));
		return 0;
	}
	switch (k->type) {
	case CONFIG_STRING:
	case CONFIG_PATH:
		break;
	case CONFIG_LIST:
		if ((e->list = util_split(e->text, ',', &e->nlist)) == NULL)
			return -ENOMEM;
		break;
	case CONFIG_BOOL:
		if (config_parse_bool(e->text, &e->v.b) < 0)
			return util_fail(why, -EINVAL, "\"%s\" is not a boolean (use yes or no)", e->text);
		break;
	case CONFIG_INT: {
		char *end;
		long long n;

		errno = 0;
		n = strtoll(e->text, &end, 10);
		if (e->text[0] == '\0' || *end != '\0' || errno != 0)
			return util_fail(why, -EINVAL, "\"%s\" is not an integer", e->text);
		if (n < k->min || n > k->max)
			return util_fail(why, -ERANGE, "%lld is out of range %lld..%lld", n, k->min, k->max);
		e->v.i = n;
		break;
	}
	case CONFIG_DURATION:
		if ((r = config_parse_duration(e->text, &e->v.ms, why)) < 0)
			return r;
		if ((long long)e->v.ms < k->min || (k->max > 0 && (long long)e->v.ms > k->max))
			return util_fail(why, -ERANGE, "\"%s\" is out of range %llds..%llds",
			    e->text, k->min / 1000, k->max / 1000);
		break;
	case CONFIG_TIMEZONE:
		return config_check_timezone(e->text, ld->src->zoneinfo_dir ?
		    ld->src->zoneinfo_dir : "/usr/share/zoneinfo", why);
	case CONFIG_URL:
		return config_check_url(e->text, k->choices, why);
	case CONFIG_ENUM:
		if (!config_choices_has(k->choices, e->text)) {
			char **v = util_split(k->choices, '|', NULL);
			const char *hint = v ? util_suggest(e->text, (const char *const *)v) : NULL;

			list = config_choices_text(k->choices);
			if (hint != NULL)
				r = util_fail(why, -EINVAL, "unknown value \"%s\" (did you mean \"%s\"? expected %s)",
				    e->text, hint, list ? list : k->choices);
			else
				r = util_fail(why, -EINVAL, "unknown value \"%s\" (expected %s)",
				    e->text, list ? list : k->choices);
			free(list);
			util_strv_free(v);
			return r;
		}
		break;
	}
	if (k->check != NULL && !(k->flags & CONFIG_SECRET))
		return k->check(e->text, why);
	return 0;
}

static void
entry_done(struct config_entry *e)
{
	free(e->section);
	free(e->name);
	/* Wipe secrets before their memory goes back to the allocator. */
	if (e->text != NULL && e->key != NULL && (e->key->flags & CONFIG_SECRET) && !e->file_ref)
		explicit_bzero(e->text, strlen(e->text));
	free(e->text);
	util_strv_free(e->list);
}

static struct config_entry *
config_find(const struct config_store *c, const char *section, const char *name)
{
	for (size_t i = 0; i < c->nentries; i++)
		if (strcmp(c->entries[i].section, section) == 0 &&
		    strcmp(c->entries[i].name, name) == 0)
			return &c->entries[i];
	return NULL;
}

static struct config_section *
config_find_section(const struct config_store *c, const char *name)
{
	for (size_t i = 0; i < c->nsections; i++)
		if (strcmp(c->sections[i].name, name) == 0)
			return &c->sections[i];
	return NULL;
}

/* Note a section (first definition wins as its origin); jobs keep their order. */
static int
config_add_section(struct config_store *c, const char *name, const char *file, int line)
{
	struct config_section *s;
	char **jobs;

	if (config_find_section(c, name) != NULL)
		return 0;
	if (c->nsections == c->csections) {
		size_t n = c->csections ? c->csections * 2 : 16;

		if ((s = realloc(c->sections, n * sizeof *s)) == NULL)
			return -ENOMEM;
		c->sections = s;
		c->csections = n;
	}
	s = &c->sections[c->nsections];
	if ((s->name = strdup(name)) == NULL)
		return -ENOMEM;
	s->file = file;
	s->line = line;
	c->nsections++;
	if (strncmp(name, "job ", 4) == 0) {
		if ((jobs = realloc(c->jobs, (c->njobs + 1) * sizeof *jobs)) == NULL)
			return -ENOMEM;
		c->jobs = jobs;
		if ((jobs = realloc(c->job_sections, (c->njobs + 1) * sizeof *jobs)) == NULL)
			return -ENOMEM;
		c->job_sections = jobs;
		if ((c->jobs[c->njobs] = strdup(name + 4)) == NULL)
			return -ENOMEM;
		if ((c->job_sections[c->njobs] = strdup(name)) == NULL) {
			free(c->jobs[c->njobs]);
			return -ENOMEM;
		}
		c->njobs++;
	}
	return 0;
}

/*
 * Set section.name = value from file:line (the one path for files, --set and
 * defaults). Errors are recorded in the loader; nothing is returned.
 */
static void
loader_set(struct loader *ld, const char *section, const char *name, const char *value,
    const char *file, int line, const char *dir)
{
	const struct config_key *k;
	const char *schema, *hint;
	struct config_entry e = { 0 }, *old;
	bool file_ref = false;
	char *why = NULL;
	int r;

	if ((schema = config_schema_section(section)) == NULL)
		return; /* reported with the section header (or by the --set parser) */
	if ((k = config_schema_find(schema, name)) == NULL) {
		size_t nlen = strlen(name);

		if (nlen > 5 && strcmp(name + nlen - 5, "_file") == 0) {
			char *base = strndup(name, nlen - 5);

			k = base ? config_schema_find(schema, base) : NULL;
			free(base);
			if (k != NULL && !(k->flags & CONFIG_SECRET)) {
				loader_error(ld, file, line, "[%s] %s: only secrets can be read from a file "
				    "(%s is not a secret; set it directly)", section, name, k->name);
				return;
			}
			file_ref = k != NULL;
		}
	}
	if (k == NULL) {
		const char *names[CONFIG_NKEYS + 1];
		size_t n = 0;

		for (size_t i = 0; i < CONFIG_NKEYS; i++)
			if (strcmp(config_keys[i].section, schema) == 0)
				names[n++] = config_keys[i].name;
		names[n] = NULL;
		if ((hint = util_suggest(name, names)) != NULL)
			loader_error(ld, file, line, "[%s] %s: unknown key (did you mean %s?)", section, name, hint);
		else
			loader_error(ld, file, line, "[%s] %s: unknown key", section, name);
		return;
	}

	e.key = k;
	e.file_ref = file_ref;
	e.file = file;
	e.line = line;
	e.section = strdup(section);
	e.name = strdup(name);
	e.text = strdup(value);
	if (e.section == NULL || e.name == NULL || e.text == NULL) {
		ld->oom = true;
		entry_done(&e);
		return;
	}
	if ((r = entry_parse(ld, &e, dir, &why)) < 0) {
		if (r == -ENOMEM) {
			ld->oom = true;
			entry_done(&e);
			return;
		}
		if ((k->flags & CONFIG_SECRET) && !file_ref)
			loader_error(ld, file, line, "[%s] %s: invalid value (not shown: secret)", section, name);
		else
			loader_error(ld, file, line, "[%s] %s: %s", section, name, why ? why : "invalid value");
		free(why);
		/*
		 * Keep the bad entry: the load fails anyway, and this way the
		 * key does not also count as missing ("kind is required").
		 */
	}

	if ((old = config_find(ld->c, section, name)) != NULL) {
		/* Layers override each other; within one file a repeat is a mistake. */
		if (old->file == file && strcmp(file, ORIGIN_SET) != 0) {
			loader_error(ld, file, line, "[%s] %s: set twice in this file (first on line %d)",
			    section, name, old->line);
			entry_done(&e);
			return;
		}
		entry_done(old);
		*old = e;
		return;
	}
	if (ld->c->nentries == ld->c->centries) {
		size_t n = ld->c->centries ? ld->c->centries * 2 : 32;
		struct config_entry *v = realloc(ld->c->entries, n * sizeof *v);

		if (v == NULL) {
			ld->oom = true;
			entry_done(&e);
			return;
		}
		ld->c->entries = v;
		ld->c->centries = n;
	}
	ld->c->entries[ld->c->nentries++] = e;
}

/* inih reader: one line per call, counted, with headers noted and length checked. */
static char *
loader_read_line(char *str, int num, void *stream)
{
	struct loader *ld = stream;
	ssize_t n;
	size_t len;
	char *start, *end;

	if ((n = getline(&ld->linebuf, &ld->linecap, ld->fp)) < 0)
		return NULL;
	ld->lineno++;
	len = (size_t)n;
	while (len > 0 && (ld->linebuf[len - 1] == '\n' || ld->linebuf[len - 1] == '\r'))
		len--;
	ld->linebuf[len] = '\0';
	if (len + 2 > (size_t)num) {
		loader_error(ld, ld->file, ld->lineno, "line is longer than %d bytes; "
		    "for a long secret use KEY_file", num - 2);
		ld->linebuf[0] = '\0';
		len = 0;
	}
	ld->indented = len > 0 && (ld->linebuf[0] == ' ' || ld->linebuf[0] == '\t');

	/* Note section headers with their line, as inih reads them. */
	start = ld->linebuf;
	while (isspace((unsigned char)*start))
		start++;
	if (*start == '[' && (end = strchr(start, ']')) != NULL) {
		char *name = strndup(start + 1, (size_t)(end - start - 1));

		if (name == NULL)
			ld->oom = true;
		else {
			if (loader_check_section(ld, name, ld->file, ld->lineno) != NULL &&
			    config_add_section(ld->c, name, ld->file, ld->lineno) < 0)
				ld->oom = true;
			free(name);
		}
	}
	memcpy(str, ld->linebuf, len);
	str[len] = '\n';
	str[len + 1] = '\0';
	return str;
}

static int
loader_handle(void *user, const char *section, const char *name, const char *value)
{
	struct loader *ld = user;
	size_t vlen;

	/* Keys before any section header. */
	if (*section == '\0') {
		loader_error(ld, ld->file, ld->lineno, "%s: key outside of any section "
		    "(put it below a header such as [salesd])", name);
		return 1;
	}
	/*
	 * inih joins an indented line to the key above it as a second value
	 * for that key; an operator who merely indented a key would see a
	 * confusing "set twice". Say what happened instead.
	 */
	if (ld->indented && ld->prev_name != NULL && strcmp(ld->prev_name, name) == 0 &&
	    strcmp(ld->prev_section, section) == 0) {
		loader_error(ld, ld->file, ld->lineno, "[%s] %s: indented line is read as a "
		    "continuation of \"%s\" (line %d); values are one line: remove the indentation",
		    section, name, name, ld->prev_line);
		return 1;
	}
	free(ld->prev_section);
	free(ld->prev_name);
	ld->prev_section = strdup(section);
	ld->prev_name = strdup(name);
	ld->prev_line = ld->lineno;
	/* Allow an optional pair of double quotes around a value in a file. */
	vlen = strlen(value);
	if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
		char *unquoted = strndup(value + 1, vlen - 2);

		if (unquoted == NULL) {
			ld->oom = true;
			return 1;
		}
		loader_set(ld, section, name, unquoted, ld->file, ld->lineno, ld->dir);
		free(unquoted);
		return 1;
	}
	loader_set(ld, section, name, value, ld->file, ld->lineno, ld->dir);
	return 1;
}

/* Parse one INI stream under the given origin name. */
static void
loader_parse(struct loader *ld, FILE *fp, const char *origin, const char *dir)
{
	int r;

	ld->fp = fp;
	ld->lineno = 0;
	if ((ld->file = config_intern_file(ld->c, origin)) == NULL) {
		ld->oom = true;
		return;
	}
	free(ld->dir);
	ld->dir = util_strdup(dir);
	free(ld->prev_section);
	free(ld->prev_name);
	ld->prev_section = ld->prev_name = NULL;
	r = ini_parse_stream(loader_read_line, ld, loader_handle, ld);
	if (r > 0)
		loader_error(ld, ld->file, r, "syntax error: expected \"[section]\", "
		    "\"key = value\" or a comment");
	else if (r < 0)
		ld->oom = true;
}

/* Parse a file by path; a missing optional file is not an error. */
static void
loader_parse_file(struct loader *ld, const char *path)
{
	char *dir, *slash;
	FILE *fp;

	if ((fp = fopen(path, "re")) == NULL) {
		loader_error(ld, path, 0, "cannot read the configuration: %s", strerror(errno));
		return;
	}
	if ((dir = strdup(path)) == NULL) {
		ld->oom = true;
		fclose(fp);
		return;
	}
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
		strcpy(dir, ".");
	loader_parse(ld, fp, path, dir);
	free(dir);
	fclose(fp);
}

static int
conf_name_filter(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	return d->d_name[0] != '.' && len > 5 && strcmp(d->d_name + len - 5, ".conf") == 0;
}

static int
conf_name_compare(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* FILE.d/\*.conf, in byte-wise lexical order. */
static void
loader_parse_dropins(struct loader *ld, const char *path)
{
	struct dirent **names = NULL;
	char *dir, *file;
	int n;

	if ((dir = util_printf("%s.d", path)) == NULL) {
		ld->oom = true;
		return;
	}
	n = scandir(dir, &names, conf_name_filter, conf_name_compare);
	if (n < 0 && errno != ENOENT)
		loader_error(ld, dir, 0, "cannot read the drop-in directory: %s", strerror(errno));
	for (int i = 0; i < n; i++) {
		if ((file = util_printf("%s/%s", dir, names[i]->d_name)) == NULL)
			ld->oom = true;
		else
			loader_parse_file(ld, file);
		free(file);
		free(names[i]);
	}
	free(names);
	free(dir);
}

/* One --set SECTION.KEY=VALUE; the key is what follows the last dot before "=". */
static void
loader_parse_set(struct loader *ld, const char *arg)
{
	const char *eq, *dot = NULL, *origin;
	char *section, *name, *cwd;

	if ((origin = config_intern_file(ld->c, ORIGIN_SET)) == NULL) {
		ld->oom = true;
		return;
	}
	if ((eq = strchr(arg, '=')) != NULL)
		for (const char *p = arg; p < eq; p++)
			if (*p == '.')
				dot = p;
	if (eq == NULL || dot == NULL || dot == arg || dot + 1 == eq) {
		loader_error(ld, origin, 0, "\"%.*s\": expected SECTION.KEY=VALUE "
		    "(e.g. --set salesd.timezone=Asia/Kolkata)", (int)(eq ? eq - arg : (int)strlen(arg)), arg);
		return;
	}
	section = strndup(arg, (size_t)(dot - arg));
	name = strndup(dot + 1, (size_t)(eq - dot - 1));
	cwd = getcwd(NULL, 0);
	if (section == NULL || name == NULL) {
		ld->oom = true;
	} else if (loader_check_section(ld, section, origin, 0) != NULL) {
		if (config_add_section(ld->c, section, origin, 0) < 0)
			ld->oom = true;
		loader_set(ld, section, name, eq + 1, origin, 0, cwd);
	}
	free(section);
	free(name);
	free(cwd);
}

/* Replace KEY_file and credentials by the secret itself. */
static void
loader_resolve_secret(struct loader *ld, const char *section, const struct config_key *k)
{
	struct config_entry *val, *ref;
	char *fname, *secret = NULL, *path = NULL;
	size_t len;
	int r;

	if ((fname = util_printf("%s_file", k->name)) == NULL) {
		ld->oom = true;
		return;
	}
	val = config_find(ld->c, section, k->name);
	ref = config_find(ld->c, section, fname);
	if (val != NULL && ref != NULL) {
		loader_error(ld, ref->file, ref->line, "[%s] %s: both %s and %s are set; keep one",
		    section, fname, k->name, fname);
		goto out;
	}
	if (ref != NULL) {
		if ((r = util_read_file(ref->text, MAX_SECRET, &secret, &len)) < 0) {
			loader_error(ld, ref->file, ref->line, "[%s] %s: cannot read \"%s\": %s",
			    section, fname, ref->text, r == -EFBIG ? "file too large" : strerror(-r));
			goto out;
		}
		/* Files usually end with a newline that is not part of the secret. */
		while (len > 0 && (secret[len - 1] == '\n' || secret[len - 1] == '\r'))
			secret[--len] = '\0';
		if (len == 0 || memchr(secret, '\n', len) != NULL) {
			loader_error(ld, ref->file, ref->line, "[%s] %s: \"%s\" must hold the secret on one "
			    "non-empty line", section, fname, ref->text);
			goto out;
		}
		loader_set(ld, section, k->name, secret, ref->file, ref->line, NULL);
		goto out;
	}
	if (val != NULL || ld->src->credentials_dir == NULL)
		goto out;
	/* systemd credential named "SECTION.KEY" (LoadCredential=smtp.password:...). */
	if ((path = util_printf("%s/%s.%s", ld->src->credentials_dir, section, k->name)) == NULL) {
		ld->oom = true;
		goto out;
	}
	r = util_read_file(path, MAX_SECRET, &secret, &len);
	if (r == -ENOENT)
		goto out;
	if (r < 0) {
		loader_error(ld, path, 0, "cannot read credential: %s", r == -EFBIG ? "file too large" : strerror(-r));
		goto out;
	}
	while (len > 0 && (secret[len - 1] == '\n' || secret[len - 1] == '\r'))
		secret[--len] = '\0';
	{
		char *origin = util_printf("credential %s.%s", section, k->name);
		const char *o = origin ? config_intern_file(ld->c, origin) : NULL;

		free(origin);
		if (o == NULL)
			ld->oom = true;
		else
			loader_set(ld, section, k->name, secret, o, 0, NULL);
	}
out:
	if (secret != NULL)
		explicit_bzero(secret, strlen(secret));
	free(secret);
	free(path);
	free(fname);
}

/* Secrets, required keys and defaults, for one section instance. */
static void
loader_finish_section(struct loader *ld, const char *section, const char *schema)
{
	const char *builtin = config_intern_file(ld->c, ORIGIN_BUILTIN);
	const struct config_section *s = config_find_section(ld->c, section);

	if (builtin == NULL) {
		ld->oom = true;
		return;
	}
	for (size_t i = 0; i < CONFIG_NKEYS; i++) {
		const struct config_key *k = &config_keys[i];

		if (strcmp(k->section, schema) != 0)
			continue;
		if (k->flags & CONFIG_SECRET)
			loader_resolve_secret(ld, section, k);
		if (config_find(ld->c, section, k->name) != NULL)
			continue;
		if (k->flags & CONFIG_REQUIRED) {
			loader_error(ld, s ? s->file : builtin, s ? s->line : 0,
			    "[%s]: %s is required", section, k->name);
			continue;
		}
		/* Relative default paths are relative to the main file's directory. */
		if (k->def != NULL) {
			char *dir = strdup(ld->c->path), *slash;

			if (dir == NULL) {
				ld->oom = true;
				return;
			}
			if ((slash = strrchr(dir, '/')) != NULL)
				*(slash == dir ? slash + 1 : slash) = '\0';
			else
				strcpy(dir, ".");
			loader_set(ld, section, k->name, k->def, builtin, 0, dir);
			free(dir);
		}
	}
}

/* The store behind a configuration (pub is its first member). */
static const struct config_store *
store_of(const struct config *c)
{
	return (const struct config_store *)(const void *)c;
}

/* Point a field at its entry's value, or at the empty value of its kind. */
static void
field_fill(void *base, const struct config_key *k, const struct config_entry *e)
{
	void *p = (char *)base + k->field.offset;

	switch (k->field.kind) {
	case CONFIG_STORE_TEXT:
		*(const char **)p = e ? e->text : NULL;
		break;
	case CONFIG_STORE_LIST:
		*(struct config_strv *)p = e ? (struct config_strv){ e->list, e->nlist } :
		    (struct config_strv){ config_empty_list, 0 };
		break;
	case CONFIG_STORE_BOOL:
		*(bool *)p = e ? e->v.b : false;
		break;
	case CONFIG_STORE_INT:
		*(long long *)p = e ? e->v.i : 0;
		break;
	case CONFIG_STORE_MS:
		*(unsigned long long *)p = e ? e->v.ms : 0;
		break;
	}
}

/* Fill one section instance's struct from its entries. */
static void
store_fill_section(struct config_store *c, void *base, const char *section, const char *schema)
{
	for (size_t i = 0; i < CONFIG_NKEYS; i++) {
		const struct config_key *k = &config_keys[i];
		const struct config_entry *e;

		if (strcmp(k->section, schema) != 0)
			continue;
		e = config_find(c, section, k->name);
		field_fill(base, k, e != NULL && !e->file_ref ? e : NULL);
	}
}

/*
 * The typed values, once the load has succeeded: every later read is a
 * field, so nothing parses or searches after this.
 */
static int
store_fill(struct config_store *c)
{
	for (size_t i = 0; i < UTIL_NELEM(config_section_structs); i++)
		store_fill_section(c, (char *)&c->pub + config_section_structs[i].offset,
		    config_section_structs[i].name, config_section_structs[i].name);
	if ((c->job_values = calloc(c->njobs ? c->njobs : 1, sizeof *c->job_values)) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < c->njobs; i++) {
		c->job_values[i].name = c->jobs[i];
		store_fill_section(c, &c->job_values[i], c->job_sections[i], "job");
	}
	c->pub.jobs = c->job_values;
	c->pub.njobs = c->njobs;
	return 0;
}

int
config_load(struct config **out, const struct config_source *src, char **cause)
{
	struct loader ld = { 0 };
	struct config_store *c;
	int r = 0;

	if ((c = calloc(1, sizeof *c)) == NULL || (c->path = strdup(src->path)) == NULL) {
		free(c);
		return util_fail(cause, -ENOMEM, "out of memory");
	}
	c->refs = 1;
	ld.c = c;
	ld.src = src;

	loader_parse_file(&ld, src->path);
	loader_parse_dropins(&ld, src->path);
	for (const char *const *s = src->sets; s != NULL && *s != NULL; s++)
		loader_parse_set(&ld, *s);

	/* The standard pipeline, unless the files define their own jobs. */
	if (c->njobs == 0 && ld.nerrors == 0) {
		FILE *fp = fmemopen((void *)(uintptr_t)config_builtin_jobs,
		    sizeof config_builtin_jobs - 1, "r");

		if (fp == NULL)
			ld.oom = true;
		else {
			loader_parse(&ld, fp, ORIGIN_BUILTIN, NULL);
			fclose(fp);
		}
	}

	for (const char *const *s = config_sections; *s != NULL; s++)
		if (strcmp(*s, "job") != 0)
			loader_finish_section(&ld, *s, *s);
	for (size_t i = 0; i < c->njobs; i++)
		loader_finish_section(&ld, c->job_sections[i], "job");

	if (!ld.oom && ld.nerrors == 0 && store_fill(c) < 0)
		ld.oom = true;
	if (ld.oom)
		r = util_fail(cause, -ENOMEM, "out of memory while loading %s", src->path);
	else if (ld.nerrors > 0) {
		r = -EINVAL;
		if (cause != NULL) {
			free(*cause);
			*cause = ld.errors;
			ld.errors = NULL;
		}
	}
	free(ld.errors);
	free(ld.dir);
	free(ld.linebuf);
	free(ld.prev_section);
	free(ld.prev_name);
	if (r < 0) {
		config_free(&c->pub);
		return r;
	}
	*out = &c->pub;
	return 0;
}

struct config *
config_ref(struct config *pub)
{
	if (pub != NULL)
		((struct config_store *)(void *)pub)->refs++;
	return pub;
}

void
config_free(struct config *pub)
{
	struct config_store *c = (struct config_store *)(void *)pub;

	if (c == NULL || --c->refs > 0)
		return;
	for (size_t i = 0; i < c->nentries; i++)
		entry_done(&c->entries[i]);
	free(c->entries);
	for (size_t i = 0; i < c->nsections; i++)
		free(c->sections[i].name);
	free(c->sections);
	for (size_t i = 0; i < c->nfiles; i++)
		free(c->files[i]);
	free(c->files);
	for (size_t i = 0; i < c->njobs; i++) {
		free(c->jobs[i]);
		free(c->job_sections[i]);
	}
	free(c->jobs);
	free(c->job_sections);
	free(c->job_values);
	free(c->path);
	free(c);
}

/*
 * The section instance and schema row of a field's address: key NULL for a
 * job itself or its name (its section header). Returns 0 or -ENOENT.
 */
static int
store_locate(const struct config_store *c, const void *field, const char **section,
    const struct config_key **key)
{
	uintptr_t p = (uintptr_t)field, base;
	const char *schema = NULL;
	size_t off = 0;

	for (size_t i = 0; i < UTIL_NELEM(config_section_structs) && schema == NULL; i++) {
		base = (uintptr_t)&c->pub + config_section_structs[i].offset;
		if (p >= base && p - base < config_section_structs[i].size) {
			schema = *section = config_section_structs[i].name;
			off = p - base;
		}
	}
	base = (uintptr_t)c->job_values;
	if (schema == NULL && c->njobs > 0 && p >= base && p - base < c->njobs * sizeof *c->job_values) {
		schema = "job";
		*section = c->job_sections[(p - base) / sizeof *c->job_values];
		off = (p - base) % sizeof *c->job_values;
		if (off < offsetof(struct config_job, name) + sizeof c->job_values->name) {
			*key = NULL;
			return 0;
		}
	}
	if (schema == NULL)
		return -ENOENT;
	for (size_t i = 0; i < CONFIG_NKEYS; i++)
		if (config_keys[i].field.offset == off && strcmp(config_keys[i].section, schema) == 0) {
			*key = &config_keys[i];
			return 0;
		}
	return -ENOENT;
}

int
config_origin(const struct config *pub, const void *field, struct config_origin *o)
{
	const struct config_store *c = store_of(pub);
	const struct config_key *k;
	const struct config_entry *e = NULL;
	const struct config_section *s;
	const char *section;

	if (store_locate(c, field, &section, &k) < 0)
		return -ENOENT;
	o->section = section;
	o->key = k ? k->name : NULL;
	o->file = c->path;
	o->line = 0;
	if (k != NULL)
		e = config_find(c, section, k->name);
	if (e != NULL) {
		o->file = e->file;
		o->line = e->line;
	} else if ((s = config_find_section(c, section)) != NULL) {
		o->file = s->file;
		o->line = s->line;
	}
	return 0;
}

bool
config_is_set(const struct config *pub, const void *field)
{
	const struct config_store *c = store_of(pub);
	const struct config_key *k;
	const struct config_entry *e;
	const char *section;

	if (store_locate(c, field, &section, &k) < 0 || k == NULL)
		return false;
	e = config_find(c, section, k->name);
	return e != NULL && strcmp(e->file, ORIGIN_BUILTIN) != 0;
}

const char *
config_path(const struct config *pub)
{
	return store_of(pub)->path;
}
