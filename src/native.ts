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
  /** Catches each signal into a self-pipe watched by the event loop; onSignals gets them in order of arrival. */
  signalsStart(signals: number[], onSignals: (signals: Uint8Array) => void): number;
  /** Per-signal counts lost to a full pipe since the last call, or null. */
  signalsOverflow(): number[] | null;
  spawn(options: NativeSpawnOptions): NativeSpawnResult;
  /** _exit(2): no Node teardown. */
  _exit(code: number): never;
}

function load(): Binding {
  const root = path.join(__dirname, '..');
  try {
    // node-gyp-build has no types; its contract is require(root) → the addon.
    const build = require('node-gyp-build') as (dir: string) => unknown;
    return build(root) as Binding;
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    const where = `${process.platform}-${process.arch}, Node ${process.versions.node}, N-API ${process.versions.napi}`;
    const fixed = new Error(
      `cannot load the native addon for ${where} (${why}); ` +
        'no prebuild matches this platform: install python3, make and a C++ compiler, then reinstall tsinit to build it from source',
    );
    (fixed as NodeJS.ErrnoException).code = 'TSINIT_NO_ADDON';
    throw fixed;
  }
}

export const native: Binding = load();
