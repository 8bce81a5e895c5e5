/*
 * extract: POS API downloads with libcurl (see extract.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "base/b64.h"
#include "etl/extract.h"
#include "base/util.h"

/* Bytes looked at before deciding whether a body is base64. */
#define SNIFF_LEN 512
/* Of an error body, this much is quoted. */
#define ERROR_BODY_MAX 300
/* Base64 is decoded in pieces of this size. */
#define DECODE_CHUNK 65536

struct extract {
	struct extract_options o;
	char *base;                     /* base_url without trailing '/' */
	char *token;
	CURL *curl;
	char errbuf[CURL_ERROR_SIZE];   /* curl's detailed message of the last failure */
	extract_notice_fn notice;
	void *notice_arg;
	bool sink_failed;               /* the last fetch was stopped by the sink, not the transfer */
};

/* One transfer's state, seen by the write callback. */
struct transfer {
	struct extract *x;
	const struct extract_sink *sink;
	long status;
	bool decided;                   /* CSV or base64 known */
	bool encoded;
	struct b64 b64;
	char sniff[SNIFF_LEN];
	size_t nsniff;
	char errbody[ERROR_BODY_MAX + 1];
	size_t nerr;
	bool errfull;                   /* errbody holds all it will: later bytes are dropped */
	unsigned char *decoded;
	int sink_err;                   /* the sink's (or decoder's) error, if it stopped us */
	char *sink_cause;
};

int
extract_new(struct extract **out, const struct extract_options *o, extract_notice_fn notice,
    void *notice_arg, char **cause)
{
	struct extract *x = calloc(1, sizeof *x);
	size_t len;

	if (x == NULL || (x->base = strdup(o->base_url)) == NULL || (x->curl = curl_easy_init()) == NULL) {
		if (x != NULL)
			free(x->base);
		free(x);
		return util_fail(cause, -ENOMEM, "out of memory");
	}
	len = strlen(x->base);
	while (len > 0 && x->base[len - 1] == '/')
		x->base[--len] = '\0';
	x->o = *o;
	x->notice = notice;
	x->notice_arg = notice_arg;
	*out = x;
	return 0;
}

void
extract_free(struct extract *x)
{
	if (x == NULL)
		return;
	if (x->curl != NULL)
		curl_easy_cleanup(x->curl);
	if (x->token != NULL)
		explicit_bzero(x->token, strlen(x->token));
	free(x->token);
	free(x->base);
	free(x);
}

/* Options every request shares. */
static void
setup(struct extract *x, const char *url)
{
	CURL *c = x->curl;

	curl_easy_reset(c);
	x->errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, x->o.connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (x->o.stall_timeout_ms + 999) / 1000);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	/*
	 * ca_file is an extra CA to trust (INTERFACES.md), not a replacement:
	 * CAINFO takes the file, CAPATH keeps the system's certificates, and
	 * OpenSSL trusts both.
	 */
	if (x->o.ca_file != NULL) {
		curl_easy_setopt(c, CURLOPT_CAINFO, x->o.ca_file);
		curl_easy_setopt(c, CURLOPT_CAPATH, "/etc/ssl/certs");
	}
	curl_easy_setopt(c, CURLOPT_USERAGENT, "salesd");
	/* The API sends what it sends; a compressed body is decoded by curl. */
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
}

static size_t
collect(char *ptr, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;
	size_t len = size * n, room = ERROR_BODY_MAX - t->nerr;

	if (t->errfull)
		return len;
	memcpy(t->errbody + t->nerr, ptr, len < room ? len : room);
	t->nerr += len < room ? len : room;
	t->errbody[t->nerr] = '\0';
	/* Full: what is kept ends between characters (it is quoted in messages). */
	if (len > room) {
		t->errfull = true;
		t->nerr = util_utf8_cut(t->errbody, t->nerr);
	}
	return len;
}

/* The error body, one line, for messages. */
static const char *
error_body(struct transfer *t)
{
	for (size_t i = 0; i < t->nerr; i++)
		if (t->errbody[i] == '\n' || t->errbody[i] == '\r' || t->errbody[i] == '\t')
			t->errbody[i] = ' ';
	return t->nerr ? t->errbody : "(empty)";
}

/* What went wrong, as precisely as curl can say ("Operation too slow. Less than ..."). */
static const char *
curl_why(const struct extract *x, CURLcode rc)
{
	return x->errbuf[0] != '\0' ? x->errbuf : curl_easy_strerror(rc);
}

static bool
retryable_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		return true;
	default:
		return false;
	}
}

/* A transfer that failed on what the configuration says (TLS trust, the URL): not the server's mood. */
static bool
config_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return true;
	default:
		return false;
	}
}

/* The errno of a failed transfer: -EAGAIN may heal, -EINVAL is the configuration, -EPROTO the rest. */
static int
curl_errno(CURLcode rc)
{
	return retryable_curl(rc) ? -EAGAIN : config_curl(rc) ? -EINVAL : -EPROTO;
}

static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* POST /login: a new token. */
static int
login(struct extract *x, char **cause)
{
	struct transfer t = { .x = x };
	struct curl_slist *h = NULL;
	json_t *req, *resp = NULL;
	const char *tok;
	char *body, *url;
	CURLcode rc;
	int e;

	if ((url = util_printf("%s/login", x->base)) == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	req = json_pack("{s:s, s:s}", "username", x->o.username ? x->o.username : "",
	    "password", x->o.password ? x->o.password : "");
	body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (body == NULL) {
		free(url);
		return util_fail(cause, -ENOMEM, "out of memory");
	}
	setup(x, url);
	h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_setopt(x->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(x->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(x->curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(x->curl, CURLOPT_WRITEDATA, &t);
	curl_easy_setopt(x->curl, CURLOPT_TIMEOUT_MS, x->o.connect_timeout_ms + x->o.stall_timeout_ms);
	rc = curl_easy_perform(x->curl);
	curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &t.status);
	explicit_bzero(body, strlen(body));
	free(body);
	curl_slist_free_all(h);
	if (rc != CURLE_OK) {
		e = util_fail(cause, curl_errno(rc), "POST %s: %s", url,
		    curl_why(x, rc));
		goto out;
	}
	if (t.status == 401 || t.status == 403) {
		/* The configuration's credentials: waiting will not fix them (exit 78). */
		e = util_fail(cause, -EINVAL, "POST %s: login refused (HTTP %ld: %s); check [source] "
		    "username and password", url, t.status, error_body(&t));
		goto out;
	}
	if (t.status >= 500) {
		e = util_fail(cause, -EAGAIN, "POST %s: HTTP %ld: %s", url, t.status, error_body(&t));
		goto out;
	}
	if ((t.status != 200 && t.status != 201) ||
	    (resp = json_loadb(t.errbody, t.nerr, 0, NULL)) == NULL ||
	    (tok = json_string_value(json_object_get(resp, "token"))) == NULL || *tok == '\0') {
		e = util_fail(cause, -EPROTO, "POST %s: expected 200 or 201 with {\"token\": ...}, got HTTP %ld",
		    url, t.status);
		goto out;
	}
	if (x->token != NULL)
		explicit_bzero(x->token, strlen(x->token));
	free(x->token);
	if ((x->token = strdup(tok)) == NULL) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	e = 0;
out:
	explicit_bzero(t.errbody, sizeof t.errbody);
	json_decref(resp);
	free(url);
	return e;
}

/* Hand bytes of the body (decoded if need be) to the sink. */
static int
deliver(struct transfer *t, const char *buf, size_t len)
{
	if (!t->encoded)
		return t->sink->data(t->sink->arg, buf, len, &t->sink_cause);
	while (len > 0) {
		size_t n = len < DECODE_CHUNK ? len : DECODE_CHUNK;
		long got = b64_decode(&t->b64, buf, n, t->decoded, &t->sink_cause);
		int e;

		if (got < 0)
			return (int)got;
		if (got > 0 && (e = t->sink->data(t->sink->arg, (const char *)t->decoded, (size_t)got,
		    &t->sink_cause)) < 0)
			return e;
		buf += n;
		len -= n;
	}
	return 0;
}

static int
decide(struct transfer *t)
{
	t->decided = true;
	t->encoded = b64_looks_encoded(t->sniff, t->nsniff);
	if (t->encoded) {
		b64_init(&t->b64);
		if (t->decoded == NULL && (t->decoded = malloc(b64_decoded_max(DECODE_CHUNK))) == NULL)
			return -ENOMEM;
	}
	return deliver(t, t->sniff, t->nsniff);
}

static size_t
on_body(char *ptr, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;
	size_t len = size * n;
	int e;

	if (t->status == 0)
		curl_easy_getinfo(t->x->curl, CURLINFO_RESPONSE_CODE, &t->status);
	if (t->status != 200)
		return collect(ptr, size, n, arg);
	if (!t->decided) {
		size_t take = SNIFF_LEN - t->nsniff < len ? SNIFF_LEN - t->nsniff : len;

		memcpy(t->sniff + t->nsniff, ptr, take);
		t->nsniff += take;
		ptr += take;
		if (t->nsniff < SNIFF_LEN)
			return len;
		if ((e = decide(t)) < 0)
			goto stop;
		if (take == len)
			return len;
		len -= take;
		if ((e = deliver(t, ptr, len)) < 0)
			goto stop;
		return len + take;
	}
	if ((e = deliver(t, ptr, len)) < 0)
		goto stop;
	return len;
stop:
	t->sink_err = e;
	return 0;       /* curl stops with CURLE_WRITE_ERROR */
}

/* One GET; 0 done, -EAGAIN retry, -EKEYEXPIRED log in again, or fatal. */
static int
fetch(struct extract *x, const char *url, const struct extract_sink *sink, int *base64, char **cause)
{
	struct transfer t = { .x = x, .sink = sink };
	struct curl_slist *h = NULL;
	char *auth;
	CURLcode rc;
	int e;

	if ((auth = util_printf("Authorization: %s", x->token)) == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	x->sink_failed = false;
	setup(x, url);
	h = curl_slist_append(h, auth);
	explicit_bzero(auth, strlen(auth));
	free(auth);
	curl_easy_setopt(x->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(x->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(x->curl, CURLOPT_WRITEDATA, &t);
	rc = curl_easy_perform(x->curl);
	curl_slist_free_all(h);
	if (t.status == 0)
		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &t.status);
	if (t.sink_err != 0) {
		/* The sink's (or decoder's) verdict is final: downloading again cannot change it. */
		x->sink_failed = true;
		e = t.sink_err;
		if (cause != NULL) {
			*cause = t.sink_cause;
			t.sink_cause = NULL;
		}
		goto out;
	}
	if (rc != CURLE_OK) {
		e = util_fail(cause, curl_errno(rc), "GET %s: %s%s", url,
		    curl_why(x, rc), rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR ?
		    " (the body was cut off)" : rc == CURLE_OPERATION_TIMEDOUT ?
		    " ([source] connect_timeout, stall_timeout)" : "");
		goto out;
	}
	if (t.status == 401) {
		e = util_fail(cause, -EKEYEXPIRED, "GET %s: HTTP 401: %s", url, error_body(&t));
		goto out;
	}
	if (t.status >= 500 || t.status == 429) {
		e = util_fail(cause, -EAGAIN, "GET %s: HTTP %ld: %s", url, t.status, error_body(&t));
		goto out;
	}
	if (t.status != 200) {
		e = util_fail(cause, -EPROTO, "GET %s: HTTP %ld: %s", url, t.status, error_body(&t));
		goto out;
	}
	/* A short body never filled the sniff buffer. */
	if (!t.decided && (e = decide(&t)) < 0) {
		if (cause != NULL) {
			*cause = t.sink_cause;
			t.sink_cause = NULL;
		}
		goto out;
	}
	if (t.encoded && (e = b64_finish(&t.b64, cause)) < 0) {
		e = -EAGAIN;    /* a partial quantum: most likely cut off; try again */
		goto out;
	}
	if (base64 != NULL)
		*base64 = t.encoded;
	if ((e = sink->end(sink->arg, cause)) < 0)
		x->sink_failed = true;
out:
	free(t.sink_cause);
	free(t.decoded);
	return e;
}

int
extract_day(struct extract *x, const char *order_type, const char *day,
    const struct extract_sink *sink, int *base64, char **cause)
{
	char *type = curl_easy_escape(x->curl, order_type, 0), *url = NULL, *why = NULL;
	long delay = x->o.retry_delay_ms;
	bool relogged = false;
	int e, attempt = 0;

	if (type == NULL || (url = util_printf("%s/orders/orderReportCSV?orderType=%s&fromDate=%s&toDate=%s",
	    x->base, type, day, day)) == NULL) {
		curl_free(type);
		return util_fail(cause, -ENOMEM, "out of memory");
	}
	curl_free(type);
	for (;;) {
		free(why);
		why = NULL;
		if (x->token == NULL) {
			if ((e = login(x, &why)) == 0)
				continue;       /* now the download */
		} else if ((e = fetch(x, url, sink, base64, &why)) == 0) {
			break;
		} else if (e == -EKEYEXPIRED) {
			/* The token ran out: log in again, once per download. */
			if (relogged) {
				e = -EACCES;
				break;
			}
			relogged = true;
			explicit_bzero(x->token, strlen(x->token));
			free(x->token);
			x->token = NULL;
			if (x->notice)
				x->notice(x->notice_arg, "token refused (HTTP 401); logging in again");
			if ((e = sink->restart(sink->arg, "logging in again", cause)) < 0)
				goto out;
			continue;
		}
		if (e != -EAGAIN || x->sink_failed || attempt >= x->o.retries)
			break;
		attempt++;
		if (x->notice) {
			char *msg = util_printf("%s; trying again in %.1fs (retry %d of %d)", why ? why : "failed",
			    (double)delay / 1000, attempt, x->o.retries);

			x->notice(x->notice_arg, msg ? msg : "retrying");
			free(msg);
		}
		pause_ms(delay);
		delay *= 2;
		if ((e = sink->restart(sink->arg, why ? why : "retry", cause)) < 0)
			goto out;
	}
	if (e < 0 && cause != NULL) {
		*cause = why;
		why = NULL;
	}
out:
	free(why);
	free(url);
	return e;
}
