/*
 * recipients: the recipients file (see recipients.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/csv.h"
#include "base/addr.h"
#include "deliver/recipients.h"
#include "base/util.h"

#define RECIPIENTS_MAX_PROBLEMS 100

/* A chat's fallback addresses (the whatsapp_fallback column of its rows). */
struct chat_fallback {
	char *chat;
	char **addr;            /* NULL-terminated */
	size_t naddr;
};

struct entry {
	char *store;
	char **email;           /* NULL-terminated */
	size_t nemail;
	char **whatsapp;
	size_t nwhatsapp;
	struct chat_fallback *fallback; /* the whatsapp_fallback column, per chat */
	size_t nfallback;
};

struct recipients {
	struct entry *v;
	size_t n;
};

struct parse {
	const char *path;       /* the name in messages */
	struct csv *csv;
	struct recipients *r;
	int col[4];             /* store, email, whatsapp, whatsapp_fallback; -1: absent */
	bool header;
	bool refused;           /* on_row refused the header, with the file name in its message */
	char **problems;
	size_t nproblems;
	size_t dropped;         /* problems beyond the cap */
	int oom;
};

/* Keep msg (ours to free), prefixed with FILE:LINE (line 0: none). */
static void
problem(struct parse *ps, uint64_t line, char *msg)
{
	char *full = NULL, **v;

	if (msg != NULL && ps->nproblems >= RECIPIENTS_MAX_PROBLEMS) {
		ps->dropped++;
		free(msg);
		return;
	}
	if (msg == NULL || (full = line ? util_printf("%s:%llu: %s", ps->path, (unsigned long long)line, msg) :
	    util_printf("%s: %s", ps->path, msg)) == NULL ||
	    (v = reallocarray(ps->problems, ps->nproblems + 2, sizeof *v)) == NULL) {
		free(full);
		free(msg);
		ps->oom = 1;
		return;
	}
	free(msg);
	ps->problems = v;
	v[ps->nproblems++] = full;
	v[ps->nproblems] = NULL;
}

static struct entry *
entry_for(struct parse *ps, const char *store)
{
	struct recipients *r = ps->r;
	struct entry *v;

	for (size_t k = 0; k < r->n; k++)
		if (strcmp(r->v[k].store, store) == 0)
			return &r->v[k];
	if ((v = reallocarray(r->v, r->n + 1, sizeof *v)) == NULL)
		return NULL;
	r->v = v;
	memset(&v[r->n], 0, sizeof v[r->n]);
	if ((v[r->n].store = strdup(store)) == NULL)
		return NULL;
	return &v[r->n++];
}

/* Append the items of list (split at sep) to *vec; 0 or -ENOMEM. */
static int
append(char ***vec, size_t *n, char **items, size_t nitems)
{
	char **v = reallocarray(*vec, *n + nitems + 1, sizeof *v);

	if (v == NULL)
		return -ENOMEM;
	*vec = v;
	for (size_t k = 0; k < nitems; k++) {
		bool dup = false;

		for (size_t m = 0; m < *n; m++)
			dup = dup || strcmp(v[m], items[k]) == 0;
		if (!dup && (v[(*n)++] = strdup(items[k])) == NULL)
			return -ENOMEM;
	}
	v[*n] = NULL;
	return 0;
}

/* Add addresses to chat's fallback: a chat on several rows gets them all. 0 or -ENOMEM. */
static int
add_fallback(struct entry *e, const char *chat, char **addr, size_t n)
{
	struct chat_fallback *v;

	for (size_t k = 0; k < e->nfallback; k++)
		if (strcmp(e->fallback[k].chat, chat) == 0)
			return append(&e->fallback[k].addr, &e->fallback[k].naddr, addr, n);
	if ((v = reallocarray(e->fallback, e->nfallback + 1, sizeof *v)) == NULL)
		return -ENOMEM;
	e->fallback = v;
	memset(&v[e->nfallback], 0, sizeof v[e->nfallback]);
	if ((v[e->nfallback].chat = strdup(chat)) == NULL)
		return -ENOMEM;
	e->nfallback++;
	return append(&v[e->nfallback - 1].addr, &v[e->nfallback - 1].naddr, addr, n);
}

static const char *
field(const struct parse *ps, const struct csv_row *row, int which)
{
	int c = ps->col[which];

	return c >= 0 && (size_t)c < row->nfields ? row->fields[c] : "";
}

static int
on_row(void *arg, const struct csv_row *row, char **cause)
{
	struct parse *ps = arg;
	static const char *const names[] = { "store", "email", "whatsapp", "whatsapp_fallback" };
	char **emails = NULL, **fb = NULL, *chat = NULL, *store = NULL;
	size_t ne = 0, nf = 0, nc;
	struct entry *e;
	int r = 0;

	if (!ps->header) {
		ps->header = true;
		for (int k = 0; k < 4; k++) {
			ps->col[k] = -1;
			for (size_t f = 0; f < row->nfields; f++) {
				char *name = strdup(row->fields[f]);

				if (name != NULL && strcmp(util_trim(name), names[k]) == 0)
					ps->col[k] = (int)f;
				free(name);
			}
		}
		ps->refused = ps->col[0] < 0 || (ps->col[1] < 0 && ps->col[2] < 0);
		if (ps->refused)
			return util_fail(cause, -EBADMSG, "%s:%llu: the header must name the columns store, "
			    "email and whatsapp (got \"%.*s\")", ps->path, (unsigned long long)row->line,
			    (int)(row->rawlen > 80 ? util_utf8_prefix(row->raw, 80) : row->rawlen), row->raw);
		return 0;
	}
	if (row->problem != NULL) {
		problem(ps, 0, util_printf("%s; row left out", row->problem));   /* it names the line */
		return 0;
	}
	if ((store = strdup(field(ps, row, 0))) == NULL ||
	    (emails = util_split(field(ps, row, 1), ';', &ne)) == NULL ||
	    (chat = strdup(field(ps, row, 2))) == NULL || (fb = util_split(field(ps, row, 3), ';', &nf)) == NULL) {
		r = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	util_trim(store);
	/* A chat or group name as WhatsApp shows it: one per row. */
	nc = *util_trim(chat) != '\0';
	if (*store == '\0') {
		problem(ps, row->line, util_printf("store is empty; row left out"));
		goto out;
	}
	for (size_t k = 0; k < ne; k++) {
		char *why = NULL;

		if (addr_check(emails[k], &why) < 0) {
			problem(ps, row->line, util_printf("email: %s; row left out", why ? why : "not an address"));
			free(why);
			goto out;
		}
	}
	for (size_t k = 0; k < nf; k++) {
		char *why = NULL;

		if (addr_check(fb[k], &why) < 0) {
			problem(ps, row->line, util_printf("whatsapp_fallback: %s; row left out", why ? why :
			    "not an address"));
			free(why);
			goto out;
		}
	}
	if (nf > 0 && nc == 0) {
		problem(ps, row->line, util_printf("whatsapp_fallback without a whatsapp chat on the row; row left "
		    "out"));
		goto out;
	}
	if (ne == 0 && nc == 0) {
		problem(ps, row->line, util_printf("store \"%s\" has neither an email nor a whatsapp; "
		    "row left out", store));
		goto out;
	}
	if ((e = entry_for(ps, store)) == NULL || append(&e->email, &e->nemail, emails, ne) < 0 ||
	    append(&e->whatsapp, &e->nwhatsapp, &chat, nc) < 0 || (nf > 0 && add_fallback(e, chat, fb, nf) < 0))
		r = util_fail(cause, -ENOMEM, "out of memory");
out:
	util_strv_free(fb);
	util_strv_free(emails);
	free(chat);
	free(store);
	return r;
}

/* Start a parse: ps holds only its path. 0 or -ENOMEM. */
static int
parse_start(struct parse *ps, char **cause)
{
	if ((ps->r = calloc(1, sizeof *ps->r)) == NULL || csv_new(&ps->csv, on_row, ps) < 0)
		return util_fail(cause, -ENOMEM, "out of memory");
	return 0;
}

/*
 * Feed len bytes to the CSV parser, or end its input (len 0, at NULL). The
 * parser's own refusals ("line 7: a quoted field is still open ...") get the
 * file name in front, like every other message of this module.
 */
static int
parse_feed(struct parse *ps, const char *at, size_t len, char **cause)
{
	int r = at != NULL ? csv_feed(ps->csv, at, len, cause) : csv_finish(ps->csv, cause);
	char *why;

	if (r == -EBADMSG && !ps->refused && cause != NULL && *cause != NULL &&
	    (why = util_printf("%s: %s", ps->path, *cause)) != NULL) {
		free(*cause);
		*cause = why;
	}
	return r;
}

/*
 * End a parse that has had all its bytes (r is 0) or failed (r < 0): the
 * results of recipients_load into *out and *problems, or everything freed.
 */
static int
parse_end(struct parse *ps, int r, struct recipients **out, char ***problems, char **cause)
{
	if (r == 0)
		r = parse_feed(ps, NULL, 0, cause);
	if (r == 0 && !ps->header)
		r = util_fail(cause, -EBADMSG, "%s: empty; expected the header store,email,whatsapp", ps->path);
	if (r == 0 && ps->oom)
		r = util_fail(cause, -ENOMEM, "out of memory");
	if (r == 0 && ps->dropped > 0) {
		size_t more = ps->dropped + 1;

		ps->nproblems--;        /* the last slot says how many more */
		free(ps->problems[ps->nproblems]);
		ps->problems[ps->nproblems] = NULL;
		problem(ps, 0, util_printf("%zu more rows with problems left out", more));
		if (ps->oom)
			r = util_fail(cause, -ENOMEM, "out of memory");
	}
	csv_free(ps->csv);
	ps->csv = NULL;
	if (r < 0) {
		util_strv_free(ps->problems);
		recipients_free(ps->r);
		return r;
	}
	*out = ps->r;
	*problems = ps->problems;
	return 0;
}

int
recipients_parse(const char *name, const char *text, size_t len, struct recipients **out, char ***problems,
    char **cause)
{
	struct parse ps = { .path = name };
	int r;

	*out = NULL;
	*problems = NULL;
	if ((r = parse_start(&ps, cause)) == 0 && len > 0)
		r = parse_feed(&ps, text, len, cause);
	return parse_end(&ps, r, out, problems, cause);
}

int
recipients_load(const char *path, struct recipients **out, char ***problems, char **cause)
{
	struct parse ps = { .path = path };
	char buf[65536];
	ssize_t n = 0;
	int fd, r;

	*out = NULL;
	*problems = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return util_fail(cause, -errno, "%s: %s", path, strerror(errno));
	r = parse_start(&ps, cause);
	while (r == 0 && (n = read(fd, buf, sizeof buf)) > 0)
		r = parse_feed(&ps, buf, (size_t)n, cause);
	if (r == 0 && n < 0)
		r = util_fail(cause, -errno, "%s: %s", path, strerror(errno));
	close(fd);
	return parse_end(&ps, r, out, problems, cause);
}

void
recipients_free(struct recipients *r)
{
	if (r == NULL)
		return;
	for (size_t k = 0; k < r->n; k++) {
		free(r->v[k].store);
		util_strv_free(r->v[k].email);
		util_strv_free(r->v[k].whatsapp);
		for (size_t f = 0; f < r->v[k].nfallback; f++) {
			free(r->v[k].fallback[f].chat);
			util_strv_free(r->v[k].fallback[f].addr);
		}
		free(r->v[k].fallback);
	}
	free(r->v);
	free(r);
}

const char *
recipients_store(const struct recipients *r, size_t i)
{
	return i < r->n ? r->v[i].store : NULL;
}

static const struct entry *
find(const struct recipients *r, const char *store)
{
	for (size_t k = 0; k < r->n; k++)
		if (strcmp(r->v[k].store, store) == 0)
			return &r->v[k];
	return NULL;
}

char *const *
recipients_email(const struct recipients *r, const char *store, size_t *n)
{
	const struct entry *e = find(r, store);

	*n = e ? e->nemail : 0;
	return e && e->nemail ? e->email : NULL;
}

char *const *
recipients_whatsapp(const struct recipients *r, const char *store, size_t *n)
{
	const struct entry *e = find(r, store);

	*n = e ? e->nwhatsapp : 0;
	return e && e->nwhatsapp ? e->whatsapp : NULL;
}

char *const *
recipients_whatsapp_fallback(const struct recipients *r, const char *store, const char *chat, size_t *n)
{
	const struct entry *e = find(r, store);

	*n = 0;
	for (size_t k = 0; e != NULL && k < e->nfallback; k++)
		if (strcmp(e->fallback[k].chat, chat) == 0 && e->fallback[k].naddr > 0) {
			*n = e->fallback[k].naddr;
			return e->fallback[k].addr;
		}
	return NULL;
}
