/*
 * mail: one message to one recipient over SMTP with libcurl. smtp:// must
 * upgrade with STARTTLS (CURLUSESSL_ALL: refused, never a silent fallback to
 * plain text) unless plain text was explicitly allowed; smtps:// is TLS from
 * the start. Certificates are verified ([smtp] ca_file adds a CA). AUTH
 * PLAIN or LOGIN when a username is set.
 *
 * One transaction per recipient: the delivery ledger, the Message-ID and the
 * server's verdict are all per recipient, and one refused address cannot
 * hold the others back.
 *
 * Blocking (libcurl easy interface): task children only.
 */
#ifndef SALESD_MAIL_H
#define SALESD_MAIL_H

#include <stdbool.h>
#include <stddef.h>

struct mail_server {
	const char *url;                /* smtp://host:port or smtps://host:port */
	const char *username;           /* NULL: no AUTH */
	const char *password;
	const char *ca_file;            /* extra CA, or NULL */
	bool allow_plain;               /* smtp:// without TLS (explicit opt-in) */
	unsigned long connect_timeout_ms;
	unsigned long timeout_ms;       /* the whole transaction */
};

enum mail_verdict {
	MAIL_SENT,                      /* the server's final 250 after DATA */
	MAIL_TEMPORARY,                 /* 4xx, connection lost, time-out, unreachable: try later */
	MAIL_REFUSED,                   /* 5xx for this recipient or message: not worth the same try */
	MAIL_CONFIG,                    /* login refused, TLS not possible or not trusted, bad URL */
	MAIL_UNKNOWN,                   /* the whole message went out and no verdict came back: the
	                                   server may have accepted it, so it must not be resent by itself */
};

struct mail_outcome {
	enum mail_verdict verdict;
	int code;                       /* the server's last reply code, 0 if none */
	char reply[512];                /* the server's last reply line, or what went wrong */
};

/*
 * Send msg (a complete RFC 5322 message with CRLF line ends, from mime.c)
 * from envelope sender from to rcpt. Fills *out; returns 0 when it was sent,
 * otherwise a negative errno (-EAGAIN temporary, -EPERM refused, -EINVAL
 * configuration, -EINPROGRESS unknown) with *cause naming the server's reply.
 *
 * Once the end of DATA has been handed to the connection, only the server's
 * reply tells whether it took the message: a connection lost or a time-out
 * after that point is MAIL_UNKNOWN, never MAIL_TEMPORARY, because a retry
 * could deliver the message a second time.
 */
int mail_send(const struct mail_server *s, const char *from, const char *rcpt, const char *msg, size_t len,
    struct mail_outcome *out, char **cause);

#endif
