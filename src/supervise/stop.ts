// The stop sequence of one tree of processes (the command's, each
// service's, and what escaped them): the stop signal and SIGCONT, an optional deadline, then
// SIGKILL, walked again on every exit and on a short timer until nothing is
// left. It does not find the tree itself: its owner passes a StopTarget, and
// calls done() once the tree is empty (the owner reaps).
// Timers and policy only (targets.ts signals), so the option parser can use
// its limits without loading the addon.
import * as os from 'node:os';
import type { Fields, Logger } from '../core/log';

const S = os.constants.signals;

/** The longest deadline a timer holds (setTimeout's limit, 2^31-1 ms, about
 * 24.8 days): longer ones are refused where they are parsed, never clamped. */
export const MAX_DEADLINE_MS = 2147483647;
/** While SIGKILL is in progress, how often the tree is walked again for
 * processes forked after the last walk by a parent not yet killed. */
export const KILL_REPEAT_MS = 50;
/** After SIGKILL, how long to wait for the kernel before giving up. */
export const AFTER_KILL_MS = 2000;

/** The processes one stop acts on. */
export interface StopTarget {
  /** Sends each signal in turn to every process of the tree that can be
   * pinned; returns how many live processes it reached, or null when it
   * cannot count them. */
  signal(sigs: readonly number[]): number | null;
  /** How the log names n of them: "3 descendant(s)", "the command's process group 12". */
  describe(n: number | null): string;
}

export interface StopOptions {
  target: StopTarget;
  log: Logger;
  /** The option that set the deadline, for the log ("--grace", "--kill-after"). */
  option: string;
  /** After SIGKILL, when the tree is still not empty AFTER_KILL_MS later. */
  onGiveUp?(): void;
  /** The event SIGKILL is logged as (default "killed"), and fields it adds ({ service }). */
  event?: string;
  fields?: Fields;
}

export type StopPhase = 'idle' | 'stopping' | 'killing' | 'done';

/** What a process gets first: the stop signal and then SIGCONT, since a
 * stopped process cannot act on it until continued (systemd does the same). */
export function withCont(stopSignal: number): number[] {
  return stopSignal === S.SIGCONT || stopSignal === S.SIGKILL ? [stopSignal] : [stopSignal, S.SIGCONT];
}

export class Stop {
  phase: StopPhase = 'idle';
  private readonly o: StopOptions;
  /** The deadline while stopping; the next walk while killing. Only while a stop is in progress: none when idle. */
  private timer: NodeJS.Timeout | null = null;
  /** When the kill phase gives up (ms since epoch). */
  private killUntil = 0;
  /** A walk asked for by exits, run once after the signals of this turn. */
  private soon: NodeJS.Immediate | null = null;

  constructor(opts: StopOptions) {
    this.o = opts;
  }

  /**
   * Sends `first` to the tree (nothing when it is empty: the signal was
   * already sent, e.g. forwarded) and SIGKILL after timeoutMs; null: no
   * timer, 0: SIGKILL at once, `first` not sent. Returns how many `first`
   * reached (null: unknown or not sent).
   */
  start(first: readonly number[], timeoutMs: number | null): number | null {
    if (this.phase !== 'idle') return null;
    if (timeoutMs !== null && !(timeoutMs >= 0 && timeoutMs <= MAX_DEADLINE_MS)) throw new RangeError(`${this.o.option}: ${timeoutMs} ms is not a deadline`);
    if (timeoutMs === 0) {
      this.kill(`${this.o.option} 0`);
      return null;
    }
    this.phase = 'stopping';
    const n = first.length > 0 ? this.o.target.signal(first) : null;
    if (timeoutMs !== null) this.timer = setTimeout(() => this.kill(`${this.o.option} over`), timeoutMs);
    return n;
  }

  /** A signal tsinit was told while stopping goes to what is left of the tree. */
  signal(sig: number): void {
    if (this.phase === 'stopping' || this.phase === 'killing') this.o.target.signal([sig]);
  }

  /** A child was reaped: while killing, walk again (what a late fork made),
   * once for all the exits that arrived together. */
  onChildExit(): void {
    if (this.phase !== 'killing' || this.soon) return;
    this.soon = setImmediate(() => {
      this.soon = null;
      if (this.phase === 'killing') this.walk();
    });
  }

  /** The tree is empty: no timer is left behind. */
  done(): void {
    this.phase = 'done';
    this.clear();
  }

  /** SIGKILL now, whatever the phase but done: the deadline was its owner's
   * (the services' stop_timeout), or its timer's. */
  kill(why: string): void {
    if (this.phase === 'done') return;
    this.clear();
    this.phase = 'killing';
    const n = this.o.target.signal([S.SIGKILL]);
    // Counted from when SIGKILL was sent, however long the walk took.
    this.killUntil = Date.now() + AFTER_KILL_MS;
    this.o.log.event('warning', this.o.event ?? 'killed', `${why}: sent SIGKILL to ${this.o.target.describe(n)}`, { ...this.o.fields, signal: S.SIGKILL, remaining: n });
    this.next(n);
  }

  /** SIGKILL again, to whatever appeared since the last walk. */
  private walk(): void {
    if (Date.now() >= this.killUntil) this.giveUp();
    else this.next(this.o.target.signal([S.SIGKILL]));
  }

  /** The next walk: soon, while anything live is left (or cannot be
   * counted), until AFTER_KILL_MS have passed; then give up. */
  private next(live: number | null): void {
    this.clear();
    const left = this.killUntil - Date.now();
    if (left <= 0) this.giveUp();
    // Nothing live: what is left is reaping, which the owner reports with
    // done(); this last timer only decides when to stop waiting for it.
    else if (live === 0) this.timer = setTimeout(() => this.giveUp(), left);
    else this.timer = setTimeout(() => this.walk(), Math.min(KILL_REPEAT_MS, left));
  }

  private giveUp(): void {
    this.clear();
    if (this.phase !== 'killing') return;
    this.phase = 'done';
    this.o.onGiveUp?.();
  }

  private clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.soon) clearImmediate(this.soon);
    this.soon = null;
  }
}
