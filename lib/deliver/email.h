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

#include "base/config.h"
#include "base/period.h"

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

#endif
