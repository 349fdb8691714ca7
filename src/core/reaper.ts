// Exit statuses decoded, and reaping on demand. On SIGCHLD the addon drains
// waitpid(-1, WNOHANG) itself (native/reap.c, the one caller of waitpid(-1))
// and reports only the exits of watched pids, and when no child is left.
import { native, constants } from '../native';

const EV = constants.EVENT;

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

/**
 * Reaps every exited child now, through the addon's one drain of waitpid(-1)
 * (the same one the signal callback runs on SIGCHLD); calls onExit for each
 * and onEmpty when no child is left. Returns the count, or -errno.
 */
export function reapAll(onExit: (e: Exit) => void, onEmpty?: () => void): number {
  let count = 0;
  for (;;) {
    const r = native.reapDrain(true);
    if (typeof r === 'number') return r;
    let exits = 0;
    for (let i = 0; i < r.length; i += 3) {
      if (r[i] === EV.EXIT) {
        onExit(decodeStatus(r[i + 1]!, r[i + 2]!));
        exits++;
      } else if (r[i] === EV.EMPTY) onEmpty?.();
    }
    count += exits;
    // A full batch means there may be more.
    if (exits < constants.REAP_BATCH - 1) return count;
  }
}

/** Asks the addon to report this pid's exit as an EXIT event (the command, a service's main process). */
export function watchExit(pid: number): number {
  return native.reapWatch(pid);
}
