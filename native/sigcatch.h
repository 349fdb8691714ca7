/* Catching signals, and forwarding them from the handler itself while a
 * command runs (kill is async-signal-safe); what JavaScript must still see
 * goes into a self-pipe, in order of arrival. No Node headers. */
#ifndef TSINIT_SIGCATCH_H
#define TSINIT_SIGCATCH_H

#include <signal.h>
#include <sys/types.h>

#include "constants.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Creates the pipe (both ends non-blocking, close-on-exec) and installs the
 * handler for each signal in sigs. Returns the read end, or -errno. A second
 * call adds signals and returns the same read end. A real-time signal that
 * sigaction refuses with EINVAL is skipped, not an error: the kernel takes
 * every one, but a tool the init runs under may keep one for itself
 * (valgrind keeps SIGRTMAX). sigcatch_refused says which. */
int sigcatch_install(const int *sigs, int n);
/* Whether sigcatch_install skipped sig (refused, as above). */
int sigcatch_refused(int sig);

/* What the handler does with one signal, on any thread: forward it by the
 * route, or record it in the pipe. Also called by sigthread.c's thread with
 * what sigwaitinfo(2) returned. Async-signal-safe. */
void sigcatch_deliver(int sig, const siginfo_t *info);

/* From now on, a signal queued to a thread of this process by this process
 * with si_code SI_QUEUE and si_value cookie (nonzero) makes the handler add
 * set to that thread's mask as it returns, and count one acknowledgement
 * (counted from 0 again here; sigcatch_mask_wait waits for them). */
void sigcatch_mask_request(const sigset_t *set, int cookie);
/* Sleeps until `answered` requests have been answered, at most ns
 * nanoseconds: 1 if they were, 0 if not (each answer wakes it, no polling). */
int sigcatch_mask_wait(int answered, long long ns);

/* Sets each signal in sigs to SIG_IGN (no longer caught). Returns 0 or -errno. */
int sigcatch_ignore(const int *sigs, int n);

/* The forwarding table: while one is set, the handler sends each signal s as
 * to[s] (0: not sent) to target (a pid, or -pgid), and records it in the pipe
 * only if notify[s] (or if the kill failed with anything but ESRCH). pid is
 * the process the route is pinned to: the reaper clears the route before it
 * reaps pid, or reaps inside sigcatch_reap_begin/end and clears it before
 * the end (reap.c), so no handler can signal a reused pid or group. */
struct sigcatch_route {
  pid_t pid;
  pid_t target;
  int to[TSINIT_NSIG];
  unsigned char notify[TSINIT_NSIG];
};

/* Publishes a copy of *r (NULL: no route; every signal is recorded). On
 * return no handler on any thread still uses the previous table. */
void sigcatch_route_set(const struct sigcatch_route *r);

/* The reaper is about to drain: SIGCHLDs so far are seen. Until the next, the
 * handler forwards without first checking that the routed pid still runs, and
 * the next SIGCHLD writes a record again. */
void sigcatch_child_event_seen(void);

/* Around a reap that may take the routed pid without looking first: from
 * begin (which returns once no handler on another thread is forwarding) to
 * end, the handler records routed signals for the event loop instead of
 * forwarding them. The reaper clears the route before it calls end. */
void sigcatch_reap_begin(void);
void sigcatch_reap_end(void);

/* The pid the current route is pinned to, or 0 when there is none. */
pid_t sigcatch_routed_pid(void);

/* One signal as recorded: status -1 when the handler did not forward it
 * (JavaScript decides), else the errno of its kill() (0: sent). */
struct sigcatch_record {
  int sig;
  int status;
};

/* Reads what has arrived into out, in order of arrival. Returns the count
 * (0 when nothing is pending) or -errno. */
int sigcatch_read(struct sigcatch_record *out, int max);

/* Signals that arrived while the pipe was full, counted per signal number and
 * cleared by this call (each array needs TSINIT_NSIG slots): lost[] those not
 * forwarded, lost_forwarded[] those the handler did forward. Returns the total. */
int sigcatch_take_overflow(unsigned *lost, unsigned *lost_forwarded);

/* Tells the handler that n records it did not forward (status -1, SIGCHLD
 * aside), read or lost, have been acted on. Until every such record is, the
 * handler does not forward on its own either, but queues behind them: so
 * signals keep their order of arrival across a change of route. */
void sigcatch_done(int n);

#ifdef __cplusplus
}
#endif

#endif
