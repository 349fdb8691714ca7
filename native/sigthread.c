/* The signal thread: what a C init does (tini's sigtimedwait, dumb-init's
 * sigwait), inside Node. Every thread blocks the caught signals and one
 * thread of tsinit's own waits for them in sigwaitinfo(2), so a signal costs a
 * wake-up, the kill(2) and the next wait, with no handler frame, no
 * rt_sigreturn and no system call restarted on an interrupted thread; and it
 * is forwarded whatever the event loop is doing, as from the handler.
 *
 * Node's threads exist before the addon loads and node's start-up resets the
 * mask they were born with, so each is asked, through the handler, to block
 * the set itself (sigcatch_mask_request); /proc/self/task/N/status is read
 * before and after, so the result is the kernel's word, not an assumption.
 * Where any of this cannot be done, the handler keeps taking the signals, as
 * before: the thread only makes forwarding cheaper, never different. */
#define _GNU_SOURCE
#include "sigthread.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sigcatch.h"
#include "sys.h"

/* The prebuilds load on glibc 2.28 and later (scripts/prebuild.sh): glibc
 * 2.34 moved pthread_create into libc under a new version, so it is bound
 * to the version every glibc has (in libpthread before 2.34, which node
 * loads there). Only pthread_create: the thread is named with prctl, and
 * neither detached nor sized (it never ends; its stack is touched a page or
 * two deep). */
#if defined(__GLIBC__) && defined(__x86_64__)
__asm__(".symver pthread_create, pthread_create@GLIBC_2.2.5");
#elif defined(__GLIBC__) && defined(__aarch64__)
__asm__(".symver pthread_create, pthread_create@GLIBC_2.17");
#endif

static sigset_t caught;
static atomic_int taker = 0;

static void *take(void *arg) {
  (void)arg;
  /* Nothing is ever delivered to this thread: it only waits. (glibc keeps
   * its own SIGCANCEL and SIGSETXID out of any mask, so a setresuid(2) on
   * the main thread still changes this thread's ids too.) */
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  prctl(PR_SET_NAME, (unsigned long)"tsinit-signals", 0UL, 0UL, 0UL);
  atomic_store(&taker, (int)syscall(SYS_gettid));
  sys_futex_wake((int *)&taker);
  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&caught, &si);
    if (sig > 0) sigcatch_deliver(sig, &si);
  }
  return NULL;
}

/* Thread tid's blocked signals (bit sig-1), from its status; -1 if it has
 * gone or /proc cannot tell. */
static int blocked(pid_t tid, uint64_t *out) {
  char path[64], buf[8192];
  snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)tid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  const char *p = strstr(buf, "\nSigBlk:");
  if (p == NULL) return -1;
  *out = strtoull(p + 8, NULL, 16);
  return 0;
}

/* Calls fn for each thread of this process; the count, or -1. */
static int each_thread(void (*fn)(pid_t tid, void *ctx), void *ctx) {
  DIR *d = opendir("/proc/self/task");
  if (d == NULL) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    n++;
    if (fn != NULL) fn((pid_t)atoi(e->d_name), ctx);
  }
  closedir(d);
  return n;
}

struct pass {
  uint64_t want;
  pid_t skip[2];
  int cookie;
  int sent;
  int unknown;
};

/* One thread that does not block the whole set yet is asked to, with one of
 * the caught signals it does not block (a real-time one where it can, since
 * those queue and a pending standard signal would swallow the request). */
static void ask(pid_t tid, void *ctx) {
  struct pass *p = ctx;
  if (tid == p->skip[0] || tid == p->skip[1]) return;
  uint64_t blk;
  if (blocked(tid, &blk) < 0) {
    p->unknown++;
    return;
  }
  uint64_t open = p->want & ~blk;
  if (open == 0) return;
  int sig = 64 - __builtin_clzll(open);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  si.si_signo = sig;
  si.si_code = SI_QUEUE;
  si.si_pid = getpid();
  si.si_uid = getuid();
  si.si_value.sival_int = p->cookie;
  if (syscall(SYS_rt_tgsigqueueinfo, getpid(), tid, sig, &si) == 0) p->sent++;
}

/* Until a pass finds every thread blocking the set: each pass asks, then
 * sleeps until the answers are in (a handler each, each waking it; 1 s at
 * most). 0 when done. */
static int block_everywhere(uint64_t want, pid_t self, pid_t mine) {
  struct pass p = {want, {self, mine}, (int)(sys_monotonic_ns() | 1), 0, 0};
  if (p.cookie < 0) p.cookie = -p.cookie;
  sigcatch_mask_request(&caught, p.cookie);
  int answered = 0;
  for (int round = 0; round < 8; round++) {
    p.sent = 0;
    p.unknown = 0;
    if (each_thread(ask, &p) < 0 || p.unknown > 0) return -1;
    if (p.sent == 0) return 0;
    answered += p.sent;
    if (!sigcatch_mask_wait(answered, 1000000000LL)) return -1;
  }
  return -1;
}

pid_t sigthread_start(const int *sigs, int n) {
  sigemptyset(&caught);
  uint64_t want = 0;
  for (int i = 0; i < n; i++) {
    if (sigs[i] < 1 || sigs[i] > 64) continue;
    sigaddset(&caught, sigs[i]);
    want |= 1ULL << (sigs[i] - 1);
  }
  int threads = each_thread(NULL, NULL);
  if (threads < 1 || threads >= SIGTHREAD_MAX_THREADS) goto handler;
  /* The thread is born with the set blocked, as this thread now has it. */
  pthread_sigmask(SIG_BLOCK, &caught, NULL);
  pthread_t t;
  if (pthread_create(&t, NULL, take, NULL) != 0) goto handler;
  /* Woken by the thread once it has its id (1 s at most). */
  sys_futex_await((int *)&taker, 1, 1000000000LL);
  pid_t mine = (pid_t)atomic_load(&taker);
  if (mine == 0) goto handler;
  /* A thread left out (it would not answer) still takes signals through the
   * handler, as all did before: slower, not wrong. */
  block_everywhere(want, (pid_t)syscall(SYS_gettid), mine);
  return mine;

handler:
  pthread_sigmask(SIG_UNBLOCK, &caught, NULL);
  return 0;
}
