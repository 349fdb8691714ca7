/* Pipes for the log relay: pipe2 with O_CLOEXEC, and a per-call non-blocking write. */
#ifndef TSINIT_PIPE_H
#define TSINIT_PIPE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* fds[0] the read end, fds[1] the write end, both close-on-exec. 0 or -errno. */
int pipe_pipe2(int fds[2]);
/* One pwritev2(RWF_NOWAIT) at the current position: bytes written or -errno
 * (-EAGAIN when it would block, -EOPNOTSUPP where the flag is unsupported). */
long pipe_write_nowait(int fd, const void *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
