/* The command each init runs in the benchmark. It keeps its own clock: every
 * time it reports is CLOCK_MONOTONIC, read by itself, written into a shared
 * page (SHM, an mmap'd file under /dev/shm that the launcher also maps).
 *
 *   child first SHM                 slot 0 = time at the top of main, exit 0
 *   child exit SHM DELAY_MS STATUS  sleep, slot 0 = time right before _exit(STATUS)
 *   child work SHM CMD OUT SIG      idle until told what to do:
 *       - a handler for SIG writes its CLOCK_MONOTONIC (8 bytes) to the FIFO OUT
 *       - one byte 'o' on the FIFO CMD makes N orphans (N = slot 2) in bursts
 *         of at most slot 3: a leader forks that many children that _exit at
 *         once, then exits without waiting, so they all re-parent to the init
 *       - EOF or 'q' on CMD: exit 0
 *   child pause                     sleep until killed (at most 60 s)
 *
 * Built statically so its exec costs the same under every init. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shm.h"

static inline int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static volatile int64_t *map_shm(const char *path) {
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) _exit(90);
  void *p = mmap(NULL, SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) _exit(91);
  close(fd);
  return (volatile int64_t *)p;
}

static int out_fd = -1;

static void on_signal(int sig) {
  (void)sig;
  int64_t t = now_ns();
  int saved = errno;
  (void)!write(out_fd, &t, sizeof t);
  errno = saved;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

static void make_orphans(volatile int64_t *sh) {
  int64_t n = sh[S_ORPH_N], burst = sh[S_ORPH_BURST], made = 0;
  sh[S_ORPH_FIRST] = 0;
  sh[S_ORPH_RETRIES] = 0;
  sh[S_ORPH_START] = now_ns();
  while (made < n) {
    int64_t want = n - made < burst ? n - made : burst;
    sh[S_ORPH_LEADER_MADE] = 0;
    pid_t leader = fork();
    if (leader == 0) {
      int64_t k = 0;
      for (; k < want; k++) {
        pid_t c = vfork();
        if (c == 0) _exit(0);
        if (c < 0) {
          __atomic_add_fetch(&sh[S_ORPH_RETRIES], 1, __ATOMIC_RELAXED);
          break;
        }
      }
      sh[S_ORPH_LEADER_MADE] = k;
      if (sh[S_ORPH_FIRST] == 0) sh[S_ORPH_FIRST] = now_ns();
      _exit(0); /* its k zombies re-parent to the init now */
    }
    if (leader < 0) {
      __atomic_add_fetch(&sh[S_ORPH_RETRIES], 1, __ATOMIC_RELAXED);
      sleep_ms(1);
      continue;
    }
    while (waitpid(leader, NULL, 0) < 0 && errno == EINTR) {
    }
    made += sh[S_ORPH_LEADER_MADE];
    if (sh[S_ORPH_LEADER_MADE] < want) sleep_ms(1); /* out of pids: the init is behind */
  }
  sh[S_ORPH_END] = now_ns();
  sh[S_ORPH_MADE] = made;
  __atomic_store_n(&sh[S_ORPH_DONE], 1, __ATOMIC_SEQ_CST);
}

int main(int argc, char **argv) {
  int64_t t0 = now_ns();
  if (argc < 2) return 2;
  const char *mode = argv[1];

  if (!strcmp(mode, "first") && argc == 3) {
    volatile int64_t *sh = map_shm(argv[2]);
    sh[S_STAMP] = t0;
    _exit(0);
  }

  if (!strcmp(mode, "exit") && argc == 5) {
    volatile int64_t *sh = map_shm(argv[2]);
    int status = atoi(argv[4]);
    sleep_ms(atol(argv[3]));
    sh[S_STAMP] = now_ns();
    _exit(status);
  }

  if (!strcmp(mode, "pause")) {
    alarm(60);
    for (;;) pause();
  }

  if (!strcmp(mode, "work") && argc == 6) {
    volatile int64_t *sh = map_shm(argv[2]);
    out_fd = open(argv[4], O_WRONLY | O_CLOEXEC);
    if (out_fd < 0) _exit(92);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    if (sigaction(atoi(argv[5]), &sa, NULL) < 0) _exit(93);
    int cmd_fd = open(argv[3], O_RDONLY | O_CLOEXEC);
    if (cmd_fd < 0) _exit(94);
    int64_t ready = -1;
    (void)!write(out_fd, &ready, sizeof ready);
    for (;;) {
      char c;
      ssize_t r = read(cmd_fd, &c, 1);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0 || c == 'q') _exit(0);
      if (c == 'o') make_orphans(sh);
    }
  }
  return 2;
}
