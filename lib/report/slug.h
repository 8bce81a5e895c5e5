/*
 * slug: a store's name for the file system (report paths, INTERFACES.md):
 * lower-case ASCII letters, digits and single dashes. Slugs are assigned once
 * per store and kept in the store_slug table, so a store's files keep their
 * name and two stores whose names slug alike never share a file.
 */
#ifndef SALESD_SLUG_H
#define SALESD_SLUG_H

#include <stddef.h>

#include <libpq-fe.h>

/* Longest slug with its NUL (a suffix such as "-12" included). */
#define SLUG_LEN 64

/*
 * The slug a name suggests: ASCII letters lower-cased, digits kept, every
 * other run of bytes one dash, no dash at either end, at most 56 bytes cut at
 * a dash boundary when it can be. A name without a letter or digit (all
 * Devanagari, say) gives "store".
 */
void slug_base(const char *name, char out[SLUG_LEN]);

/*
 * The store's slug, assigned on first use under a table lock (several report
 * tasks may ask at once): the base, or base-2, base-3, ... when taken;
 * "company" is reserved for the company-wide files. 0, or a database error
 * (db_check: -EAGAIN, -EIO) with *cause.
 */
int slug_assign(PGconn *c, const char *store, char out[SLUG_LEN], char **cause);

/* The store's slug if it has one (no lock, nothing assigned): 0, -ENOENT, or -EAGAIN / -EIO with *cause. */
int slug_find(PGconn *c, const char *store, char out[SLUG_LEN], char **cause);

#endif
