/* The one reaper: drains waitpid(-1, WNOHANG), clears the forwarding route
 * before its pid is reaped, and picks out the exits JavaScript waits for.
 * No Node headers. */
#ifndef TSINIT_REAP_H
#define TSINIT_REAP_H

#include <sys/types.h>

#include "constants.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Pids whose exit is reported (then forgotten): the command, a service's main
 * process. At most REAP_MAX_WATCHED. Returns 0, -EEXIST or -ENOSPC. */
#define REAP_MAX_WATCHED 1024
int reap_watch(pid_t pid);
/* Returns 0, or -ENOENT if pid was not watched. */
int reap_unwatch(pid_t pid);
/* Whether every exit is reported, watched or not (-vv). */
void reap_report_all(int on);
/* Whether each reported exit is preceded by EV_SESSION with the session the
 * process belonged to (the services supervisor attributes adopted orphans). */
void reap_report_sessions(int on);

/* Reaps every exited child. Writes (kind, a, b) triples to out (enum
 * tsinit_event): EV_EXIT for each watched pid (each pid when all or
 * reap_report_all; each after its EV_SESSION with reap_report_sessions), then
 * EV_EMPTY if waitpid said ECHILD. Stops early, with *more set, once fewer
 * than 3 triples are left (max >= 3). Returns the number
 * of triples, or -errno for an error other than ECHILD (never expected). */
int reap_drain(int *out, int max, int all, int *more);

#ifdef __cplusplus
}
#endif

#endif
