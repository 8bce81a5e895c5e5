/*
 * check_mime: the e-mail message builder. Headers present and absent (never
 * Bcc), CRLF everywhere, 7-bit, no line over 76 characters, encoded-words of
 * at most 75 that decode (with lib/b64) to the Devanagari subject, the
 * Message-ID and the bytes the same for the same key, header injection
 * refused naming the field, bad addresses, unreadable attachments naming the
 * path. Then the messages are read back the way a mail reader would, with
 * Python's email package (tests/mime_parse.py): the structure, the decoded
 * subject, names, bodies and file names, and each attachment's SHA-256
 * against the file's.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "base/b64.h"
#include "deliver/mime.h"
#include "testutil.h"
#include "base/util.h"

#define PYTHON "/usr/bin/python3"
#define SUBJECT "दैनिक बिक्री रिपोर्ट — कोरमंगला चौथा ब्लॉक, २३ नवंबर २०२६ (₹ १२,३४,५६७.८९ बिक्री, ३२% मार्जिन)"
#define NAME_HI "बिक्री टीम"
#define NAME_LONG "हल्दीराम भुजिया बिक्री टीम, कोरमंगला चौथा ब्लॉक"
#define FILE_HI "दैनिक-रिपोर्ट-२०२६-११-२३-कोरमंगला-चौथा-ब्लॉक.xlsx"
#define XLSX "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#define KEY "daily\x1f" "2026-11-23\x1f" "KOR-4\x1f" "email\x1f" "owner@example.in"

static const struct mime_address to2[] = {
	{ "Asha Rao", "asha@example.in" },
	{ NAME_HI, "team@example.in" },
};
static const struct mime_address cc2[] = {
	{ "Rao, \"Finance\" \\ Dept.", "finance@example.in" },
	{ NULL, "audit@example.in" },
};

/* A plain message: ASCII names, one address each, no attachment. */
static struct mime_message
sample(void)
{
	struct mime_message m = {
		.from = { "salesd", "reports@example.in" },
		.to = to2, .nto = 1,
		.subject = "Daily report 2026-11-23",
		.text = "Sales: 1,234.00\nMargin: 32%\n",
		.html = "<p>Sales: <b>1,234.00</b></p>\n",
		.key = KEY,
		.date = 1795417200,     /* Mon, 23 Nov 2026 07:00:00 +0000 */
	};

	return m;
}

static char *
build(const struct mime_message *m, size_t *len)
{
	char *out = NULL, *cause = NULL;
	int e = mime_build(m, &out, len, &cause);

	ck_assert_msg(e == 0, "mime_build: %d %s", e, cause ? cause : "");
	ck_assert_uint_eq(strlen(out), *len);
	return out;
}

/*
 * Every line ends in CRLF, holds only 7-bit non-NUL bytes and at most max
 * characters. (Plain ifs in the loop: each ck_assert talks to Check's parent
 * process, far too slow for every byte of megabytes.)
 */
static void
assert_lines(const char *msg, size_t len, size_t max)
{
	size_t start = 0;

	ck_assert_msg(len >= 2 && memcmp(msg + len - 2, "\r\n", 2) == 0, "message does not end in CRLF");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)msg[i];

		if (c == 0 || c >= 0x80)
			ck_abort_msg("byte %zu is 0x%02x", i, c);
		if (c == '\r' && (i + 1 == len || msg[i + 1] != '\n'))
			ck_abort_msg("bare CR at byte %zu", i);
		if (c != '\n')
			continue;
		if (i == 0 || msg[i - 1] != '\r')
			ck_abort_msg("bare LF at byte %zu", i);
		if (i - 1 - start > max)
			ck_abort_msg("line at byte %zu has %zu characters: %.*s", start, i - 1 - start,
			    (int)(i - 1 - start), msg + start);
		start = i + 1;
	}
}

/* The top-level header block, NUL-terminated (caller frees). */
static char *
headers(const char *msg)
{
	const char *end = strstr(msg, "\r\n\r\n");

	ck_assert(end != NULL);
	return strndup(msg, (size_t)(end - msg) + 2);
}

/* Does the header block have a field called name (any case)? */
static bool
has_field(const char *hdrs, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = hdrs; p != NULL && *p != '\0'; p = strstr(p, "\r\n"), p = p ? p + 2 : NULL)
		if (strncasecmp(p, name, n) == 0 && p[n] == ':')
			return true;
	return false;
}

/* SHA-256 of a file in hex (caller frees). */
static char *
sha256_file(const char *path)
{
	unsigned char md[EVP_MAX_MD_SIZE], buf[65536];
	unsigned int n = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char *hex = malloc(65);
	ssize_t r;
	int fd = open(path, O_RDONLY);

	ck_assert(fd >= 0 && ctx != NULL && hex != NULL);
	ck_assert(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1);
	while ((r = read(fd, buf, sizeof buf)) > 0)
		ck_assert(EVP_DigestUpdate(ctx, buf, (size_t)r) == 1);
	ck_assert(r == 0);
	ck_assert(EVP_DigestFinal_ex(ctx, md, &n) == 1 && n == 32);
	for (unsigned int i = 0; i < n; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
	EVP_MD_CTX_free(ctx);
	close(fd);
	return hex;
}

/* A file of n pseudo-random bytes in dir (caller frees the path). */
static char *
random_file(const char *dir, const char *name, size_t n, uint64_t seed)
{
	char *path;
	unsigned char *data = malloc(n + 1);
	FILE *f;

	ck_assert(data != NULL && asprintf(&path, "%s/%s", dir, name) > 0);
	for (size_t i = 0; i < n; i++)
		data[i] = (unsigned char)((seed = seed * 6364136223846793005ULL + 1442695040888963407ULL) >> 56);
	ck_assert((f = fopen(path, "wb")) != NULL);
	ck_assert(fwrite(data, 1, n, f) == n);
	ck_assert(fclose(f) == 0);
	free(data);
	return path;
}

/* Read msg back with tests/mime_parse.py; the parser must note no defect. */
static json_t *
parse(const char *msg, size_t len)
{
	char *dir = tu_tmpdir(), *path, *script, *argv[4];
	struct tu_result res;
	json_error_t jerr;
	json_t *doc;
	FILE *f;

	ck_assert_msg(access(PYTHON, X_OK) == 0, PYTHON " is needed to read the message back");
	ck_assert(asprintf(&path, "%s/message.eml", dir) > 0);
	ck_assert(asprintf(&script, "%s/tests/mime_parse.py", tu_source_dir()) > 0);
	ck_assert((f = fopen(path, "wb")) != NULL && fwrite(msg, 1, len, f) == len && fclose(f) == 0);
	argv[0] = strdup(PYTHON);
	argv[1] = script;
	argv[2] = path;
	argv[3] = NULL;
	ck_assert_int_eq(tu_run(argv, NULL, 60, &res), 0);
	ck_assert_msg(res.status == 0 && res.err[0] == '\0', "mime_parse.py: %d %s", res.status, res.err);
	doc = json_loads(res.out, 0, &jerr);
	ck_assert_msg(doc != NULL, "mime_parse.py output: %s", jerr.text);
	ck_assert_msg(json_array_size(json_object_get(doc, "defects")) == 0, "the parser found a defect: %s",
	    json_string_value(json_array_get(json_object_get(doc, "defects"), 0)));
	tu_result_done(&res);
	free(argv[0]);
	free(script);
	free(path);
	free(dir);
	return doc;
}

static const char *
jstr(json_t *doc, const char *a, const char *b)
{
	json_t *v = json_object_get(doc, a);

	return json_string_value(b != NULL ? json_object_get(v, b) : v);
}

/* s with every CRLF turned into LF, as Python gives decoded text (caller frees). */
static char *
lf(const char *s)
{
	char *o = malloc(strlen(s) + 1), *p = o;

	for (; *s != '\0'; s++)
		if (!(s[0] == '\r' && s[1] == '\n'))
			*p++ = *s;
	*p = '\0';
	return o;
}

/* The content types of a parsed tree as "multipart/mixed(a,b(c))". */
static void
tree_string(json_t *node, char *buf, size_t size)
{
	json_t *parts = json_object_get(node, "parts");

	strncat(buf, json_string_value(json_object_get(node, "type")), size - strlen(buf) - 1);
	if (parts == NULL)
		return;
	strncat(buf, "(", size - strlen(buf) - 1);
	for (size_t i = 0; i < json_array_size(parts); i++) {
		if (i > 0)
			strncat(buf, ",", size - strlen(buf) - 1);
		tree_string(json_array_get(parts, i), buf, size);
	}
	strncat(buf, ")", size - strlen(buf) - 1);
}

START_TEST(test_headers)
{
	struct mime_message m = sample();
	char *msg, *h, id[MIME_MSGID_LEN];
	size_t len;

	m.to = to2;
	m.nto = 2;
	m.cc = cc2;
	m.ncc = 2;
	msg = build(&m, &len);
	h = headers(msg);
	ck_assert_msg(strncmp(h, "From: salesd <reports@example.in>\r\n", 35) == 0, "%s", h);
	ck_assert(tu_contains(h, "\r\nTo: Asha Rao <asha@example.in>,\r\n =?UTF-8?B?"));
	ck_assert(tu_contains(h, "\r\nCc: \"Rao, \\\"Finance\\\" \\\\ Dept.\" <finance@example.in>,"));
	ck_assert(tu_contains(h, " audit@example.in\r\n"));
	ck_assert(tu_contains(h, "\r\nSubject: Daily report 2026-11-23\r\n"));
	ck_assert(tu_contains(h, "\r\nDate: Mon, 23 Nov 2026 07:00:00 +0000\r\n"));
	ck_assert_int_eq(mime_message_id(KEY, "reports@example.in", id, sizeof id, NULL), 0);
	ck_assert(strlen(id) == 1 + 32 + 1 + strlen("example.in") + 1);
	ck_assert(strspn(id + 1, "0123456789abcdef") == 32 && strcmp(id + 33, "@example.in>") == 0);
	ck_assert(tu_contains(h, "\r\nMessage-ID: ") && tu_contains(h, id));
	ck_assert(tu_contains(h, "\r\nMIME-Version: 1.0\r\n"));
	ck_assert(tu_contains(h, "\r\nAuto-Submitted: auto-generated\r\n"));
	ck_assert(tu_contains(h, "\r\nContent-Type: multipart/mixed; boundary=\"=_salesd_"));
	ck_assert(!has_field(h, "Bcc") && !tu_contains(msg, "Bcc") && !tu_contains(msg, "bcc"));
	assert_lines(msg, len, 76);
	free(h);
	free(msg);

	/* No Cc header without Cc addresses; no To addresses: an empty group, as RFC 5322 allows. */
	m.ncc = 0;
	m.nto = 0;
	msg = build(&m, &len);
	h = headers(msg);
	ck_assert(!has_field(h, "Cc") && !has_field(h, "Bcc"));
	ck_assert(tu_contains(h, "\r\nTo: undisclosed-recipients:;\r\n"));
	free(h);
	free(msg);
}
END_TEST

START_TEST(test_message_id)
{
	struct mime_message m = sample();
	char a[MIME_MSGID_LEN], b[MIME_MSGID_LEN], small[20], *m1, *m2, *cause = NULL;
	size_t l1, l2;

	ck_assert_int_eq(mime_message_id(KEY, "reports@example.in", a, sizeof a, NULL), 0);
	ck_assert_int_eq(mime_message_id(KEY, "reports@example.in", b, sizeof b, NULL), 0);
	ck_assert_str_eq(a, b);
	ck_assert_int_eq(mime_message_id(KEY "x", "reports@example.in", b, sizeof b, NULL), 0);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(mime_message_id(KEY, "reports@mail.example.in", b, sizeof b, NULL), 0);
	ck_assert(strcmp(strchr(b, '@'), "@mail.example.in>") == 0 && strncmp(a, b, 33) == 0);
	/* SHA-256("abc") starts ba7816bf8f01cfea414140de5dae2223. */
	ck_assert_int_eq(mime_message_id("abc", "x@y.in", b, sizeof b, NULL), 0);
	ck_assert_str_eq(b, "<ba7816bf8f01cfea414140de5dae2223@y.in>");
	ck_assert_int_eq(mime_message_id(KEY, "reports@example.in", small, sizeof small, &cause), -ERANGE);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(mime_message_id(KEY, "reports", b, sizeof b, &cause), -EINVAL);
	ck_assert_msg(tu_contains(cause, "from address"), "%s", cause);
	free(cause);

	/* The same key and input: the same bytes (boundaries included); another key: another message. */
	m1 = build(&m, &l1);
	m2 = build(&m, &l2);
	ck_assert(l1 == l2 && memcmp(m1, m2, l1) == 0);
	ck_assert(tu_contains(m1, a));
	free(m2);
	m.key = "another key";
	m2 = build(&m, &l2);
	ck_assert(!tu_contains(m2, a));
	free(m1);
	free(m2);
}
END_TEST

/*
 * The encoded-words of header field (e.g. "\r\nSubject:") in msg, decoded
 * with lib/b64 and joined: each at most 75 characters and decodable on its
 * own (no word starts inside a UTF-8 character). *words counts them. Caller
 * frees.
 */
static char *
decode_words(const char *msg, const char *field, size_t *words)
{
	char *h = headers(msg), *p, *end, *out = malloc(2048);
	size_t n = 0;

	ck_assert((p = strstr(h, field)) != NULL && out != NULL);
	p += strlen(field);
	end = p;
	while ((end = strstr(end, "\r\n")) != NULL && (end[2] == ' ' || end[2] == '\t'))
		end += 2;
	*end = '\0';
	*words = 0;
	while ((p = strstr(p, "=?UTF-8?B?")) != NULL) {
		char *q = strstr(p + 10, "?=");
		struct b64 d;
		long r;

		ck_assert(q != NULL);
		ck_assert_msg(q + 2 - p <= 75, "encoded-word of %d characters", (int)(q + 2 - p));
		b64_init(&d);
		r = b64_decode(&d, p + 10, (size_t)(q - p - 10), (unsigned char *)out + n, NULL);
		ck_assert(r > 0 && b64_finish(&d, NULL) == 0);
		ck_assert(((unsigned char)out[n] & 0xc0) != 0x80);
		n += (size_t)r;
		ck_assert(n < 2048 - 64);
		(*words)++;
		p = q + 2;
		/* Words are apart: a space, or a fold. */
		ck_assert(*p == '\0' || strncmp(p, "\r\n ", 3) == 0 || *p == ' ');
	}
	out[n] = '\0';
	free(h);
	return out;
}

/*
 * The Subject header's encoded-words: each at most 75 characters, each
 * line at most 76, each decodable on its own (whole UTF-8 characters), all
 * together the subject.
 */
START_TEST(test_encoded_subject)
{
	struct mime_message m = sample();
	char *msg, *decoded;
	size_t len, words;

	m.subject = SUBJECT;
	msg = build(&m, &len);
	decoded = decode_words(msg, "\r\nSubject:", &words);
	ck_assert_uint_gt(words, 3);
	ck_assert_str_eq(decoded, SUBJECT);
	assert_lines(msg, len, 76);
	free(decoded);
	free(msg);

	/* ASCII that could be taken for an encoded-word is encoded; long ASCII folds between words. */
	m.subject = "Report =?UTF-8?B?SGk=?= for you";
	msg = build(&m, &len);
	ck_assert(!tu_contains(msg, "SGk=?= for"));
	free(msg);
	m.subject = "A long report subject that goes on and on about sales and margins and stores, "
	    "longer than one line can hold";
	msg = build(&m, &len);
	ck_assert(tu_contains(msg, "\r\nSubject: A long report subject"));
	ck_assert(!tu_contains(msg, "=?UTF-8?"));
	assert_lines(msg, len, 76);
	free(msg);
}
END_TEST

/* A display name longer than one encoded-word: split between characters, its spaces kept inside the words. */
START_TEST(test_long_name)
{
	struct mime_message m = sample();
	char *msg, *decoded;
	size_t len, words;

	m.from.name = NAME_LONG;
	msg = build(&m, &len);
	decoded = decode_words(msg, "From:", &words);
	ck_assert_uint_ge(words, 2);
	ck_assert_str_eq(decoded, NAME_LONG);
	ck_assert(tu_contains(msg, "?=\r\n <reports@example.in>\r\n") || tu_contains(msg, "?= <reports@example.in>\r\n"));
	assert_lines(msg, len, 76);
	free(decoded);
	free(msg);
}
END_TEST

START_TEST(test_injection)
{
	static const char *const breaks[] = { "\r\nBcc: x@evil.example", "\nBcc: x@evil.example", "a\rb" };
	struct mime_message m = sample();
	struct mime_address to[1], cc[1];
	struct mime_attachment att[1] = { { "/dev/null", "report.pdf", "application/pdf" } };
	char *cause = NULL;

	for (size_t i = 0; i < UTIL_NELEM(breaks); i++) {
		for (int field = 0; field < 8; field++) {
			static const char *const names[] = { "subject", "from display name", "from address",
			    "to #1 address", "to #1 display name", "cc #1 address", "cc #1 display name",
			    "attachment #1 file name" };
			char *v = util_printf("%s%s", field == 2 || field == 3 || field == 5 ? "a@b.in" : "x", breaks[i]);
			char *out = NULL;
			size_t len = 7;

			m = sample();
			to[0] = (struct mime_address){ "To", "to@example.in" };
			cc[0] = (struct mime_address){ "Cc", "cc@example.in" };
			m.to = to;
			m.cc = cc;
			m.ncc = 1;
			m.att = att;
			m.natt = 1;
			switch (field) {
			case 0: m.subject = v; break;
			case 1: m.from.name = v; break;
			case 2: m.from.addr = v; break;
			case 3: to[0].addr = v; break;
			case 4: to[0].name = v; break;
			case 5: cc[0].addr = v; break;
			case 6: cc[0].name = v; break;
			case 7: att[0].filename = v; break;
			}
			ck_assert_int_eq(mime_build(&m, &out, &len, &cause), -EINVAL);
			ck_assert_msg(strncmp(cause, names[field], strlen(names[field])) == 0 &&
			    strcmp(cause + strlen(names[field]), " contains a line break") == 0, "field %d: %s", field,
			    cause);
			ck_assert(out == NULL && len == 7);
			att[0].filename = "report.pdf";
			free(v);
		}
	}
	free(cause);
	cause = NULL;
	/* A value that came with a length: a NUL inside is caught too. */
	ck_assert_int_eq(mime_header_safe("subject", "Daily\0Bcc: x@evil.example", 25, &cause), -EINVAL);
	ck_assert_str_eq(cause, "subject contains a NUL byte");
	ck_assert_int_eq(mime_header_safe("subject", "Daily report", 12, &cause), 0);
	free(cause);
}
END_TEST

/* mime_build on m must fail with err and a cause holding want. */
static void
assert_fails(const struct mime_message *m, int err, const char *want)
{
	char *out = NULL, *cause = NULL;
	size_t len = 0;

	ck_assert_int_eq(mime_build(m, &out, &len, &cause), err);
	ck_assert_msg(cause != NULL && strstr(cause, want) != NULL, "want \"%s\", got \"%s\"", want, cause);
	ck_assert(out == NULL);
	free(cause);
}

START_TEST(test_bad_fields)
{
	static const char *const bad[][2] = {
		{ "a b@example.in", "contains a space" },
		{ "<a@example.in>", "contains '<'" },
		{ "Asha <a@example.in>", "contains a space" },
		{ "a@b@example.in", "is not an e-mail address (local@domain)" },
		{ "example.in", "is not an e-mail address (local@domain)" },
		{ "@example.in", "is not an e-mail address (local@domain)" },
		{ "a@", "is not an e-mail address (local@domain)" },
		{ "a@example", "is not a full domain name" },
		{ "आशा@example.in", "is not ASCII" },
		{ "a,b@example.in", "contains ','" },
		{ "a\tb@example.in", "control character" },
		{ "", "is empty" },
	};
	struct mime_message m = sample();
	struct mime_address to[1] = { { NULL, NULL } };
	struct mime_attachment att[1] = { { "/dev/null", "r.pdf", "application/pdf" } };

	m.to = to;
	for (size_t i = 0; i < UTIL_NELEM(bad); i++) {
		char *want = util_printf("to #1 address%s", bad[i][0][0] == '\0' || strchr(bad[i][0], '\t') ?
		    "" : ": \"");

		to[0].addr = bad[i][0];
		assert_fails(&m, -EINVAL, want);
		assert_fails(&m, -EINVAL, bad[i][1]);
		free(want);
	}
	to[0].addr = "a@example.in";
	m.subject = "caf\xc3";
	assert_fails(&m, -EINVAL, "subject is not valid UTF-8 (byte 3)");
	m.subject = "\xc0\xaf" "etc";
	assert_fails(&m, -EINVAL, "subject is not valid UTF-8 (byte 0)");
	m.subject = "ok";
	m.text = "\xed\xa0\x80";
	assert_fails(&m, -EINVAL, "text body is not valid UTF-8");
	m.text = NULL;
	assert_fails(&m, -EINVAL, "text body is missing");
	m.text = "ok";
	m.key = "";
	assert_fails(&m, -EINVAL, "delivery key");
	m.key = KEY;
	m.att = att;
	m.natt = 1;
	att[0].content_type = "application/pdf; name=x";
	assert_fails(&m, -EINVAL, "attachment #1 content type \"application/pdf; name=x\" is not type/subtype");
	att[0].content_type = "pdf";
	assert_fails(&m, -EINVAL, "is not type/subtype");
	att[0].content_type = NULL;
	att[0].filename = "";
	assert_fails(&m, -EINVAL, "attachment #1 file name must have 1 to 255 bytes");
}
END_TEST

START_TEST(test_unreadable)
{
	struct mime_message m = sample();
	struct mime_attachment att[2] = { { NULL, "notes.txt", "text/plain" },
	    { NULL, "report.pdf", "application/pdf" } };
	char *dir = tu_tmpdir(), *notes = tu_write(dir, "notes.txt", "notes\n"), *missing, *fifo, *big;
	int fd;

	ck_assert(asprintf(&missing, "%s/reports/no-such.pdf", dir) > 0);
	ck_assert(asprintf(&big, "%s/big.pdf", dir) > 0);
	m.att = att;
	m.natt = 2;
	att[0].path = notes;
	att[1].path = missing;
	assert_fails(&m, -ENOENT, missing);
	assert_fails(&m, -ENOENT, "attachment ");
	att[1].path = dir;
	assert_fails(&m, -EISDIR, dir);
	/* A FIFO: refused at once, not waited on. */
	ck_assert(asprintf(&fifo, "%s/fifo.pdf", dir) > 0 && mkfifo(fifo, 0600) == 0);
	att[1].path = fifo;
	assert_fails(&m, -EINVAL, "not a regular file");
	if (geteuid() != 0) {
		/* Root reads anything: only others can see permission denied. */
		ck_assert(chmod(notes, 0) == 0);
		att[1].path = notes;
		assert_fails(&m, -EACCES, notes);
		ck_assert(chmod(notes, 0644) == 0);
	}
	/* /dev/null is no regular file either: a device could be endless. */
	att[1].path = big;
	att[0].path = "/dev/null";
	assert_fails(&m, -EINVAL, "/dev/null: not a regular file");
	att[0].path = big;
	ck_assert((fd = open(big, O_WRONLY | O_CREAT, 0644)) >= 0);
	ck_assert(ftruncate(fd, (off_t)MIME_ATTACH_MAX + 1) == 0);
	close(fd);
	assert_fails(&m, -EFBIG, big);
	free(notes);
	free(fifo);
	free(missing);
	free(big);
	free(dir);
}
END_TEST

/*
 * The whole message read back by Python: two To, two Cc, Devanagari subject,
 * names, text and file name, an HTML part, a PDF of 1.5 MB that is no
 * multiple of 57 bytes, a workbook and an empty file.
 */
START_TEST(test_python_roundtrip)
{
	static const char *const text_in = "नमस्ते,\n\nआज की बिक्री: ₹ 12,34,567.89\n"
	    "trailing spaces   \n"
	    ".a line starting with a dot\n"
	    ".\n"
	    "From the start of a line\n"
	    "a boundary-like line:\n--=_salesd_0123456789abcdef_1\n"
	    "tab\tand = sign and a lone\rCR\r\n"
	    "a very long line without any break at all, long enough that quoted-printable must fold it twice "
	    "with soft line breaks, ending with Devanagari: बिक्री बिक्री बिक्री बिक्री बिक्री बिक्री बिक्री";
	static const char *const html_in = "<html><body><p>आज की बिक्री: <b>₹ 12,34,567.89</b></p>"
	    "<p style=\"color: #333\">=_salesd_ and =?UTF-8?B?x?=</p></body></html>";
	struct mime_message m = sample();
	struct mime_attachment att[3];
	char *dir = tu_tmpdir(), *pdf = random_file(dir, "report.pdf", 1500001, 1),
	    *xlsx = random_file(dir, "book.xlsx", 57 * 300, 2), *empty = random_file(dir, "e", 0, 3);
	char *msg, *want, tree[512] = "";
	const char *paths[3] = { pdf, xlsx, empty };
	json_t *doc, *a;
	size_t len;

	att[0] = (struct mime_attachment){ pdf, "daily-report-2026-11-23-koramangala.pdf", "application/pdf" };
	att[1] = (struct mime_attachment){ xlsx, FILE_HI, XLSX };
	att[2] = (struct mime_attachment){ empty, "notes \"empty\".txt", NULL };
	m.from.name = "salesd (" NAME_HI ")";   /* one encoded-word: see test_long_name */
	m.to = to2;
	m.nto = 2;
	m.cc = cc2;
	m.ncc = 2;
	m.subject = SUBJECT;
	m.text = text_in;
	m.html = html_in;
	m.att = att;
	m.natt = 3;
	msg = build(&m, &len);
	assert_lines(msg, len, 76);
	doc = parse(msg, len);

	ck_assert_str_eq(jstr(doc, "headers", "subject"), SUBJECT);
	ck_assert_ptr_null(jstr(doc, "headers", "bcc"));
	ck_assert_str_eq(jstr(json_array_get(json_object_get(doc, "from"), 0), "name", NULL), "salesd (" NAME_HI ")");
	ck_assert_str_eq(jstr(json_array_get(json_object_get(doc, "from"), 0), "addr", NULL), "reports@example.in");
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "to")), 2);
	ck_assert_str_eq(jstr(json_array_get(json_object_get(doc, "to"), 0), "name", NULL), "Asha Rao");
	ck_assert_str_eq(jstr(json_array_get(json_object_get(doc, "to"), 1), "name", NULL), NAME_HI);
	ck_assert_str_eq(jstr(json_array_get(json_object_get(doc, "to"), 1), "addr", NULL), "team@example.in");
	ck_assert_str_eq(jstr(json_array_get(json_object_get(doc, "cc"), 0), "name", NULL), cc2[0].name);
	ck_assert_str_eq(jstr(json_array_get(json_object_get(doc, "cc"), 1), "name", NULL), "");
	ck_assert_str_eq(jstr(json_array_get(json_object_get(doc, "cc"), 1), "addr", NULL), "audit@example.in");
	{
		char id[MIME_MSGID_LEN];

		ck_assert_int_eq(mime_message_id(KEY, "reports@example.in", id, sizeof id, NULL), 0);
		ck_assert_str_eq(jstr(doc, "headers", "message-id"), id);
	}

	tree_string(json_object_get(doc, "tree"), tree, sizeof tree);
	ck_assert_str_eq(tree, "multipart/mixed(multipart/alternative(text/plain,text/html),application/pdf," XLSX
	    ",application/octet-stream)");
	/* The bodies: the same text, line ends LF (as Python gives them), the lone CR kept. */
	want = lf(text_in);
	ck_assert_str_eq(jstr(doc, "text", NULL), want);
	free(want);
	ck_assert_str_eq(jstr(doc, "html", NULL), html_in);

	ck_assert_uint_eq(json_array_size(json_object_get(doc, "attachments")), 3);
	for (size_t i = 0; i < 3; i++) {
		char *hash = sha256_file(paths[i]);

		a = json_array_get(json_object_get(doc, "attachments"), i);
		ck_assert_str_eq(jstr(a, "filename", NULL), att[i].filename);
		ck_assert_str_eq(jstr(a, "sha256", NULL), hash);
		free(hash);
	}
	/* Readers without RFC 2231 get an ASCII stand-in in Content-Type's name. */
	a = json_array_get(json_object_get(doc, "attachments"), 1);
	ck_assert_str_eq(jstr(a, "name", NULL), "_____-_______-____-__-__-________-____-_____.xlsx");
	ck_assert(tu_contains(msg, "filename*0*=UTF-8''%E0%A4%A6%E0%A5%88"));
	a = json_array_get(json_object_get(doc, "attachments"), 0);
	ck_assert_str_eq(jstr(a, "name", NULL), "daily-report-2026-11-23-koramangala.pdf");
	ck_assert(tu_contains(msg, "filename=\"daily-report-2026-11-23-koramangala.pdf\""));
	ck_assert_int_eq(json_integer_value(json_object_get(a, "size")), 1500001);
	json_decref(doc);

	/* No HTML: the text part sits in the mixed part directly. */
	m.html = NULL;
	m.natt = 1;
	free(msg);
	msg = build(&m, &len);
	doc = parse(msg, len);
	tree[0] = '\0';
	tree_string(json_object_get(doc, "tree"), tree, sizeof tree);
	ck_assert_str_eq(tree, "multipart/mixed(text/plain,application/pdf)");
	ck_assert_ptr_null(jstr(doc, "html", NULL));
	json_decref(doc);
	free(msg);
	free(pdf);
	free(xlsx);
	free(empty);
	free(dir);
}
END_TEST

/* The boundaries occur only as delimiters, however the bodies try. */
START_TEST(test_boundaries)
{
	struct mime_message m = sample();
	char *msg, *text, *hdr, boundary[64];
	const char *p;
	size_t len, n = 0;

	msg = build(&m, &len);
	hdr = headers(msg);
	p = strstr(hdr, "boundary=\"") + 10;
	snprintf(boundary, sizeof boundary, "%.*s", (int)strcspn(p, "\""), p);
	ck_assert(strncmp(boundary, "=_salesd_", 9) == 0 && strlen(boundary) <= 70);
	free(msg);
	free(hdr);
	/* A body holding the very delimiter lines. */
	text = util_printf("--%s\n--%s--\n", boundary, boundary);
	m.text = text;
	m.html = text;
	msg = build(&m, &len);
	for (p = msg; (p = strstr(p, boundary)) != NULL; p++) {
		ck_assert(p[-1] == '"' || (p[-1] == '-' && p[-2] == '-' && p[-3] == '\n'));
		n++;
	}
	/* The header, the first and the closing delimiter (the text goes in the alternative). */
	ck_assert_uint_eq(n, 3);
	free(text);
	free(msg);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("mime");
	TCase *hdr = tcase_create("headers"), *err = tcase_create("errors"), *rt = tcase_create("roundtrip");
	SRunner *sr;
	int failed;

	tcase_add_test(hdr, test_headers);
	tcase_add_test(hdr, test_message_id);
	tcase_add_test(hdr, test_encoded_subject);
	tcase_add_test(hdr, test_long_name);
	tcase_add_test(hdr, test_boundaries);
	tcase_add_test(err, test_injection);
	tcase_add_test(err, test_bad_fields);
	tcase_add_test(err, test_unreadable);
	tcase_add_test(rt, test_python_roundtrip);
	suite_add_tcase(s, hdr);
	suite_add_tcase(s, err);
	suite_add_tcase(s, rt);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
