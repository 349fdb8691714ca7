/* Syscalls of the privilege drop and the socket hand-off: thin wrappers, each
 * returning a value >= 0 or -errno. The order of the drop and every check of
 * it are policy, in src/privdrop.ts; nothing here decides anything. */
#define _GNU_SOURCE
#include "privdrop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_IS_SET 1
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

#define RET(expr) return (expr) < 0 ? -errno : 0

int pd_socket(int domain, int type) {
  int fd = socket(domain, type | SOCK_CLOEXEC, 0);
  return fd < 0 ? -errno : fd;
}

int pd_setsockopt_int(int fd, int level, int name, int value) { RET(setsockopt(fd, level, name, &value, sizeof value)); }

int pd_bind_inet(int fd, int family, const char *address, int port) {
  if (port < 0 || port > 65535) return -EINVAL;
  if (family == AF_INET) {
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, address, &sa.sin_addr) != 1) return -EINVAL;
    RET(bind(fd, (struct sockaddr *)&sa, sizeof sa));
  }
  if (family == AF_INET6) {
    struct sockaddr_in6 sa;
    memset(&sa, 0, sizeof sa);
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, address, &sa.sin6_addr) != 1) return -EINVAL;
    RET(bind(fd, (struct sockaddr *)&sa, sizeof sa));
  }
  return -EAFNOSUPPORT;
}

int pd_bind_unix(int fd, const char *path, int mode) {
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  size_t len = strlen(path);
  if (len == 0 || len >= sizeof sa.sun_path) return -ENAMETOOLONG;
  memcpy(sa.sun_path, path, len);
  /* bind(2) creates the file with 0777 & ~umask; fchmod on a socket does not
   * reach the file. A umask of ~mode creates it with exactly mode, so it is
   * never reachable with more than mode, not even for a moment (systemd's
   * socket-label.c does the same with RUN_WITH_UMASK). umask is
   * process-wide: this runs at start-up, before any file I/O of Node's. */
  mode_t old = umask((mode_t)(~mode & 0777));
  int r = bind(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1));
  int e = errno;
  umask(old);
  return r < 0 ? -e : 0;
}

int pd_listen(int fd, int backlog) { RET(listen(fd, backlog)); }

/* close(2) is not retried on EINTR: on Linux the descriptor is gone either way. */
int pd_close(int fd) { RET(close(fd)); }

int pd_lchown(const char *path, uid_t uid, gid_t gid) { RET(fchownat(AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW)); }

int pd_prctl_set_no_new_privs(void) { RET(prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL)); }

int pd_prctl_get_no_new_privs(void) {
  int r = prctl(PR_GET_NO_NEW_PRIVS, 0UL, 0UL, 0UL, 0UL);
  return r < 0 ? -errno : r;
}

int pd_prctl_set_keepcaps(int on) { RET(prctl(PR_SET_KEEPCAPS, on ? 1UL : 0UL, 0UL, 0UL, 0UL)); }

/* The raw syscalls with _LINUX_CAPABILITY_VERSION_3, which carries two 32-bit
 * words per set (capabilities 0-63); pid 0 is the calling thread (capget(2)).
 * libcap is not needed for three fields. */
int pd_capget(uint32_t caps[6]) {
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  if (syscall(SYS_capget, &hdr, data) < 0) return -errno;
  for (int i = 0; i < 2; i++) {
    caps[0 + i] = data[i].effective;
    caps[2 + i] = data[i].permitted;
    caps[4 + i] = data[i].inheritable;
  }
  return 0;
}

int pd_capset(const uint32_t caps[6]) {
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  for (int i = 0; i < 2; i++) {
    data[i].effective = caps[0 + i];
    data[i].permitted = caps[2 + i];
    data[i].inheritable = caps[4 + i];
  }
  RET(syscall(SYS_capset, &hdr, data));
}

int pd_cap_ambient_raise(int cap) { RET(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)cap, 0UL, 0UL)); }

int pd_cap_ambient_is_set(int cap) {
  int r = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, (unsigned long)cap, 0UL, 0UL);
  return r < 0 ? -errno : r;
}

int pd_cap_ambient_clear_all(void) { RET(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0UL, 0UL, 0UL)); }

int pd_getresuid(uint32_t ids[3]) {
  uid_t r, e, s;
  if (getresuid(&r, &e, &s) < 0) return -errno;
  ids[0] = r;
  ids[1] = e;
  ids[2] = s;
  return 0;
}

int pd_getresgid(uint32_t ids[3]) {
  gid_t r, e, s;
  if (getresgid(&r, &e, &s) < 0) return -errno;
  ids[0] = r;
  ids[1] = e;
  ids[2] = s;
  return 0;
}
