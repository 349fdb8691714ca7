/* Readiness wires of the service supervisor: sd_notify datagrams (a unix
 * datagram socket per service, which Node cannot make) and the s6-style
 * notification pipe. Each function is one call and returns >= 0 or -errno.
 * No Node headers here: binding.cc converts. */
#ifndef TSINIT_NOTIFY_H
#define TSINIT_NOTIFY_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif


/* One datagram from fd without blocking (MSG_DONTWAIT), at most len bytes.
 * Descriptors passed along (FDSTORE=1) are closed at once: tsinit keeps no
 * fd store. Returns the length, or -EAGAIN when nothing is queued. */
int nt_recv(int fd, char *buf, size_t len);

/* One datagram to the unix socket at path (a leading '@' names an abstract
 * socket, as sd_notify(3) has it), from a fresh socket closed again. */
int nt_send(const char *path, size_t path_len, const char *msg, size_t len);

/* read(2) once; -errno on failure. */
int nt_read(int fd, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
