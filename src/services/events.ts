// The one adapter between the process-level events tsinit receives and the
// services runtime: "pid P exited with status S (from session X)", "signal N
// arrived", "a batch of exits is done", "no child is left". The addon reaps
// (native/reap.c, the one caller of waitpid(-1)); in this mode it reports
// every exit, each with the session the process belonged to, read from the
// zombie before it was reaped, so an orphan adopted from a service's subtree
// is attributed to that service and never taken for its main process's exit.
import * as os from 'node:os';
import { native, constants, type EventHandler } from '../native';
import { decodeStatus, type Exit } from '../core/reaper';
import { errnoMessage } from '../core/errno';

const EV = constants.EVENT;
const SIGCHLD = os.constants.signals.SIGCHLD;

export interface ProcessSink {
  /** Whether pid is one tsinit started (a service or a check); others are adopted orphans. */
  known(pid: number): boolean;
  /** A child was reaped; sid: the session an adopted orphan belonged to (null for a known pid). */
  exited(e: Exit, sid: number | null): void;
  signal(sig: number): void;
  /** Every exit of this wake-up is delivered. */
  settled(): void;
  /** waitpid said ECHILD: tsinit has no child at all. */
  empty(): void;
  warning(msg: string): void;
}

export interface ProcessEvents {
  /** For main.ts's setSignalHandler. */
  handler: EventHandler;
  /** Reaps now what has exited (and learns whether anything is left), delivering it to the sink. */
  drain(): void;
}

/** Routes what the addon reports to sink. */
export function processEvents(sink: ProcessSink): ProcessEvents {
  native.reapReportAll(true);
  native.reapReportSessions(true);
  const sessions = new Map<number, number>();
  const handler: EventHandler = (ev) => {
    let reaped = false;
    let empty = false;
    for (let i = 0; i + 2 < ev.length; i += 3) {
      const kind = ev[i]!;
      const a = ev[i + 1]!;
      const b = ev[i + 2]!;
      if (kind === EV.SIGNAL) sink.signal(a);
      else if (kind === EV.SESSION) sessions.set(a, b);
      else if (kind === EV.EXIT) {
        const sid = sessions.get(a);
        sessions.delete(a);
        sink.exited(decodeStatus(a, b), sink.known(a) || sid === undefined || sid < 0 ? null : sid);
        reaped = true;
      } else if (kind === EV.EMPTY) empty = true;
      // Signals that found the pipe full: each is acted on once (SIGCHLD's
      // drain the addon did itself).
      else if ((kind === EV.LOST || kind === EV.LOST_FORWARDED) && a !== SIGCHLD) sink.signal(a);
    }
    if (reaped || empty) sink.settled();
    if (empty) sink.empty();
  };
  const drain = (): void => {
    for (;;) {
      const r = native.reapDrain();
      if (typeof r === 'number') {
        sink.warning(`waitpid failed: ${errnoMessage(r)}`);
        return;
      }
      handler(r);
      // Nothing more, or nothing left at all: done; else a full batch came
      // back and there may be more.
      if (r.length === 0 || r[r.length - 3] === EV.EMPTY || r.length < 3 * (constants.REAP_BATCH - 2)) return;
    }
  };
  return { handler, drain };
}
