/*
 * mime: the e-mail message salesd sends, as the raw RFC 5322 text libcurl
 * reads (CURLOPT_READFUNCTION). The envelope recipients travel apart from it,
 * so Bcc is never written into the message.
 *
 * The message is multipart/mixed: first the body (a multipart/alternative of
 * text/plain and text/html, or text/plain alone when there is no HTML), then
 * each attachment. Every line ends in CRLF and the whole message is 7-bit
 * ASCII: bodies are quoted-printable (readable, at most 76 characters a
 * line), attachments base64 in 76-character lines, non-ASCII subjects and
 * display names RFC 2047 encoded-words, non-ASCII file names RFC 2231. No
 * server needs 8BITMIME for it.
 *
 * Every value that goes into a header is checked first: CR, LF (or NUL) is
 * refused with -EINVAL and a cause naming the field, never passed through;
 * addresses must be plain ASCII local@domain.
 *
 * The HTML body goes out as given: escaping whatever was put into it is the
 * caller's job.
 *
 * The delivery key (report, period, store, channel and recipient, joined by
 * the caller) makes the Message-ID and the MIME boundaries, so the same
 * delivery always carries the same Message-ID.
 */
#ifndef SALESD_MIME_H
#define SALESD_MIME_H

#include <stddef.h>
#include <time.h>

/* Room for a Message-ID with its NUL: "<" 32 hex "@" domain (at most 252) ">". */
#define MIME_MSGID_LEN 288

/* Largest attachment (bytes on disk); mail servers refuse much smaller messages already. */
#define MIME_ATTACH_MAX (20UL * 1024 * 1024)

/* Longest attachment file name in bytes (that of the file systems). */
#define MIME_FILENAME_MAX 255

struct mime_address {
	const char *name;               /* display name, UTF-8; NULL or "": the bare address */
	const char *addr;               /* local@domain, ASCII */
};

struct mime_attachment {
	const char *path;               /* read from disk while building */
	const char *filename;           /* the name the recipient sees, UTF-8 */
	const char *content_type;       /* "type/subtype"; NULL: application/octet-stream */
};

/* Everything is borrowed: mime_build copies what it needs into the message. */
struct mime_message {
	struct mime_address from;
	const struct mime_address *to;  /* none: "To: undisclosed-recipients:;" */
	size_t nto;
	const struct mime_address *cc;  /* none: no Cc header */
	size_t ncc;
	const char *subject;            /* UTF-8 */
	const char *text;               /* text/plain body, UTF-8, LF or CRLF line ends */
	const char *html;               /* text/html body, UTF-8, already escaped; NULL: none */
	const struct mime_attachment *att;
	size_t natt;
	const char *key;                /* delivery key: Message-ID and boundaries */
	time_t date;                    /* the Date header, written in UTC (+0000) */
};

/*
 * Build the whole message, CRLF line ends, into *out (malloc'd and also
 * NUL-terminated; caller frees) and its length into *len. Returns 0;
 * -EINVAL when a field cannot go into a message (*cause names it: "subject
 * contains a line break", "to address #2 ..."); -errno or -EFBIG for an
 * attachment that cannot be read (*cause names the path); -ENOMEM. *out and
 * *len are untouched on failure.
 */
int mime_build(const struct mime_message *m, char **out, size_t *len, char **cause);

/*
 * The Message-ID for a delivery key and sender, "<HEX@DOMAIN>" (HEX the first
 * 32 hex digits of SHA-256 of key, DOMAIN that of from_addr) into buf of len
 * bytes (MIME_MSGID_LEN is always enough). The same key and sender give the
 * same Message-ID: mime_build writes this one. 0, -EINVAL for a bad
 * address, -ERANGE when buf is too small.
 */
int mime_message_id(const char *key, const char *from_addr, char *buf, size_t len, char **cause);

/*
 * 0 when the len bytes at s may go into a header (no CR, LF or NUL), else
 * -EINVAL with *cause "FIELD contains a line break" (or "a NUL byte"). It
 * takes a length so that values which arrive with one are checked whole;
 * mime_build checks every header value it is given with it.
 */
int mime_header_safe(const char *field, const char *s, size_t len, char **cause);

#endif
