/*
 * browser: chromedriver and the browser it starts, as processes (see
 * browser.h): started on --port=0 with the output in a memory file, started
 * again when the port is lost, Chromium's flags for the session, and the
 * whole process tree stopped at the end.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "base/util.h"
#include "deliver/browser.h"

extern char **environ;

/* Between SIGTERM and SIGKILL at the end. */
#define GRACE_MS 1000ULL
/* After SIGKILL, how long browser_free() waits to see the browser's main process gone. */
#define KILL_WAIT_MS 2000
/* chromedriver's line once it listens: "ChromeDriver was started successfully on port 36555." */
#define PORT_LINE "started successfully on port "

struct browser {
	pid_t driver_pid;               /* chromedriver; -1 before it runs */
	bool own_group;                 /* chromedriver leads a process group of its own */
	pid_t caller_pgid;              /* the caller's group (own_group false) */
	int log;                        /* chromedriver's output: a memory file, or -1 */
	int port;
	pid_t main_pid;                 /* the browser's main process (goog:processID), 0 if unknown */
	int main_fd;                    /* pidfd of the browser's main process, or -1 */
};

/* A zombie keeps its pid, and so its group id, ours: hence unreaped. */
bool
browser_driver_exited(const struct browser *b, int *status)
{
	siginfo_t si;

	if (b->driver_pid <= 0)
		return true;
	memset(&si, 0, sizeof si);
	if (waitid(P_PID, (id_t)b->driver_pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno == ECHILD;
	if (si.si_pid != b->driver_pid)
		return false;
	if (status != NULL)
		*status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
	return true;
}

/* Has the browser's main process exited (waiting up to ms)? True when we cannot tell. */
static bool
main_exited(const struct browser *b, int ms)
{
	struct pollfd p = { .fd = b->main_fd, .events = POLLIN };
	int r;

	if (b->main_fd < 0)
		return true;
	while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR)
		continue;
	return r != 0;
}

/*
 * Wait until chromedriver's output names its port. The output goes to a
 * memory file, not a pipe: chromedriver (and the browser, which inherits it)
 * died of SIGPIPE when a pipe's reader went away, and blocked when nobody
 * drained it; nor may it reach the caller's own stdout (for salesd-whatsapp,
 * the protocol to its parent).
 */
static int
wait_port(struct browser *b, unsigned long long deadline, unsigned long start_ms, char **cause)
{
	char buf[4096];

	for (;;) {
		ssize_t n = pread(b->log, buf, sizeof buf - 1, 0);
		const char *at, *end;
		char *stop;
		long port;
		int status;

		buf[n > 0 ? n : 0] = '\0';
		if ((at = strstr(buf, PORT_LINE)) != NULL) {
			at += strlen(PORT_LINE);
			end = at + strspn(at, "0123456789");
			/* The whole number is there once something follows it. */
			if (*end != '\0') {
				port = strtol(at, &stop, 10);
				if (stop == at || port <= 0 || port > 65535)
					return util_fail(cause, -EIO, "chromedriver: no port in \"%.*s\"",
					    (int)util_utf8_prefix(buf, 200), buf);
				b->port = (int)port;
				return 0;
			}
		}
		if (browser_driver_exited(b, &status)) {
			char *last = buf + strlen(buf);

			while (last > buf && (last[-1] == '\n' || last[-1] == '\r'))
				*--last = '\0';
			last = strrchr(buf, '\n') != NULL ? strrchr(buf, '\n') + 1 : buf;
			return util_fail(cause, -ECONNRESET, "chromedriver exited (%s %d) before it listened%s%.*s",
			    status > 128 ? "signal" : "status", status > 128 ? status - 128 : status,
			    last[0] ? ": " : "", (int)util_utf8_prefix(last, 200), last);
		}
		if (util_now_monotonic_usec() >= deadline)
			return util_fail(cause, -ETIMEDOUT, "chromedriver did not listen within %lu ms", start_ms);
		usleep(5000);
	}
}

/* Start chromedriver --port=0 with its output in b->log. */
static int
spawn_driver(struct browser *b, const struct webdriver_options *o, char **cause)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	char *argv[] = { (char *)(uintptr_t)o->chromedriver, (char *)(uintptr_t)"--port=0", NULL };
	int e;

	if ((b->log = memfd_create("chromedriver-output", MFD_CLOEXEC)) < 0)
		return util_fail(cause, -errno, "memfd_create: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, b->log, STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, b->log, STDERR_FILENO);
	/* None of the caller's descriptors (a lock, a socket) may live on in a browser. */
	posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
	/*
	 * Nothing blocked, and the stop signals at their defaults, whatever the
	 * calling thread has: browser_free()'s SIGTERM must work.
	 */
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGQUIT);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	if (o->own_group) {
		posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
		posix_spawnattr_setpgroup(&attr, 0);
	} else {
		posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	}
	e = posix_spawnp(&b->driver_pid, o->chromedriver, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (e != 0) {
		b->driver_pid = -1;
		return util_fail(cause, -e, "%s: %s", o->chromedriver, strerror(e));
	}
	return 0;
}

/* name when it holds a '/', else its first executable in PATH, else NULL. Caller frees. */
static char *
find_program(const char *name)
{
	const char *path = getenv("PATH"), *p, *end;

	if (strchr(name, '/') != NULL)
		return strdup(name);
	for (p = path != NULL ? path : "/usr/bin:/bin"; ; p = end + 1) {
		char *full;

		end = p + strcspn(p, ":");
		/* An empty entry is the current directory. */
		full = end > p ? util_printf("%.*s/%s", (int)(end - p), p, name) : util_printf("./%s", name);
		if (full == NULL)
			return NULL;
		if (access(full, X_OK) == 0)
			return full;
		free(full);
		if (*end == '\0')
			return NULL;
	}
}

/*
 * Chromium's flags and binary. The options come from the caller's
 * configuration, so a failure is -EINVAL rather than a broken browser.
 */
int
browser_chrome_options(const struct webdriver_options *o, json_t **out, char **cause)
{
	static const char *const fixed[] = {
		"--disable-gpu", "--no-first-run", "--no-default-browser-check",
		/* Without these Chromium keeps trying to reach Google's services (FIELD-NOTES). */
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-default-apps", "--password-store=basic",
	};
	json_t *args = NULL, *chrome = NULL;
	char *binary = NULL, *profile = NULL;
	bool ok;
	int e = 0;

	*out = NULL;
	if (o->chromium != NULL && (binary = find_program(o->chromium)) == NULL)
		return util_fail(cause, -ENOENT, "%s: not found in PATH", o->chromium);
	args = json_array();
	profile = util_printf("--user-data-dir=%s", o->profile_dir);
	ok = args != NULL && profile != NULL;
	if (o->headless)
		ok = ok && json_array_append_new(args, json_string("--headless=new")) == 0;
	if (o->no_sandbox)
		ok = ok && json_array_append_new(args, json_string("--no-sandbox")) == 0;
	for (size_t i = 0; ok && i < UTIL_NELEM(fixed); i++)
		ok = json_array_append_new(args, json_string(fixed[i])) == 0;
	/* json_string: NULL for a profile path that is not UTF-8, caught here. */
	ok = ok && json_array_append_new(args, json_string(profile)) == 0;
	if (!ok || (chrome = json_pack("{s:O}", "args", args)) == NULL ||
	    (binary != NULL && json_object_set_new(chrome, "binary", json_string(binary)) < 0)) {
		e = util_fail(cause, -EINVAL, "new session: the options do not make a request "
		    "(a path that is not UTF-8?)");
		json_decref(chrome);
	} else {
		*out = chrome;
	}
	json_decref(args);
	free(profile);
	free(binary);
	return e;
}

/* The parent pid of pid, from /proc, or -1. */
static pid_t
parent_of(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "pid (comm) state ppid ...": comm may hold anything, so from the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] == '\0' || p[2] == '\0')
		return -1;
	return (pid_t)strtol(p + 4, NULL, 10);
}

/*
 * Keep a handle on the browser's main process: a pidfd, which names that
 * process and no other even after it is gone and its pid reused. Only a
 * child of our chromedriver is taken.
 */
void
browser_watch(struct browser *b, long long pid)
{
	if (pid <= 0 || pid > INT_MAX)
		return;
	b->main_pid = (pid_t)pid;
	if ((b->main_fd = pidfd_open(b->main_pid, 0)) < 0)
		return;
	if (parent_of(b->main_pid) != b->driver_pid) {
		close(b->main_fd);
		b->main_fd = -1;
	}
}

/*
 * pidfds of chromedriver's children (the browsers it started) into fds, up
 * to max; how many. This finds a browser the session never named: one
 * still starting when the new-session request ran out of time.
 */
static size_t
driver_children(const struct browser *b, int *fds, size_t max)
{
	char path[96], buf[1024], *p, *next;
	struct dirent *de;
	size_t n = 0;
	ssize_t len;
	DIR *d;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/task", (int)b->driver_pid);
	if (b->driver_pid <= 0 || (d = opendir(path)) == NULL)
		return 0;
	/* Each thread lists the children it forked. */
	while ((de = readdir(d)) != NULL && n < max) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/%d/task/%.20s/children", (int)b->driver_pid, de->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		len = read(fd, buf, sizeof buf - 1);
		close(fd);
		buf[len > 0 ? len : 0] = '\0';
		for (p = buf; n < max; p = next) {
			long pid = strtol(p, &next, 10);

			if (next == p)
				break;
			if (pid <= 0 || pid > INT_MAX || (fd = pidfd_open((pid_t)pid, 0)) < 0)
				continue;
			/* Still ours once pinned by the pidfd: not a pid reused meanwhile. */
			if (parent_of((pid_t)pid) == b->driver_pid)
				fds[n++] = fd;
			else
				close(fd);
		}
	}
	closedir(d);
	return n;
}

/*
 * Send sig to chromedriver (its whole group with own_group), the browser's
 * main process and chromedriver's other children.
 */
static void
signal_all(struct browser *b, const int *kids, size_t nkids, int sig)
{
	/* Only while chromedriver is unreaped: until then its pid, and group id, cannot be reused. */
	if (b->driver_pid > 0)
		kill(b->own_group ? -b->driver_pid : b->driver_pid, sig);
	if (b->main_fd >= 0)
		pidfd_send_signal(b->main_fd, sig, NULL, 0);
	for (size_t i = 0; i < nkids; i++)
		pidfd_send_signal(kids[i], sig, NULL, 0);
}

/* Have all of these processes exited (waiting up to ms for each)? */
static bool
all_exited(const int *fds, size_t n, int ms)
{
	for (size_t i = 0; i < n; i++) {
		struct pollfd p = { .fd = fds[i], .events = POLLIN };
		int r;

		while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return false;
	}
	return true;
}

/*
 * Stop chromedriver and the browser: SIGTERM, a grace period, SIGKILL;
 * reap chromedriver; wait for the browser's main process to be gone.
 */
static void
stop(struct browser *b)
{
	unsigned long long end = util_now_monotonic_usec() + GRACE_MS * 1000;
	int kids[8];
	size_t nkids;

	if (b->driver_pid <= 0 && b->main_fd < 0)
		return;
	nkids = driver_children(b, kids, UTIL_NELEM(kids));
	signal_all(b, kids, nkids, SIGTERM);
	while (!browser_driver_exited(b, NULL) || !main_exited(b, 0) || !all_exited(kids, nkids, 0)) {
		if (util_now_monotonic_usec() >= end)
			break;
		usleep(5000);
	}
	/*
	 * Even when all have gone: with own_group this also ends what is left
	 * of the group (a renderer a moment behind its browser).
	 */
	signal_all(b, kids, nkids, SIGKILL);
	if (b->driver_pid > 0)
		while (waitpid(b->driver_pid, NULL, 0) < 0 && errno == EINTR)
			continue;
	b->driver_pid = -1;
	main_exited(b, KILL_WAIT_MS);
	all_exited(kids, nkids, KILL_WAIT_MS);
	for (size_t i = 0; i < nkids; i++)
		close(kids[i]);
}

int
browser_new(const struct webdriver_options *o, unsigned long long deadline, unsigned long start_ms,
    struct browser **out, char **cause)
{
	struct browser *b;
	int e;

	*out = NULL;
	if ((b = calloc(1, sizeof *b)) == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	b->driver_pid = -1;
	b->log = -1;
	b->main_fd = -1;
	b->own_group = o->own_group;
	b->caller_pgid = getpgrp();
	for (int tries = 1;; tries++) {
		if ((e = spawn_driver(b, o, cause)) < 0)
			goto fail;
		if ((e = wait_port(b, deadline, start_ms, cause)) == 0)
			break;
		/*
		 * --port=0: chromedriver picks a port free for one address family
		 * and then binds the other; when another process got that port in
		 * between it exits with "port not available". A new one picks anew.
		 */
		if (tries >= 3 || cause == NULL || *cause == NULL || strstr(*cause, "port not available") == NULL)
			goto fail;
		waitpid(b->driver_pid, NULL, 0);
		b->driver_pid = -1;
		close(b->log);
		b->log = -1;
		free(*cause);
		*cause = NULL;
	}
	*out = b;
	return 0;
fail:
	browser_free(b);
	return e;
}

void
browser_free(struct browser *b)
{
	if (b == NULL)
		return;
	stop(b);
	if (b->main_fd >= 0)
		close(b->main_fd);
	if (b->log >= 0)
		close(b->log);
	free(b);
}

int
browser_port(const struct browser *b)
{
	return b->port;
}

int
browser_pgid(const struct browser *b)
{
	return b->own_group ? (int)b->driver_pid : (int)b->caller_pgid;
}

int
browser_driver_pid(const struct browser *b)
{
	return (int)b->driver_pid;
}

int
browser_main_pid(const struct browser *b)
{
	return (int)b->main_pid;
}
