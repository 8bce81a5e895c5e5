/*
 * email: one e-mail task: the report of a period for one store (or the
 * company's) to the store's recipients, each recipient its own SMTP
 * transaction, each delivery looked up in the delivery ledger first and
 * recorded right after the server's answer. The message carries the rendered
 * PDF (and the workbook with [smtp] attach_xlsx) and the headline figures in
 * its text and HTML parts, worded by the [smtp] subject and body templates.
 *
 * Blocking: task children only.
 */
#ifndef SALESD_EMAIL_H
#define SALESD_EMAIL_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "base/config.h"
#include "base/period.h"
#include "report/manifest.h"

struct email_result {
	size_t sent;            /* delivered now */
	size_t corrections;     /* of them, corrections of a report sent before with other figures */
	size_t skipped;         /* delivered before (or unknown): not sent again */
	size_t refused;         /* 5xx for that recipient, recorded */
	size_t temporary;       /* 4xx, connection, time-out: recorded, worth another run */
	size_t unknown;         /* sent whole, no reply: recorded as unknown, not sent again unless forced */
	size_t recipients;      /* all of them */
};

/* Progress for the log at a syslog priority (LOG_WARNING: worth an operator's attention; LOG_DEBUG: details). */
typedef void (*email_progress_fn)(void *arg, int priority, const char *message);

/*
 * Send period p's report of store (NULL or "*": the company's). Returns 0
 * when every recipient has it (now or before); -EAGAIN when some failed for a
 * passing reason; -EPERM when some were refused; -EINVAL for a configuration
 * problem (no [smtp] url, a bad template); -ENOENT when the report file is
 * missing. *cause says which, progress() reports each recipient. how:
 * DELIVERY_* bits (deliver/delivery.h).
 */
int email_task(const struct config *cfg, const struct period *p, const char *store, unsigned how,
    email_progress_fn progress, void *arg, struct email_result *res, char **cause);

/* Expand a template's {placeholders} from names[i] -> values[i]; -EINVAL naming an unknown one. */
int email_expand(const char *tmpl, const char *const *names, const char *const *values, size_t n,
    char **out, char **cause);

/* One report by e-mail in place of a WhatsApp message (docs/whatsapp.md "Fallback to e-mail"). */
struct email_fallback {
	const char *chat;       /* the WhatsApp chat it stands in for */
	char *const *to;        /* the chat's fallback addresses */
	size_t nto;
	bool unsure;            /* the WhatsApp message may have gone: worded "in case it did not arrive" */
	const char *why;        /* why WhatsApp did not deliver it, for the reader */
};

/*
 * Send rep (the report as rendered, store "*" or a store's) to fb->to, each
 * address once per report and chat: the delivery ledger records an 'email'
 * row whose recipient is email_fallback_recipient() and which points at the
 * chat's WhatsApp row (delivery.fallback_of). c: the ledger's connection.
 * *sent counts the messages that went now. 0, or the first failure with
 * *cause (the addresses after it are not tried; the next run tries them).
 */
int email_fallback(const struct config *cfg, PGconn *c, const struct manifest *rep, const char *store,
    const struct email_fallback *fb, email_progress_fn progress, void *arg, size_t *sent, char **cause);

/* The ledger's recipient of a fallback: "ADDR (fallback for WhatsApp CHAT)" (caller frees). */
char *email_fallback_recipient(const char *addr, const char *chat);

/*
 * A plain-text notice to the operator (the lost-login alert), through
 * [smtp], not recorded in the delivery ledger. key names the Message-ID.
 * 0 once every address has it; -EIO (with *cause) when one did not.
 */
int email_notice(const struct config *cfg, char *const *to, size_t nto, const char *key, const char *subject,
    const char *text, char **cause);

#endif
