/* Thin syscall wrappers: each returns a value >= 0 or -errno. No Node headers here. */
#ifndef TSINIT_SYS_H
#define TSINIT_SYS_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

int sys_prctl_set_child_subreaper(int on);
int sys_prctl_get_child_subreaper(void);
int sys_setsid(void);
int sys_setpgid(pid_t pid, pid_t pgid);
int sys_setresuid(uid_t r, uid_t e, uid_t s);
int sys_setresgid(gid_t r, gid_t e, gid_t s);
int sys_setgroups(size_t n, const gid_t *groups);
int sys_kill(pid_t pid, int sig);
int sys_prctl_set_pdeathsig(int sig);
/* 1 if fd is a terminal, 0 if not, -errno for a bad fd. */
int sys_isatty(int fd);
/* The calling process's session id, or -errno. */
int sys_getsid(void);
/* The foreground process group of the terminal on fd, or -errno. */
int sys_tcgetpgrp(int fd);
/* The session that has the terminal on fd as controlling terminal, or -errno. */
int sys_tcgetsid(int fd);
/* Gives up the controlling terminal (ioctl TIOCNOTTY). */
int sys_tiocnotty(int fd);

/* One waitpid(pid, &status, flags). Returns pid (status stored), 0, or -errno.
 * Draining waitpid(-1) is reap.c's job alone. */
int sys_waitpid(pid_t pid, int *status, int flags);

int sys_sigrtmin(void);
int sys_sigrtmax(void);

/* CLOCK_MONOTONIC in nanoseconds. */
long long sys_monotonic_ns(void);

/* A futex on a 32-bit word (an atomic_int) that only grows: sys_futex_await
 * sleeps until *word >= min, for at most ns nanoseconds, woken by each
 * sys_futex_wake; 1 if it got there, 0 if not. sys_futex_wake wakes every
 * waiter on word and keeps errno: it is one system call, safe in a signal
 * handler. */
int sys_futex_await(int *word, int min, long long ns);
void sys_futex_wake(int *word);

#ifdef __cplusplus
}
#endif

#endif
