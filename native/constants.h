/* Facts both sides of the native boundary need, written once: C and C++ use
 * them from here, and binding.cc exports them to TypeScript as `constants`
 * (src/native.ts). No Node headers here. */
#ifndef TSINIT_CONSTANTS_H
#define TSINIT_CONSTANTS_H

/* Slots of a per-signal table: signals 1..64 on Linux (SIGRTMAX is 64 on
 * every architecture glibc and musl support), indexed by number; 0 unused. */
#define TSINIT_NSIG 65

/* Exits reported to JavaScript per call at most, so a storm of orphans at
 * -vv cannot build an unbounded array; the caller asks again while more. */
#define TSINIT_REAP_BATCH 4096

/* Descriptors the native spawn places at given numbers (--listen sockets):
 * the child keeps them on its stack, it may not allocate. */
#define TSINIT_MAX_FD_MAP 64

/* systemd's LISTEN_PID, written by the child itself after the '=': the
 * buffer holds the prefix and room for any pid. */
#define TSINIT_LISTEN_PID_PREFIX "LISTEN_PID="
#define TSINIT_LISTEN_PID_OFFSET ((int)sizeof(TSINIT_LISTEN_PID_PREFIX) - 1)
#define TSINIT_LISTEN_PID_BUF 32

/* What the event-loop callback reports, as (kind, a, b) triples of one
 * Int32Array, in order. */
enum tsinit_event {
  /* a signal: a = number, b = -1 if the handler did not forward it, else the
   * errno of its kill() (0: forwarded) */
  EV_SIGNAL = 1,
  /* a watched pid (or any, when every reap is reported) was reaped: a = pid,
   * b = raw wait status */
  EV_EXIT = 2,
  /* waitpid said ECHILD: no children left at all */
  EV_EMPTY = 3,
  /* signals that found the pipe full: a = number, b = how many; those not
   * forwarded by the handler */
  EV_LOST = 4,
  /* the same for signals the handler did forward (only the notice was lost) */
  EV_LOST_FORWARDED = 5,
  /* right before the EV_EXIT of the same pid, with reap_report_sessions: a =
   * pid, b = the session it belonged to, read while it was still a zombie
   * (after waitpid it can no longer be learnt) */
  EV_SESSION = 6
};

#endif
