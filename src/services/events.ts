// The one adapter between the process-level events tsinit receives and the
// services runtime: "pid P exited with status S", "signal N arrived", "a
// batch of exits is done (trees may be empty now)". Fed today from the
// addon's signal pipe (native.signalsStart, handed over by main.ts) and
// reapAll; when reaping moves into the addon, only this file changes.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { reapAll, type Exit } from '../core/reaper';

const SIGCHLD = os.constants.signals.SIGCHLD;

export interface ProcessSink {
  /** Whether pid is one tsinit started (a service or a check); others are adopted orphans. */
  known(pid: number): boolean;
  /** A child was reaped; sid: the session an adopted orphan belonged to, when it was seen before it was reaped. */
  exited(e: Exit, sid: number | null): void;
  signal(sig: number): void;
  /** Every exit of this wake-up is delivered. */
  settled(): void;
  warning(msg: string): void;
}

/**
 * tsinit's children that it did not start, with their session, read while
 * they are still there (a zombie keeps its /proc entry until reaped): after
 * waitpid the pid's session can no longer be learnt. The children files are
 * per thread of tsinit (proc(5)); orphans are adopted by whichever is alive.
 */
function adoptedSessions(sink: ProcessSink, cache: Map<number, number>): void {
  let tids: string[];
  try {
    tids = fs.readdirSync('/proc/self/task');
  } catch {
    return;
  }
  for (const tid of tids) {
    let text: string;
    try {
      text = fs.readFileSync(`/proc/self/task/${tid}/children`, 'latin1');
    } catch {
      continue;
    }
    for (const word of text.split(' ')) {
      const pid = Number(word);
      if (!pid || cache.has(pid) || sink.known(pid)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
        // Fields after the comm: state ppid pgrp session (proc(5)).
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        cache.set(pid, Number(f[3]));
      } catch {
        // Gone already: reaped below without a session.
      }
    }
  }
}

export type SignalHandler = (sigs: Uint8Array, lost?: number[]) => void;

/** Routes what the addon reports to sink; returns the handler for main.ts's setSignalHandler. */
export function processEvents(sink: ProcessSink): SignalHandler {
  const sessions = new Map<number, number>();
  const reap = (): void => {
    adoptedSessions(sink, sessions);
    const r = reapAll((e) => {
      const sid = sessions.get(e.pid) ?? null;
      sessions.delete(e.pid);
      sink.exited(e, sid);
    });
    if (r < 0) sink.warning(`waitpid failed: error ${-r}`);
  };
  return (sigs, lost) => {
    let reaped = false;
    const one = (sig: number): void => {
      if (sig === SIGCHLD) {
        if (!reaped) reap();
        reaped = true;
      } else sink.signal(sig);
    };
    for (const sig of sigs) one(sig);
    lost?.forEach((count, sig) => {
      if (count > 0) one(sig);
    });
    if (reaped) sink.settled();
  };
}
