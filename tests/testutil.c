/*
 * testutil: helpers shared by the test suites (see testutil.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

/*
 * Directories made by tu_tmpdir, removed at exit: Check ends a failed test's
 * process with exit(), which skips the fixture's teardown but not atexit.
 */
static char *tmpdirs[64];
static size_t ntmpdirs;
static pid_t tmpdirs_owner;

static void
tmpdirs_cleanup(void)
{
	if (getpid() != tmpdirs_owner)
		return;
	for (size_t i = 0; i < ntmpdirs; i++) {
		tu_rmrf(tmpdirs[i]);
		free(tmpdirs[i]);
	}
	ntmpdirs = 0;
}

char *
tu_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *path;

	if (asprintf(&path, "%s/salesd-test.XXXXXX", base && *base ? base : "/tmp") < 0)
		abort();
	if (mkdtemp(path) == NULL)
		abort();
	if (tmpdirs_owner != getpid()) {
		/* A new (forked) test process: the list is its own from here on. */
		tmpdirs_owner = getpid();
		ntmpdirs = 0;
		atexit(tmpdirs_cleanup);
	}
	if (ntmpdirs < sizeof tmpdirs / sizeof tmpdirs[0])
		tmpdirs[ntmpdirs++] = strdup(path);
	return path;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void
tu_rmrf(const char *path)
{
	if (path != NULL)
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *
tu_write(const char *dir, const char *name, const char *content)
{
	char *path;
	FILE *fp;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		abort();
	if ((fp = fopen(path, "w")) == NULL)
		abort();
	fputs(content, fp);
	fclose(fp);
	return path;
}

char *
tu_read(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	if (fp == NULL)
		return NULL;
	FILE *mem = open_memstream(&buf, &len);
	char chunk[4096];
	size_t n;

	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		fwrite(chunk, 1, n, mem);
	fclose(mem);
	fclose(fp);
	return buf;
}

const char *
tu_salesd(void)
{
	const char *p = getenv("SALESD_BIN");

	if (p == NULL || *p == '\0') {
		fprintf(stderr, "SALESD_BIN is not set (run the tests through ctest)\n");
		abort();
	}
	return p;
}

const char *
tu_source_dir(void)
{
	const char *p = getenv("SALESD_SOURCE_DIR");

	return p && *p ? p : ".";
}

void
tu_result_done(struct tu_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

/* A clean environment: PATH plus the given entries. */
static char **
build_env(char *const env[])
{
	size_t n = 0;
	char **v;

	static char path[] = "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
	/* Sanitizer settings reach the binary under test too. */
	static const char *const keep[] = { "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS" };
	size_t at = 0;

	while (env != NULL && env[n] != NULL)
		n++;
	if ((v = calloc(n + 2 + sizeof keep / sizeof keep[0], sizeof *v)) == NULL)
		abort();
	v[at++] = path;
	for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
		for (char **e = environ; *e != NULL; e++)
			if (strncmp(*e, keep[i], strlen(keep[i])) == 0 && (*e)[strlen(keep[i])] == '=')
				v[at++] = *e;
	}
	for (size_t i = 0; i < n; i++)
		v[at++] = env[i];
	return v;
}

/*
 * In a forked child: die when the test process dies, so a failed test (which
 * ends without its teardown) leaves no daemon running.
 */
static void
die_with_parent(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
decode_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

int
tu_run(char *const argv[], char *const env[], int timeout_s, struct tu_result *r)
{
	int outp[2], errp[2], st = 0;
	char *bufs[2] = { NULL, NULL };
	size_t lens[2] = { 0, 0 };
	FILE *mems[2];
	long long deadline;
	char **envv;
	pid_t pid, parent;

	memset(r, 0, sizeof *r);
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
		return -errno;
	envv = build_env(env);
	parent = getpid();
	if ((pid = fork()) < 0)
		return -errno;
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		die_with_parent(parent);
		setpgid(0, 0);
		dup2(devnull, 0);
		dup2(outp[1], 1);
		dup2(errp[1], 2);
		execve(argv[0], argv, envv);
		_exit(127);
	}
	free(envv);
	close(outp[1]);
	close(errp[1]);
	mems[0] = open_memstream(&bufs[0], &lens[0]);
	mems[1] = open_memstream(&bufs[1], &lens[1]);
	deadline = now_ms() + (long long)timeout_s * 1000;
	struct pollfd pfd[2] = { { outp[0], POLLIN, 0 }, { errp[0], POLLIN, 0 } };
	int open_fds = 2;

	while (open_fds > 0) {
		long long left = deadline - now_ms();
		char chunk[4096];

		if (left <= 0) {
			kill(-pid, SIGKILL);
			break;
		}
		if (poll(pfd, 2, (int)left) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t n = read(pfd[i].fd, chunk, sizeof chunk);

			if (n <= 0) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				open_fds--;
			} else
				fwrite(chunk, 1, (size_t)n, mems[i]);
		}
	}
	for (int i = 0; i < 2; i++)
		if (pfd[i].fd >= 0)
			close(pfd[i].fd);
	fclose(mems[0]);
	fclose(mems[1]);
	waitpid(pid, &st, 0);
	/* Nothing the command started may outlive it. */
	kill(-pid, SIGKILL);
	r->status = decode_status(st);
	r->out = bufs[0];
	r->err = bufs[1];
	return 0;
}

int
tu_spawn(struct tu_child *c, char *const argv[], char *const env[], const char *errpath)
{
	char **envv = build_env(env);
	pid_t parent = getpid();

	memset(c, 0, sizeof *c);
	c->errpath = errpath ? strdup(errpath) : NULL;
	if ((c->pid = fork()) < 0)
		return -errno;
	if (c->pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		int err = errpath ? open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600) : devnull;

		die_with_parent(parent);
		setpgid(0, 0);
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(err, 2);
		execve(argv[0], argv, envv);
		_exit(127);
	}
	setpgid(c->pid, c->pid);
	free(envv);
	return 0;
}

int
tu_wait(struct tu_child *c, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	int st;

	if (c->pid <= 0)
		return -1;
	for (;;) {
		pid_t r = waitpid(c->pid, &st, WNOHANG);

		if (r == c->pid) {
			c->pid = 0;
			return decode_status(st);
		}
		if (now_ms() >= deadline)
			return -1;
		usleep(10000);
	}
}

void
tu_kill(struct tu_child *c)
{
	if (c->pid > 0) {
		kill(-c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
		c->pid = 0;
	}
	free(c->errpath);
	c->errpath = NULL;
}

int
tu_notify_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof sa.sun_path)
		abort();
	strcpy(sa.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		abort();
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		abort();
	return fd;
}

static bool
has_line(const char *msg, const char *want)
{
	size_t wl = strlen(want);

	for (const char *p = msg; p != NULL && *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len == wl && strncmp(p, want, wl) == 0)
			return true;
		p = nl ? nl + 1 : NULL;
	}
	return false;
}

bool
tu_notify_wait(int fd, const char *want, int timeout_ms, char **log)
{
	long long deadline = now_ms() + timeout_ms;
	char buf[4096];

	for (;;) {
		long long left = deadline - now_ms();
		struct pollfd pfd = { fd, POLLIN, 0 };
		ssize_t n;

		if (left <= 0)
			return false;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		if ((n = recv(fd, buf, sizeof buf - 1, 0)) <= 0)
			continue;
		buf[n] = '\0';
		if (log != NULL) {
			char *joined;

			if (asprintf(&joined, "%s%s|", *log ? *log : "", buf) < 0)
				abort();
			free(*log);
			*log = joined;
		}
		if (has_line(buf, want))
			return true;
	}
}

bool
tu_contains(const char *haystack, const char *needle)
{
	return haystack != NULL && strstr(haystack, needle) != NULL;
}
