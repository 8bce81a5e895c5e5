/*
 * util: small helpers shared by every module (see util.h).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"

char *
util_vprintf(const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

char *
util_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = util_vprintf(fmt, ap);
	va_end(ap);
	return s;
}

int
util_fail(char **cause, int err, const char *fmt, ...)
{
	va_list ap;

	if (cause == NULL)
		return err;
	free(*cause);
	va_start(ap, fmt);
	*cause = util_vprintf(fmt, ap);
	va_end(ap);
	return err;
}

/*
 * Where to cut the len bytes at s, when more bytes may follow them, so that
 * no character is split: before the last character when that one is
 * incomplete, else len. The last character starts at the nearest lead byte
 * at most three continuation bytes back; anything else (continuation bytes
 * without a lead, a byte that is never UTF-8) was not valid before the cut
 * either and is left alone.
 */
static size_t
utf8_boundary(const unsigned char *s, size_t len)
{
	size_t i = len, need;

	while (i > 0 && len - i < 3 && (s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0 || s[i - 1] < 0xc0)
		return len;
	i--;
	need = s[i] < 0xe0 ? 2 : s[i] < 0xf0 ? 3 : s[i] < 0xf8 ? 4 : 1;
	return len - i < need ? i : len;
}

size_t
util_utf8_prefix(const char *s, size_t max)
{
	size_t len = strnlen(s, max);

	/* Only a string longer than max is cut; strnlen stops at max. */
	if (len < max || s[max] == '\0')
		return len;
	return utf8_boundary((const unsigned char *)s, max);
}

size_t
util_utf8_cut(char *s, size_t max)
{
	size_t n = util_utf8_prefix(s, max);

	s[n] = '\0';
	return n;
}

int
util_utf8_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf, size, fmt, ap);

	/* vsnprintf stopped at size - 1 bytes, perhaps inside a character. */
	if (n >= 0 && size > 0 && (size_t)n >= size)
		buf[utf8_boundary((const unsigned char *)buf, strlen(buf))] = '\0';
	return n;
}

int
util_utf8_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = util_utf8_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

char *
util_strdup(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

char *
util_trim(char *s)
{
	size_t len, start = 0;

	len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	s[len] = '\0';
	while (isspace((unsigned char)s[start]))
		start++;
	if (start > 0)
		memmove(s, s + start, len - start + 1);
	return s;
}

void
util_strv_free(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p != NULL; p++)
		free(*p);
	free(v);
}

size_t
util_strv_len(char *const *v)
{
	size_t n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

char **
util_split(const char *s, char sep, size_t *n)
{
	char **v = NULL, *copy = NULL, *item, *next;
	size_t count = 0, cap = 1;

	/* Upper bound on items: separators + 1, plus the terminating NULL. */
	for (const char *p = s; *p != '\0'; p++)
		if (*p == sep)
			cap++;
	if ((v = calloc(cap + 1, sizeof *v)) == NULL || (copy = strdup(s)) == NULL)
		goto fail;
	for (item = copy; item != NULL; item = next) {
		if ((next = strchr(item, sep)) != NULL)
			*next++ = '\0';
		util_trim(item);
		if (*item == '\0')
			continue;
		if ((v[count] = strdup(item)) == NULL)
			goto fail;
		count++;
	}
	free(copy);
	if (n != NULL)
		*n = count;
	return v;
fail:
	free(copy);
	util_strv_free(v);
	return NULL;
}

size_t
util_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[3][65], *prev2 = d[0], *prev = d[1], *cur = d[2], *t;

	/*
	 * Optimal string alignment distance: Levenshtein plus transposition of
	 * two adjacent letters, the commonest typo ("smpt" for "smtp").
	 * Suggestions are for short names; anything longer is "not close".
	 */
	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
			size_t v = prev[j - 1] + (ca == cb ? 0 : 1);

			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
		}
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

const char *
util_suggest(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX, limit;

	/* A third of the word, at least one and at most three edits. */
	limit = strlen(word) / 3;
	if (limit < 1)
		limit = 1;
	if (limit > 3)
		limit = 3;
	for (const char *const *c = candidates; *c != NULL; c++) {
		size_t d = util_edit_distance(word, *c);

		if (d < best_d) {
			best_d = d;
			best = *c;
		}
	}
	if (best_d <= limit)
		return best;
	/* "user" for "username": a clear prefix is a good hint too. */
	if (strlen(word) >= 3)
		for (const char *const *c = candidates; *c != NULL; c++)
			if (strncasecmp(*c, word, strlen(word)) == 0)
				return *c;
	return NULL;
}

int
util_read_file(const char *path, size_t max, char **out, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t have = 0;
	ssize_t r;
	int fd, err;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		goto fail;
	}
	if ((buf = malloc(max + 1)) == NULL) {
		err = -ENOMEM;
		goto fail;
	}
	/* Read one byte past max so an oversized file is noticed. */
	for (;;) {
		r = read(fd, buf + have, max + 1 - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			goto fail;
		}
		if (r == 0)
			break;
		have += (size_t)r;
		if (have > max) {
			err = -EFBIG;
			goto fail;
		}
	}
	close(fd);
	buf[have] = '\0';
	*out = buf;
	if (len != NULL)
		*len = have;
	return 0;
fail:
	free(buf);
	close(fd);
	return err;
}

unsigned long long
util_now_monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000ULL;
}

long long
util_now_realtime_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

int
util_mkdirs(const char *path, unsigned int mode, char **cause)
{
	char *p;
	int e = 0;

	if (path[0] == '\0')
		return 0;
	if ((p = strdup(path)) == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	for (char *s = p + 1; e == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST)
			e = util_fail(cause, -errno, "cannot create %s: %s", p, strerror(errno));
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return e;
}

/*
 * Length of the valid UTF-8 sequence at s[i] (no overlong forms, no
 * surrogates, nothing above U+10FFFF), 0 when there is none. NUL counts as
 * invalid: PostgreSQL cannot store it in text.
 */
static size_t
utf8_seq(const unsigned char *s, size_t len, size_t i)
{
	unsigned char c = s[i];
	size_t n;
	unsigned cp;

	if (c == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 1;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		cp = c & 0x07;
	} else
		return 0;
	if (i + n >= len)
		return 0;
	for (size_t k = 1; k <= n; k++) {
		if ((s[i + k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i + k] & 0x3f);
	}
	if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n + 1;
}

size_t
util_utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len && (n = utf8_seq(u, len, i)) > 0)
		i += n;
	return i;
}

/* Flush the directory that holds path, so that a rename in it survives a crash. */
static int
sync_dir_of(const char *path, char **cause)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash == NULL ? util_strdup(".") : slash == path ? util_strdup("/") :
	    util_printf("%.*s", (int)(slash - path), path);
	int fd, e = 0;

	if (dir == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(fd) < 0)
		e = util_fail(cause, -errno, "cannot flush %s: %s", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(dir);
	return e;
}

int
util_commit_file(const char *tmp, const char *path, char **cause)
{
	int fd = open(tmp, O_RDONLY | O_CLOEXEC), e = 0;

	if (fd < 0 || fsync(fd) < 0)
		e = util_fail(cause, -errno, "cannot write %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (e == 0 && rename(tmp, path) < 0)
		e = util_fail(cause, -errno, "cannot rename into %s: %s", path, strerror(errno));
	if (e == 0)
		e = sync_dir_of(path, cause);
	return e;
}

int
util_write_atomic(const char *path, const void *data, size_t len, unsigned int mode, char **cause)
{
	const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;
	char *tmp = util_printf("%.*s.%s.%d.tmp", (int)(name - path), path, name, (int)getpid());
	const char *p = data;
	size_t left = len;
	int fd = -1, e = 0;

	if (tmp == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode)) < 0) {
		e = util_fail(cause, -errno, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	while (left > 0) {
		ssize_t n = write(fd, p, left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			e = util_fail(cause, n < 0 ? -errno : -EIO, "cannot write %s: %s", path,
			    n < 0 ? strerror(errno) : "short write");
			goto out;
		}
		p += n;
		left -= (size_t)n;
	}
	if (close(fd) < 0) {
		fd = -1;
		e = util_fail(cause, -errno, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	e = util_commit_file(tmp, path, cause);
out:
	if (fd >= 0)
		close(fd);
	if (e < 0)
		unlink(tmp);
	free(tmp);
	return e;
}
