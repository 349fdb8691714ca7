/* The one reaper of the process: on SIGCHLD the event loop's callback drains
 * waitpid(-1, WNOHANG) here, as tini and catatonit do in their main loops, and
 * JavaScript hears only of the exits it waits for, or that nothing is left.
 * While a forwarding route is pinned to a pid, the handler forwards nothing
 * during a drain (sigcatch_reap_begin/end) and the route is cleared as soon
 * as that pid is reaped: a handler can then never kill() a pid or group that
 * was reused. With sessions reported (several services), each exited child
 * is peeked at with waitid(WNOWAIT) first, to read its session. */
#define _GNU_SOURCE
#include "reap.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sigcatch.h"

static pid_t watched[REAP_MAX_WATCHED];
static int nwatched = 0;
static int report_all = 0;
static int report_sessions = 0;

static int find(pid_t pid) {
  for (int i = 0; i < nwatched; i++)
    if (watched[i] == pid) return i;
  return -1;
}

int reap_watch(pid_t pid) {
  if (find(pid) >= 0) return -EEXIST;
  if (nwatched == REAP_MAX_WATCHED) return -ENOSPC;
  watched[nwatched++] = pid;
  return 0;
}

int reap_unwatch(pid_t pid) {
  int i = find(pid);
  if (i < 0) return -ENOENT;
  watched[i] = watched[--nwatched];
  return 0;
}

void reap_report_all(int on) { report_all = on != 0; }
void reap_report_sessions(int on) { report_sessions = on != 0; }

/* The next exited child, reaped; 0 when none has exited; -errno (ECHILD: no
 * children at all). *sid: its session, read before it was reaped, when
 * sessions are reported (getsid(2) works on a zombie); else -1. */
static pid_t reap_one(int *status, pid_t *sid) {
  pid_t routed = sigcatch_routed_pid();
  *sid = -1;
  if (!report_sessions) {
    /* One call per exit, as in a C init: inside sigcatch_reap_begin/end
     * (reap_drain) no handler forwards, so the route can be cleared right
     * after its pid is reaped and before any handler could use it again. */
    pid_t r = waitpid(-1, status, WNOHANG);
    if (routed > 0 && r == routed) sigcatch_route_set(NULL);
    return r < 0 ? -errno : r;
  }
  /* Who is next, without reaping it (man 2 waitid: zero si_pid first). */
  siginfo_t si;
  memset(&si, 0, sizeof si);
  if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0) return -errno;
  if (si.si_pid == 0) return 0;
  if (routed > 0 && si.si_pid == routed) sigcatch_route_set(NULL);
  *sid = getsid(si.si_pid);
  /* Only this process reaps, so the child peeked at is still there. */
  pid_t r = waitpid(si.si_pid, status, WNOHANG);
  return r < 0 ? -errno : r;
}

static int drain(int *out, int max, int all, int *more);

int reap_drain(int *out, int max, int all, int *more) {
  /* While a route is set, its forwarding waits for the event loop during
   * the drain (a few system calls), instead of a peek before every reap. */
  int guard = sigcatch_routed_pid() > 0 && !report_sessions;
  if (guard) sigcatch_reap_begin();
  int n = drain(out, max, all, more);
  if (guard) sigcatch_reap_end();
  return n;
}

static int drain(int *out, int max, int all, int *more) {
  int n = 0;
  *more = 0;
  sigcatch_child_event_seen();
  for (;;) {
    if (n >= max - 2) {
      *more = 1;
      return n;
    }
    int status = 0;
    pid_t sid = -1;
    pid_t pid = reap_one(&status, &sid);
    if (pid == 0) return n;
    if (pid == -EINTR) continue;
    if (pid == -ECHILD) {
      out[3 * n] = EV_EMPTY;
      out[3 * n + 1] = 0;
      out[3 * n + 2] = 0;
      return n + 1;
    }
    if (pid < 0) return n > 0 ? n : pid;
    int was_watched = reap_unwatch(pid) == 0;
    if (!was_watched && !all && !report_all) continue;
    if (report_sessions) {
      out[3 * n] = EV_SESSION;
      out[3 * n + 1] = (int)pid;
      out[3 * n + 2] = (int)sid;
      n++;
    }
    out[3 * n] = EV_EXIT;
    out[3 * n + 1] = (int)pid;
    out[3 * n + 2] = status;
    n++;
  }
}
