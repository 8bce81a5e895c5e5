/*
 * extract: downloads from the POS API with libcurl (INTERFACES.md, "POS
 * API"): a login that yields a token, then one CSV per order type and day,
 * streamed to a sink as it arrives, base64 bodies recognised and decoded on
 * the way.
 *
 * Failures worth another try (connection errors, time-outs, 5xx, a body cut
 * off before its end) are retried with a doubling delay, the sink told to
 * start over each time (sink->restart); a 401 logs in again once. TLS is
 * verified (with an extra CA file if configured). A body is complete only if
 * the transfer says so: chunked or Content-Length framing is required, since
 * a connection closed early is otherwise indistinguishable from the end.
 *
 * Blocking (curl easy interface): for task children.
 */
#ifndef SALESD_EXTRACT_H
#define SALESD_EXTRACT_H

#include <stddef.h>

struct extract;

struct extract_options {
	const char *base_url;           /* without the trailing /login */
	const char *username;
	const char *password;
	const char *ca_file;            /* NULL: the system's CAs */
	long connect_timeout_ms;
	long stall_timeout_ms;          /* below 1 KB/s for this long: give up the transfer */
	int retries;                    /* per request, after the first try */
	long retry_delay_ms;            /* first delay; doubled each time */
};

/* Where a body goes. Each returns 0, or a negative error (with *cause) that stops the download. */
struct extract_sink {
	int (*restart)(void *arg, const char *why, char **cause);      /* before each retry */
	int (*data)(void *arg, const char *buf, size_t len, char **cause);
	int (*end)(void *arg, char **cause);                            /* the body is complete */
	void *arg;
};

/* A retry is about to happen (for the log). */
typedef void (*extract_notice_fn)(void *arg, const char *what);

int extract_new(struct extract **out, const struct extract_options *o, extract_notice_fn notice,
    void *notice_arg, char **cause);
void extract_free(struct extract *x);

/*
 * Download the CSV of order_type for day ("YYYY-MM-DD") into sink. Returns
 * 0; -EAGAIN when the server stayed unreachable or failing through every
 * retry (try later); -EINVAL when the login is refused or the server's
 * certificate is not trusted (the configuration); -EACCES when a fresh token
 * is refused again; -EPROTO for an answer that makes no sense (4xx, no
 * token); -EBADMSG for invalid base64;
 * or the sink's error, returned as it is and never retried (the sink knows
 * whether waiting helps). *cause names the URL (never the password or token) and the reply.
 * *base64 (may be NULL) tells whether the body came base64-encoded.
 */
int extract_day(struct extract *x, const char *order_type, const char *day,
    const struct extract_sink *sink, int *base64, char **cause);

#endif
