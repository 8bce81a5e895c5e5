/*
 * util: small helpers shared by every module: formatted allocation for error
 * messages, cutting text on UTF-8 character boundaries, string vectors,
 * trimming, edit distance for "did you mean" suggestions, and bounded
 * whole-file reads (for secrets and small files).
 */
#ifndef SALESD_UTIL_H
#define SALESD_UTIL_H

#include <stddef.h>
#include <stdarg.h>

/* Number of elements of a true array (not a pointer). */
#define UTIL_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Format into a new heap string; NULL when out of memory. Caller frees. */
char *util_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *util_vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/*
 * Set *cause (when cause is not NULL) to a newly formatted message and return
 * err, so error paths read "return util_fail(cause, -EINVAL, ...)". An
 * existing *cause is freed first.
 */
int util_fail(char **cause, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Duplicate a string; NULL in, NULL out. */
char *util_strdup(const char *s);

/*
 * Cutting text on a UTF-8 character boundary, for every place that shortens
 * text a person will read (store and chat names, server replies, evidence):
 * a byte limit that falls inside a character leaves an invalid sequence that
 * PostgreSQL, the journal and JSON reject or show as "?".
 *
 * util_utf8_prefix: the length of the longest prefix of s of at most max
 * bytes that does not end inside a character; strlen(s) when that is at most
 * max. For "%.*s": util_printf("%.*s", (int)util_utf8_prefix(s, 200), s).
 * Bytes that are not UTF-8 are kept as they are: only a lead byte whose
 * character the cut would split goes, with its continuation bytes.
 */
size_t util_utf8_prefix(const char *s, size_t max);

/*
 * How many bytes at the start of s (len bytes) are valid UTF-8 without NUL
 * (len when all are): no overlong forms, no surrogates, nothing above
 * U+10FFFF, and NUL counts as invalid, since PostgreSQL cannot store it in
 * text. A validator, where util_utf8_prefix only cuts.
 */
size_t util_utf8_valid(const char *s, size_t len);

/* Cut s in place to util_utf8_prefix(s, max) bytes; returns the new length. */
size_t util_utf8_cut(char *s, size_t max);

/*
 * snprintf into a fixed buffer that, when the text does not fit, cuts it on
 * a character boundary instead of at size - 1 bytes. Returns what snprintf
 * returns (the length of the whole text, so ">= size" still means "cut").
 */
int util_utf8_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int util_utf8_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

/* Remove leading and trailing ASCII white space in place; returns s. */
char *util_trim(char *s);

/*
 * Split s at sep into a NULL-terminated vector of trimmed, non-empty items.
 * Returns the vector (caller frees with util_strv_free) and its length in *n,
 * or NULL when out of memory.
 */
char **util_split(const char *s, char sep, size_t *n);
void util_strv_free(char **v);
size_t util_strv_len(char *const *v);

/* Levenshtein edit distance between two short ASCII strings (case-folded). */
size_t util_edit_distance(const char *a, const char *b);

/*
 * Pick the candidate closest to word, or NULL when none is close enough to be
 * a plausible typo. candidates is NULL-terminated.
 */
const char *util_suggest(const char *word, const char *const *candidates);

/*
 * Read a whole regular file of at most max bytes into a NUL-terminated heap
 * buffer (*out, caller frees; *len without the NUL). Returns 0 or -errno, or
 * -EFBIG when the file is larger than max.
 */
int util_read_file(const char *path, size_t max, char **out, size_t *len);

/* mkdir -p path, new directories with mode; 0 or -errno with the directory in *cause. */
int util_mkdirs(const char *path, unsigned int mode, char **cause);

/*
 * The one way salesd replaces a file, so that a reader sees the old file or
 * the new one, never half of one, and a crash leaves one of the two:
 *
 * util_commit_file: tmp, written completely by someone else (a renderer),
 * is flushed to disk, renamed over path, and the rename flushed with the
 * directory. 0 or -errno with *cause.
 *
 * util_write_atomic: len bytes of data become path the same way, through a
 * hidden temporary file beside it (".NAME.PID.tmp") created with mode.
 */
int util_commit_file(const char *tmp, const char *path, char **cause);
int util_write_atomic(const char *path, const void *data, size_t len, unsigned int mode, char **cause);

/* Monotonic and real-time clocks in microseconds. */
unsigned long long util_now_monotonic_usec(void);
long long util_now_realtime_usec(void);

#endif
