/* Pinning a process before signalling it (see pidfd.h). Raw syscalls: glibc
 * wraps pidfd_open and pidfd_send_signal only since 2.36, and the prebuilds
 * must run on 2.28. */
#define _GNU_SOURCE
#include "pidfd.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The same number on every architecture (the unified syscall table). */
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

/* Reads the stat file (fd, already open) and takes the parent (field 4) and
 * start time (field 22). 0, or -ESRCH for a process that is gone. */
static int read_stat(int fd, pid_t *ppid, unsigned long long *start) {
  char buf[1024];
  ssize_t n;
  do n = read(fd, buf, sizeof buf - 1);
  while (n < 0 && errno == EINTR);
  int e = errno;
  close(fd);
  if (n < 0) return e == ENOENT ? -ESRCH : -e;
  if (n == 0) return -ESRCH;
  buf[n] = '\0';
  /* comm may hold spaces and parentheses: the fields start after the last ')'. */
  char *p = strrchr(buf, ')');
  if (p == NULL || p[1] != ' ') return -EIO;
  p += 2; /* field 3, the state */
  unsigned long long field[23] = {0};
  for (int i = 3; i <= 22; i++) {
    while (*p == ' ') p++;
    if (*p == '\0') return -EIO;
    char *end;
    field[i] = i == 3 ? 0 : strtoull(p, &end, 10);
    if (i == 3) end = p + 1;
    p = end;
  }
  *ppid = (pid_t)field[4];
  *start = field[22];
  return 0;
}

int pidfd_signal(int fd, int sig) {
  return syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0 ? -errno : 0;
}

int pidfd_pin(pid_t pid, unsigned long long start, int flags, int *kind, pid_t *ppid) {
  char path[64];
  int fd = -1;
  if (pid <= 0) return -EINVAL;
  if (!(flags & PIDFD_PIN_PROC_DIR)) {
    /* pidfds are always close-on-exec (man 2 pidfd_open). */
    fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0 && errno != ENOSYS) return errno == ENOENT ? -ESRCH : -errno;
  }
  int statfd;
  if (fd >= 0) {
    *kind = PIDFD_KIND_PIDFD;
    /* After the pidfd is taken: whatever /proc/<pid> shows now is the pinned
     * process if it is still alive below (it held the pid all along). */
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    statfd = open(path, O_RDONLY | O_CLOEXEC);
  } else {
    *kind = PIDFD_KIND_PROC_DIR;
    snprintf(path, sizeof path, "/proc/%d", (int)pid);
    fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? -ESRCH : -errno;
    /* Through the handle: a directory fd of a process that is gone reads
     * nothing, even when its pid names another process by now. */
    statfd = openat(fd, "stat", O_RDONLY | O_CLOEXEC);
  }
  int r = statfd < 0 ? (errno == ENOENT ? -ESRCH : -errno) : 0;
  unsigned long long seen = 0;
  if (r == 0) r = read_stat(statfd, ppid, &seen);
  if (r == 0 && seen != start) r = -ESRCH;
  if (r == 0 && *kind == PIDFD_KIND_PIDFD) {
    /* Still alive (or a zombie: it still holds the pid) after the read, so
     * the stat that was read was its own. EPERM: alive, not ours to signal. */
    int s = pidfd_signal(fd, 0);
    if (s == -ESRCH) r = -ESRCH;
  }
  if (r < 0) {
    close(fd);
    return r;
  }
  return fd;
}
