/* The `tsinit` executable: runs node on dist/cli.js with every NODE_*
 * variable hidden from that node, so NODE_OPTIONS=--inspect or --require meant
 * for the application cannot change tsinit's own runtime. Each NODE_X=v is
 * passed as TSINIT_ENV_NODE_X=v in the same place; tsinit renames it back
 * before the command runs, so the command sees its environment unchanged.
 * A plain C program with no shell, so it works in images without /bin/sh;
 * linked statically, so it needs no particular C library either. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

static const char HIDE[] = "TSINIT_ENV_";

static int executable(const char *p) { return access(p, X_OK) == 0; }

/* dist/cli.js of the package this executable belongs to: it lives in
 * <pkg>/bin/ or <pkg>/build/Release/ (and may be reached through npm's symlink). */
static int find_cli(char *out, size_t size, const char *argv0) {
  char exe[PATH_MAX];
  /* /proc/self/exe, or argv[0] where /proc is not mounted. */
  if (realpath("/proc/self/exe", exe) == NULL && (strchr(argv0, '/') == NULL || realpath(argv0, exe) == NULL)) return -1;
  char *slash = strrchr(exe, '/');
  for (int up = 0; slash != NULL && up < 3; up++) {
    *slash = '\0';
    if ((size_t)snprintf(out, size, "%s/dist/cli.js", exe) < size && access(out, R_OK) == 0) return 0;
    slash = strrchr(exe, '/');
  }
  return -1;
}

/* $TSINIT_NODE, else `node` on PATH, else the usual places (distroless: /nodejs/bin). */
static int find_node(char *out, size_t size) {
  const char *forced = getenv("TSINIT_NODE");
  if (forced != NULL && *forced != '\0') {
    snprintf(out, size, "%s", forced);
    return executable(out) ? 0 : -1;
  }
  const char *path = getenv("PATH");
  if (path == NULL) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  while (*path != '\0') {
    const char *end = strchr(path, ':');
    size_t len = end ? (size_t)(end - path) : strlen(path);
    if (len > 0 && len + 6 < size) {
      memcpy(out, path, len);
      memcpy(out + len, "/node", 6);
      if (executable(out)) return 0;
    }
    path += len + (end ? 1 : 0);
  }
  static const char *const fallback[] = {"/usr/local/bin/node", "/usr/bin/node", "/nodejs/bin/node", NULL};
  for (int i = 0; fallback[i] != NULL; i++) {
    snprintf(out, size, "%s", fallback[i]);
    if (executable(out)) return 0;
  }
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
  FILE *f = fopen(path, "r");
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
  char cli[PATH_MAX], node[PATH_MAX];
  if (find_cli(cli, sizeof cli, argv[0]) < 0) {
    fprintf(stderr, "tsinit: cannot find dist/cli.js next to this executable\n");
    return 125;
  }
  if (find_node(node, sizeof node) < 0) {
    fprintf(stderr, "tsinit: cannot find node: put it on PATH or set TSINIT_NODE\n");
    return 125;
  }

  size_t n = 0;
  while (environ[n] != NULL) n++;
  char **envp = calloc(n + 1, sizeof *envp);
  char **nargv = calloc((size_t)argc + 5 + 8, sizeof *nargv);
  if (envp == NULL || nargv == NULL) return 125;
  for (size_t i = 0; i < n; i++) {
    if (strncmp(environ[i], "NODE_", 5) == 0) {
      size_t len = strlen(environ[i]);
      envp[i] = malloc(sizeof HIDE + len);
      if (envp[i] == NULL) return 125;
      memcpy(envp[i], HIDE, sizeof HIDE - 1);
      memcpy(envp[i] + sizeof HIDE - 1, environ[i], len + 1);
    } else {
      envp[i] = environ[i];
    }
  }

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
  fprintf(stderr, "tsinit: cannot run %s: %s\n", node, strerror(errno));
  return errno == ENOENT ? 127 : 126;
}
