/* clone(CLONE_VM | CLONE_VFORK)/exec with a close-on-exec error pipe. The child
 * side is async-signal-safe.
 * No Node headers here: bind_spawn.cc converts arguments into this struct. */
#ifndef TSINIT_SPAWN_H
#define TSINIT_SPAWN_H

#include <sys/types.h>

#include "constants.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The steps of the child's start-up, each with the name TypeScript reports
 * when it fails (binding.cc exports the names: the one table of them). */
#define SPAWN_STEPS(X)           \
  X(STEP_NONE, 0, "none")        \
  X(STEP_SIGNALS, 1, "sigaction") \
  X(STEP_SETSID, 2, "setsid")    \
  X(STEP_SETPGID, 3, "setpgid")  \
  X(STEP_SETGROUPS, 4, "setgroups") \
  X(STEP_SETRESGID, 5, "setresgid") \
  X(STEP_SETRESUID, 6, "setresuid") \
  X(STEP_CHDIR, 7, "chdir")      \
  X(STEP_FDS, 8, "dup2")         \
  X(STEP_LISTEN_PID, 9, "LISTEN_PID") \
  X(STEP_EXECVE, 10, "execve")   \
  X(STEP_CLONE, 11, "clone")     \
  X(STEP_PIPE, 12, "pipe2")      \
  X(STEP_TTY, 13, "terminal")   \
  /* Per-service credentials (issue 10): capabilities and no_new_privs. */ \
  X(STEP_KEEPCAPS, 14, "PR_SET_KEEPCAPS") \
  X(STEP_CAPSET, 15, "capset")   \
  X(STEP_AMBIENT, 16, "PR_CAP_AMBIENT_RAISE") \
  X(STEP_NO_NEW_PRIVS, 17, "PR_SET_NO_NEW_PRIVS")

/* The step of the child's start-up that failed, reported with errno. */
#define SPAWN_STEP_ENUM(name, value, text) name = value,
enum spawn_step { SPAWN_STEPS(SPAWN_STEP_ENUM) };
#undef SPAWN_STEP_ENUM

/* What the child does with the terminal on tty_fd. */
enum spawn_tty {
  TTY_NONE = 0,
  /* After setsid: make it the controlling terminal (TIOCSCTTY), which also
   * makes the new session's group its foreground group. */
  TTY_ACQUIRE = 1,
  /* After setpgid: become the foreground group of the terminal of the session
   * it shares with the init (tcsetpgrp), as tini does. */
  TTY_FOREGROUND = 2
};

enum spawn_session { SESSION_NONE = 0, SESSION_SETSID = 1, SESSION_SETPGID = 2 };

struct spawn_fd_map {
  int target; /* descriptor number in the child */
  int source; /* descriptor in the parent */
};

struct spawn_options {
  const char *path;         /* resolved executable; no PATH search here */
  char *const *argv;        /* NULL-terminated */
  char *const *envp;        /* NULL-terminated */
  int session;              /* enum spawn_session */
  int tty;                  /* enum spawn_tty */
  int tty_fd;
  int set_ids;              /* apply groups, gid, uid */
  uid_t uid;
  gid_t gid;
  int ngroups;
  const gid_t *groups;
  int umask;                /* -1: leave as inherited */
  const char *cwd;          /* NULL: leave as inherited */
  int nmap;                 /* descriptors to place at given numbers, <= TSINIT_MAX_FD_MAP */
  const struct spawn_fd_map *map;
  int nkeep;                /* further descriptors that pass through unchanged */
  const int *keep;
  /* If set, a buffer of TSINIT_LISTEN_PID_BUF bytes holding
   * TSINIT_LISTEN_PID_PREFIX plus room: the child writes its own pid into it
   * after the '=' before execve. The buffer must also be one of the strings
   * in envp. */
  char *listen_pid_env;
  /* Per-service credentials (issue 10), with set_ids and a uid other than 0:
   * if set_caps, the permitted and inheritable sets become exactly caps (two
   * 32-bit words, low first) and each of them is raised as an ambient
   * capability, so it survives execve (capabilities(7)); the effective set
   * stays empty until then. With no_new_privs, PR_SET_NO_NEW_PRIVS last. */
  int set_caps;
  unsigned int caps[2];
  int no_new_privs;
};

struct spawn_result {
  pid_t pid;   /* > 0 on success */
  int err;     /* 0, or a positive errno */
  int step;    /* enum spawn_step when err != 0 */
};

/* Forks and execs. On success result->pid is the child, which has exec'd.
 * On failure the child (if any) has been reaped and err/step say why. */
void spawn_process(const struct spawn_options *opt, struct spawn_result *result);

#ifdef __cplusplus
}
#endif

#endif
