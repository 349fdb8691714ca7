/* fork/exec with a close-on-exec error pipe. The child side is async-signal-safe.
 * No Node headers here: binding.cc converts arguments into this struct. */
#ifndef TSINIT_SPAWN_H
#define TSINIT_SPAWN_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The step of the child's start-up that failed, reported with errno. */
enum spawn_step {
  STEP_NONE = 0,
  STEP_SIGNALS = 1,
  STEP_SETSID = 2,
  STEP_SETPGID = 3,
  STEP_SETGROUPS = 4,
  STEP_SETRESGID = 5,
  STEP_SETRESUID = 6,
  STEP_CHDIR = 7,
  STEP_FDS = 8,
  STEP_LISTEN_PID = 9,
  STEP_EXECVE = 10,
  STEP_FORK = 11,
  STEP_PIPE = 12,
  STEP_TTY = 13,
  /* Per-service credentials (issue 10): capabilities and no_new_privs. */
  STEP_KEEPCAPS = 14,
  STEP_CAPSET = 15,
  STEP_AMBIENT = 16,
  STEP_NO_NEW_PRIVS = 17
};

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
  int nmap;                 /* descriptors to place at given numbers */
  const struct spawn_fd_map *map;
  int nkeep;                /* further descriptors that pass through unchanged */
  const int *keep;
  /* If set, a buffer of at least 32 bytes holding "LISTEN_PID=" plus room: the
   * child writes its own pid into it after the '=' before execve. The buffer
   * must also be one of the strings in envp. */
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
