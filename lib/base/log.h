/*
 * log: the one place salesd writes log output. Under systemd (stderr is the
 * journal stream) it sends structured journal entries with salesd's own
 * fields, so "journalctl -u salesd SALESD_JOB=etl" works; on a terminal it
 * writes readable lines with time and level; anywhere else plain lines with
 * the "<N>" priority prefix of sd-daemon(3).
 *
 * This is the only module in lib/ that writes output, and it writes only
 * where the program told it to (the fd given to log_new). Other modules
 * return errors; the program decides what to log.
 */
#ifndef SALESD_LOG_H
#define SALESD_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>   /* LOG_ERR ... LOG_DEBUG */

enum log_target {
	LOG_TARGET_JOURNAL,
	LOG_TARGET_TERMINAL,
	LOG_TARGET_PLAIN,
};

/* Context of an entry; any member may be NULL / 0 ("does not apply"). */
struct log_fields {
	const char *job;
	const char *period;
	const char *store;
	const char *run;
	unsigned attempt;
};

struct logger;

/*
 * Choose the target for output on fd: the journal when $JOURNAL_STREAM
 * (passed in as journal_stream, "DEVICE:INODE") names fd, a terminal when fd
 * is one, plain lines otherwise.
 */
enum log_target log_detect(int fd, const char *journal_stream);

/* A logger writing to fd (not owned) at most at level. NULL on ENOMEM. */
struct logger *log_new(enum log_target target, int fd, int level);
void log_free(struct logger *lg);
void log_set_level(struct logger *lg, int level);
int log_get_level(const struct logger *lg);
enum log_target log_get_target(const struct logger *lg);

/* "err", "warning", "notice", "info", "debug" <-> LOG_*; -EINVAL on others. */
int log_parse_level(const char *name, int *level);
const char *log_level_name(int level);

/* Emit one entry; a message of several lines becomes one entry. */
void log_emit(struct logger *lg, int prio, const struct log_fields *f,
    const char *file, int line, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
void log_emitv(struct logger *lg, int prio, const struct log_fields *f,
    const char *file, int line, const char *func, const char *fmt, va_list ap)
    __attribute__((format(printf, 7, 0)));

/*
 * Format one line for the terminal or plain target into buf (always
 * NUL-terminated, cut if too long); usec is the wall clock time. Returns the
 * length written. Exposed for tests.
 */
size_t log_format_line(char *buf, size_t len, enum log_target target, int prio,
    const struct log_fields *f, long long usec, const char *msg);

/* Log with the caller's source location. */
#define log_at(lg, prio, f, ...) \
	log_emit((lg), (prio), (f), __FILE__, __LINE__, __func__, __VA_ARGS__)

#endif
