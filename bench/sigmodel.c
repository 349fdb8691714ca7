/* The floor of each way an init can forward a signal, in plain C on this
 * machine (issue 11's question: is tsinit's CPU per forwarded signal the
 * cost of Node, or of its design?). Three "inits", each forwarding SIGUSR1 to
 * a process group with kill(2):
 *   handler: a SA_SIGINFO handler calls kill() while the main thread sleeps
 *            in epoll_wait, as tsinit's handler does where node leaves no
 *            room for the signal thread (native/sigcatch.c);
 *   wait:    the signal blocked, sigtimedwait() + kill() in a loop, as
 *            dumb-init and tini do, and as tsinit's signal thread does
 *            (native/sigthread.c);
 *   signalfd: the signal blocked and read from a signalfd that epoll_wait
 *            watches, until it is empty, as an event-loop callback would
 *            (the design tsinit's signal thread was chosen over).
 * Each gets N signals 0.5 ms apart; its CPU time comes from
 * /proc/PID/schedstat (ns on CPU). They take turns, R rounds; medians.
 * Build and run: cc -O2 -o /tmp/sigmodel bench/sigmodel.c && /tmp/sigmodel [R] */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N 2000

static pid_t group;

static void forward(int sig, siginfo_t *info, void *uctx) {
  (void)info;
  (void)uctx;
  kill(-group, sig);
}

static unsigned long long cpu_ns(pid_t pid) {
  char path[64];
  unsigned long long ns = 0;
  snprintf(path, sizeof path, "/proc/%d/schedstat", (int)pid);
  FILE *f = fopen(path, "r");
  if (f != NULL) {
    if (fscanf(f, "%llu", &ns) != 1) ns = 0;
    fclose(f);
  }
  return ns;
}

static void run_handler(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = forward;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigfillset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, NULL);
  int ep = epoll_create1(0);
  struct epoll_event ev[8];
  for (;;) epoll_wait(ep, ev, 8, -1);
}

static void run_wait(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, NULL);
  struct timespec t = {1, 0};
  for (;;) {
    int sig = sigtimedwait(&set, NULL, &t);
    if (sig > 0) kill(-group, sig);
  }
}

static void run_signalfd(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, NULL);
  int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  int ep = epoll_create1(0);
  struct epoll_event e = {.events = EPOLLIN, .data.fd = fd};
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
  struct epoll_event ev[8];
  struct signalfd_siginfo si[16];
  for (;;) {
    if (epoll_wait(ep, ev, 8, -1) <= 0) continue;
    ssize_t r;
    while ((r = read(fd, si, sizeof si)) > 0)
      for (size_t i = 0; i < (size_t)r / sizeof si[0]; i++) kill(-group, (int)si[i].ssi_signo);
  }
}

enum kind { HANDLER, WAIT, SIGNALFD };

/* CPU per forwarded signal, in µs, of one init of the given kind. */
static double measure(enum kind kind) {
  pid_t init = fork();
  if (init == 0) {
    if (kind == HANDLER) run_handler();
    if (kind == WAIT) run_wait();
    run_signalfd();
  }
  usleep(100000);
  unsigned long long c0 = cpu_ns(init);
  for (int i = 0; i < N; i++) {
    kill(init, SIGUSR1);
    usleep(500);
  }
  usleep(20000);
  unsigned long long c1 = cpu_ns(init);
  kill(init, SIGKILL);
  waitpid(init, NULL, 0);
  return (double)(c1 - c0) / 1e3 / N;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 7;
  if (rounds < 1 || rounds > 100) rounds = 7;
  group = fork();
  if (group == 0) {
    setpgid(0, 0);
    signal(SIGUSR1, SIG_IGN);
    for (;;) pause();
  }
  setpgid(group, group);
  double h[100], w[100], f[100];
  for (int r = 0; r < rounds; r++) {
    h[r] = measure(HANDLER);
    w[r] = measure(WAIT);
    f[r] = measure(SIGNALFD);
  }
  qsort(h, (size_t)rounds, sizeof *h, cmp);
  qsort(w, (size_t)rounds, sizeof *w, cmp);
  qsort(f, (size_t)rounds, sizeof *f, cmp);
  double hm = h[rounds / 2], wm = w[rounds / 2], fm = f[rounds / 2];
  printf("CPU per forwarded signal, median of %d rounds of %d: handler + epoll_wait %.2f us (%.2fx), sigtimedwait %.2f us, signalfd + epoll_wait %.2f us (%.2fx)\n",
         rounds, N, hm, hm / wm, wm, fm, fm / wm);
  kill(group, SIGKILL);
  waitpid(group, NULL, 0);
  return 0;
}
