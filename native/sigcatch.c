/* Catching signals into a self-pipe (the classic trick, as in libuv's
 * uv__signal_handler). The handler only writes the signal number; the event
 * loop reads the pipe and decides what to do. This is how tsinit receives the
 * real-time signals, which Node's process.on() cannot listen to, and how it
 * replaces Node's own SIGUSR1 handler (which would open the inspector). */
#define _GNU_SOURCE
#include "sigcatch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static int pipe_r = -1;
static int pipe_w = -1;
static volatile unsigned overflow[65];

static void on_signal(int sig, siginfo_t *info, void *uctx) {
  (void)uctx;
  int saved = errno;
  /* A SIGPIPE the kernel raised because tsinit itself wrote to a closed pipe
   * (for example its log on a vanished stderr) is tsinit's own business, not
   * a message for the command. */
  if (sig == SIGPIPE && info != NULL && info->si_code == SI_USER && info->si_pid == getpid()) {
    errno = saved;
    return;
  }
  unsigned char b = (unsigned char)sig;
  ssize_t r;
  do r = write(pipe_w, &b, 1);
  while (r < 0 && errno == EINTR);
  if (r < 0 && sig > 0 && sig < 65) __atomic_add_fetch(&overflow[sig], 1, __ATOMIC_RELAXED);
  errno = saved;
}

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
   * forwards. The full mask keeps handlers from nesting. */
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigfillset(&sa.sa_mask);
  for (int i = 0; i < n; i++)
    if (sigaction(sigs[i], &sa, NULL) < 0) return -errno;
  return pipe_r;
}

int sigcatch_ignore(const int *sigs, int n) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_IGN;
  for (int i = 0; i < n; i++)
    if (sigaction(sigs[i], &sa, NULL) < 0) return -errno;
  return 0;
}

int sigcatch_read(unsigned char *out, int max) {
  if (pipe_r < 0) return -EBADF;
  ssize_t r;
  do r = read(pipe_r, out, (size_t)max);
  while (r < 0 && errno == EINTR);
  if (r < 0) return errno == EAGAIN ? 0 : -errno;
  return (int)r;
}

int sigcatch_take_overflow(unsigned *out) {
  int lost = 0;
  for (int i = 0; i < 65; i++) {
    out[i] = __atomic_exchange_n(&overflow[i], 0, __ATOMIC_RELAXED);
    lost += (int)out[i];
  }
  return lost;
}
