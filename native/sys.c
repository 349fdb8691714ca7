/* Thin syscall wrappers: each returns a value >= 0 or -errno, retrying EINTR
 * where the call is restartable. Mechanism only: no policy, no Node. */
#define _GNU_SOURCE
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/futex.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <termios.h>
#include <sys/wait.h>
#include <unistd.h>

#define RET(expr) return (expr) < 0 ? -errno : 0

int sys_prctl_set_child_subreaper(int on) { RET(prctl(PR_SET_CHILD_SUBREAPER, on ? 1UL : 0UL, 0UL, 0UL, 0UL)); }

int sys_prctl_get_child_subreaper(void) {
  int v = 0;
  if (prctl(PR_GET_CHILD_SUBREAPER, (unsigned long)&v, 0UL, 0UL, 0UL) < 0) return -errno;
  return v;
}

int sys_setsid(void) {
  pid_t r = setsid();
  return r < 0 ? -errno : (int)r;
}

int sys_setpgid(pid_t pid, pid_t pgid) { RET(setpgid(pid, pgid)); }
/* glibc's setresuid/setresgid/setgroups apply to every thread of the process
 * (the SIGSETXID broadcast), which is what a privilege drop in a threaded
 * Node process needs: no thread may keep the old ids. */
int sys_setresuid(uid_t r, uid_t e, uid_t s) { RET(setresuid(r, e, s)); }
int sys_setresgid(gid_t r, gid_t e, gid_t s) { RET(setresgid(r, e, s)); }
int sys_setgroups(size_t n, const gid_t *groups) { RET(setgroups(n, groups)); }
int sys_kill(pid_t pid, int sig) { RET(kill(pid, sig)); }
int sys_prctl_set_pdeathsig(int sig) { RET(prctl(PR_SET_PDEATHSIG, (unsigned long)sig, 0UL, 0UL, 0UL)); }

int sys_isatty(int fd) {
  struct termios t;
  if (tcgetattr(fd, &t) == 0) return 1;
  return errno == EBADF ? -EBADF : 0;
}

int sys_getsid(void) {
  pid_t r = getsid(0);
  return r < 0 ? -errno : (int)r;
}

int sys_tcgetpgrp(int fd) {
  pid_t r = tcgetpgrp(fd);
  return r < 0 ? -errno : (int)r;
}

int sys_tcgetsid(int fd) {
  pid_t r = tcgetsid(fd);
  return r < 0 ? -errno : (int)r;
}

/* A session leader that gives up its terminal makes the kernel send SIGHUP
 * and SIGCONT to the terminal's foreground group, which is tsinit's own at
 * this point. They are not for the command, so they are ignored (discarded
 * when generated) for the length of the ioctl, then the handlers return. */
int sys_tiocnotty(int fd) {
  struct sigaction ign, old_hup, old_cont;
  memset(&ign, 0, sizeof ign);
  ign.sa_handler = SIG_IGN;
  sigaction(SIGHUP, &ign, &old_hup);
  sigaction(SIGCONT, &ign, &old_cont);
  int r = ioctl(fd, TIOCNOTTY);
  int e = errno;
  sigaction(SIGHUP, &old_hup, NULL);
  sigaction(SIGCONT, &old_cont, NULL);
  return r < 0 ? -e : 0;
}

int sys_waitpid(pid_t pid, int *status, int flags) {
  pid_t r;
  do r = waitpid(pid, status, flags);
  while (r < 0 && errno == EINTR);
  return r < 0 ? -errno : (int)r;
}

int sys_sigrtmin(void) { return SIGRTMIN; }
int sys_sigrtmax(void) { return SIGRTMAX; }

long long sys_monotonic_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int sys_futex_await(int *word, int min, long long ns) {
  long long end = sys_monotonic_ns() + ns;
  for (;;) {
    int seen = __atomic_load_n(word, __ATOMIC_SEQ_CST);
    if (seen >= min) return 1;
    long long left = end - sys_monotonic_ns();
    if (left <= 0) return 0;
    struct timespec t = {(time_t)(left / 1000000000), (long)(left % 1000000000)};
    /* Returns at a wake, at the timeout, on EINTR, or at once (EAGAIN) if
     * the word has already moved on: every case looks again. */
    (void)syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, seen, &t, NULL, 0);
  }
}

void sys_futex_wake(int *word) {
  int saved = errno;
  (void)syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL, NULL, 0);
  errno = saved;
}
