/*
 * mail: SMTP with libcurl (see mail.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "deliver/mail.h"
#include "base/util.h"

/* One transaction as libcurl runs it: the message going out, the replies coming in. */
struct transfer {
	const char *p;
	size_t left;
	bool body_sent;                 /* every byte of the message handed over: only the verdict is missing */
	bool verdict_seen;              /* the server replied after the end of DATA */
	char last[512];                 /* the last line the server sent */
};

static size_t
read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct transfer *t = arg;
	size_t n = size * nitems < t->left ? size * nitems : t->left;

	memcpy(buf, t->p, n);
	t->p += n;
	t->left -= n;
	/*
	 * The last bytes are libcurl's now and the end-of-data mark follows:
	 * from here on a lost connection may have lost only the server's 250.
	 * (Early rather than late: calling a message unknown that never
	 * arrived costs a forced resend; calling one temporary that did
	 * arrive sends it twice.)
	 */
	if (t->left == 0)
		t->body_sent = true;
	return n;
}

/*
 * Keep the server's last reply line, for the ledger and the log. Only what
 * the server sends is looked at: our own lines (AUTH carries the password)
 * never are.
 */
static int
debug_cb(CURL *c, curl_infotype type, char *data, size_t size, void *arg)
{
	struct transfer *t = arg;
	size_t n;

	(void)c;
	/* "221 Bye" to our QUIT after a failure is not the reply worth keeping. */
	if (type != CURLINFO_HEADER_IN || size == 0 || (size >= 3 && memcmp(data, "221", 3) == 0))
		return 0;
	if (t->body_sent)
		t->verdict_seen = true;
	n = size;
	while (n > 0 && (data[n - 1] == '\r' || data[n - 1] == '\n'))
		n--;
	/* A long reply (a server's words may be UTF-8, RFC 6531) cut between characters. */
	util_utf8_snprintf(t->last, sizeof t->last, "%.*s", (int)n, data);
	return 0;
}

/* The verdict of a failed transfer, from libcurl's result and the server's last code. */
static enum mail_verdict
classify(CURLcode rc, long code)
{
	switch (rc) {
	case CURLE_LOGIN_DENIED:
	case CURLE_USE_SSL_FAILED:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return MAIL_CONFIG;
	default:
		break;
	}
	if (code >= 500 && code < 600)
		return MAIL_REFUSED;
	return MAIL_TEMPORARY;
}

/* The error of a failed send, worded for the operator, with what to do where we know it. */
static int
mail_fail(const struct mail_server *s, const char *rcpt, const struct mail_outcome *o, CURLcode rc, char **cause)
{
	switch (o->verdict) {
	case MAIL_UNKNOWN:
		return util_fail(cause, -EINPROGRESS, "%s: to %s: the whole message was sent but no reply came "
		    "back (%s): the server may have accepted it; recorded as unknown, not sent again (--force "
		    "sends it)", s->url, rcpt, o->reply);
	case MAIL_TEMPORARY:
		return util_fail(cause, -EAGAIN, "%s: to %s: temporary failure: %s", s->url, rcpt, o->reply);
	case MAIL_REFUSED:
		return util_fail(cause, -EPERM, "%s: to %s: refused: %s", s->url, rcpt, o->reply);
	default:
		break;
	}
	switch (rc) {
	case CURLE_USE_SSL_FAILED:
		return util_fail(cause, -EINVAL, "%s: the server does not offer STARTTLS (%s); nothing was sent. "
		    "Use smtps:// if it speaks TLS from the start, or [smtp] allow_plain = yes on a network "
		    "you trust", s->url, o->reply);
	case CURLE_LOGIN_DENIED:
		return util_fail(cause, -EINVAL, "%s: login refused: %s; check [smtp] username and password",
		    s->url, o->reply);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		return util_fail(cause, -EINVAL, "%s: the server's certificate is not trusted: %s; [smtp] ca_file "
		    "adds a CA", s->url, o->reply);
	default:
		return util_fail(cause, -EINVAL, "%s: cannot send: %s; check [smtp] url", s->url, o->reply);
	}
}

int
mail_send(const struct mail_server *s, const char *from, const char *rcpt, const char *msg, size_t len,
    struct mail_outcome *out, char **cause)
{
	struct transfer tr = { .p = msg, .left = len };
	struct curl_slist *to = NULL;
	char errbuf[CURL_ERROR_SIZE] = "", *envfrom = NULL;
	CURL *c = NULL;
	CURLcode rc;
	long code = 0;
	int e = 0;

	memset(out, 0, sizeof *out);
	if ((c = curl_easy_init()) == NULL || (envfrom = util_printf("<%s>", from)) == NULL ||
	    (to = curl_slist_append(NULL, rcpt)) == NULL) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, s->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	/* STARTTLS or nothing: CURLUSESSL_TRY would fall back to plain text without a word. */
	curl_easy_setopt(c, CURLOPT_USE_SSL, s->allow_plain ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL);
	if (s->ca_file != NULL) {
		curl_easy_setopt(c, CURLOPT_CAINFO, s->ca_file);
		curl_easy_setopt(c, CURLOPT_CAPATH, "/etc/ssl/certs");
	}
	if (s->username != NULL) {
		curl_easy_setopt(c, CURLOPT_USERNAME, s->username);
		curl_easy_setopt(c, CURLOPT_PASSWORD, s->password ? s->password : "");
	}
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, envfrom);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, to);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &tr);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)s->connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);       /* for debug_cb only; nothing is printed */
	curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(c, CURLOPT_DEBUGDATA, &tr);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	out->code = (int)code;
	if (rc == CURLE_OK) {
		out->verdict = MAIL_SENT;
		util_utf8_snprintf(out->reply, sizeof out->reply, "%s", tr.last[0] ? tr.last : "250");
		goto out;
	}
	out->verdict = tr.body_sent && !tr.verdict_seen ? MAIL_UNKNOWN : classify(rc, code);
	/* The server's words when it said no; libcurl's when the line went dead. */
	if (code >= 400 && tr.last[0] != '\0' && out->verdict != MAIL_UNKNOWN)
		util_utf8_snprintf(out->reply, sizeof out->reply, "%s", tr.last);
	else
		util_utf8_snprintf(out->reply, sizeof out->reply, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
	e = mail_fail(s, rcpt, out, rc, cause);
out:
	curl_slist_free_all(to);
	free(envfrom);
	if (c != NULL)
		curl_easy_cleanup(c);
	return e;
}
