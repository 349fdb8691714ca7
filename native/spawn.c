/* The spawn, after libuv's src/unix/process.c and glibc's posix_spawn.
 * Everything the child needs is prepared by the caller; between the clone and
 * execve the child makes only async-signal-safe calls, like a signal handler:
 * no malloc, no stdio, no locks. A failure is written to a close-on-exec pipe
 * as {errno, step} and the child _exits; EOF on the pipe means execve
 * succeeded.
 *
 * The child is made with clone(CLONE_VM | CLONE_VFORK), as glibc's
 * posix_spawn does, not with fork: it runs in the init's memory, on a stack
 * of its own, while the calling thread waits for its execve or _exit. A fork
 * copies the page tables of a 40 MiB Node (and more with a bigger heap), the
 * child's execve tears the copy down again, and the init then takes a
 * copy-on-write fault on every page it writes; that blocked the event loop
 * for 1.2-1.5 ms per spawn, 5 ms with 100 MiB more heap. What that asks of
 * the child, on top of async-signal safety:
 * - it writes no memory but its own stack and the LISTEN_PID buffer (made
 *   for it); the C library's errno is the calling thread's, which waits;
 * - credentials are raw system calls: the C library's setuid family changes
 *   every thread of the process, and in a child that shares the init's
 *   memory it would walk, lock and mark the init's own thread list;
 * - it has its own descriptor table, signal handlers, umask and cwd (no
 *   CLONE_FILES, CLONE_SIGHAND or CLONE_FS), so what it changes there stays
 *   in it;
 * - every signal is blocked from before the clone until the dispositions are
 *   back to the default, so none of the init's handlers runs in it.
 * Under an emulator that turns CLONE_VFORK into a plain fork (qemu-user) this
 * still works, since nothing comes back through the shared memory, only the
 * pipe (the package test spawns under qemu-user). */
#define _GNU_SOURCE
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <termios.h>
#include <linux/capability.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#endif

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

struct child_error {
  int err;
  int step;
};

static void child_fail(int fd, int step) {
  struct child_error rec = {errno, step};
  ssize_t r;
  do r = write(fd, &rec, sizeof rec);
  while (r < 0 && errno == EINTR);
  _exit(127);
}

/* Marks every descriptor from 3 up close-on-exec. close_range (Linux 5.11)
 * does it in one call; older kernels get a bounded loop. */
static int cloexec_from_3(void) {
#ifdef SYS_close_range
  if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return 0;
#endif
  long max = sysconf(_SC_OPEN_MAX);
  if (max < 0 || max > 1 << 20) max = 1 << 20;
  for (int fd = 3; fd < max; fd++) {
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && !(flags & FD_CLOEXEC)) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
  return 0;
}

/* SIG_DFL through rt_sigaction. For SIG_DFL the kernel's struct (handler,
 * flags, restorer where there is one, mask) is all zeroes, and 64 zero bytes
 * cover it on every architecture. The kernel's signal set has NSIG - 1 bits
 * (the C library's NSIG counts signal 0): 8 bytes, 16 on MIPS. */
static int set_default(int sig) {
  unsigned long long act[8] = {0};
  return (int)syscall(SYS_rt_sigaction, sig, act, NULL, (size_t)((NSIG - 1) / 8));
}

static void write_pid(char *dst, pid_t pid) {
  char tmp[16];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + pid % 10);
    pid /= 10;
  } while (pid > 0 && n < (int)sizeof tmp);
  while (n > 0) *dst++ = tmp[--n];
  *dst = '\0';
}

struct child_args {
  const struct spawn_options *opt;
  int errfd;
};

static void child(const struct spawn_options *opt, int errfd) {
  /* 1. Dispositions back to default. Node ignores SIGPIPE and SIGXFSZ and the
   * init catches everything it forwards; an exec'd program must start with
   * neither (tini and libuv do the same). The mask is still fully blocked,
   * so none of the init's handlers can run here. rt_sigaction itself, not the
   * C library's sigaction, which for SIGABRT takes a lock in what is here the
   * init's memory (musl); that also resets glibc's private signals 32 and 33,
   * harmless in a process about to exec. */
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    if (set_default(sig) < 0) child_fail(errfd, STEP_SIGNALS);
  }

  /* 2. Its own session, so the command leads a process group the init can
   * signal as a whole, and is detached from the init's terminal (dumb-init). */
  if (opt->session == SESSION_SETSID && setsid() < 0) child_fail(errfd, STEP_SETSID);
  if (opt->session == SESSION_SETPGID && setpgid(0, 0) < 0) child_fail(errfd, STEP_SETPGID);

  /* The terminal, so job control works in `docker run -it ... bash`. Every
   * signal is still blocked, so tcsetpgrp from what is for a moment a
   * background group is not stopped by SIGTTOU (tini ignores it instead). */
  if (opt->tty == TTY_ACQUIRE && ioctl(opt->tty_fd, TIOCSCTTY, 0) < 0) child_fail(errfd, STEP_TTY);
  if (opt->tty == TTY_FOREGROUND && tcsetpgrp(opt->tty_fd, getpid()) < 0) child_fail(errfd, STEP_TTY);

  /* 3. Credentials: groups, then gid, then uid (libuv, runc): once the uid is
   * gone, changing groups or gid is no longer permitted. */
  int keep = opt->set_ids && opt->set_caps && (opt->caps[0] | opt->caps[1]) != 0;
  /* A uid change away from 0 clears the permitted set unless the thread asked
   * to keep it (prctl(2) PR_SET_KEEPCAPS); asked only when there is something
   * to keep. execve clears the flag again. */
  if (keep && prctl(PR_SET_KEEPCAPS, 1UL, 0UL, 0UL, 0UL) < 0) child_fail(errfd, STEP_KEEPCAPS);
  if (opt->set_ids) {
    if (syscall(SYS_setgroups, (size_t)opt->ngroups, opt->groups) < 0) child_fail(errfd, STEP_SETGROUPS);
    if (syscall(SYS_setresgid, opt->gid, opt->gid, opt->gid) < 0) child_fail(errfd, STEP_SETRESGID);
    if (syscall(SYS_setresuid, opt->uid, opt->uid, opt->uid) < 0) child_fail(errfd, STEP_SETRESUID);
  }
  /* Permitted = inheritable = the wanted set (this also clears an inheritable
   * set the uid change leaves alone), effective empty; then each one ambient,
   * which needs it in both sets. Raw syscalls: no libcap in the child. */
  if (opt->set_ids && opt->set_caps) {
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    for (int i = 0; i < 2; i++) {
      data[i].effective = 0;
      data[i].permitted = opt->caps[i];
      data[i].inheritable = opt->caps[i];
    }
    if (syscall(SYS_capset, &hdr, data) < 0) child_fail(errfd, STEP_CAPSET);
    for (int c = 0; c < 64; c++)
      if ((opt->caps[c / 32] >> (c % 32)) & 1U)
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)c, 0UL, 0UL) < 0) child_fail(errfd, STEP_AMBIENT);
  }

  if (opt->umask >= 0) umask((mode_t)opt->umask);

  /* cwd after the credentials, so the directory is entered with the target
   * user's permissions. */
  if (opt->cwd != NULL && chdir(opt->cwd) < 0) child_fail(errfd, STEP_CHDIR);

  /* 4. Descriptors. First lift every mapped source above the highest target so
   * that no dup2 overwrites a source still needed (libuv does the same). */
  int top = 2;
  for (int i = 0; i < opt->nmap; i++)
    if (opt->map[i].target > top) top = opt->map[i].target;
  int moved[TSINIT_MAX_FD_MAP];
  if (opt->nmap > TSINIT_MAX_FD_MAP) {
    errno = E2BIG;
    child_fail(errfd, STEP_FDS);
  }
  for (int i = 0; i < opt->nmap; i++) {
    moved[i] = fcntl(opt->map[i].source, F_DUPFD_CLOEXEC, top + 1);
    if (moved[i] < 0) child_fail(errfd, STEP_FDS);
  }
  /* Nothing Node or the init opened may reach the command: everything from 3
   * up becomes close-on-exec, then exactly the wanted ones are let through. */
  cloexec_from_3();
  for (int i = 0; i < opt->nmap; i++)
    if (dup2(moved[i], opt->map[i].target) < 0) child_fail(errfd, STEP_FDS);
  /* Node marks 0-16 close-on-exec at start-up; stdio must pass through. */
  for (int fd = 0; fd <= 2; fd++) fcntl(fd, F_SETFD, 0);
  for (int i = 0; i < opt->nkeep; i++)
    if (fcntl(opt->keep[i], F_SETFD, 0) < 0 && errno != EBADF) child_fail(errfd, STEP_FDS);

  /* 5. systemd's LISTEN_PID must name the process that receives the sockets:
   * only the child knows its pid, and it may not allocate. */
  if (opt->listen_pid_env != NULL) write_pid(opt->listen_pid_env + TSINIT_LISTEN_PID_OFFSET, getpid());

  /* No privilege gained by execve from here on: setuid bits and file
   * capabilities are ignored (prctl(2) PR_SET_NO_NEW_PRIVS). */
  if (opt->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) < 0) child_fail(errfd, STEP_NO_NEW_PRIVS);

  /* 6. Unblock everything last, so no signal is handled half-way through. */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);

  execve(opt->path, opt->argv, opt->envp);
  child_fail(errfd, STEP_EXECVE);
}

static int child_entry(void *arg) {
  const struct child_args *a = arg;
  child(a->opt, a->errfd);
  return 127; /* not reached: child() execs or _exits */
}

/* The child's stack, in the caller's frame: the caller does not run again
 * until the child has exec'd or exited. The child's frames are small (no
 * recursion, a few hundred bytes of locals) and its calls are system calls. */
#define CHILD_STACK_SIZE (64 * 1024)

void spawn_process(const struct spawn_options *opt, struct spawn_result *result) {
  result->pid = 0;
  result->err = 0;
  result->step = STEP_NONE;

  int ep[2];
  if (pipe2(ep, O_CLOEXEC) < 0) {
    result->err = errno;
    result->step = STEP_PIPE;
    return;
  }

  /* Block every signal across the clone, so the child cannot run one of the
   * init's handlers before it has reset them (libuv). */
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &saved);
  /* The read end is close-on-exec and the child never reads: it need not
   * close it, and in its own descriptor table it goes at execve. */
  struct child_args args = {opt, ep[1]};
  _Alignas(16) char stack[CHILD_STACK_SIZE];
  pid_t pid = clone(child_entry, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
  int clone_errno = errno;
  pthread_sigmask(SIG_SETMASK, &saved, NULL);
  close(ep[1]);

  if (pid < 0) {
    close(ep[0]);
    result->err = clone_errno;
    result->step = STEP_CLONE;
    return;
  }

  struct child_error rec;
  ssize_t n;
  do n = read(ep[0], &rec, sizeof rec);
  while (n < 0 && errno == EINTR);
  close(ep[0]);

  if (n == (ssize_t)sizeof rec) {
    /* The child failed before execve and has _exited: reap it here, as libuv
     * does, so no zombie of a process that never ran is left behind. */
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result->err = rec.err;
    result->step = rec.step;
    return;
  }
  result->pid = pid;
}
