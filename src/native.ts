// Loads the addon (prebuild first, local build second) and declares its exports:
// `Binding` is the typed boundary between TypeScript policy and native mechanism.
import * as path from 'node:path';

/** Options of the native spawn. Byte strings are Buffers, passed without re-encoding. */
export interface NativeSpawnOptions {
  path: Buffer;
  argv: Buffer[];
  envp: Buffer[];
  /** 0: leave as is, 1: setsid (default), 2: setpgid(0, 0). */
  session: number;
  /** 0: leave the terminal alone, 1: TIOCSCTTY after setsid, 2: tcsetpgrp after setpgid. */
  tty?: number;
  /** The terminal's descriptor for `tty` (default 0). */
  ttyFd?: number;
  uid?: number;
  gid?: number;
  groups?: number[];
  /** -1 leaves the umask as inherited. */
  umask?: number;
  cwd?: Buffer;
  /** Flat pairs: target fd, source fd. */
  map?: number[];
  /** Descriptors that pass through unchanged, besides 0, 1, 2. */
  keep?: number[];
  /** Index into envp of an entry the child rewrites to LISTEN_PID=<its pid>. */
  listenPidIndex?: number;
  // Per-service credentials (issue 10): child steps after the uid change.
  /** [lo, hi]: permitted, inheritable and ambient capabilities in the child (with uid). */
  caps?: [number, number];
  /** 1: PR_SET_NO_NEW_PRIVS in the child, just before execve. */
  noNewPrivs?: number;
}

export type NativeSpawnResult = { pid: number } | { errno: number; step: number };

/** Every function returns a number >= 0, or -errno. */
export interface Binding {
  prctlSetChildSubreaper(on: number): number;
  prctlGetChildSubreaper(): number;
  setsid(): number;
  setpgid(pid: number, pgid: number): number;
  setresuid(r: number, e: number, s: number): number;
  setresgid(r: number, e: number, s: number): number;
  setgroups(groups: number[]): number;
  kill(pid: number, sig: number): number;
  prctlSetPdeathsig(sig: number): number;
  /** 1 for a terminal, 0 for anything else, -EBADF for a closed descriptor. */
  isatty(fd: number): number;
  getsid(): number;
  tcgetpgrp(fd: number): number;
  /** The session whose controlling terminal is on fd. */
  tcgetsid(fd: number): number;
  /** ioctl(fd, TIOCNOTTY): the session leader gives up its controlling terminal. */
  tiocnotty(fd: number): number;
  /** [pid or -errno, raw status] */
  waitpid(pid: number, flags: number): [number, number];
  /** (pid, raw status) pairs from waitpid(-1, WNOHANG) until it returns 0 or ECHILD, at most 4096 pairs; or -errno. */
  waitpidDrain(): Int32Array | number;
  /** [SIGRTMIN, SIGRTMAX] as glibc defines them (glibc keeps 32 and 33 for itself). */
  sigrtRange(): [number, number];
  /** Catches each signal into a self-pipe watched by the event loop; onSignals gets them in order of
   * arrival, and `lost` (per-signal counts) only when some found the pipe full. */
  signalsStart(signals: number[], onSignals: (signals: Uint8Array, lost?: number[]) => void): number;
  /** Native forwarding: each signal s read from the pipe is sent as to[s] (0: not sent) to target
   * (pid, or -pgid), and reaches onSignals only if notify[s]. signalsRoute(0) turns it off. */
  signalsRoute(target: number, to?: number[], notify?: number[]): number;
  /** SIG_IGN for each: tsinit stops catching (and forwarding) them. */
  signalsIgnore(signals: number[]): number;
  spawn(options: NativeSpawnOptions): NativeSpawnResult;
  // Privilege drop and socket hand-off (issue 3; native/privdrop.c).
  /** socket(domain, type | SOCK_CLOEXEC, 0): the descriptor. */
  socket(domain: number, type: number): number;
  setsockoptInt(fd: number, level: number, name: number, value: number): number;
  /** bind to an IPv4 (family 2) or IPv6 (family 10) literal and port. */
  bindInet(fd: number, family: number, address: string, port: number): number;
  /** bind to a path; the socket file is created with exactly `mode`. */
  bindUnix(fd: number, path: Buffer, mode: number): number;
  listen(fd: number, backlog: number): number;
  close(fd: number): number;
  /** fchownat(path, uid, gid, AT_SYMLINK_NOFOLLOW); -1 leaves an id. */
  lchown(path: Buffer, uid: number, gid: number): number;
  /** Per thread: the calling thread and what it forks afterwards. */
  prctlSetNoNewPrivs(): number;
  prctlGetNoNewPrivs(): number;
  prctlSetKeepcaps(on: number): number;
  /** The calling thread's sets: [effective lo, hi, permitted lo, hi, inheritable lo, hi], or -errno. */
  capget(): number[] | number;
  capset(words: number[]): number;
  capAmbientRaise(cap: number): number;
  capAmbientIsSet(cap: number): number;
  capAmbientClearAll(): number;
  /** [real, effective, saved], or -errno. */
  getresuid(): [number, number, number] | number;
  getresgid(): [number, number, number] | number;
  /** _exit(2): no Node teardown. */
  _exit(code: number): never;
  // Services: readiness wires (issue 10; native/notify.c).
  /** pipe2(O_CLOEXEC): [read end, write end]. */
  pipe(): [number, number] | number;
  /** One datagram without blocking; -EAGAIN when none is queued. Passed fds are closed. */
  notifyRecv(fd: number): Buffer | number;
  /** One datagram to a unix socket path ('@' first: abstract). */
  notifySend(path: Buffer, message: Buffer): number;
  /** read(2) once, at most 512 bytes: empty at EOF. */
  fdRead(fd: number): Buffer | number;
  /** Calls onReadable(fd) whenever fd is readable (level-triggered), until fdWatchStop(fd). */
  fdWatchStart(fd: number, onReadable: (fd: number) => void): number;
  fdWatchStop(fd: number): number;
}

/** glibc's version ("2.36"), or null on musl and other C libraries. */
function glibcVersion(): string | null {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime ?? null;
}

/** One line naming the platform, what failed and what to install. */
function loadError(err: unknown): string {
  const why = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
  if (process.platform !== 'linux') return `tsinit runs on Linux only, not ${process.platform}-${process.arch}`;
  const glibc = glibcVersion();
  const where = `linux-${process.arch} (${glibc ? `glibc ${glibc}` : 'not glibc'}, Node ${process.versions.node})`;
  const build = 'install python3, make and g++ (Alpine: apk add python3 make g++) and run `npm rebuild tsinit` to build it from source';
  let fix: string;
  if (!glibc || (process.arch !== 'x64' && process.arch !== 'arm64')) fix = `no prebuild for this platform: ${build}`;
  else if (/GLIBC_[0-9.]+' not found/.test(why) || (glibc.startsWith('2.') && Number(glibc.split('.')[1]) < 28))
    fix = `the prebuilds need glibc 2.28 or later: ${build}`;
  else fix = `reinstall tsinit (its prebuilds/linux-${process.arch}/ should hold the addon), or ${build}`;
  return `cannot load the native addon for ${where}: ${why}; ${fix}`;
}

/** The two files node-gyp-build would pick on glibc Linux, in its order, tried
 * directly: loading node-gyp-build itself costs about 3 ms of start-up, a
 * tenth of tsinit's own. null when neither loads. */
function loadDirect(root: string): Binding | null {
  for (const file of [path.join(root, 'build', 'Release', 'tsinit.node'), path.join(root, 'prebuilds', `linux-${process.arch}`, 'tsinit.glibc.node')]) {
    try {
      const b = require(file) as Binding;
      // A file being replaced (a rebuild) can load as something else: only a
      // complete addon counts, else node-gyp-build decides below.
      if (typeof b?.spawn === 'function' && typeof b.signalsStart === 'function') return b;
    } catch {
      // Missing, or not loadable here (musl, old glibc): node-gyp-build decides below.
    }
  }
  return null;
}

function load(): Binding {
  const root = path.join(__dirname, '..');
  const direct = loadDirect(root);
  if (direct) return direct;
  try {
    // node-gyp-build has no types; its contract is require(root) → the addon
    // (a local build in build/Release if there is one, else the prebuild).
    const build = require('node-gyp-build') as (dir: string) => unknown;
    return build(root) as Binding;
  } catch (err) {
    const message = loadError(err);
    // Run as the CLI, a stack trace would only hide the one line that says
    // what to do: print it and exit as for any failure to start (125).
    if (require.main?.filename === path.join(__dirname, 'cli.js')) {
      require('node:fs').writeSync(2, `tsinit: ${message}\n`);
      process.exit(125);
    }
    const fixed = new Error(message);
    (fixed as NodeJS.ErrnoException).code = 'TSINIT_NO_ADDON';
    throw fixed;
  }
}

export const native: Binding = load();
