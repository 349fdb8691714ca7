// Signal routing for the one command: the table the addon's signal handler
// forwards by (native/sigcatch.c), and the forwards JavaScript still does
// itself (signals queued before the route, signals that found the pipe full).
import * as os from 'node:os';
import { native, constants } from '../native';
import { isForwarded, signalName } from '../core/signals';
import type { Logger } from '../core/log';

const S = os.constants.signals;
const ESRCH = os.constants.errno.ESRCH;

export interface ForwardOptions {
  /** The command's pid; it leads its own process group. */
  child: number;
  singleChild: boolean;
  /** Incoming signal → signal forwarded instead (0 drops it). */
  rewrite: ReadonlyMap<number, number>;
  log: Logger;
}

/** What, sent to the command, asks it to stop (and so starts --kill-after). */
const STOPS: readonly number[] = [S.SIGTERM, S.SIGINT];

export class Forwarder {
  private readonly o: ForwardOptions;
  /** Whether the addon's handler forwards on its own (see route()). */
  routed = false;

  constructor(opts: ForwardOptions) {
    this.o = opts;
  }

  /** pid, or -pgid: the process group (default) or the command alone. */
  get target(): number {
    return this.o.singleChild ? this.o.child : -this.o.child;
  }

  /** The signal actually sent for one received (0: dropped). */
  rewritten(sig: number): number {
    return this.o.rewrite.get(sig) ?? sig;
  }

  /** Whether sig, as sent after --rewrite, asks the command to stop: the
   * signal actually sent decides, not the one received (-r TERM:0 starts nothing). */
  asksToStop(sig: number): boolean {
    return STOPS.includes(this.rewritten(sig));
  }

  /**
   * The hot path: while the command runs, the addon's signal handler itself
   * sends each signal as this table says, the moment it arrives, without a
   * trip through the event loop. Only SIGCHLD and what is sent as SIGTERM or
   * SIGINT (which starts the stop) are still recorded for JavaScript; at -vv
   * every signal is, to be logged. The addon clears the route before it reaps the command.
   */
  route(): void {
    const { log } = this.o;
    const to = new Array<number>(constants.NSIG).fill(0);
    const notify = new Array<number>(constants.NSIG).fill(0);
    for (let sig = 1; sig < constants.NSIG; sig++) if (isForwarded(sig)) to[sig] = this.rewritten(sig);
    const all = log.enabled('debug');
    for (let sig = 1; sig < constants.NSIG; sig++) if (all || sig === S.SIGCHLD || this.asksToStop(sig)) notify[sig] = 1;
    this.routed = native.signalsRoute(this.target, to, notify) === 0;
  }

  unroute(): void {
    if (!this.routed) return;
    native.signalsRoute(0);
    this.routed = false;
  }

  /** Forwards to the command's process group (default) or to the command alone. */
  forward(sig: number, received: number): void {
    this.sent(sig, received, -native.kill(this.target, sig));
  }

  /** Logs one forward (the handler's or forward()'s) by its errno: 0 sent. */
  sent(sig: number, received: number, errno: number): void {
    const { child, singleChild, log } = this.o;
    // The hot path: nothing is formatted unless it will be written.
    if (errno === 0 && !log.enabled('debug')) return;
    const to = singleChild ? `pid ${child}` : `process group ${child}`;
    const rewritten = sig !== received ? ` (rewritten from ${signalName(received)})` : '';
    if (errno === 0) {
      log.event('debug', 'signal-forwarded', `forwarded ${signalName(sig)} to ${to}${rewritten}`, { signal: sig, received, target: this.target });
    } else if (errno !== ESRCH) {
      log.warning(`cannot forward ${signalName(sig)} to ${to}: error ${errno}`);
    }
  }
}
