/* Readiness wires: sd_notify datagrams and the notification pipe (see
 * notify.h). Mechanism only: which socket belongs to which service, and what
 * READY=1 means, is decided in src/services/readiness.ts. */
#define _GNU_SOURCE
#include "notify.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int nt_recv(int fd, char *buf, size_t len) {
  struct iovec iov = {buf, len};
  /* Room for a few passed descriptors: systemd accepts up to 768 for its fd
   * store; tsinit closes whatever arrives, and MSG_CTRUNC closes the rest. */
  union {
    struct cmsghdr h;
    char space[CMSG_SPACE(sizeof(int) * 64)];
  } control;
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = &control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    int *fds = (int *)CMSG_DATA(c);
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) close(fds[i]);
  }
  return (int)n;
}

int nt_send(const char *path, size_t path_len, const char *msg, size_t len) {
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (path_len == 0 || path_len >= sizeof sa.sun_path) return -EINVAL;
  memcpy(sa.sun_path, path, path_len);
  if (sa.sun_path[0] == '@') sa.sun_path[0] = '\0';
  socklen_t sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_len + (path[0] == '@' ? 0 : 1));
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  ssize_t n;
  do n = sendto(fd, msg, len, MSG_NOSIGNAL, (struct sockaddr *)&sa, sl);
  while (n < 0 && errno == EINTR);
  int e = errno;
  close(fd);
  return n < 0 ? -e : (int)n;
}

int nt_read(int fd, char *buf, size_t len) {
  ssize_t n;
  do n = read(fd, buf, len);
  while (n < 0 && errno == EINTR);
  return n < 0 ? -errno : (int)n;
}
