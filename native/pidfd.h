/* Pinning a process before signalling it: a handle that names one process,
 * never the next one to get its pid (man 2 pidfd_open, pidfd_send_signal).
 * Mechanism only: which processes to pin is decided in src/core/tree.ts. */
#ifndef TSINIT_PIDFD_H
#define TSINIT_PIDFD_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* pidfd_pin flag: take a /proc/<pid> directory fd even where pidfd_open exists
 * (the handle kernels before 5.3 get; the tests use it to cover that path). */
#define PIDFD_PIN_PROC_DIR 1

/* The kind of handle pidfd_pin returned. */
#define PIDFD_KIND_PIDFD 1
#define PIDFD_KIND_PROC_DIR 2

/* Pins pid: takes a handle (pidfd_open(2), or a /proc/<pid> directory fd
 * where it is missing), then reads the process's stat after the handle was
 * taken and checks its start time (proc(5) field 22) is `start`, the one seen
 * when pid was listed. Returns the handle (close-on-exec) and stores its kind
 * and the process's current parent, or -ESRCH when pid is gone or now names
 * another process, or another -errno. */
int pidfd_pin(pid_t pid, unsigned long long start, int flags, int *kind, pid_t *ppid);

/* pidfd_send_signal(fd, sig, NULL, 0): a process that has been reaped gives
 * -ESRCH, even if its pid was reused. Works on either kind of handle (Linux
 * 5.1); -ENOSYS before that. */
int pidfd_signal(int fd, int sig);

#ifdef __cplusplus
}
#endif

#endif
