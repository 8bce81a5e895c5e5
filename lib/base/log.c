/*
 * log: journal entries, terminal lines or "<N>"-prefixed lines (see log.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "base/log.h"
#include "base/util.h"

#define LOG_LINE_MAX 8192

struct logger {
	enum log_target target;
	int fd;
	int level;
};

static const char *const log_names[] = {
	[LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
	[LOG_ERR] = "err", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

enum log_target
log_detect(int fd, const char *journal_stream)
{
	unsigned long long dev, ino;
	struct stat st;

	if (journal_stream != NULL &&
	    sscanf(journal_stream, "%llu:%llu", &dev, &ino) == 2 &&
	    fstat(fd, &st) == 0 &&
	    (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino)
		return LOG_TARGET_JOURNAL;
	if (isatty(fd))
		return LOG_TARGET_TERMINAL;
	return LOG_TARGET_PLAIN;
}

struct logger *
log_new(enum log_target target, int fd, int level)
{
	struct logger *lg;

	if ((lg = calloc(1, sizeof *lg)) == NULL)
		return NULL;
	lg->target = target;
	lg->fd = fd;
	lg->level = level;
	return lg;
}

void
log_free(struct logger *lg)
{
	free(lg);
}

void
log_set_level(struct logger *lg, int level)
{
	lg->level = level;
}

int
log_get_level(const struct logger *lg)
{
	return lg->level;
}

enum log_target
log_get_target(const struct logger *lg)
{
	return lg->target;
}

int
log_parse_level(const char *name, int *level)
{
	for (int i = LOG_ERR; i <= LOG_DEBUG; i++) {
		if (strcmp(name, log_names[i]) == 0) {
			*level = i;
			return 0;
		}
	}
	/* Accept the spellings of syslog and journalctl too. */
	if (strcmp(name, "error") == 0) {
		*level = LOG_ERR;
		return 0;
	}
	if (strcmp(name, "warn") == 0) {
		*level = LOG_WARNING;
		return 0;
	}
	return -EINVAL;
}

const char *
log_level_name(int level)
{
	if (level < LOG_EMERG || level > LOG_DEBUG)
		return "?";
	return log_names[level];
}

/* Append " name=value" at buf[at]; returns the new length (< len). */
static size_t
log_append(char *buf, size_t len, size_t at, const char *name, const char *value)
{
	int n;

	if (value == NULL || at + 1 >= len)
		return at;
	/* A store name cut short ends on a whole character. */
	n = util_utf8_snprintf(buf + at, len - at, " %s=%s", name, value);
	if (n < 0)
		return at;
	return at + (size_t)n < len ? at + (size_t)n : at + strlen(buf + at);
}

/* Append the context as " key=value" pairs; returns the new length. */
static size_t
log_format_fields(char *buf, size_t len, size_t at, const struct log_fields *f)
{
	char attempt[16];

	if (f == NULL)
		return at;
	at = log_append(buf, len, at, "job", f->job);
	at = log_append(buf, len, at, "period", f->period);
	at = log_append(buf, len, at, "store", f->store);
	at = log_append(buf, len, at, "run", f->run);
	if (f->attempt > 0) {
		snprintf(attempt, sizeof attempt, "%u", f->attempt);
		at = log_append(buf, len, at, "attempt", attempt);
	}
	return at;
}

size_t
log_format_line(char *buf, size_t len, enum log_target target, int prio,
    const struct log_fields *f, long long usec, const char *msg)
{
	size_t at = 0;
	int n;

	if (len == 0)
		return 0;
	if (target == LOG_TARGET_TERMINAL) {
		time_t t = (time_t)(usec / 1000000);
		struct tm tm;
		char stamp[32];

		localtime_r(&t, &tm);
		strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
		n = util_utf8_snprintf(buf, len, "%s.%03lld %-7s %s", stamp, (usec / 1000) % 1000,
		    log_level_name(prio), msg);
	} else
		n = util_utf8_snprintf(buf, len, "<%d>%s", prio, msg);
	at = n < 0 ? 0 : (size_t)n < len ? (size_t)n : strlen(buf);
	at = log_format_fields(buf, len, at, f);
	buf[at] = '\0';
	return at;
}

static void
log_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* Nowhere left to complain to. */
		buf += w;
		len -= (size_t)w;
	}
}

/* One journal entry with our fields. Returns sd_journal_sendv's result. */
static int
log_journal(int prio, const struct log_fields *f, const char *file, int line,
    const char *func, const char *msg)
{
	char *items[16] = { 0 };
	struct iovec iov[16];
	size_t n = 0;
	int r;

	items[n++] = util_printf("PRIORITY=%d", prio);
	items[n++] = util_printf("MESSAGE=%s", msg);
	items[n++] = util_printf("SYSLOG_IDENTIFIER=salesd");
	if (file != NULL) {
		items[n++] = util_printf("CODE_FILE=%s", file);
		items[n++] = util_printf("CODE_LINE=%d", line);
		items[n++] = util_printf("CODE_FUNC=%s", func ? func : "");
	}
	if (f != NULL) {
		if (f->job != NULL)
			items[n++] = util_printf("SALESD_JOB=%s", f->job);
		if (f->period != NULL)
			items[n++] = util_printf("SALESD_PERIOD=%s", f->period);
		if (f->store != NULL)
			items[n++] = util_printf("SALESD_STORE=%s", f->store);
		if (f->run != NULL)
			items[n++] = util_printf("SALESD_RUN=%s", f->run);
		if (f->attempt > 0)
			items[n++] = util_printf("SALESD_ATTEMPT=%u", f->attempt);
	}
	r = 0;
	for (size_t i = 0; i < n; i++) {
		if (items[i] == NULL) {
			r = -ENOMEM;
			goto out;
		}
		iov[i].iov_base = items[i];
		iov[i].iov_len = strlen(items[i]);
	}
	r = sd_journal_sendv(iov, (int)n);
out:
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	return r;
}

void
log_emitv(struct logger *lg, int prio, const struct log_fields *f,
    const char *file, int line, const char *func, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX], out[LOG_LINE_MAX + 512];
	char *p, *nl;
	long long now;
	size_t len;

	if (lg == NULL || prio > lg->level)
		return;
	/* Cut on a character boundary: the journal keeps a field with a split character as a blob. */
	util_utf8_vsnprintf(msg, sizeof msg, fmt, ap);
	if (lg->target == LOG_TARGET_JOURNAL &&
	    log_journal(prio, f, file, line, func, msg) >= 0)
		return;
	/* One line per line of the message, each with the prefix. */
	now = util_now_realtime_usec();
	for (p = msg;; p = nl + 1) {
		if ((nl = strchr(p, '\n')) != NULL)
			*nl = '\0';
		len = log_format_line(out, sizeof out - 1, lg->target == LOG_TARGET_JOURNAL ?
		    LOG_TARGET_PLAIN : lg->target, prio, f, now, p);
		out[len++] = '\n';
		log_write_all(lg->fd, out, len);
		if (nl == NULL)
			break;
	}
}

void
log_emit(struct logger *lg, int prio, const struct log_fields *f,
    const char *file, int line, const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emitv(lg, prio, f, file, line, func, fmt, ap);
	va_end(ap);
}
