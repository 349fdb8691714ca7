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

/** The facts both sides of the boundary need, defined once in native/constants.h and spawn.h. */
export interface NativeConstants {
  /** Slots of a per-signal table (signals 1..64; 0 unused). */
  readonly NSIG: number;
  /** Exits one reapDrain() or one callback reports at most. */
  readonly REAP_BATCH: number;
  /** Descriptors the spawn can place at given numbers (`map`). */
  readonly MAX_FD_MAP: number;
  readonly WNOHANG: number;
  /** The environment entry the child completes with its own pid (`listenPidIndex`). */
  readonly LISTEN_PID_PREFIX: string;
  /** glibc's (or musl's) SIGRTMIN and SIGRTMAX; the C library keeps the ones below for itself. */
  readonly SIGRTMIN: number;
  readonly SIGRTMAX: number;
  /** The spawn's step numbers (NativeSpawnResult.step), named. */
  readonly spawnSteps: Readonly<Record<number, string>>;
  /** Kinds of the (kind, a, b) triples the signal callback and reapDrain() report. */
  readonly EVENT: {
    /** a = signal; b = -1 if the handler did not forward it (JavaScript decides), else the errno of its kill (0: sent). */
    readonly SIGNAL: number;
    /** a = pid, b = raw wait status: a watched pid was reaped (any pid, with reapReportAll or reapDrain(true)). */
    readonly EXIT: number;
    /** waitpid said ECHILD: no children left at all. */
    readonly EMPTY: number;
    /** a = signal, b = how many found the signal pipe full, not forwarded by the handler. */
    readonly LOST: number;
    /** The same for signals the handler did forward: only their notice was lost. */
    readonly LOST_FORWARDED: number;
    /** a = pid, b = its session, right before that pid's EXIT (with reapReportSessions). */
    readonly SESSION: number;
  };
}

/** Events in order, as flat (kind, a, b) triples (NativeConstants.EVENT). */
export type EventHandler = (events: Int32Array) => void;

/** Every function returns a number >= 0, or -errno. */
export interface Binding {
  readonly constants: NativeConstants;
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
  /** The one drain of waitpid(-1, WNOHANG): reaps every exited child now. Events: EXIT for each watched
   * pid (every pid if `all` or reapReportAll), then EMPTY if no child is left; at most REAP_BATCH exits
   * per call (call again while a full batch came back); or -errno. */
  reapDrain(all?: boolean): Int32Array | number;
  /** Reports this pid's exit (once, then forgets it): 0, -EEXIST, or -ENOSPC past 1024 pids. */
  reapWatch(pid: number): number;
  /** 0, or -ENOENT if the pid was not watched. */
  reapUnwatch(pid: number): number;
  /** Whether every reaped pid is reported, watched or not (-vv). */
  reapReportAll(on: boolean): number;
  /** Whether each reported EXIT is preceded by a SESSION event (the session the process belonged
   * to, read from the zombie before it was reaped): the services supervisor attributes orphans. */
  reapReportSessions(on: boolean): number;
  /** [SIGRTMIN, SIGRTMAX] as glibc defines them (glibc keeps 32 and 33 for itself). */
  sigrtRange(): [number, number];
  /** Catches each signal. The handler forwards by itself where signalsRoute says; what JavaScript must
   * see is recorded in a self-pipe which the event loop reads: on SIGCHLD the addon reaps (reapDrain)
   * without calling JavaScript, and onEvents is called only when there is an event (SIGNAL, EXIT of a
   * watched pid, EMPTY, LOST...), in order of arrival. Calling it again adds signals and replaces onEvents. */
  signalsStart(signals: number[], onEvents: EventHandler): number;
  /** Real-time signals signalsStart skipped because sigaction refused them (EINVAL): never caught,
   * so never forwarded. None on a plain kernel; valgrind keeps SIGRTMAX for itself. */
  signalsRefused(): number[];
  /** Forwarding in the signal handler: each signal s is sent as to[s] (0: not sent) to target (pid, or
   * -pgid) the moment it arrives, and recorded for onEvents only if notify[s] (or if the kill failed).
   * The route is pinned to the pid |target|: the reaper clears it before reaping that pid. signalsRoute(0)
   * clears it: every signal is recorded, unforwarded. */
  signalsRoute(target: number, to?: number[], notify?: number[]): number;
  /** SIG_IGN for each: tsinit stops catching (and forwarding) them. */
  signalsIgnore(signals: number[]): number;
  spawn(options: NativeSpawnOptions): NativeSpawnResult;
  // Privilege drop and socket hand-off (issue 3; native/privdrop.c, native/sockets.c).
  /** socket(domain, type | SOCK_CLOEXEC, 0): the descriptor. */
  socket(domain: number, type: number): number;
  setsockoptInt(fd: number, level: number, name: number, value: number): number;
  /** bind to an IPv4 (family 2) or IPv6 (family 10) literal and port. */
  bindInet(fd: number, family: number, address: string, port: number): number;
  listen(fd: number, backlog: number): number;
  close(fd: number): number;
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
  // Unix socket files through a directory handle (native/sockets.h): a name
  // of '' is the handle itself; a symlink at a name is never followed.
  /** An O_PATH handle on the directory at an absolute path, walked without following a symlink
   * from one user's file to another's (systemd's CHASE_SAFE: -ENOLINK). */
  openDirSafe(path: Buffer): number;
  /** bind to dirfd/name (through /proc/self/fd/N/name); the file is created with exactly `mode`. */
  bindUnixAt(fd: number, dirfd: number, name: Buffer, mode: number): number;
  /** openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC): a handle on that inode. */
  openatPath(dirfd: number, name: Buffer): number;
  /** [mode, uid, gid] of dirfd/name, or -errno. */
  fstatat(dirfd: number, name: Buffer): [number, number, number] | number;
  /** -1 leaves an id. */
  fchownat(dirfd: number, name: Buffer, uid: number, gid: number): number;
  /** unlinkat(dirfd, name) if it is still pin's inode (-ESTALE if not; pin -1: no check). */
  unlinkatSame(dirfd: number, name: Buffer, pin: number): number;
  /** Forks the unlinker, which stays root until told: [pid, fd] or -errno. */
  unlinkerStart(dirfds: number[], names: Buffer[], pins: number[]): [number, number] | number;
  /** Tells it to remove (1) or keep (0) the files and reaps it: the number it could not remove, or -errno. */
  unlinkerFinish(pid: number, fd: number, remove: number): number;
  // Pipes for the log relay (native/pipe.c).
  /** pipe2(O_CLOEXEC): [read end, write end], or -errno. */
  pipe2(): [number, number] | number;
  /** pwritev2(fd, buffer[offset, offset + length), RWF_NOWAIT): bytes written, or -errno (-EAGAIN
   * instead of blocking; -EOPNOTSUPP where unsupported). Leaves the file's O_NONBLOCK flag alone. */
  writeNowait(fd: number, buffer: Buffer, offset: number, length: number): number;
  // Pinning before signalling (issue 12 §2; native/pidfd.c).
  /** A handle on pid (pidfd_open, or a /proc/<pid> directory fd where that is missing or flags has
   * PIDFD_PIN_PROC_DIR), checked after it was taken to name the process whose start time (proc(5)
   * stat field 22) is `start`: [fd, kind (1 pidfd, 2 /proc directory), current parent], -ESRCH
   * when pid is gone or names another process, or -errno. Close the fd with close(). */
  pidfdPin(pid: number, start: number, flags?: number): [number, number, number] | number;
  /** pidfd_send_signal(fd, sig, NULL, 0): -ESRCH once the pinned process has been reaped. */
  pidfdSendSignal(fd: number, sig: number): number;
  readonly PIDFD_PIN_PROC_DIR: number;
  // Services: readiness wires (issue 10; native/notify.c).
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
      if (typeof b?.spawn === 'function' && typeof b.reapDrain === 'function' && typeof b.constants === 'object') return b;
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
/** The bundle's code cache for this node (made by scripts/compile-cache.js, read by cli.ts), or
 * null on Node 20, for which none is made (the memory it takes; scripts/compile-cache.js). */
export function codeCacheFile(): string | null {
  if (Number.parseInt(process.versions.node, 10) < 22) return null;
  return path.join(__dirname, '..', '.compile-cache', `boot-${process.version}-${process.arch}.bin`);
}
/** The shared constants: import them from here, never write the numbers again. */
export const constants: NativeConstants = native.constants;
