/*
 * exitcode: the one classification of failures (docs/decisions.md,
 * "Failures and retries"). A task turns its error into an exit code here,
 * and the engine decides from that code alone whether another attempt may
 * help, so the rule is written once:
 *
 *   0   done
 *   75  EX_TEMPFAIL  may heal by waiting (a server unreachable or busy, a
 *                    connection lost, a 4xx reply, a resource held by
 *                    another task): retried with back-off
 *   65  EX_DATAERR   bad data that waiting cannot fix (invalid base64, a
 *                    duplicate or missing column, a file that cannot be
 *                    framed, a message that cannot be built): not retried
 *   67  EX_NOUSER    a recipient or the message refused for good (5xx):
 *                    not retried
 *   77  EX_NOPERM    a person must act (WhatsApp needs a login; the task
 *                    says so itself, no errno maps to it): not retried
 *   78  EX_CONFIG    the configuration (a login refused, TLS impossible or
 *                    untrusted, no STARTTLS, a bad URL): not retried
 *   1   anything not classified (out of memory, a full disk, a bug):
 *                    retried only for job kinds whose failures can be
 *                    transient (dag_kind_transient)
 *
 * A time-out or a death by signal counts as a failed attempt that may heal.
 */
#ifndef SALESD_EXITCODE_H
#define SALESD_EXITCODE_H

#include <stdbool.h>

enum exitcode_class {
	EXITCODE_OK,
	EXITCODE_TEMPORARY,     /* retry */
	EXITCODE_FINAL,         /* never retry by itself */
	EXITCODE_UNCLASSIFIED,  /* retry where the job kind allows */
};

/* The exit code for a negative errno from lib/ (0 for 0). */
int exitcode_from_error(int err);

enum exitcode_class exitcode_classify(int status);

const char *exitcode_strclass(enum exitcode_class c);

/*
 * Whether an attempt that ended so deserves another one (retries left
 * aside): transient says whether the job kind's unclassified failures may
 * heal.
 */
bool exitcode_retryable(int status, bool timed_out, int term_signal, bool transient);

#endif
