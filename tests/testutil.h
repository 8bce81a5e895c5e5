/*
 * testutil: helpers for the test suites: temporary directories that are
 * removed again, files, running the real salesd binary with a time limit and
 * captured output, and reading sd_notify datagrams.
 */
#ifndef SALESD_TESTUTIL_H
#define SALESD_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* A new directory below $TMPDIR (or /tmp); caller frees the string. */
char *tu_tmpdir(void);
/* Remove a directory tree (best effort). */
void tu_rmrf(const char *path);
/* Write content to dir/name (creating nothing else); returns the path (caller frees). */
char *tu_write(const char *dir, const char *name, const char *content);
/* Read a whole file; NULL when it cannot be read. Caller frees. */
char *tu_read(const char *path);

/* The salesd binary under test ($SALESD_BIN) and the source tree. */
const char *tu_salesd(void);
const char *tu_source_dir(void);

/* Result of a finished command. */
struct tu_result {
	int status;     /* exit code, or 128+signal */
	char *out;      /* stdout, NUL-terminated */
	char *err;      /* stderr */
};
void tu_result_done(struct tu_result *r);

/*
 * Run argv (argv[0] a path) with env (NULL-terminated "K=V" added to a clean
 * environment holding only PATH), stdin from /dev/null, for at most
 * timeout_s seconds (then the process group is killed). Returns 0 and fills r.
 */
int tu_run(char *const argv[], char *const env[], int timeout_s, struct tu_result *r);

/* A running child with its stderr going to a file. */
struct tu_child {
	pid_t pid;
	char *errpath;
};
/* Start argv in its own process group; stderr to errpath, stdout to /dev/null. */
int tu_spawn(struct tu_child *c, char *const argv[], char *const env[], const char *errpath);
/* Wait up to timeout_ms for exit; returns the exit code / 128+signal, or -1 on time out. */
int tu_wait(struct tu_child *c, int timeout_ms);
/* Kill the child's process group and reap it (safe to call twice). */
void tu_kill(struct tu_child *c);

/* A datagram socket at path for NOTIFY_SOCKET; returns the fd. */
int tu_notify_socket(const char *path);
/*
 * Read datagrams until one has a line equal to want (e.g. "READY=1"), for at
 * most timeout_ms. Returns true when found; every datagram read is appended
 * to *log (may be NULL) separated by "|".
 */
bool tu_notify_wait(int fd, const char *want, int timeout_ms, char **log);

/* True when haystack contains needle. */
bool tu_contains(const char *haystack, const char *needle);

#endif
