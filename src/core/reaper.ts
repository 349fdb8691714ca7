// On SIGCHLD: drain waitpid(-1, WNOHANG) in one native call per batch and
// report each exit. tsinit is the only caller of waitpid(-1) in its process.
import { native } from '../native';

export interface Exit {
  pid: number;
  /** Exit code when the process exited, else null. */
  code: number | null;
  /** Signal number when it was killed, else null. */
  signal: number | null;
  /** Whether it dumped core. */
  core: boolean;
}

/** Decodes a raw wait status (WIFEXITED, WEXITSTATUS, WTERMSIG, WCOREDUMP). */
export function decodeStatus(pid: number, status: number): Exit {
  const sig = status & 0x7f;
  if (sig === 0) return { pid, code: (status >> 8) & 0xff, signal: null, core: false };
  return { pid, code: null, signal: sig, core: (status & 0x80) !== 0 };
}

/** The shell's convention, which tini and dumb-init follow: the code, or 128+N. */
export function exitStatusOf(e: Exit): number {
  return e.code !== null ? e.code : (128 + (e.signal ?? 0)) & 0xff;
}

/** Reaps every exited child; calls onExit for each. Returns -errno on an unexpected error, else the count. */
export function reapAll(onExit: (e: Exit) => void): number {
  let count = 0;
  for (;;) {
    const r = native.waitpidDrain();
    if (typeof r === 'number') return r;
    for (let i = 0; i < r.length; i += 2) onExit(decodeStatus(r[i]!, r[i + 1]!));
    count += r.length / 2;
    // A full batch means there may be more.
    if (r.length < 2 * 4096) return count;
  }
}
