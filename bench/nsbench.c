/* nsbench: runs an init as PID 1 of a fresh PID namespace and measures it.
 *
 *   nsbench MODE key=value... -- INIT ARGS...
 *
 * It does what `unshare --pid --fork --mount-proc INIT ARGS...` does: clone
 * with CLONE_NEWPID|CLONE_NEWNS, make the mounts private, mount a fresh /proc
 * in the child, exec. Doing it itself makes the init its direct child, so it
 * knows the init's pid, can timestamp the exec (CLOCK_MONOTONIC, stored in a
 * shared page just before execv) and waits for the init itself, with no
 * unshare process relaying the exit in between.
 *
 * Results are one JSON document on stdout; raw /proc texts are passed through
 * for the caller (bench/run.mjs) to parse. Every mode is bounded by alarm():
 * on timeout the init (and with it its whole namespace) is SIGKILLed.
 *
 * Modes (times in ns):
 *   run     reps=N shm=F            wall time, exec time, child's stamp, status
 *   blind   reps=N mask=15,40,64 [poll=US]
 *                                   exec → every signal in mask caught or blocked
 *                                   (polls /proc/PID/status SigCgt|SigBlk)
 *   idle    shm cmd out settle=MS window=MS [ready=1]
 *                                   memory snapshot, then CPU and context switches
 *   orphans shm cmd out settle n= burst= sample=US
 *                                   orphans made by the child, reaped by the init
 *   signals shm cmd out settle n= gap=US sig=N
 *                                   kill(init) → child's handler latency
 *   soak    shm cmd out settle orphans= burst= signals= sig=N
 *   hold                            for bench/services.mjs: prints the init's pid,
 *                                   then waits for a line on stdin: "t" sends
 *                                   SIGTERM and reports term → init reaped;
 *                                   EOF kills the init
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shm.h"

static inline int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "nsbench: %s: %s\n", what, strerror(errno));
  exit(2);
}

/* ---- options ---- */
static int nopts;
static char **opts;
static const char *opt(const char *key, const char *dflt) {
  size_t k = strlen(key);
  for (int i = 0; i < nopts; i++)
    if (!strncmp(opts[i], key, k) && opts[i][k] == '=') return opts[i] + k + 1;
  return dflt;
}
static long long optn(const char *key, long long dflt) {
  const char *v = opt(key, NULL);
  return v ? atoll(v) : dflt;
}

/* ---- timeouts ---- */
static volatile pid_t g_init = -1;
static void on_alarm(int sig) {
  (void)sig;
  if (g_init > 0) kill(g_init, SIGKILL);
  static const char m[] = "nsbench: timeout, init killed\n";
  (void)!write(2, m, sizeof m - 1);
  _exit(3);
}

/* ---- spawning the init ---- */
struct pre { volatile int64_t t_exec; };
static struct pre *pre;
static char **init_argv;
static char child_stack[256 * 1024] __attribute__((aligned(16)));

static int init_main(void *arg) {
  (void)arg;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigaction(SIGALRM, &dfl, NULL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) _exit(120);
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) _exit(121);
  int fd = open("/dev/null", O_RDWR);
  if (fd >= 0) {
    dup2(fd, 0);
    dup2(fd, 1);
    if (fd > 2) close(fd);
  }
  pre->t_exec = now_ns();
  execv(init_argv[0], init_argv);
  _exit(127);
}

static pid_t spawn_init(void) {
  pre->t_exec = 0;
  pid_t pid = clone(init_main, child_stack + sizeof child_stack, CLONE_NEWPID | CLONE_NEWNS | SIGCHLD, NULL);
  if (pid < 0) die("clone(CLONE_NEWPID|CLONE_NEWNS) (needs root)");
  g_init = pid;
  return pid;
}

static int wait_init(pid_t pid) {
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) die("waitpid");
  g_init = -1;
  return st;
}

static int kill_init(pid_t pid) {
  kill(pid, SIGKILL);
  return wait_init(pid);
}

/* ---- /proc helpers ---- */
static char *slurp(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t cap = 65536, n = 0;
  char *b = malloc(cap);
  for (;;) {
    if (n + 4096 > cap) b = realloc(b, cap *= 2);
    ssize_t r = read(fd, b + n, cap - n - 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
  }
  close(fd);
  b[n] = 0;
  if (len) *len = n;
  return b;
}

static void json_str(const char *s) {
  putchar('"');
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c == '\n') fputs("\\n", stdout);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

static void json_file(const char *key, const char *path) {
  char *b = slurp(path, NULL);
  printf("\"%s\":", key);
  json_str(b ? b : "");
  free(b);
}

static int tids_of(pid_t pid, int *out, int max) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/task", pid);
  DIR *d = opendir(p);
  if (!d) return 0;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < max)
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') out[n++] = atoi(e->d_name);
  closedir(d);
  return n;
}

static int64_t cpu_ns(clockid_t clk) {
  struct timespec t;
  if (clock_gettime(clk, &t) < 0) return -1;
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static clockid_t cpu_clock(pid_t pid) {
  clockid_t c;
  if (clock_getcpuclockid(pid, &c) != 0) die("clock_getcpuclockid");
  return c;
}

/* utime+stime in clock ticks, from /proc/PID/stat (the whole process). */
static long long stat_ticks(pid_t pid) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/stat", pid);
  char *b = slurp(p, NULL);
  if (!b) return -1;
  char *s = strrchr(b, ')');
  long long ut = 0, st = 0;
  /* after ") ": state(3) ... utime(14) stime(15) */
  if (s) sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lld %lld", &ut, &st);
  free(b);
  return ut + st;
}

/* voluntary+nonvoluntary context switches summed over the init's threads. */
static long long ctx_switches(pid_t pid) {
  int tids[256];
  int n = tids_of(pid, tids, 256);
  long long sum = 0;
  for (int i = 0; i < n; i++) {
    char p[96];
    snprintf(p, sizeof p, "/proc/%d/task/%d/status", pid, tids[i]);
    char *b = slurp(p, NULL);
    if (!b) continue;
    char *v = strstr(b, "\nvoluntary_ctxt_switches:");
    char *nv = strstr(b, "\nnonvoluntary_ctxt_switches:");
    if (v) sum += atoll(v + 25);
    if (nv) sum += atoll(nv + 28);
    free(b);
  }
  return sum;
}

/* Per-thread snapshot: comm, wchan, status. */
static void json_threads(pid_t pid) {
  int tids[256];
  int n = tids_of(pid, tids, 256);
  printf("\"threads\":[");
  for (int i = 0; i < n; i++) {
    char p[96];
    printf("%s{\"tid\":%d,", i ? "," : "", tids[i]);
    snprintf(p, sizeof p, "/proc/%d/task/%d/comm", pid, tids[i]);
    json_file("comm", p);
    putchar(',');
    snprintf(p, sizeof p, "/proc/%d/task/%d/wchan", pid, tids[i]);
    json_file("wchan", p);
    putchar(',');
    snprintf(p, sizeof p, "/proc/%d/task/%d/status", pid, tids[i]);
    json_file("status", p);
    putchar('}');
  }
  putchar(']');
}

static void json_memory(pid_t pid, const char *key, int with_smaps) {
  char p[64];
  printf("\"%s\":{", key);
  snprintf(p, sizeof p, "/proc/%d/status", pid);
  json_file("status", p);
  putchar(',');
  snprintf(p, sizeof p, "/proc/%d/smaps_rollup", pid);
  json_file("smaps_rollup", p);
  if (with_smaps) {
    putchar(',');
    snprintf(p, sizeof p, "/proc/%d/smaps", pid);
    json_file("smaps", p);
  }
  putchar('}');
}

/* Children of the init, zombies included, counted over all its threads. */
struct kids {
  int n;
  int fd[256];
  char *buf;
  size_t cap;
};
static void kids_open(struct kids *k, pid_t pid) {
  int tids[256];
  k->n = tids_of(pid, tids, 256);
  for (int i = 0; i < k->n; i++) {
    char p[96];
    snprintf(p, sizeof p, "/proc/%d/task/%d/children", pid, tids[i]);
    k->fd[i] = open(p, O_RDONLY | O_CLOEXEC);
  }
  k->cap = 1 << 20;
  k->buf = malloc(k->cap);
}
static long kids_count(struct kids *k) {
  long total = 0;
  for (int i = 0; i < k->n; i++) {
    if (k->fd[i] < 0) continue;
    size_t off = 0;
    for (;;) {
      ssize_t r = pread(k->fd[i], k->buf, k->cap, (off_t)off);
      if (r <= 0) break;
      for (ssize_t j = 0; j < r; j++) total += k->buf[j] == ' ';
      off += (size_t)r;
    }
  }
  return total; /* one trailing space per pid */
}
static void kids_close(struct kids *k) {
  for (int i = 0; i < k->n; i++)
    if (k->fd[i] >= 0) close(k->fd[i]);
  free(k->buf);
}

static void sleep_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

/* ---- shared page, FIFOs ---- */
static volatile int64_t *shm;
static void map_shm(void) {
  const char *path = opt("shm", NULL);
  if (!path) return;
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) die("open shm");
  if (ftruncate(fd, SHM_SIZE) < 0) die("ftruncate shm");
  void *p = mmap(NULL, SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) die("mmap shm");
  close(fd);
  shm = (volatile int64_t *)p;
}
static void shm_clear(void) {
  if (shm) memset((void *)shm, 0, SHM_SIZE);
}

static int cmd_fd = -1, out_fd = -1;
static void open_fifos(void) {
  const char *c = opt("cmd", NULL), *o = opt("out", NULL);
  if (!c || !o) return;
  if ((mkfifo(c, 0600) < 0 && errno != EEXIST) || (mkfifo(o, 0600) < 0 && errno != EEXIST)) die("mkfifo");
  /* O_RDWR: never blocks, and keeps both ends open for the child's opens. */
  if ((cmd_fd = open(c, O_RDWR | O_CLOEXEC)) < 0) die("open cmd fifo");
  if ((out_fd = open(o, O_RDWR | O_CLOEXEC)) < 0) die("open out fifo");
}
static int64_t read_out(void) {
  int64_t v;
  size_t got = 0;
  while (got < sizeof v) {
    ssize_t r = read(out_fd, (char *)&v + got, sizeof v - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) die("read out fifo");
    got += (size_t)r;
  }
  return v;
}
static void send_cmd(char c) {
  if (write(cmd_fd, &c, 1) != 1) die("write cmd fifo");
}

/* ---- modes ---- */
static void mode_run(void) {
  long reps = optn("reps", 1);
  printf("{\"runs\":[");
  for (long i = 0; i < reps; i++) {
    shm_clear();
    int64_t t0 = now_ns();
    pid_t pid = spawn_init();
    int st = wait_init(pid);
    int64_t t1 = now_ns();
    printf("%s{\"start\":%lld,\"exec\":%lld,\"end\":%lld,\"status\":%d,\"stamp\":%lld}", i ? "," : "", (long long)t0,
           (long long)pre->t_exec, (long long)t1, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
           (long long)(shm ? shm[S_STAMP] : 0));
  }
  printf("]}\n");
}

static int parse_mask_line(const char *b, const char *key, unsigned long long *out) {
  const char *p = strstr(b, key);
  if (!p) return -1;
  *out = strtoull(p + strlen(key), NULL, 16);
  return 0;
}

/* The set an init is waiting for in rt_sigtimedwait (sigwait, sigtimedwait):
 * while it waits, the kernel takes those signals out of its blocked mask, so
 * SigBlk alone would miss tini and dumb-init most of the time. Read the set
 * from the first syscall argument, in the init's own memory. */
static unsigned long long sigwait_set(pid_t pid, int sys_fd) {
  char b[512];
  ssize_t r = pread(sys_fd, b, sizeof b - 1, 0);
  if (r <= 0) return 0;
  b[r] = 0;
  long nr;
  unsigned long long addr;
  if (sscanf(b, "%ld 0x%llx", &nr, &addr) != 2 || nr != SYS_rt_sigtimedwait) return 0;
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/mem", pid);
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  unsigned long long set = 0;
  if (pread(fd, &set, sizeof set, (off_t)addr) != (ssize_t)sizeof set) set = 0;
  close(fd);
  return set;
}

/* How long a block of the measured signals must last to count as handled. */
#define BLOCK_STABLE_NS 2000000LL

static void mode_blind(void) {
  long reps = optn("reps", 1);
  unsigned long long mask = 0;
  char *m = strdup(opt("mask", "15"));
  for (char *t = strtok(m, ","); t; t = strtok(NULL, ",")) mask |= 1ULL << (atoi(t) - 1);
  free(m);
  long spin_us = optn("poll", 100);
  char buf[4096];
  printf("{\"runs\":[");
  for (long i = 0; i < reps; i++) {
    pid_t pid = spawn_init();
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/status", pid);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    snprintf(p, sizeof p, "/proc/%d/syscall", pid);
    int sys_fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || sys_fd < 0) die("open /proc/PID/status or syscall");
    int64_t t = 0, since = 0;
    long polls = 0, transient = 0;
    const char *how = "none";
    for (;;) {
      ssize_t r = pread(fd, buf, sizeof buf - 1, 0);
      if (r <= 0) break;
      buf[r] = 0;
      polls++;
      if (pre->t_exec == 0) continue;
      unsigned long long blk = 0, cgt = 0;
      if (parse_mask_line(buf, "\nSigBlk:\t", &blk) < 0 || parse_mask_line(buf, "\nSigCgt:\t", &cgt) < 0) break;
      int64_t now = now_ns();
      if ((cgt & mask) == mask) {
        t = now;
        how = "caught";
        break;
      }
      /* Blocking counts only once it has lasted BLOCK_STABLE_NS: node blocks
       * every signal for a moment around each pthread_create of its own
       * start-up, which is no handler in place. The window ends where the
       * lasting block began. */
      if (((blk | cgt) & mask) == mask) {
        if (!since) since = now;
        if (now - since >= BLOCK_STABLE_NS) {
          t = since;
          how = (blk & mask) == mask ? "blocked" : "caught+blocked";
          break;
        }
      } else if (since) {
        since = 0;
        transient++;
      }
      if (strstr(buf, "\nState:\tS")) {
        unsigned long long w = sigwait_set(pid, sys_fd);
        if (w && ((blk | cgt | w) & mask) == mask) {
          t = since ? since : now; /* tini: a block, then the wait (a lasting block) */
          how = "sigwait";
          break;
        }
      }
      if (strstr(buf, "\nState:\tZ")) break;
      /* Spin through the first 2 ms after the exec (the C inits are done by
       * then), then poll every `poll` µs so that a slow starter (node) gets
       * both CPUs of a small machine. */
      if (now_ns() - pre->t_exec > 2000000) sleep_us(spin_us);
    }
    close(fd);
    close(sys_fd);
    kill_init(pid);
    printf("%s{\"exec\":%lld,\"handled\":%lld,\"polls\":%ld,\"transient\":%ld,\"how\":\"%s\"}", i ? "," : "",
           (long long)pre->t_exec, (long long)t, polls, transient, how);
  }
  printf("]}\n");
}

/* Starts the init running `child work ...` (or anything) and waits until the
 * child says it is ready, then lets the init settle. */
static pid_t start_worker(void) {
  shm_clear();
  pid_t pid = spawn_init();
  if (optn("ready", 1) && out_fd >= 0) {
    int64_t r = read_out();
    if (r != -1) {
      fprintf(stderr, "nsbench: unexpected ready record\n");
      exit(2);
    }
  }
  sleep_us(optn("settle", 500) * 1000);
  return pid;
}

static void mode_idle(void) {
  pid_t pid = start_worker();
  printf("{\"pid\":%d,", pid);
  json_memory(pid, "memory", 1);
  putchar(',');
  json_threads(pid);
  clockid_t clk = cpu_clock(pid);
  long long tk0 = stat_ticks(pid), cs0 = ctx_switches(pid);
  int64_t c0 = cpu_ns(clk), w0 = now_ns();
  sleep_us(optn("window", 5000) * 1000);
  long long tk1 = stat_ticks(pid), cs1 = ctx_switches(pid);
  int64_t c1 = cpu_ns(clk), w1 = now_ns();
  printf(",\"window_ns\":%lld,\"ticks\":%lld,\"cpu_ns\":%lld,\"ctxsw\":%lld,\"ticks_per_s\":%ld,", (long long)(w1 - w0),
         tk1 - tk0, (long long)(c1 - c0), cs1 - cs0, sysconf(_SC_CLK_TCK));
  json_threads(pid);
  int st = kill_init(pid);
  printf(",\"status\":%d}\n", WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st));
}

struct orphan_result {
  long long n, made, retries, peak, samples, ticks;
  int64_t t_cmd, t_start, t_first, t_gen_end, t_done, cpu, busy;
};

static struct orphan_result do_orphans(pid_t pid, long long n, long long burst, long sample_us) {
  struct orphan_result r;
  memset(&r, 0, sizeof r);
  struct kids k;
  kids_open(&k, pid);
  clockid_t clk = cpu_clock(pid);
  long long tk0 = stat_ticks(pid);
  int64_t c0 = cpu_ns(clk);
  shm[S_ORPH_DONE] = 0;
  shm[S_ORPH_N] = n;
  shm[S_ORPH_BURST] = burst;
  r.t_cmd = now_ns();
  send_cmd('o');
  /* busy: time during which the init had orphans waiting to be reaped. */
  int64_t t_prev = r.t_cmd;
  long c_prev = 0;
  for (;;) {
    int done = __atomic_load_n(&shm[S_ORPH_DONE], __ATOMIC_SEQ_CST);
    long c = kids_count(&k) - 1; /* all but the command itself */
    int64_t t = now_ns();
    if (c_prev > 0) r.busy += t - t_prev;
    t_prev = t;
    c_prev = c;
    r.samples++;
    if (c > r.peak) r.peak = c;
    if (done && c <= 0) {
      r.t_done = t;
      break;
    }
    if (sample_us) sleep_us(sample_us);
  }
  r.cpu = cpu_ns(clk) - c0;
  r.ticks = stat_ticks(pid) - tk0;
  kids_close(&k);
  r.n = n;
  r.made = shm[S_ORPH_MADE];
  r.retries = shm[S_ORPH_RETRIES];
  r.t_start = shm[S_ORPH_START];
  r.t_first = shm[S_ORPH_FIRST];
  r.t_gen_end = shm[S_ORPH_END];
  return r;
}

static void json_orphans(const char *key, struct orphan_result *r) {
  printf("\"%s\":{\"n\":%lld,\"made\":%lld,\"retries\":%lld,\"peak\":%lld,\"samples\":%lld,\"cmd\":%lld,\"start\":%lld,\"first\":%lld,"
         "\"gen_end\":%lld,\"done\":%lld,\"busy\":%lld,\"cpu_ns\":%lld,\"ticks\":%lld}",
         key, r->n, r->made, r->retries, r->peak, r->samples, (long long)r->t_cmd, (long long)r->t_start, (long long)r->t_first,
         (long long)r->t_gen_end, (long long)r->t_done, (long long)r->busy, (long long)r->cpu, r->ticks);
}

static void mode_orphans(void) {
  pid_t pid = start_worker();
  struct orphan_result r = do_orphans(pid, optn("n", 10000), optn("burst", 10000), optn("sample", 100));
  putchar('{');
  json_orphans("orphans", &r);
  int st = kill_init(pid);
  printf(",\"status\":%d}\n", WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st));
}

/* Signals, one at a time: stamp, kill(init), wait for the child's stamp. */
static void do_signals(pid_t pid, long n, long gap_us, int sig, int print_each, int64_t *cpu, long long *ticks,
                       int64_t *lat) {
  clockid_t clk = cpu_clock(pid);
  long long tk0 = stat_ticks(pid);
  int64_t c0 = cpu_ns(clk);
  if (print_each) printf("\"lat\":[");
  for (long i = 0; i < n; i++) {
    int64_t t0 = now_ns();
    if (kill(pid, sig) < 0) die("kill");
    int64_t t1 = read_out();
    if (lat) lat[i] = t1 - t0;
    if (print_each) printf("%s%lld", i ? "," : "", (long long)(t1 - t0));
    if (gap_us) sleep_us(gap_us);
  }
  if (print_each) printf("],");
  *cpu = cpu_ns(clk) - c0;
  *ticks = stat_ticks(pid) - tk0;
}

static void mode_signals(void) {
  pid_t pid = start_worker();
  int64_t cpu;
  long long ticks;
  putchar('{');
  do_signals(pid, optn("n", 1000), optn("gap", 500), (int)optn("sig", SIGUSR1), 1, &cpu, &ticks, NULL);
  printf("\"cpu_ns\":%lld,\"ticks\":%lld", (long long)cpu, ticks);
  int st = kill_init(pid);
  printf(",\"status\":%d}\n", WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st));
}

static int cmp64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static void mode_soak(void) {
  pid_t pid = start_worker();
  int64_t t0 = now_ns();
  printf("{\"pid\":%d,", pid);
  json_memory(pid, "mem_start", 0);
  putchar(',');
  /* Orphans in rounds of 50,000, so the sampler's children list stays small. */
  long long total = optn("orphans", 1000000), burst = optn("burst", 10000), done = 0;
  long long peak = 0, retries = 0;
  int64_t ocpu = 0, reap_ns = 0;
  while (done < total) {
    long long n = total - done < 50000 ? total - done : 50000;
    struct orphan_result r = do_orphans(pid, n, burst, 1000);
    if (r.peak > peak) peak = r.peak;
    retries += r.retries;
    ocpu += r.cpu;
    reap_ns += r.busy;
    done += r.made;
  }
  printf("\"orphans\":{\"n\":%lld,\"peak\":%lld,\"retries\":%lld,\"cpu_ns\":%lld,\"reap_ns\":%lld},", done, peak, retries,
         (long long)ocpu, (long long)reap_ns);
  json_memory(pid, "mem_mid", 0);
  putchar(',');
  long ns = (long)optn("signals", 100000);
  int64_t *lat = malloc(sizeof(int64_t) * (size_t)ns), scpu;
  long long sticks;
  do_signals(pid, ns, optn("gap", 0), (int)optn("sig", SIGUSR1), 0, &scpu, &sticks, lat);
  qsort(lat, (size_t)ns, sizeof *lat, cmp64);
  printf("\"signals\":{\"n\":%ld,\"p50\":%lld,\"p99\":%lld,\"max\":%lld,\"cpu_ns\":%lld},", ns, (long long)lat[ns / 2],
         (long long)lat[(ns * 99) / 100], (long long)lat[ns - 1], (long long)scpu);
  free(lat);
  sleep_us(optn("settle", 500) * 1000);
  json_memory(pid, "mem_end", 0);
  int st = kill_init(pid);
  printf(",\"wall_ns\":%lld,\"status\":%d}\n", (long long)(now_ns() - t0),
         WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st));
}

/* The init runs until the caller (which samples it through /proc) says stop. */
static void mode_hold(void) {
  pid_t pid = spawn_init();
  printf("{\"pid\":%d,\"exec\":%lld}\n", pid, (long long)pre->t_exec);
  fflush(stdout);
  char c = 0;
  ssize_t r;
  while ((r = read(0, &c, 1)) < 0 && errno == EINTR) {
  }
  if (r == 1 && c == 't') {
    int64_t t0 = now_ns();
    kill(pid, SIGTERM);
    int st = wait_init(pid);
    int64_t t1 = now_ns();
    printf("{\"term\":%lld,\"end\":%lld,\"status\":%d}\n", (long long)t0, (long long)t1,
           WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st));
  } else {
    int st = kill_init(pid);
    printf("{\"killed\":true,\"status\":%d}\n", WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st));
  }
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: nsbench MODE key=value... -- INIT ARGS...\n");
    return 2;
  }
  const char *mode = argv[1];
  int dd = 2;
  while (dd < argc && strcmp(argv[dd], "--")) dd++;
  if (dd >= argc - 1) {
    fprintf(stderr, "nsbench: missing -- INIT\n");
    return 2;
  }
  opts = argv + 2;
  nopts = dd - 2;
  init_argv = argv + dd + 1;

  prctl(PR_SET_PDEATHSIG, SIGKILL);
  prctl(PR_SET_TIMERSLACK, 1UL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
  alarm((unsigned)optn("timeout", 120));

  pre = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (pre == MAP_FAILED) die("mmap");
  map_shm();
  open_fifos();

  if (!strcmp(mode, "run")) mode_run();
  else if (!strcmp(mode, "blind")) mode_blind();
  else if (!strcmp(mode, "idle")) mode_idle();
  else if (!strcmp(mode, "orphans")) mode_orphans();
  else if (!strcmp(mode, "signals")) mode_signals();
  else if (!strcmp(mode, "soak")) mode_soak();
  else if (!strcmp(mode, "hold")) mode_hold();
  else {
    fprintf(stderr, "nsbench: unknown mode %s\n", mode);
    return 2;
  }
  fflush(stdout);
  return 0;
}
