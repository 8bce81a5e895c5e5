/*
 * slug: file-system names of stores (see slug.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/db.h"
#include "report/slug.h"
#include "base/util.h"

#define SLUG_BASE_MAX 56
#define SLUG_RESERVED "company"

void
slug_base(const char *name, char out[SLUG_LEN])
{
	size_t k = 0;
	bool dash = false;

	for (const unsigned char *p = (const unsigned char *)name; *p != '\0' && k < SLUG_BASE_MAX; p++) {
		if (*p < 0x80 && isalnum(*p)) {
			if (dash && k > 0)
				out[k++] = '-';
			dash = false;
			if (k < SLUG_BASE_MAX)
				out[k++] = (char)tolower(*p);
		} else {
			dash = true;
		}
	}
	out[k] = '\0';
	/* Cut long names after a whole word when there is one in the last third. */
	if (k == SLUG_BASE_MAX) {
		char *d = strrchr(out, '-');

		if (d != NULL && d - out > SLUG_BASE_MAX * 2 / 3)
			*d = '\0';
	}
	while (k > 0 && out[k - 1] == '-')
		out[--k] = '\0';
	if (out[0] == '\0')
		snprintf(out, SLUG_LEN, "store");
}

/* One statement on store_slug; *res its result (NULL: not wanted). */
static int
query(PGconn *c, const char *sql, int n, const char *const *p, PGresult **res, char **cause)
{
	return db_query(c, sql, n, p, res, "database: store_slug", cause);
}

/* The first free candidate: base, base-2, base-3, ...; under the table lock. */
static int
slug_pick(PGconn *c, const char *base, char out[SLUG_LEN], char **cause)
{
	for (unsigned n = 1; n < 10000; n++) {
		const char *p[1] = { out };
		PGresult *res;
		bool taken;
		int e;

		if (n == 1)
			snprintf(out, SLUG_LEN, "%.56s", base);
		else
			snprintf(out, SLUG_LEN, "%.56s-%u", base, n);
		if (strcmp(out, SLUG_RESERVED) == 0)
			continue;
		if ((e = query(c, "SELECT 1 FROM store_slug WHERE slug = $1", 1, p, &res, cause)) < 0)
			return e;
		taken = PQntuples(res) > 0;
		PQclear(res);
		if (!taken)
			return 0;
	}
	return util_fail(cause, -EEXIST, "no free slug for \"%s\"", base);
}

int
slug_find(PGconn *c, const char *store, char out[SLUG_LEN], char **cause)
{
	const char *p[1] = { store };
	PGresult *res;
	int e;

	if ((e = query(c, "SELECT slug FROM store_slug WHERE store = $1", 1, p, &res, cause)) < 0)
		return e;
	e = -ENOENT;
	if (PQntuples(res) == 1) {
		snprintf(out, SLUG_LEN, "%s", PQgetvalue(res, 0, 0));
		e = 0;
	}
	PQclear(res);
	return e;
}

int
slug_assign(PGconn *c, const char *store, char out[SLUG_LEN], char **cause)
{
	const char *p[2] = { store, out };
	char base[SLUG_LEN];
	PGresult *res;
	int e;

	if ((e = query(c, "SELECT slug FROM store_slug WHERE store = $1", 1, p, &res, cause)) < 0)
		return e;
	if (PQntuples(res) == 1) {
		snprintf(out, SLUG_LEN, "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		return 0;
	}
	PQclear(res);
	/* Readers never wait for this lock; other assigners do, so each slug is picked once. */
	if ((e = db_exec(c, "BEGIN", cause)) < 0)
		return e;
	if ((e = db_exec(c, "LOCK TABLE store_slug IN SHARE ROW EXCLUSIVE MODE", cause)) < 0)
		goto rollback;
	if ((e = query(c, "SELECT slug FROM store_slug WHERE store = $1", 1, p, &res, cause)) < 0)
		goto rollback;
	if (PQntuples(res) == 1) {      /* another task was first */
		snprintf(out, SLUG_LEN, "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		return db_exec(c, "COMMIT", cause);
	}
	PQclear(res);
	slug_base(store, base);
	if ((e = slug_pick(c, base, out, cause)) < 0)
		goto rollback;
	if ((e = query(c, "INSERT INTO store_slug (store, slug) VALUES ($1, $2)", 2, p, NULL, cause)) < 0)
		goto rollback;
	return db_exec(c, "COMMIT", cause);
rollback:
	db_rollback(c);
	return e;
}
