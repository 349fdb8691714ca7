/* The service the supervision bench (bench/services.mjs) runs under every
 * supervisor. It keeps its own CLOCK_MONOTONIC and appends one line per event
 * to a log file (O_APPEND, one write per line, so instances never mix):
 *
 *   svc flap LOG MS    "S <ns>" at the top of main, sleeps MS, "E <ns>" right
 *                      before _exit(0): the supervisor restarts it, and the
 *                      next "S" minus this "E" is the restart latency
 *   svc term LOG MS    catches SIGTERM and SIGINT (pm2 stops with SIGINT),
 *                      "T <ns>" when one arrives, then MS of clean-up, then
 *                      "X <ns>" and _exit(0)
 *
 * With no arguments or one (s6: ./run is a symlink to this program, so no
 * shell sits between s6-supervise and the clock; s6-supervise passes the
 * service's name), the arguments are read from ./svc.args, one a line. Built statically so its exec costs the same everywhere. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int log_fd = -1;
static void stamp(char what, int64_t t) {
  char b[48];
  int n = snprintf(b, sizeof b, "%c %lld %d\n", what, (long long)t, (int)getpid());
  (void)!write(log_fd, b, (size_t)n);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

static volatile sig_atomic_t stop_at;
static void on_stop(int sig) {
  (void)sig;
  if (!stop_at) stop_at = 1;
}

int main(int argc, char **argv) {
  int64_t t0 = now_ns();
  char *args[4] = {0};
  static char buf[4096];
  if (argc <= 2) {
    int fd = open("svc.args", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (n <= 0) return 2;
    buf[n] = 0;
    char *save = NULL;
    argc = 1;
    for (char *tok = strtok_r(buf, "\n", &save); tok && argc < 4; tok = strtok_r(NULL, "\n", &save)) args[argc++] = tok;
    argv = args;
  }
  if (argc != 4) return 2;
  log_fd = open(argv[2], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (log_fd < 0) return 3;
  long ms = atol(argv[3]);

  if (!strcmp(argv[1], "flap")) {
    stamp('S', t0);
    sleep_ms(ms);
    stamp('E', now_ns());
    _exit(0);
  }

  if (!strcmp(argv[1], "term")) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &all, NULL);
    while (!stop_at) sigsuspend(&none);
    stamp('T', now_ns());
    sleep_ms(ms); /* the clean-up */
    stamp('X', now_ns());
    _exit(0);
  }
  return 2;
}
