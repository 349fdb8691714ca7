/* Sockets for the --listen hand-off and their files: socket/bind/listen, unix
 * sockets bound through a directory handle, and the root "unlinker" child that
 * removes those files after the drop. Thin wrappers, each returning a value
 * >= 0 or -errno; the policy is in src/privileges/. Nothing here decides
 * anything, except the one rule of the directory walk (sock_open_dir_safe),
 * which is systemd's. */
#define _GNU_SOURCE
#include "sockets.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define RET(expr) return (expr) < 0 ? -errno : 0

int sock_socket(int domain, int type) {
  int fd = socket(domain, type | SOCK_CLOEXEC, 0);
  return fd < 0 ? -errno : fd;
}

int sock_setsockopt_int(int fd, int level, int name, int value) { RET(setsockopt(fd, level, name, &value, sizeof value)); }

int sock_bind_inet(int fd, int family, const char *address, int port) {
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

/* Binds fd to path, the file created with exactly mode. */
static int bind_unix_path(int fd, const char *path, int mode) {
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

/* bind(2) takes only a path, so the path goes through the directory handle:
 * /proc/self/fd/N is a magic link to exactly the directory opened, whatever
 * has been renamed or swapped since (proc(5)); the last component is created
 * by bind itself, which never follows a symlink there (EADDRINUSE instead).
 * systemd binds long paths the same way (socket-util.c). No fchdir: the
 * working directory is shared with Node's threads. */
int sock_bind_unix_at(int fd, int dirfd, const char *name, int mode) {
  char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
  if (strchr(name, '/') != NULL || name[0] == '\0') return -EINVAL;
  int n = snprintf(path, sizeof path, "/proc/self/fd/%d/%s", dirfd, name);
  if (n < 0 || (size_t)n >= sizeof path) return -ENAMETOOLONG;
  return bind_unix_path(fd, path, mode);
}

/* statx(2), not fstat/fstatat: glibc 2.33 gave those new symbol versions,
 * above the prebuilds' floor of 2.28, which has statx. A plain syscall
 * wrapper, so async-signal-safe in the unlinker child too. */
static int stat_at(int dirfd, const char *name, int flags, struct statx *out) {
  unsigned mask = STATX_TYPE | STATX_MODE | STATX_UID | STATX_GID | STATX_INO;
  return statx(dirfd, name, flags | AT_STATX_SYNC_AS_STAT, mask, out) < 0 ? -errno : 0;
}

/* An empty name is the handle itself (AT_EMPTY_PATH); otherwise a symlink at
 * name is never followed (AT_SYMLINK_NOFOLLOW). */
static int at_flags(const char *name) { return name[0] == '\0' ? AT_EMPTY_PATH : AT_SYMLINK_NOFOLLOW; }

/* systemd's unsafe_transition() (chase.c, CHASE_SAFE): stepping from a to b
 * is unsafe when a belongs to an unprivileged user and b to anyone else, so
 * a user's symlink or directory cannot lead root into another's files. */
static int unsafe_transition(const struct statx *a, const struct statx *b) {
  return a->stx_uid != 0 && a->stx_uid != b->stx_uid;
}

#define MAX_LINKS 40 /* the kernel's own limit (path_resolution(7)) */

int sock_open_dir_safe(const char *path) {
  static const int flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
  char todo[2 * PATH_MAX];
  size_t n = strlen(path);
  if (path[0] != '/') return -EINVAL;
  if (n >= PATH_MAX) return -ENAMETOOLONG;
  memcpy(todo, path, n + 1);
  int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -errno;
  struct statx prev, st;
  int e = stat_at(fd, "", AT_EMPTY_PATH, &prev);
  if (e < 0) goto fail_e;
  int links = 0;
  char *p = todo;
  for (;;) {
    while (*p == '/') p++;
    if (*p == '\0') return fd;
    size_t len = strcspn(p, "/");
    char comp[NAME_MAX + 1];
    if (len > NAME_MAX) {
      errno = ENAMETOOLONG;
      goto fail;
    }
    memcpy(comp, p, len);
    comp[len] = '\0';
    p += len;
    if (strcmp(comp, ".") == 0) continue;
    /* ".." (from a symlink's target: /var/run -> ../run) is the real parent,
     * as the kernel resolves it, checked like any other step. */
    int child = strcmp(comp, "..") == 0 ? openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC) : openat(fd, comp, flags);
    if (child < 0) goto fail;
    e = stat_at(child, "", AT_EMPTY_PATH, &st);
    if (e < 0) {
      close(child);
      goto fail_e;
    }
    if (unsafe_transition(&prev, &st)) {
      close(child);
      errno = ENOLINK; /* systemd's errno for it */
      goto fail;
    }
    if (S_ISLNK(st.stx_mode)) {
      char target[PATH_MAX];
      ssize_t t = ++links > MAX_LINKS ? (errno = ELOOP, -1) : readlinkat(child, "", target, sizeof target - 1);
      close(child);
      if (t < 0) goto fail;
      size_t rest = strlen(p);
      if ((size_t)t + 1 + rest + 1 > sizeof todo) {
        errno = ENAMETOOLONG;
        goto fail;
      }
      /* todo becomes target + "/" + the rest, resolved from here on. */
      memmove(todo + t + 1, p, rest + 1);
      memcpy(todo, target, (size_t)t);
      todo[t] = '/';
      p = todo;
      prev = st;
      if (target[0] == '/') {
        int r = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (r < 0) goto fail;
        close(fd);
        fd = r;
        e = stat_at(fd, "", AT_EMPTY_PATH, &st);
        if (e < 0) goto fail_e;
        if (unsafe_transition(&prev, &st)) {
          errno = ENOLINK;
          goto fail;
        }
        prev = st;
      }
      continue;
    }
    if (!S_ISDIR(st.stx_mode)) {
      close(child);
      errno = ENOTDIR;
      goto fail;
    }
    close(fd);
    fd = child;
    prev = st;
  }
fail:
  e = -errno;
fail_e:
  close(fd);
  return e;
}

int sock_openat_path(int dirfd, const char *name) {
  int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

int sock_fstatat(int dirfd, const char *name, uint32_t out[3]) {
  struct statx st;
  int e = stat_at(dirfd, name, at_flags(name), &st);
  if (e < 0) return e;
  out[0] = st.stx_mode;
  out[1] = st.stx_uid;
  out[2] = st.stx_gid;
  return 0;
}

int sock_fchownat(int dirfd, const char *name, uid_t uid, gid_t gid) { RET(fchownat(dirfd, name, uid, gid, at_flags(name))); }

/* Async-signal-safe (the unlinker child calls it): statx and unlinkat. */
int sock_unlinkat_same(int dirfd, const char *name, int pin) {
  if (pin >= 0) {
    struct statx a, b;
    int e = stat_at(pin, "", AT_EMPTY_PATH, &a);
    if (e == 0) e = stat_at(dirfd, name, AT_SYMLINK_NOFOLLOW, &b);
    if (e < 0) return e;
    if (a.stx_dev_major != b.stx_dev_major || a.stx_dev_minor != b.stx_dev_minor || a.stx_ino != b.stx_ino) return -ESTALE;
  }
  RET(unlinkat(dirfd, name, 0));
}

int sock_unlinker_start(const int *dirfds, const char *const *names, const int *pins, int n, int *pid_out) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return -errno;
  /* Blocked in the child for its whole life: tsinit's handlers (sigcatch.c)
   * must not run in it, and nothing but SIGKILL is meant for it. */
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &saved);
  pid_t pid = fork();
  if (pid == 0) {
    /* The child: only async-signal-safe calls from here (signal-safety(7)). */
    close(p[1]);
    char c = 0;
    ssize_t r;
    do r = read(p[0], &c, 1);
    while (r < 0 && errno == EINTR);
    if (r == 1 && c == 'k') _exit(0);
    /* 'r', or EOF: tsinit gave up, or died, before the command started. */
    int failed = 0;
    for (int i = 0; i < n; i++)
      if (sock_unlinkat_same(dirfds[i], names[i], pins[i]) < 0) failed++;
    _exit(failed);
  }
  int e = errno;
  pthread_sigmask(SIG_SETMASK, &saved, NULL);
  close(p[0]);
  if (pid < 0) {
    close(p[1]);
    return -e;
  }
  *pid_out = pid;
  return p[1];
}

int sock_unlinker_finish(int pid, int fd, int remove) {
  char c = remove ? 'r' : 'k';
  ssize_t w;
  do w = write(fd, &c, 1);
  while (w < 0 && errno == EINTR);
  close(fd);
  int status = 0;
  pid_t r;
  do r = waitpid(pid, &status, 0);
  while (r < 0 && errno == EINTR);
  if (r < 0) return -errno;
  if (!WIFEXITED(status)) return -ECHILD;
  return WEXITSTATUS(status);
}

int sock_listen(int fd, int backlog) { RET(listen(fd, backlog)); }

/* close(2) is not retried on EINTR: on Linux the descriptor is gone either way. */
int sock_close(int fd) { RET(close(fd)); }
