/* The `tsinit` executable: records which descriptors tsinit inherited, then
 * runs node on dist/cli.js with the application's runtime settings hidden
 * from that node, so NODE_OPTIONS=--inspect, a FIPS OPENSSL_CONF or
 * UV_THREADPOOL_SIZE meant for the application cannot change tsinit's own
 * runtime. Each such X=v is passed as TSINIT_ENV_X=v in the same place (and a
 * variable already named TSINIT_ENV_... is escaped the same way), and
 * TSINIT_PARENT_PID=N and TSINIT_INHERITED_FDS=3,4,... are added last;
 * tsinit removes those two and strips one TSINIT_ENV_ from the rest before
 * the command runs, so the command sees its environment unchanged, byte for
 * byte and in order.
 * A plain C program with no shell, so it works in images without /bin/sh;
 * linked statically, so it needs no particular C library either. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

/* The reserved prefix, and the variable that carries the descriptor record.
 * src/core/proc.ts has the same two names. */
static const char HIDE[] = "TSINIT_ENV_";
static const char FDS[] = "TSINIT_INHERITED_FDS";
/* The parent this process had as it started, for --pdeathsig: node takes
 * tens of ms to start, and a parent that dies meanwhile could not be told
 * from tsinit's own getppid() later. Added just before the record. */
static const char PARENT[] = "TSINIT_PARENT_PID";

/* What changes node's own behaviour before tsinit's first line runs:
 * Node's options and settings (NODE_*), OpenSSL's configuration, providers,
 * engines, CPU capability masks and trust store (OPENSSL_*, SSL_CERT_*; a
 * FIPS config that Node cannot satisfy aborts node at start-up), libuv's
 * thread pool and io_uring (UV_*), and code the dynamic linker would inject
 * into node (LD_PRELOAD, LD_AUDIT). LD_LIBRARY_PATH stays: a node installed
 * with its own libraries may need it to start at all, and it only says where
 * node's libraries are. glibc's tunables (GLIBC_TUNABLES, MALLOC_*) stay too:
 * they size the allocator for every process in the container, tsinit's node
 * included. Names that are already reserved are escaped, so they come back. */
static const char *const HIDDEN_PREFIXES[] = {"NODE_", "OPENSSL_", "UV_", HIDE, NULL};
static const char *const HIDDEN_NAMES[] = {"SSL_CERT_FILE", "SSL_CERT_DIR", "LD_PRELOAD", "LD_AUDIT", FDS, PARENT, NULL};

static int hidden(const char *e) {
  for (int i = 0; HIDDEN_PREFIXES[i] != NULL; i++)
    if (strncmp(e, HIDDEN_PREFIXES[i], strlen(HIDDEN_PREFIXES[i])) == 0) return 1;
  size_t name = strcspn(e, "=");
  for (int i = 0; HIDDEN_NAMES[i] != NULL; i++)
    if (strlen(HIDDEN_NAMES[i]) == name && strncmp(e, HIDDEN_NAMES[i], name) == 0) return 1;
  return 0;
}

/* A growing "TSINIT_INHERITED_FDS=3,4,..." string. */
struct record {
  char *s;
  size_t len, cap;
};

static int record_add(struct record *r, int fd) {
  if (r->cap - r->len < 16) {
    size_t cap = r->cap * 2;
    char *s = realloc(r->s, cap);
    if (s == NULL) return -1;
    r->s = s;
    r->cap = cap;
  }
  r->len += (size_t)snprintf(r->s + r->len, r->cap - r->len, "%s%d", r->s[r->len - 1] == '=' ? "" : ",", fd);
  return 0;
}

static int inherited(int fd) {
  int flags = fcntl(fd, F_GETFD);
  return flags >= 0 && (flags & FD_CLOEXEC) == 0;
}

static int by_number(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/* Every descriptor from 3 up that is open without close-on-exec now will be
 * open in node after the exec: exactly what tsinit inherited. Node itself
 * marks 0..16 close-on-exec as it starts, so only this process can tell
 * (tsinit's own /proc scan has to guess below 17). Read from /proc/self/fd;
 * without /proc, probed with poll(2), which flags closed descriptors with
 * POLLNVAL, 1024 at a time up to RLIMIT_NOFILE (at most 2^20, so that a huge
 * limit cannot stall PID 1). Ascending. NULL on ENOMEM. */
static char *inherited_fds(void) {
  struct record r = {malloc(64), 0, 64};
  if (r.s == NULL) return NULL;
  r.len = (size_t)snprintf(r.s, r.cap, "%s=", FDS);
  int *fds = NULL;
  size_t n = 0, cap = 0;
  DIR *d = opendir("/proc/self/fd");
  if (d != NULL) {
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
      char *end;
      long fd = strtol(de->d_name, &end, 10);
      if (*end != '\0' || end == de->d_name || fd < 3 || fd == dirfd(d) || !inherited((int)fd)) continue;
      if (n == cap) {
        int *more = realloc(fds, (cap = cap ? cap * 2 : 16) * sizeof *fds);
        if (more == NULL) return NULL;
        fds = more;
      }
      fds[n++] = (int)fd;
    }
    closedir(d);
    qsort(fds, n, sizeof *fds, by_number);
    for (size_t i = 0; i < n; i++)
      if (record_add(&r, fds[i]) < 0) return NULL;
    free(fds);
    return r.s;
  }
  struct rlimit lim;
  long max = getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < (1UL << 20) ? (long)lim.rlim_cur : 1L << 20;
  struct pollfd p[1024];
  for (long base = 3; base < max; base += 1024) {
    int k = max - base < 1024 ? (int)(max - base) : 1024;
    for (int i = 0; i < k; i++) p[i] = (struct pollfd){.fd = (int)(base + i), .events = 0};
    if (poll(p, (nfds_t)k, 0) < 0) continue;
    for (int i = 0; i < k; i++)
      if (!(p[i].revents & POLLNVAL) && inherited(p[i].fd) && record_add(&r, p[i].fd) < 0) return NULL;
  }
  return r.s;
}

static int runnable(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

/* dist/cli.js of the package this executable belongs to: it lives in
 * <pkg>/bin/ or <pkg>/build/Release/ (and may be reached through npm's symlink). */
static int find_cli(char *out, size_t size, const char *argv0) {
  char exe[PATH_MAX];
  /* /proc/self/exe, or argv[0] where /proc is not mounted (argv[0] may be
   * missing altogether: execve(path, {NULL}, envp) is allowed). */
  if (realpath("/proc/self/exe", exe) == NULL && (argv0 == NULL || strchr(argv0, '/') == NULL || realpath(argv0, exe) == NULL))
    return -1;
  char *slash = strrchr(exe, '/');
  for (int up = 0; slash != NULL && up < 3; up++) {
    *slash = '\0';
    if ((size_t)snprintf(out, size, "%s/dist/cli.js", exe) < size && access(out, R_OK) == 0) return 0;
    slash = strrchr(exe, '/');
  }
  return -1;
}

/* $TSINIT_NODE, else the first regular executable file `node` in an absolute
 * PATH entry, else the usual places (distroless: /nodejs/bin). Empty and
 * relative PATH entries are skipped: execvp would take them as the current
 * directory, and PID 1 must not run whatever `node` the working directory
 * holds. Returns 0, or -1 with a message printed. */
static int find_node(char *out, size_t size) {
  const char *forced = getenv("TSINIT_NODE");
  if (forced != NULL && *forced != '\0') {
    if (strlen(forced) >= size) {
      fprintf(stderr, "tsinit: TSINIT_NODE is too long (%zu bytes; a path holds at most %zu)\n", strlen(forced), size - 1);
      return -1;
    }
    memcpy(out, forced, strlen(forced) + 1);
    if (runnable(out)) return 0;
    fprintf(stderr, "tsinit: TSINIT_NODE=%s is not an executable file\n", forced);
    return -1;
  }
  const char *path = getenv("PATH");
  if (path == NULL) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  while (*path != '\0') {
    const char *end = strchr(path, ':');
    size_t len = end ? (size_t)(end - path) : strlen(path);
    if (len > 0 && path[0] == '/' && len + sizeof "/node" <= size) {
      memcpy(out, path, len);
      memcpy(out + len, "/node", sizeof "/node");
      if (runnable(out)) return 0;
    }
    path += len + (end ? 1 : 0);
  }
  static const char *const fallback[] = {"/usr/local/bin/node", "/usr/bin/node", "/nodejs/bin/node", NULL};
  for (int i = 0; fallback[i] != NULL; i++) {
    snprintf(out, size, "%s", fallback[i]);
    if (runnable(out)) return 0;
  }
  fprintf(stderr, "tsinit: cannot find node: put it on PATH or set TSINIT_NODE\n");
  return -1;
}

/* Extra node flags from bin/tsinit.node-flags, written at install by
 * scripts/place-launcher.js for the node that ran it: a first line
 * "dev ino size mtime" naming that file, then one flag a line. They are used
 * only when `node` is that same file, since another version may reject them
 * (and an unknown flag stops node). Returns how many were stored in out. */
static int node_flags(const char *cli, const char *node, char **out, int max) {
  char path[PATH_MAX], real[PATH_MAX];
  size_t len = strlen(cli);
  if (len < 14 || len + 16 > sizeof path) return 0;
  memcpy(path, cli, len - 11); /* strip "dist/cli.js" */
  snprintf(path + len - 11, sizeof path - (len - 11), "bin/tsinit.node-flags");
  FILE *f = fopen(path, "re");
  if (f == NULL) return 0;
  unsigned long long dev, ino, size, mtime;
  struct stat st;
  int n = 0;
  if (fscanf(f, "%llu %llu %llu %llu", &dev, &ino, &size, &mtime) == 4 && realpath(node, real) != NULL &&
      stat(real, &st) == 0 && (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino &&
      (unsigned long long)st.st_size == size && (unsigned long long)st.st_mtime == mtime) {
    char line[64];
    while (n < max && fscanf(f, "%63s", line) == 1)
      if (strncmp(line, "--", 2) == 0) out[n++] = strdup(line);
  }
  fclose(f);
  return n;
}

int main(int argc, char **argv) {
  /* First, before this process opens anything of its own; and the parent. */
  char parent[sizeof PARENT + 24];
  snprintf(parent, sizeof parent, "%s=%ld", PARENT, (long)getppid());
  char *fds = inherited_fds();
  if (fds == NULL) {
    fprintf(stderr, "tsinit: cannot record the inherited descriptors: %s\n", strerror(ENOMEM));
    return 125;
  }
  char cli[PATH_MAX], node[PATH_MAX];
  if (find_cli(cli, sizeof cli, argc > 0 ? argv[0] : NULL) < 0) {
    fprintf(stderr, "tsinit: cannot find dist/cli.js next to this executable\n");
    return 125;
  }
  if (find_node(node, sizeof node) < 0) return 125;

  /* One string of the environment may hold MAX_ARG_STRLEN bytes with its NUL
   * (32 pages, include/uapi/linux/binfmts.h); a variable that fits for the
   * command may not fit with the prefix. */
  long page = sysconf(_SC_PAGESIZE);
  size_t max_strlen = (size_t)(page > 0 ? page : 4096) * 32;
  size_t n = 0;
  while (environ[n] != NULL) n++;
  char **envp = calloc(n + 3, sizeof *envp);
  char **nargv = calloc((size_t)(argc > 0 ? argc : 1) + 5 + 8, sizeof *nargv);
  if (envp == NULL || nargv == NULL) return 125;
  for (size_t i = 0; i < n; i++) {
    if (!hidden(environ[i])) {
      envp[i] = environ[i];
      continue;
    }
    size_t len = strlen(environ[i]);
    if (len + sizeof HIDE > max_strlen) {
      fprintf(stderr, "tsinit: %.*s is too long to hide from tsinit's own node: %zu bytes, and renamed %s%.*s it would pass the kernel's limit of %zu for one variable\n",
              (int)strcspn(environ[i], "="), environ[i], len, HIDE, (int)strcspn(environ[i], "="), environ[i], max_strlen - 1);
      return 125;
    }
    envp[i] = malloc(sizeof HIDE + len);
    if (envp[i] == NULL) return 125;
    memcpy(envp[i], HIDE, sizeof HIDE - 1);
    memcpy(envp[i] + sizeof HIDE - 1, environ[i], len + 1);
  }
  envp[n] = parent;
  envp[n + 1] = fds;

  /* tsinit's own runtime, sized for an init: one V8 worker thread instead of
   * four (4 threads in all), and a young generation capped at 1 MiB so a
   * storm of reaped orphans cannot grow the heap for good. */
  int k = 0;
  nargv[k++] = node;
  nargv[k++] = "--v8-pool-size=1";
  nargv[k++] = "--max-semi-space-size=1";
  k += node_flags(cli, node, nargv + k, 8);
  nargv[k++] = cli;
  for (int i = 1; i < argc; i++) nargv[k++] = argv[i];
  nargv[k] = NULL;
  execve(node, nargv, envp);
  if (errno == E2BIG) {
    fprintf(stderr, "tsinit: cannot run %s: the arguments and environment are too large (with the %s prefixes and the descriptor record tsinit adds)\n", node, HIDE);
    return 125;
  }
  fprintf(stderr, "tsinit: cannot run %s: %s\n", node, strerror(errno));
  return errno == ENOENT ? 127 : 126;
}
