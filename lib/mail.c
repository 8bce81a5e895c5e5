/*
 * mail: SMTP with libcurl (see mail.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "mail.h"
#include "util.h"

struct upload {
	const char *p;
	size_t left;
};

struct transcript {
	char last[512];                 /* the last line the server sent */
};

const char *
mail_strverdict(enum mail_verdict v)
{
	static const char *const names[] = { "sent", "temporary failure", "refused", "configuration" };

	return (size_t)v < UTIL_NELEM(names) ? names[v] : "?";
}

static size_t
read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct upload *u = arg;
	size_t n = size * nitems < u->left ? size * nitems : u->left;

	memcpy(buf, u->p, n);
	u->p += n;
	u->left -= n;
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
	struct transcript *t = arg;
	size_t n;

	(void)c;
	/* "221 Bye" to our QUIT after a failure is not the reply worth keeping. */
	if (type != CURLINFO_HEADER_IN || size == 0 || (size >= 3 && memcmp(data, "221", 3) == 0))
		return 0;
	n = size < sizeof t->last - 1 ? size : sizeof t->last - 1;
	memcpy(t->last, data, n);
	while (n > 0 && (t->last[n - 1] == '\r' || t->last[n - 1] == '\n'))
		n--;
	t->last[n] = '\0';
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

int
mail_send(const struct mail_server *s, const char *from, const char *rcpt, const char *msg, size_t len,
    struct mail_outcome *out, char **cause)
{
	struct upload up = { msg, len };
	struct transcript tr = { "" };
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
	curl_easy_setopt(c, CURLOPT_READDATA, &up);
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
		snprintf(out->reply, sizeof out->reply, "%s", tr.last[0] ? tr.last : "250");
		goto out;
	}
	out->verdict = classify(rc, code);
	/* The server's words when it said no; libcurl's when the line went dead. */
	if (code >= 400 && tr.last[0] != '\0')
		snprintf(out->reply, sizeof out->reply, "%s", tr.last);
	else
		snprintf(out->reply, sizeof out->reply, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
	e = util_fail(cause, out->verdict == MAIL_TEMPORARY ? -EAGAIN : out->verdict == MAIL_REFUSED ? -EPERM :
	    -EINVAL, "%s: %s to %s: %s", s->url, mail_strverdict(out->verdict), rcpt, out->reply);
out:
	curl_slist_free_all(to);
	free(envfrom);
	if (c != NULL)
		curl_easy_cleanup(c);
	return e;
}
