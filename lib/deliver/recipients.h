/*
 * recipients: who receives which reports (INTERFACES.md "Recipients file").
 * A CSV file with the header "store,email,whatsapp" (columns by name, in any
 * order; an optional fourth, whatsapp_fallback, holds the addresses that get
 * the report by e-mail when the row's chat cannot get it on WhatsApp);
 * email may hold several addresses separated by ";"; the store "*"
 * stands for the company-wide reports. Rows that do not parse are reported
 * with their line number and left out; the rest load. A store may have
 * several rows: their addresses add up.
 */
#ifndef SALESD_RECIPIENTS_H
#define SALESD_RECIPIENTS_H

#include <stddef.h>

struct recipients;

/* The company-wide reports' key in the file. */
#define RECIPIENTS_COMPANY "*"

/*
 * Load path. 0 with *out (possibly with *problems: one message per bad row,
 * "recipients.csv:7: email "x@": not an address", a NULL-terminated vector
 * the caller frees with util_strv_free), or -errno / -EBADMSG with *cause
 * when the file cannot be read or has no usable header.
 */
int recipients_load(const char *path, struct recipients **out, char ***problems, char **cause);
/* The same for the len bytes at text (need not end in a NUL); name stands for the path in messages. */
int recipients_parse(const char *name, const char *text, size_t len, struct recipients **out, char ***problems,
    char **cause);
void recipients_free(struct recipients *r);

/* The i-th store of the file, in the order of first appearance; NULL when i is past the last. */
const char *recipients_store(const struct recipients *r, size_t i);

/* The e-mail addresses of store (RECIPIENTS_COMPANY: the company's), NULL-terminated; NULL when none. */
char *const *recipients_email(const struct recipients *r, const char *store, size_t *n);
/* The WhatsApp chats of store, NULL-terminated; NULL when none. */
char *const *recipients_whatsapp(const struct recipients *r, const char *store, size_t *n);

/*
 * The whatsapp_fallback addresses of store's chat, NULL-terminated; NULL when
 * its rows name none ([whatsapp] fallback_email applies then).
 */
char *const *recipients_whatsapp_fallback(const struct recipients *r, const char *store, const char *chat,
    size_t *n);

#endif
