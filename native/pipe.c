/* Pipes for the log relay (src/services/relay*.ts): pipe2(2), and a write
 * that never blocks without touching the open file description's flags.
 * Mechanism only: each returns a value >= 0 or -errno. */
#define _GNU_SOURCE
#include "pipe.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x00000008 /* linux/fs.h */
#endif

/* Both ends close-on-exec: a service gets its end only through the spawn's
 * dup2 map, never by inheriting it from a sibling's fork (man 2 pipe2). */
int pipe_pipe2(int fds[2]) {
  return pipe2(fds, O_CLOEXEC) < 0 ? -errno : 0;
}

/* pwritev2(fd, ..., offset -1, RWF_NOWAIT) (man 2 pwritev2): EAGAIN instead
 * of blocking, for this one call only. tsinit's stdout is shared (services in
 * raw mode, tsinit's own log, the container runtime's other writers), so
 * setting O_NONBLOCK on it (fcntl, or libuv opening it) would make their
 * blocking writes fail with EAGAIN. Pipes, FIFOs and sockets support the flag;
 * other files (a terminal) and older kernels answer EOPNOTSUPP. Offset -1
 * means "the current position", as write(2). The raw syscall avoids depending
 * on the C library's wrapper (musl); the offset travels as two longs, low
 * then high, and -1 in both is -1 on 32- and 64-bit kernels alike. */
long pipe_write_nowait(int fd, const void *buf, size_t len) {
#ifdef SYS_pwritev2
  struct iovec iov = {(void *)buf, len};
  long r;
  do r = syscall(SYS_pwritev2, fd, &iov, 1, -1L, -1L, RWF_NOWAIT);
  while (r < 0 && errno == EINTR);
  return r < 0 ? -errno : r;
#else
  (void)fd, (void)buf, (void)len;
  return -EOPNOTSUPP;
#endif
}
