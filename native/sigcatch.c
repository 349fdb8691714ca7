/* Catching signals (SA_SIGINFO handlers on every thread), forwarding them
 * from the handler while a route is set, and a self-pipe (the classic trick,
 * as in libuv's uv__signal_handler) for what the event loop must see. This is
 * how tsinit receives the real-time signals, which Node's process.on() cannot
 * listen to, and how it replaces Node's own SIGUSR1 handler (which would open
 * the inspector). In the handler: only atomics, kill(2) and write(2), all
 * async-signal-safe (man 7 signal-safety). */
#define _GNU_SOURCE
#include "sigcatch.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static int pipe_r = -1;
static int pipe_w = -1;
static atomic_uint lost[TSINIT_NSIG];
static atomic_uint lost_forwarded[TSINIT_NSIG];

/* The route: a pointer published with one atomic store, so a handler on any
 * thread sees the old table or the new one, never half of one. Two buffers:
 * the one not published is written only once no handler can be reading it. */
static struct sigcatch_route tables[2];
static int spare = 0;
static struct sigcatch_route *_Atomic route = NULL;
/* Handlers between loading the route and their last use of it. */
static atomic_int in_flight = 0;
/* Records not forwarded that JavaScript has not acted on yet (sigcatch_done). */
static atomic_int pending = 0;
/* Set by every SIGCHLD, cleared by the reaper before it drains: while set,
 * the routed pid may have exited unseen, so the handler looks before it
 * forwards (see exited()). */
static atomic_int child_event = 0;
/* Set by the reaper while it may reap the routed pid with a plain
 * waitpid(-1) (sigcatch_reap_begin): meanwhile the handler forwards nothing
 * itself but leaves it to the event loop, so no kill() can land between the
 * routed pid's reap and the clearing of its route. */
static atomic_int reaping = 0;
/* Set when a SIGCHLD record is written, cleared where the reaper starts a
 * drain: while set, a drain is still to come that will reap whatever this
 * SIGCHLD announces, so the handler writes no second record (in a storm of
 * orphans, one record per drain instead of one per delivery). */
static atomic_int child_unread = 0;

/* Whether pid has exited (a zombie, not yet reaped): waitid(2) with WNOWAIT
 * leaves it as it is. A plain system call, safe in a handler. A signal that
 * follows the command's death is then left to JavaScript, which sends it to
 * whatever remains once the command is reaped, instead of to the dead
 * command's group. */
static int exited(pid_t pid) {
  siginfo_t si;
  memset(&si, 0, sizeof si);
  return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

#define UNFORWARDED 0xff

/* The request sigthread.c sends each of Node's threads once (sigcatch_mask_
 * request): the handler adds the set to the mask the kernel restores at
 * rt_sigreturn (uc_sigmask in the frame, man 2 sigreturn), the one way to
 * change another thread's mask; a thread can change only its own. */
static sigset_t mask_set;
static int mask_cookie = 0;
static atomic_int mask_acks = 0;

static int mask_request(const siginfo_t *info, void *uctx) {
  if (info == NULL || uctx == NULL || mask_cookie == 0 || info->si_code != SI_QUEUE || info->si_pid != getpid() ||
      info->si_value.sival_int != mask_cookie)
    return 0;
  ucontext_t *uc = uctx;
  sigorset(&uc->uc_sigmask, &uc->uc_sigmask, &mask_set);
  atomic_fetch_add(&mask_acks, 1);
  sys_futex_wake((int *)&mask_acks);
  return 1;
}

void sigcatch_mask_request(const sigset_t *set, int cookie) {
  mask_set = *set;
  atomic_store(&mask_acks, 0);
  mask_cookie = cookie;
}

_Static_assert(sizeof(atomic_int) == sizeof(int), "the futex word is an int");

int sigcatch_mask_wait(int answered, long long ns) { return sys_futex_await((int *)&mask_acks, answered, ns); }

/* mask_request touches no errno; sigcatch_deliver keeps it. */
static void on_signal(int sig, siginfo_t *info, void *uctx) {
  if (!mask_request(info, uctx)) sigcatch_deliver(sig, info);
}

void sigcatch_deliver(int sig, const siginfo_t *info) {
  int saved = errno;
  /* A SIGPIPE or SIGXFSZ the kernel raised because tsinit itself wrote (its
   * log on a vanished stderr, or past `ulimit -f` on a file) is tsinit's own
   * business, not a message for the command: send_sig() marks it SI_USER from
   * tsinit's own pid. */
  if ((sig == SIGPIPE || sig == SIGXFSZ) && info != NULL && info->si_code == SI_USER && info->si_pid == getpid()) {
    errno = saved;
    return;
  }
  if (sig <= 0 || sig >= TSINIT_NSIG) {
    errno = saved;
    return;
  }
  int status = -1;
  int notify = 1;
  if (sig == SIGCHLD) atomic_store(&child_event, 1);
  /* seq_cst: the increment is ordered before the load, against the reaper's
   * store of a new route followed by its read of in_flight (quiesce()). */
  atomic_fetch_add(&in_flight, 1);
  const struct sigcatch_route *r = atomic_load(&route);
  if (r != NULL) {
    notify = r->notify[sig];
    int to = r->to[sig];
    /* Records JavaScript has still to forward arrived first: queue behind them. */
    if (to > 0 && atomic_load(&pending) == 0 && !atomic_load(&reaping) && !(atomic_load(&child_event) && exited(r->pid))) {
      status = kill(r->target, to) == 0 ? 0 : errno;
      /* A failure is worth a warning, except the group being gone already. */
      if (status != 0 && status != ESRCH) notify = 1;
    } else if (to > 0) {
      notify = 1;
    }
  }
  atomic_fetch_sub(&in_flight, 1);
  if (notify && sig == SIGCHLD && atomic_exchange(&child_unread, 1)) notify = 0;
  if (notify) {
    if (status < 0 && sig != SIGCHLD) atomic_fetch_add(&pending, 1);
    unsigned char rec[2] = {(unsigned char)sig, status < 0 ? UNFORWARDED : (unsigned char)status};
    ssize_t w;
    /* Two bytes, under PIPE_BUF: written whole or not at all (man 7 pipe). */
    do w = write(pipe_w, rec, sizeof rec);
    while (w < 0 && errno == EINTR);
    if (w < 0) atomic_fetch_add(status < 0 ? &lost[sig] : &lost_forwarded[sig], 1);
  }
  errno = saved;
}

/* Real-time signals sigaction refused (sigcatch_install). Main thread only. */
static unsigned char refused[TSINIT_NSIG];

int sigcatch_install(const int *sigs, int n) {
  if (pipe_r < 0) {
    int p[2];
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) return -errno;
    pipe_r = p[0];
    pipe_w = p[1];
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_signal;
  /* SA_RESTART: tsinit's own syscalls are not interrupted by the signals it
   * forwards. The full mask keeps handlers from nesting on one thread. */
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigfillset(&sa.sa_mask);
  for (int i = 0; i < n; i++) {
    if (sigaction(sigs[i], &sa, NULL) == 0) continue;
    if (errno != EINVAL || sigs[i] < SIGRTMIN || sigs[i] > SIGRTMAX) return -errno;
    refused[sigs[i]] = 1;
  }
  return pipe_r;
}

int sigcatch_refused(int sig) { return sig > 0 && sig < TSINIT_NSIG && refused[sig]; }

int sigcatch_ignore(const int *sigs, int n) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_IGN;
  for (int i = 0; i < n; i++)
    if (sigaction(sigs[i], &sa, NULL) < 0) return -errno;
  return 0;
}

/* Waits until no handler still holds a route it loaded before the last
 * store: a handler is a few instructions and one kill(2), so this spins
 * briefly, and only on another thread's handler (one on this thread has
 * returned before this loop goes on). */
static void quiesce(void) {
  while (atomic_load(&in_flight) != 0) sched_yield();
}

void sigcatch_route_set(const struct sigcatch_route *r) {
  struct sigcatch_route *next = NULL;
  if (r != NULL) {
    next = &tables[spare];
    *next = *r;
    spare ^= 1;
  }
  atomic_store(&route, next);
  quiesce();
}

/* seq_cst, as in the handler: a handler either sees reaping set, or has
 * incremented in_flight before quiesce() reads it and is waited for. */
void sigcatch_reap_begin(void) {
  atomic_store(&reaping, 1);
  quiesce();
}

void sigcatch_reap_end(void) { atomic_store(&reaping, 0); }

void sigcatch_child_event_seen(void) {
  atomic_store(&child_unread, 0);
  atomic_store(&child_event, 0);
}

pid_t sigcatch_routed_pid(void) {
  const struct sigcatch_route *r = atomic_load_explicit(&route, memory_order_relaxed);
  return r == NULL ? 0 : r->pid;
}

int sigcatch_read(struct sigcatch_record *out, int max) {
  if (pipe_r < 0) return -EBADF;
  unsigned char buf[2 * 256];
  if (max > 256) max = 256;
  ssize_t r;
  do r = read(pipe_r, buf, 2 * (size_t)max);
  while (r < 0 && errno == EINTR);
  if (r < 0) return errno == EAGAIN ? 0 : -errno;
  /* Every write is one whole record, so every read is whole records. */
  int n = (int)r / 2;
  for (int i = 0; i < n; i++) {
    out[i].sig = buf[2 * i];
    out[i].status = buf[2 * i + 1] == UNFORWARDED ? -1 : buf[2 * i + 1];
  }
  return n;
}

int sigcatch_take_overflow(unsigned *out, unsigned *out_forwarded) {
  int total = 0;
  for (int i = 0; i < TSINIT_NSIG; i++) {
    out[i] = atomic_exchange_explicit(&lost[i], 0, memory_order_relaxed);
    out_forwarded[i] = atomic_exchange_explicit(&lost_forwarded[i], 0, memory_order_relaxed);
    total += (int)(out[i] + out_forwarded[i]);
  }
  return total;
}

void sigcatch_done(int n) {
  if (n > 0) atomic_fetch_sub(&pending, n);
}
