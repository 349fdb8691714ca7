/* Sockets for the --listen hand-off (issue 3): socket, bind (inet, and unix
 * through a directory handle), listen, close; the socket files' handles; the
 * unlinker. Each function is one call (bind_unix_at: one bind under a umask;
 * open_dir_safe: a walk of openat; the unlinker: a fork) and returns a value
 * >= 0 or -errno. No Node headers here: bind_sockets.cc converts. */
#ifndef TSINIT_SOCKETS_H
#define TSINIT_SOCKETS_H

#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* socket(domain, type | SOCK_CLOEXEC, 0): the new descriptor. Close-on-exec,
 * so nothing reaches the command but what the spawn maps by number. */
int sock_socket(int domain, int type);

/* setsockopt(fd, level, name, &value, sizeof(int)). */
int sock_setsockopt_int(int fd, int level, int name, int value);

/* bind to an AF_INET or AF_INET6 literal address (inet_pton(3)) and port. */
int sock_bind_inet(int fd, int family, const char *address, int port);

/* Unix sockets, relative to a directory handle (all of it resolved once, so
 * renaming or swapping a directory later changes nothing):
 * sock_open_dir_safe: the directory at an absolute path as an O_PATH handle,
 *   walked one component at a time with O_NOFOLLOW; symlinks are followed
 *   by hand, refusing (-ENOLINK) any step from something an unprivileged
 *   user owns to something another user owns (systemd's CHASE_SAFE); ".."
 *   is the real parent, checked the same way.
 * sock_bind_unix_at: bind to dir/name through /proc/self/fd/N/name, the file
 *   created with exactly `mode` (umask ~mode around the call, as systemd).
 * sock_openat_path: openat(O_PATH | O_NOFOLLOW): a handle on that very inode.
 * sock_fstatat: mode, uid, gid of dir/name without following a symlink, or of
 *   the handle itself when name is "".
 * sock_fchownat: the same addressing; -1 leaves an id.
 * sock_unlinkat_same: unlinkat(dir, name), only if it is still the inode pin
 *   holds (-ESTALE otherwise; pin -1: no check). Async-signal-safe. */
int sock_open_dir_safe(const char *path);
int sock_bind_unix_at(int fd, int dirfd, const char *name, int mode);
int sock_openat_path(int dirfd, const char *name);
int sock_fstatat(int dirfd, const char *name, uint32_t out[3]);
int sock_fchownat(int dirfd, const char *name, uid_t uid, gid_t gid);
int sock_unlinkat_same(int dirfd, const char *name, int pin);

/* The unlinker: a child forked before the drop that stays root until the
 * spawn's outcome is known, so the socket files can still be removed after
 * tsinit has dropped (unlinkat checks write permission on the directory as
 * the caller). sock_unlinker_start: the write end of its close-on-exec pipe,
 * *pid_out its pid; all signals blocked in it. It removes each
 * (dirfds[i], names[i]) still holding pins[i]'s inode unless it reads 'k'
 * first (EOF: tsinit died before the command ran, so remove).
 * sock_unlinker_finish: sends 'k' (remove 0) or 'r', closes, reaps that one
 * pid (as spawn reaps a failed child); its exit status, the number of files
 * it could not remove, or -errno. */
int sock_unlinker_start(const int *dirfds, const char *const *names, const int *pins, int n, int *pid_out);
int sock_unlinker_finish(int pid, int fd, int remove);

int sock_listen(int fd, int backlog);
int sock_close(int fd);

#ifdef __cplusplus
}
#endif

#endif
