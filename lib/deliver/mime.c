/*
 * mime: the e-mail message (see mime.h).
 *
 * The message is written into one growing buffer in one pass; attachments
 * are read in chunks of whole base64 lines and encoded straight into it.
 *
 * Why a boundary can never occur inside a part: each is "=_salesd_", 16 hex
 * digits of the key's hash and the level ("_1" mixed, "_2" alternative), and
 * a delimiter line starts with "--" and the boundary, so it holds "=_". No
 * body line we write can hold "=_": base64 lines are made of A-Z a-z 0-9 + /
 * and '=' only at the end, and in quoted-printable every '=' starts "=XX"
 * (hex digits) or a soft line break. Header lines are ours: a field name or,
 * folded, leading white space. Hence deterministic boundaries are safe, and
 * the same key and input give the same message byte for byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "base/addr.h"
#include "deliver/mime.h"
#include "base/util.h"

#define MIME_LINE 76                    /* longest line written, CRLF not counted (RFC 2045, 2047) */
#define MIME_B64_LINE 57                /* bytes in one base64 line of 76 characters */
#define MIME_CHUNK (MIME_B64_LINE * 1024) /* attachment bytes read at a time: whole lines */
#define MIME_WORD_MAX 70                /* longest word written as it is rather than encoded */
#define MIME_EW_FIXED 12                /* "=?UTF-8?B?" and "?=" around an encoded-word's text */
#define MIME_HASH_HEX 32                /* hex digits of the key's hash in the Message-ID */
#define MIME_BOUNDARY_HEX 16            /* and in the boundaries */
#define MIME_PREAMBLE "This is a multi-part message in MIME format."

static const char mime_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char mime_hexu[] = "0123456789ABCDEF";

/* The message being written. A failed allocation sticks, so writers need not check each append. */
struct mbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

/* A header being written: the buffer and the column, for folding. */
struct hdr {
	struct mbuf *b;
	size_t col;
};

/* Room for n more bytes and a NUL; false (and oom set) when out of memory. */
static bool
mbuf_reserve(struct mbuf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->oom)
		return false;
	if (b->cap - b->len > n)
		return true;
	cap = b->cap != 0 ? b->cap : 4096;
	while (cap - b->len <= n) {
		if (cap > SIZE_MAX / 2) {
			b->oom = true;
			return false;
		}
		cap *= 2;
	}
	if ((p = realloc(b->p, cap)) == NULL) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

/* Append n bytes. */
static void
mbuf_add(struct mbuf *b, const char *s, size_t n)
{
	if (n != 0 && mbuf_reserve(b, n)) {
		memcpy(b->p + b->len, s, n);
		b->len += n;
	}
}

/* Append a string. */
static void
mbuf_adds(struct mbuf *b, const char *s)
{
	mbuf_add(b, s, strlen(s));
}

/* Base64 of n bytes (4 characters for every 3, padded), no line breaks. */
static void
mbuf_base64(struct mbuf *b, const unsigned char *s, size_t n)
{
	char *o;

	if (!mbuf_reserve(b, (n + 2) / 3 * 4))
		return;
	o = b->p + b->len;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0) |
		    (i + 2 < n ? s[i + 2] : 0);

		*o++ = mime_b64[v >> 18 & 63];
		*o++ = mime_b64[v >> 12 & 63];
		*o++ = i + 1 < n ? mime_b64[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? mime_b64[v & 63] : '=';
	}
	b->len = (size_t)(o - b->p);
}

/*
 * Base64 of n bytes in lines of 76 characters. Lines are separated by CRLF
 * and *lines counts those written so far, so one body can come in several
 * calls (each but the last a multiple of MIME_B64_LINE bytes); the CRLF
 * after the last line belongs to the delimiter that follows.
 */
static void
mbuf_base64_lines(struct mbuf *b, const unsigned char *s, size_t n, size_t *lines)
{
	for (size_t off = 0; off < n; off += MIME_B64_LINE) {
		if ((*lines)++ > 0)
			mbuf_add(b, "\r\n", 2);
		mbuf_base64(b, s + off, n - off < MIME_B64_LINE ? n - off : MIME_B64_LINE);
	}
}

/* Does a line break (or the end of the text) start at s? */
static bool
qp_line_end(const unsigned char *s)
{
	return s[0] == '\0' || s[0] == '\n' || (s[0] == '\r' && s[1] == '\n');
}

/*
 * Quoted-printable (RFC 2045 6.7) of a text body: LF and CRLF become CRLF
 * line breaks, lines at most 76 characters with soft breaks ("=" CRLF). A
 * lone CR is encoded, as is white space before a line's end, which
 * transports may strip.
 */
static void
mbuf_qp(struct mbuf *b, const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n = strlen(text), col = 0;

	mbuf_reserve(b, n + n / 4 + 16);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		bool lit;
		size_t w;

		if (c == '\n' || (c == '\r' && s[i + 1] == '\n')) {
			i += c == '\r';
			mbuf_add(b, "\r\n", 2);
			col = 0;
			continue;
		}
		lit = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !qp_line_end(s + i + 1));
		w = lit ? 1 : 3;
		/* Keep one column for the "=" of a soft break. */
		if (col + w > MIME_LINE - 1) {
			mbuf_add(b, "=\r\n", 3);
			col = 0;
		}
		/*
		 * At the start of a line, "." is encoded should a relay fail to
		 * double it (a lone "." ends SMTP's DATA), and "From " so no
		 * mbox file takes the line for a message's start.
		 */
		if (col == 0 && lit && (c == '.' || (c == 'F' && strncmp((const char *)s + i, "From ", 5) == 0))) {
			lit = false;
			w = 3;
		}
		if (lit) {
			mbuf_add(b, (const char *)&s[i], 1);
		} else {
			char e[3] = { '=', mime_hexu[c >> 4], mime_hexu[c & 15] };

			mbuf_add(b, e, 3);
		}
		col += w;
	}
}

/* Length of the valid UTF-8 character at s (n bytes left), 0 when invalid. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	uint32_t cp, min;
	size_t k;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		k = 2;
		cp = s[0] & 0x1f;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		k = 3;
		cp = s[0] & 0x0f;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		k = 4;
		cp = s[0] & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < k)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates and beyond U+10FFFF are not UTF-8. */
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return k;
}

int
mime_header_safe(const char *field, const char *s, size_t len, char **cause)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\r' || s[i] == '\n')
			return util_fail(cause, -EINVAL, "%s contains a line break", field);
		if (s[i] == '\0')
			return util_fail(cause, -EINVAL, "%s contains a NUL byte", field);
	}
	return 0;
}

/* A UTF-8 value: present, valid UTF-8 and, for a header, without a line break. */
static int
check_text(const char *field, const char *s, bool header, char **cause)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n, k;
	int e;

	if (s == NULL)
		return util_fail(cause, -EINVAL, "%s is missing", field);
	n = strlen(s);
	if (header && (e = mime_header_safe(field, s, n, cause)) < 0)
		return e;
	/* The message says charset=utf-8: bytes that are not would show as garbage, or not at all. */
	for (size_t i = 0; i < n; i += k)
		if ((k = utf8_len(u + i, n - i)) == 0)
			return util_fail(cause, -EINVAL, "%s is not valid UTF-8 (byte %zu)", field, i);
	return 0;
}

/* An address that cannot break out of its header: the one rule (base/addr.h), named by field. */
static int
check_address(const char *field, const char *a, char **cause)
{
	char *why = NULL;
	int e;

	if (a == NULL || *a == '\0')
		return util_fail(cause, -EINVAL, "%s is empty", field);
	if ((e = mime_header_safe(field, a, strlen(a), cause)) < 0)
		return e;
	if ((e = addr_check(a, &why)) < 0) {
		e = util_fail(cause, e, "%s: %s", field, why ? why : "not an address");
		free(why);
	}
	return e;
}

/* "type/subtype", each an RFC 2045 token. */
static int
check_content_type(const char *field, const char *s, char **cause)
{
	const char *slash;
	int e;

	if ((e = mime_header_safe(field, s, strlen(s), cause)) < 0)
		return e;
	slash = strchr(s, '/');
	if (slash == NULL || slash == s || slash[1] == '\0')
		return util_fail(cause, -EINVAL, "%s \"%s\" is not type/subtype", field, s);
	for (const char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f ||
		    (p != slash && strchr("()<>@,;:\\\"/[]?=", *p) != NULL))
			return util_fail(cause, -EINVAL, "%s \"%s\" is not type/subtype", field, s);
	return 0;
}

/* An address with its display name; fields named "PREFIX address", "PREFIX display name". */
static int
check_mailbox(const char *prefix, const struct mime_address *a, char **cause)
{
	char field[64];
	int e;

	snprintf(field, sizeof field, "%s address", prefix);
	if ((e = check_address(field, a->addr, cause)) < 0)
		return e;
	snprintf(field, sizeof field, "%s display name", prefix);
	if (a->name != NULL && (e = check_text(field, a->name, true, cause)) < 0)
		return e;
	return 0;
}

/* Every field of m, before a byte is written. */
static int
check_message(const struct mime_message *m, char **cause)
{
	char field[64];
	int e;

	if ((e = check_mailbox("from", &m->from, cause)) < 0)
		return e;
	if ((m->nto != 0 && m->to == NULL) || (m->ncc != 0 && m->cc == NULL) || (m->natt != 0 && m->att == NULL))
		return util_fail(cause, -EINVAL, "a list of addresses or attachments is missing");
	for (size_t i = 0; i < m->nto + m->ncc; i++) {
		bool to = i < m->nto;

		snprintf(field, sizeof field, "%s #%zu", to ? "to" : "cc", (to ? i : i - m->nto) + 1);
		if ((e = check_mailbox(field, to ? &m->to[i] : &m->cc[i - m->nto], cause)) < 0)
			return e;
	}
	if ((e = check_text("subject", m->subject, true, cause)) < 0 ||
	    (e = check_text("text body", m->text, false, cause)) < 0 ||
	    (m->html != NULL && (e = check_text("HTML body", m->html, false, cause)) < 0))
		return e;
	if (m->key == NULL || *m->key == '\0')
		return util_fail(cause, -EINVAL, "delivery key is empty");
	for (size_t i = 0; i < m->natt; i++) {
		const struct mime_attachment *a = &m->att[i];

		if (a->path == NULL || *a->path == '\0')
			return util_fail(cause, -EINVAL, "attachment #%zu has no path", i + 1);
		snprintf(field, sizeof field, "attachment #%zu file name", i + 1);
		if ((e = check_text(field, a->filename, true, cause)) < 0)
			return e;
		if (*a->filename == '\0' || strlen(a->filename) > MIME_FILENAME_MAX)
			return util_fail(cause, -EINVAL, "%s must have 1 to %d bytes", field, MIME_FILENAME_MAX);
		snprintf(field, sizeof field, "attachment #%zu content type", i + 1);
		if (a->content_type != NULL && (e = check_content_type(field, a->content_type, cause)) < 0)
			return e;
	}
	return 0;
}

/* Start a header: "Name:". */
static void
hdr_start(struct hdr *h, struct mbuf *b, const char *name)
{
	h->b = b;
	mbuf_adds(b, name);
	mbuf_add(b, ":", 1);
	h->col = strlen(name) + 1;
}

/* End the header's last line. */
static void
hdr_end(struct hdr *h)
{
	mbuf_add(h->b, "\r\n", 2);
}

/* Fold (CRLF before the space that comes next) unless n more characters and the space fit the line. */
static void
hdr_room(struct hdr *h, size_t n)
{
	if (h->col > 0 && h->col + 1 + n > MIME_LINE) {
		mbuf_add(h->b, "\r\n", 2);
		h->col = 0;
	}
}

/*
 * A space and the n characters at s, folded onto a new line when they do
 * not fit; reserve more columns are kept free for what is appended to it
 * (a "," or ";").
 */
static void
hdr_token(struct hdr *h, const char *s, size_t n, size_t reserve)
{
	hdr_room(h, n + reserve);
	mbuf_add(h->b, " ", 1);
	mbuf_add(h->b, s, n);
	h->col += 1 + n;
}

/* Append to the line as it is (a separator kept room for). */
static void
hdr_append(struct hdr *h, const char *s)
{
	mbuf_adds(h->b, s);
	h->col += strlen(s);
}

/*
 * s as RFC 2047 encoded-words (B encoding, UTF-8), as many as the lines
 * need: each line at most 76 characters, so each word at most 75, and each
 * split between whole UTF-8 characters (RFC 2047 6.3: a word must decode on
 * its own). White space between encoded-words is not part of the text, so
 * the text's own spaces travel encoded and survive exactly.
 *
 * With few, a text that fits one word on a fresh line goes there whole
 * rather than split: some readers (Python's email before gh-128110) wrongly
 * show a space between adjacent encoded-words of a display name.
 */
static void
hdr_encoded(struct hdr *h, const char *s, size_t reserve, bool few)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), off = 0, fresh = MIME_LINE - 1 - MIME_EW_FIXED - reserve;

	while (off < n) {
		size_t take = 0, room = 0, k;

		if (h->col + 1 + MIME_EW_FIXED + reserve < MIME_LINE)
			room = MIME_LINE - h->col - 1 - MIME_EW_FIXED - reserve;
		if (few && h->col > 0 && (n - off + 2) / 3 * 4 > room && (n - off + 2) / 3 * 4 <= fresh) {
			mbuf_add(h->b, "\r\n", 2);
			h->col = 0;
			continue;
		}
		while (off + take < n) {
			/* The text was checked: every character is whole. */
			k = utf8_len(u + off + take, n - off - take);
			if ((take + k + 2) / 3 * 4 > room)
				break;
			take += k;
		}
		if (take == 0) {
			/* Not one character fits here; a fresh line holds 45 bytes. */
			mbuf_add(h->b, "\r\n", 2);
			h->col = 0;
			continue;
		}
		mbuf_add(h->b, " =?UTF-8?B?", 11);
		mbuf_base64(h->b, u + off, take);
		mbuf_add(h->b, "?=", 2);
		h->col += 1 + MIME_EW_FIXED + (take + 2) / 3 * 4;
		off += take;
	}
}

/* RFC 5322 atext: what a word of a display name may hold unquoted. */
static bool
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/*
 * Can s be written as it is: words of printable ASCII (atext only, in a
 * display name) of at most MIME_WORD_MAX characters, one space between them
 * and none at either end (folding keeps spaces only between words), and no
 * "=?" a reader could take for an encoded-word.
 */
static bool
plain_words(const char *s, bool phrase)
{
	size_t word = 0;

	if (strstr(s, "=?") != NULL)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == ' ') {
			if (word == 0)
				return false;
			word = 0;
			continue;
		}
		if (*p < 0x21 || *p > 0x7e || (phrase && !is_atext(*p)) || ++word > MIME_WORD_MAX)
			return false;
	}
	return word > 0 || *s == '\0';
}

/* The words of s (plain_words said yes), folded between words. */
static void
hdr_words(struct hdr *h, const char *s)
{
	while (*s != '\0') {
		size_t n = strcspn(s, " ");

		hdr_token(h, s, n, 0);
		s += n;
		s += *s == ' ';
	}
}

/* A display name: plain words, a quoted-string, or encoded-words. */
static void
hdr_phrase(struct hdr *h, const char *s)
{
	char q[MIME_WORD_MAX + 1];
	size_t n = 0;
	bool quotable = strstr(s, "=?") == NULL;

	if (plain_words(s, true)) {
		hdr_words(h, s);
		return;
	}
	/* Printable ASCII with specials ("A. Kumar, Sales"): quoted, when one line holds it. */
	q[n++] = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0' && quotable; p++) {
		if (*p < 0x20 || *p > 0x7e || n + 3 > sizeof q) {
			quotable = false;
			break;
		}
		if (*p == '"' || *p == '\\')
			q[n++] = '\\';
		q[n++] = (char)*p;
	}
	if (quotable) {
		q[n++] = '"';
		hdr_token(h, q, n, 0);
	} else {
		hdr_encoded(h, s, 0, true);
	}
}

/* Addresses, comma-separated: "Name <addr>" or the bare addr. */
static void
hdr_mailboxes(struct hdr *h, const struct mime_address *a, size_t n)
{
	char tok[ADDR_MAX + 4];

	for (size_t i = 0; i < n; i++) {
		bool named = a[i].name != NULL && *a[i].name != '\0';
		int k;

		if (named)
			hdr_phrase(h, a[i].name);
		k = snprintf(tok, sizeof tok, named ? "<%s>%s" : "%s%s", a[i].addr, i + 1 < n ? "," : "");
		hdr_token(h, tok, (size_t)k, 0);
	}
}

/*
 * A file name parameter (attr is "name" or "filename"), after a ";": as a
 * quoted-string when it is short printable ASCII, else in RFC 2231's
 * extended form (attr*=UTF-8''%E0%A4...), in numbered sections when one line
 * cannot hold it, each cut between whole characters.
 */
static void
hdr_param_filename(struct hdr *h, const char *attr, const char *s)
{
	char tok[MIME_LINE + 1], enc[3 * MIME_FILENAME_MAX + 1];
	size_t cuts[MIME_FILENAME_MAX + 1], ncuts = 0, n = 0, k, len = strlen(s);
	const unsigned char *u = (const unsigned char *)s;
	bool ascii = strstr(s, "=?") == NULL;
	int t;

	for (const unsigned char *p = u; *p != '\0' && ascii; p++)
		ascii = *p >= 0x20 && *p <= 0x7e;
	if (ascii) {
		n = (size_t)snprintf(tok, sizeof tok, "%s=\"", attr);
		for (const unsigned char *p = u; *p != '\0' && n + 4 < sizeof tok; p++) {
			if (*p == '"' || *p == '\\')
				tok[n++] = '\\';
			tok[n++] = (char)*p;
		}
		if (n + 4 < sizeof tok) {
			tok[n++] = '"';
			hdr_token(h, tok, n, 1);
			return;
		}
	}
	/* Percent-encode, noting where each character's encoding ends. */
	n = 0;
	for (size_t i = 0; i < len; i += k) {
		k = utf8_len(u + i, len - i);
		for (size_t j = i; j < i + k; j++) {
			if ((u[j] >= 'a' && u[j] <= 'z') || (u[j] >= 'A' && u[j] <= 'Z') || (u[j] >= '0' && u[j] <= '9') ||
			    strchr("!#$&+-.^_`|~", u[j]) != NULL) {
				enc[n++] = (char)u[j];
			} else {
				enc[n++] = '%';
				enc[n++] = mime_hexu[u[j] >> 4];
				enc[n++] = mime_hexu[u[j] & 15];
			}
		}
		cuts[ncuts++] = n;
	}
	enc[n] = '\0';
	t = snprintf(tok, sizeof tok, "%s*=UTF-8''%s", attr, enc);
	if (t > 0 && (size_t)t + 1 + 1 <= MIME_LINE) {
		hdr_token(h, tok, (size_t)t, 1);
		return;
	}
	for (size_t sec = 0, from = 0, c = 0; from < n; sec++) {
		size_t end = from;
		int pre = snprintf(tok, sizeof tok, "%s*%zu*=%s", attr, sec, sec == 0 ? "UTF-8''" : "");

		/* A line holds the space, the section and its ";". */
		while (c < ncuts && (size_t)pre + (cuts[c] - from) + 2 <= MIME_LINE)
			end = cuts[c++];
		if (end == from)
			end = cuts[c++];        /* cannot happen: one character is at most 12 bytes encoded */
		if (sec > 0)
			hdr_append(h, ";");
		memcpy(tok + pre, enc + from, end - from);
		hdr_token(h, tok, (size_t)pre + (end - from), 1);
		from = end;
	}
}

/* The same name in ASCII for readers without RFC 2231: every other character "_". */
static void
hdr_param_fallback(struct hdr *h, const char *attr, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strlen(s), n, k;
	char tok[2 * MIME_FILENAME_MAX + 16];

	n = (size_t)snprintf(tok, sizeof tok, "%s=\"", attr);
	for (size_t i = 0; i < len; i += k) {
		k = utf8_len(u + i, len - i);
		if (k == 1 && u[i] >= 0x20 && u[i] <= 0x7e) {
			if (u[i] == '"' || u[i] == '\\')
				tok[n++] = '\\';
			tok[n++] = (char)u[i];
		} else {
			tok[n++] = '_';
		}
	}
	tok[n++] = '"';
	hdr_token(h, tok, n, 1);
}

/* SHA-256 of the key in lower-case hex. */
static int
key_hash(const char *key, char hex[65], char **cause)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_Digest(key, strlen(key), md, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return util_fail(cause, -EIO, "SHA-256 of the delivery key failed");
	for (unsigned int i = 0; i < n; i++) {
		hex[2 * i] = "0123456789abcdef"[md[i] >> 4];
		hex[2 * i + 1] = "0123456789abcdef"[md[i] & 15];
	}
	hex[64] = '\0';
	return 0;
}

/* "<HEX@DOMAIN>" for a hashed key and a checked address. */
static int
msgid_format(const char *hex, const char *addr, char *buf, size_t len, char **cause)
{
	int n = snprintf(buf, len, "<%.*s@%s>", MIME_HASH_HEX, hex, strchr(addr, '@') + 1);

	if (n < 0 || (size_t)n >= len)
		return util_fail(cause, -ERANGE, "the Message-ID needs %d bytes, the buffer has %zu", n + 1, len);
	return 0;
}

int
mime_message_id(const char *key, const char *from_addr, char *buf, size_t len, char **cause)
{
	char hex[65];
	int e;

	if (key == NULL || *key == '\0')
		return util_fail(cause, -EINVAL, "delivery key is empty");
	if ((e = check_address("from address", from_addr, cause)) < 0 || (e = key_hash(key, hex, cause)) < 0)
		return e;
	return msgid_format(hex, from_addr, buf, len, cause);
}

/* "Date: Mon, 23 Nov 2026 07:00:00 +0000" (RFC 5322 3.3), in English whatever the locale. */
static int
add_date(struct mbuf *b, time_t t, char **cause)
{
	static const char days[][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
	    "Nov", "Dec" };
	char line[64];
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 1900 || tm.tm_year + 1900 > 9999)
		return util_fail(cause, -EINVAL, "date %lld is out of range", (long long)t);
	snprintf(line, sizeof line, "Date: %s, %d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday], tm.tm_mday,
	    months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	mbuf_adds(b, line);
	return 0;
}

/* "Content-Type: multipart/SUBTYPE; boundary="..."" and the blank line. */
static void
add_multipart(struct mbuf *b, const char *subtype, const char *boundary)
{
	char tok[64];
	struct hdr h;

	hdr_start(&h, b, "Content-Type");
	snprintf(tok, sizeof tok, "multipart/%s;", subtype);
	hdr_token(&h, tok, strlen(tok), 0);
	snprintf(tok, sizeof tok, "boundary=\"%s\"", boundary);
	hdr_token(&h, tok, strlen(tok), 0);
	hdr_end(&h);
}

/* A delimiter line: CRLF "--" boundary, "--" when it closes, CRLF. */
static void
add_delimiter(struct mbuf *b, const char *boundary, bool close)
{
	mbuf_add(b, "\r\n--", 4);
	mbuf_adds(b, boundary);
	mbuf_adds(b, close ? "--\r\n" : "\r\n");
}

/* A text part: its headers, the blank line and the body quoted-printable. */
static void
add_text(struct mbuf *b, const char *subtype, const char *body)
{
	mbuf_adds(b, "Content-Type: text/");
	mbuf_adds(b, subtype);
	mbuf_adds(b, "; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
	mbuf_qp(b, body);
}

/* An attachment: its headers and the file base64, read in chunks of whole lines. */
static int
add_attachment(struct mbuf *b, const struct mime_attachment *a, unsigned char *chunk, char **cause)
{
	const char *type = a->content_type != NULL ? a->content_type : "application/octet-stream";
	struct stat st;
	struct hdr h;
	size_t have = 0, total = 0, lines = 0, whole;
	ssize_t r;
	int fd = -1, e = 0;
	bool ascii = true;

	/* O_NONBLOCK: a FIFO in the file's place must not hang the open; it is refused below. */
	if ((fd = open(a->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0 || fstat(fd, &st) < 0) {
		e = -errno;
		util_fail(cause, e, "attachment %s: %s", a->path, strerror(-e));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		e = util_fail(cause, S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL, "attachment %s: not a regular file",
		    a->path);
		goto out;
	}
	if ((uintmax_t)st.st_size > MIME_ATTACH_MAX) {
		e = util_fail(cause, -EFBIG, "attachment %s: %jd bytes, more than the %lu MiB a message may carry",
		    a->path, (intmax_t)st.st_size, MIME_ATTACH_MAX >> 20);
		goto out;
	}
	for (const unsigned char *p = (const unsigned char *)a->filename; *p != '\0'; p++)
		ascii = ascii && *p >= 0x20 && *p <= 0x7e;
	/*
	 * Content-Type's name is what readers without RFC 2231 show; an ASCII
	 * stand-in there keeps Content-Disposition's filename free of a
	 * second, duplicate parameter (RFC 2231 would see filename twice).
	 */
	hdr_start(&h, b, "Content-Type");
	hdr_token(&h, type, strlen(type), 1);
	hdr_append(&h, ";");
	if (ascii)
		hdr_param_filename(&h, "name", a->filename);
	else
		hdr_param_fallback(&h, "name", a->filename);
	hdr_end(&h);
	hdr_start(&h, b, "Content-Disposition");
	hdr_token(&h, "attachment", 10, 1);
	hdr_append(&h, ";");
	hdr_param_filename(&h, "filename", a->filename);
	hdr_end(&h);
	mbuf_adds(b, "Content-Transfer-Encoding: base64\r\n\r\n");
	/* Four characters for three bytes, and a CRLF a line: all at once, not doubling up to it. */
	mbuf_reserve(b, ((size_t)st.st_size + 2) / 3 * 4 + ((size_t)st.st_size / MIME_B64_LINE + 1) * 2);
	for (;;) {
		if ((r = read(fd, chunk + have, MIME_CHUNK - have)) < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = -errno;
		util_fail(cause, e, "attachment %s: %s", a->path, strerror(-e));
			goto out;
		}
		if (r == 0)
			break;
		have += (size_t)r;
		if ((total += (size_t)r) > MIME_ATTACH_MAX) {
			e = util_fail(cause, -EFBIG, "attachment %s: grew past %lu MiB while being read", a->path,
			    MIME_ATTACH_MAX >> 20);
			goto out;
		}
		/* Encode the whole lines; a short read's rest waits for the next. */
		whole = have - have % MIME_B64_LINE;
		mbuf_base64_lines(b, chunk, whole, &lines);
		memmove(chunk, chunk + whole, have - whole);
		have -= whole;
	}
	mbuf_base64_lines(b, chunk, have, &lines);
out:
	if (fd >= 0)
		close(fd);
	return e;
}

int
mime_build(const struct mime_message *m, char **out, size_t *len, char **cause)
{
	struct mbuf b = { NULL, 0, 0, false };
	unsigned char *chunk = NULL;
	char hex[65], msgid[MIME_MSGID_LEN], mixed[32], alt[32];
	struct hdr h;
	int e;

	if ((e = check_message(m, cause)) < 0 || (e = key_hash(m->key, hex, cause)) < 0 ||
	    (e = msgid_format(hex, m->from.addr, msgid, sizeof msgid, cause)) < 0)
		goto out;
	/* The boundaries use the hash's second half; the Message-ID shows its first. */
	snprintf(mixed, sizeof mixed, "=_salesd_%.*s_1", MIME_BOUNDARY_HEX, hex + MIME_HASH_HEX);
	snprintf(alt, sizeof alt, "=_salesd_%.*s_2", MIME_BOUNDARY_HEX, hex + MIME_HASH_HEX);
	mbuf_reserve(&b, 4096 + (strlen(m->text) + (m->html != NULL ? strlen(m->html) : 0)) * 5 / 4);

	hdr_start(&h, &b, "From");
	hdr_mailboxes(&h, &m->from, 1);
	hdr_end(&h);
	hdr_start(&h, &b, "To");
	if (m->nto == 0)
		hdr_token(&h, "undisclosed-recipients:;", 24, 0);
	else
		hdr_mailboxes(&h, m->to, m->nto);
	hdr_end(&h);
	if (m->ncc != 0) {
		hdr_start(&h, &b, "Cc");
		hdr_mailboxes(&h, m->cc, m->ncc);
		hdr_end(&h);
	}
	hdr_start(&h, &b, "Subject");
	if (plain_words(m->subject, false))
		hdr_words(&h, m->subject);
	else
		hdr_encoded(&h, m->subject, 0, false);
	hdr_end(&h);
	if ((e = add_date(&b, m->date, cause)) < 0)
		goto out;
	mbuf_adds(&b, "Message-ID: ");
	mbuf_adds(&b, msgid);
	/* A report, not a person: vacation responders keep quiet (RFC 3834). */
	mbuf_adds(&b, "\r\nAuto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n");
	add_multipart(&b, "mixed", mixed);
	mbuf_adds(&b, "\r\n" MIME_PREAMBLE);

	add_delimiter(&b, mixed, false);
	if (m->html != NULL) {
		add_multipart(&b, "alternative", alt);
		mbuf_adds(&b, "\r\n");
		add_delimiter(&b, alt, false);
		add_text(&b, "plain", m->text);
		add_delimiter(&b, alt, false);
		add_text(&b, "html", m->html);
		add_delimiter(&b, alt, true);
	} else {
		add_text(&b, "plain", m->text);
	}
	if (m->natt != 0 && (chunk = malloc(MIME_CHUNK)) == NULL) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < m->natt; i++) {
		add_delimiter(&b, mixed, false);
		if ((e = add_attachment(&b, &m->att[i], chunk, cause)) < 0)
			goto out;
	}
	add_delimiter(&b, mixed, true);
	if (b.oom) {
		e = util_fail(cause, -ENOMEM, "out of memory building the message");
		goto out;
	}
	b.p[b.len] = '\0';
	*out = b.p;
	*len = b.len;
	b.p = NULL;
	e = 0;
out:
	free(b.p);
	free(chunk);
	return e;
}
