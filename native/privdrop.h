/* Syscalls of the privilege drop and the socket hand-off (issue 3): sockets,
 * their files, no_new_privs, capabilities, credentials read back. Each
 * function is one call (bind_unix_at: one bind under a umask; open_dir_safe:
 * a walk of openat; the unlinker: a fork) and returns a value
 * >= 0 or -errno. No Node headers here: binding.cc converts. */
#ifndef TSINIT_PRIVDROP_H
#define TSINIT_PRIVDROP_H

#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* socket(domain, type | SOCK_CLOEXEC, 0): the new descriptor. Close-on-exec,
 * so nothing reaches the command but what the spawn maps by number. */
int pd_socket(int domain, int type);

/* setsockopt(fd, level, name, &value, sizeof(int)). */
int pd_setsockopt_int(int fd, int level, int name, int value);

/* bind to an AF_INET or AF_INET6 literal address (inet_pton(3)) and port. */
int pd_bind_inet(int fd, int family, const char *address, int port);

/* Unix sockets, relative to a directory handle (all of it resolved once, so
 * renaming or swapping a directory later changes nothing):
 * pd_open_dir_safe: the directory at an absolute path as an O_PATH handle,
 *   walked one component at a time with O_NOFOLLOW; symlinks are followed
 *   by hand, refusing (-ENOLINK) any step from something an unprivileged
 *   user owns to something another user owns (systemd's CHASE_SAFE); ".."
 *   is the real parent, checked the same way.
 * pd_bind_unix_at: bind to dir/name through /proc/self/fd/N/name, the file
 *   created with exactly `mode` (umask ~mode around the call, as systemd).
 * pd_openat_path: openat(O_PATH | O_NOFOLLOW): a handle on that very inode.
 * pd_fstatat: mode, uid, gid of dir/name without following a symlink, or of
 *   the handle itself when name is "".
 * pd_fchownat: the same addressing; -1 leaves an id.
 * pd_unlinkat_same: unlinkat(dir, name), only if it is still the inode pin
 *   holds (-ESTALE otherwise; pin -1: no check). Async-signal-safe. */
int pd_open_dir_safe(const char *path);
int pd_bind_unix_at(int fd, int dirfd, const char *name, int mode);
int pd_openat_path(int dirfd, const char *name);
int pd_fstatat(int dirfd, const char *name, uint32_t out[3]);
int pd_fchownat(int dirfd, const char *name, uid_t uid, gid_t gid);
int pd_unlinkat_same(int dirfd, const char *name, int pin);

/* The unlinker: a child forked before the drop that stays root until the
 * spawn's outcome is known, so the socket files can still be removed after
 * tsinit has dropped (unlinkat checks write permission on the directory as
 * the caller). pd_unlinker_start: the write end of its close-on-exec pipe,
 * *pid_out its pid; all signals blocked in it. It removes each
 * (dirfds[i], names[i]) still holding pins[i]'s inode unless it reads 'k'
 * first (EOF: tsinit died before the command ran, so remove).
 * pd_unlinker_finish: sends 'k' (remove 0) or 'r', closes, reaps that one
 * pid (as spawn reaps a failed child); its exit status, the number of files
 * it could not remove, or -errno. */
int pd_unlinker_start(const int *dirfds, const char *const *names, const int *pins, int n, int *pid_out);
int pd_unlinker_finish(int pid, int fd, int remove);

int pd_listen(int fd, int backlog);
int pd_close(int fd);

/* prctl(PR_SET_NO_NEW_PRIVS, 1) and PR_GET_NO_NEW_PRIVS (0 or 1). Per thread:
 * the calling thread and what it forks afterwards. */
int pd_prctl_set_no_new_privs(void);
int pd_prctl_get_no_new_privs(void);

/* prctl(PR_SET_KEEPCAPS, on): the calling thread keeps its permitted set
 * across the change to nonzero uids. */
int pd_prctl_set_keepcaps(int on);

/* capget/capset for the calling thread, version 3 (64 capability bits). Each
 * set is two 32-bit words, low first: caps[0..1] effective, caps[2..3]
 * permitted, caps[4..5] inheritable. */
int pd_capget(uint32_t caps[6]);
int pd_capset(const uint32_t caps[6]);

/* prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE / _IS_SET / _CLEAR_ALL). */
int pd_cap_ambient_raise(int cap);
int pd_cap_ambient_is_set(int cap);
int pd_cap_ambient_clear_all(void);

/* getresuid/getresgid into ids[3] (real, effective, saved). */
int pd_getresuid(uint32_t ids[3]);
int pd_getresgid(uint32_t ids[3]);

#ifdef __cplusplus
}
#endif

#endif
