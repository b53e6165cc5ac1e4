/*
 * pgp/run — run one gpg program with a deadline: the message on its stdin,
 * its output and its status lines (fd 3) into bounded buffers, stderr to
 * /dev/null.  posix_spawn (one process, no shell, no double fork), every
 * other descriptor closed in the child, and the child killed by its pid and
 * reaped when the deadline passes.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock/clock.h"
#include "pgp/pgp_int.h"

extern char **environ;

/* A gpg run without a caller's deadline still ends: gpgv on a .prov takes
 * milliseconds. */
#define RUN_DEFAULT_MS 30000

/* Move fd to a close-on-exec descriptor >= 10 (so the child's dup2 targets
 * 0, 1 and 3 never collide with a source); -1 on failure (fd closed). */
static int
high_fd(int fd)
{
	int h = fcntl(fd, F_DUPFD_CLOEXEC, 10);

	close(fd);
	return h;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Reap pid; kill it first when the deadline has passed (or kill is set). */
static int
reap(pid_t pid, int64_t deadline, bool kill_now, int *status)
{
	pid_t r;

	for (;;) {
		if (kill_now || pg_clock_ms() >= deadline) {
			(void)kill(pid, SIGKILL);
			kill_now = true;
			while ((r = waitpid(pid, status, 0)) < 0 && errno == EINTR)
				;
			return PG_ETIMEOUT;
		}
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return PG_OK;
		if (r < 0 && errno != EINTR)
			return PG_EINTERNAL;
		{
			struct timespec ts = {0, 1000000};

			(void)nanosleep(&ts, NULL);
		}
	}
}

/* Drain whatever fd has into b; 1 at EOF, 0 for more later, <0 error. */
static int
drain(int fd, pg_buf *b)
{
	unsigned char chunk[16384];
	ssize_t n;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n > 0) {
			if (pg_buf_append(b, chunk, (size_t)n) != PG_OK)
				return PG_ETOOBIG;
			continue;
		}
		if (n == 0)
			return 1;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : PG_EIO;
	}
}

int
pg_pgp_run(const char *const argv[], const void *in, size_t inlen, pg_buf *out, pg_buf *status,
	   int64_t deadline, int *exit_code, pg_err *err)
{
	int p_in[2] = {-1, -1}, p_out[2] = {-1, -1}, p_st[2] = {-1, -1};
	int rc = PG_EINTERNAL, wst = 0, e, i;
	size_t off = 0;
	posix_spawn_file_actions_t fa;
	bool fa_ok = false, killed = false;
	sigset_t pipe_set, old_set;
	pid_t pid = -1;

	if (deadline <= 0)
		deadline = pg_clock_ms() + RUN_DEFAULT_MS;
	if (pipe2(p_in, O_CLOEXEC) != 0 || pipe2(p_out, O_CLOEXEC) != 0 ||
	    pipe2(p_st, O_CLOEXEC) != 0) {
		rc = pg_err_set(err, PG_EUNAVAIL, "gpg: cannot make a pipe: %s", strerror(errno));
		goto out;
	}
	/* the child's ends, out of the way of 0..3 */
	if ((p_in[0] = high_fd(p_in[0])) < 0 || (p_out[1] = high_fd(p_out[1])) < 0 ||
	    (p_st[1] = high_fd(p_st[1])) < 0) {
		rc = pg_err_set(err, PG_EUNAVAIL, "gpg: cannot set up descriptors");
		goto out;
	}
	if (posix_spawn_file_actions_init(&fa) != 0) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	fa_ok = true;
	if (posix_spawn_file_actions_adddup2(&fa, p_in[0], 0) != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, p_out[1], 1) != 0 ||
	    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0) != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, p_st[1], 3) != 0 ||
	    posix_spawn_file_actions_addclosefrom_np(&fa, 4) != 0) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	e = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	if (e != 0) {
		pid = -1;
		rc = pg_err_set(err, PG_EUNAVAIL, "gpg: cannot run %s: %s", argv[0], strerror(e));
		goto out;
	}
	close_fd(&p_in[0]);
	close_fd(&p_out[1]);
	close_fd(&p_st[1]);
	for (i = 0; i < 3; i++) {
		int fd = i == 0 ? p_in[1] : i == 1 ? p_out[0] : p_st[0];

		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	}
	if (inlen == 0)
		close_fd(&p_in[1]);
	/* gpg may exit before reading all of its input: a write then fails
	 * with EPIPE, never a SIGPIPE for the process */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	(void)pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
	rc = PG_OK;
	while (p_out[0] >= 0 || p_st[0] >= 0) {
		struct pollfd pf[3];
		nfds_t n = 0;
		int64_t left = pg_clock_left_ms(deadline);
		int d;

		if (left <= 0) {
			killed = true;
			break;
		}
		if (p_in[1] >= 0)
			pf[n++] = (struct pollfd){.fd = p_in[1], .events = POLLOUT};
		if (p_out[0] >= 0)
			pf[n++] = (struct pollfd){.fd = p_out[0], .events = POLLIN};
		if (p_st[0] >= 0)
			pf[n++] = (struct pollfd){.fd = p_st[0], .events = POLLIN};
		if (poll(pf, n, left > 1000 ? 1000 : (int)left) < 0) {
			if (errno == EINTR)
				continue;
			rc = pg_err_set(err, PG_EUNAVAIL, "gpg: poll: %s", strerror(errno));
			killed = true;
			break;
		}
		if (p_in[1] >= 0) {
			ssize_t w = write(p_in[1], (const char *)in + off, inlen - off);

			if (w > 0 && (off += (size_t)w) == inlen)
				close_fd(&p_in[1]);
			else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				close_fd(&p_in[1]); /* gpg stopped reading */
		}
		if (p_out[0] >= 0 && (d = drain(p_out[0], out)) != 0) {
			close_fd(&p_out[0]);
			if (d < 0) {
				rc = pg_err_set(err, d == PG_ETOOBIG ? PG_ETOOBIG : PG_EUNAVAIL,
						"gpg: output too large or unreadable");
				killed = true;
				break;
			}
		}
		if (p_st[0] >= 0 && (d = drain(p_st[0], status)) != 0) {
			close_fd(&p_st[0]);
			if (d < 0) {
				rc = pg_err_set(err, d == PG_ETOOBIG ? PG_ETOOBIG : PG_EUNAVAIL,
						"gpg: status output too large or unreadable");
				killed = true;
				break;
			}
		}
	}
	close_fd(&p_in[1]);
	{
		siginfo_t si;
		struct timespec zero = {0, 0};

		while (sigtimedwait(&pipe_set, &si, &zero) > 0)
			;
	}
	(void)pthread_sigmask(SIG_SETMASK, &old_set, NULL);
	e = reap(pid, deadline, killed, &wst);
	pid = -1;
	if (rc != PG_OK)
		goto out;
	if (e == PG_ETIMEOUT) {
		rc = pg_err_set(err, PG_ETIMEOUT, "gpg: did not finish in time");
		goto out;
	}
	if (e != PG_OK || !WIFEXITED(wst)) {
		rc = pg_err_set(err, PG_EUNAVAIL, "gpg: %s ended abnormally", argv[0]);
		goto out;
	}
	*exit_code = WEXITSTATUS(wst);
	rc = PG_OK;
out:
	if (pid > 0)
		(void)reap(pid, deadline, true, &wst);
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	for (i = 0; i < 2; i++) {
		close_fd(&p_in[i]);
		close_fd(&p_out[i]);
		close_fd(&p_st[i]);
	}
	return rc;
}
