// The one command: joins forwarding, reaping and its stop once it runs, and
// owns the exit-status policy. The stop sequence is stop.ts, the report of
// parents that do not reap negligence.ts. This is past the point of no
// return: the command is running, so failures here are warnings and tsinit
// carries on (catatonit): if PID 1 died, the whole container would die with it.
import * as os from 'node:os';
import { native } from '../native';
import { reapAll, exitStatusOf, decodeStatus, type Exit } from '../core/reaper';
import { isForwarded, signalName } from '../core/signals';
import type { Logger } from '../core/log';
import { Stop, withCont, AFTER_KILL_MS } from './stop';
import { groupTarget, descendantsTarget } from './targets';
import { NegligenceReport } from './negligence';

const S = os.constants.signals;
const ECHILD = -10;
const ESRCH = -3;
const WNOHANG = 1;
/** What, sent to the command, asks it to stop and so starts --kill-after. */
const STOPS: readonly number[] = [S.SIGTERM, S.SIGINT];
const AFTER_KILL_S = AFTER_KILL_MS / 1000;

export interface SupervisorOptions {
  /** The command's pid; it leads its own process group. */
  child: number;
  singleChild: boolean;
  /** Incoming signal → signal forwarded instead (0 drops it). */
  rewrite: ReadonlyMap<number, number>;
  /** The command's exit status → tsinit's. */
  remapExit: ReadonlyMap<number, number>;
  /** After a stop signal is sent to the command, how long before SIGKILL to
   * its process group; null (the default): no timer, whoever asked tsinit to
   * stop owns the deadline. */
  killAfterMs: number | null;
  /** Once the command is gone, how long its descendants get between the stop
   * signal and SIGKILL; 0: SIGKILL at once; null: no timer. */
  graceMs: number | null;
  stopSignal: number;
  /** PID 1 of its namespace: kill(-1) reaches every other process in it. */
  isPid1: boolean;
  log: Logger;
  /** Called once, with tsinit's exit status, when everything below tsinit is gone. */
  onDone(status: number): void;
}

type Phase = 'running' | 'draining' | 'done';

export class Supervisor {
  private readonly o: SupervisorOptions;
  private phase: Phase = 'running';
  private status = 0;
  /** The command's own stop: --kill-after, after a stop signal. */
  private readonly command: Stop;
  /** Its descendants' stop, once it is gone: --grace. */
  private readonly tree: Stop;
  private readonly negligence: NegligenceReport;

  /** Whether the addon forwards on its own (see route()). */
  private routed = false;

  constructor(opts: SupervisorOptions) {
    this.o = opts;
    const { child, isPid1, log } = opts;
    this.command = new Stop({ target: groupTarget(child), log, option: '--kill-after' });
    this.tree = new Stop({
      target: descendantsTarget({ isPid1, group: child, log }),
      log,
      option: '--grace',
      onGiveUp: () => {
        log.warning(`descendants survived SIGKILL for ${AFTER_KILL_S} s; exiting anyway`);
        this.finish();
      },
    });
    this.negligence = new NegligenceReport(log);
    this.route();
  }

  /**
   * The hot path: while the command runs, the addon forwards each signal
   * itself, as this table says, without a trip into JavaScript (about a
   * quarter of the CPU per signal). Only SIGCHLD and what is forwarded as
   * SIGTERM or SIGINT (which starts --kill-after) still come here. At -vv
   * every signal comes here, to be logged.
   */
  private route(): void {
    const { child, singleChild, rewrite, log } = this.o;
    if (log.enabled('debug')) return;
    const to = new Array<number>(65).fill(0);
    const notify = new Array<number>(65).fill(0);
    for (let sig = 1; sig < 65; sig++) if (isForwarded(sig)) to[sig] = rewrite.get(sig) ?? sig;
    for (let sig = 1; sig < 65; sig++) if (sig === S.SIGCHLD || this.asksToStop(sig)) notify[sig] = 1;
    this.routed = native.signalsRoute(singleChild ? child : -child, to, notify) === 0;
  }

  private unroute(): void {
    if (!this.routed) return;
    native.signalsRoute(0);
    this.routed = false;
  }

  /** Signals in order of arrival, as the addon read them from its pipe, and
   * per-signal counts of any that found the pipe full (never expected: it
   * holds 64 KiB; but not silently lost either). */
  onSignals(sigs: Uint8Array, lost?: readonly number[]): void {
    for (const sig of sigs) {
      if (this.phase === 'done') return;
      this.handle(sig);
    }
    lost?.forEach((count, sig) => {
      if (count > 0 && this.phase !== 'done') {
        this.o.log.warning(`${count} × ${signalName(sig)} arrived while tsinit was busy; handling it once`);
        // These never passed through the addon's forwarding: forward here.
        this.handle(sig, true);
      }
    });
  }

  private handle(sig: number, overflowed = false): void {
    if (sig === S.SIGCHLD) {
      this.reap();
      return;
    }
    if (!isForwarded(sig)) return;
    const out = this.o.rewrite.get(sig) ?? sig;
    if (out === 0) {
      if (this.o.log.enabled('debug')) this.o.log.event('debug', 'signal-dropped', `dropped ${signalName(sig)} (--rewrite)`, { signal: sig });
    } else if (this.phase === 'running') {
      // Already sent by the addon when routed (see route()).
      if (!this.routed || overflowed) this.forward(out, sig);
    } else {
      // The command is gone: what tsinit is told now goes to whatever is left.
      this.tree.signal(out);
    }
    if (this.phase === 'running' && this.asksToStop(sig)) this.stopRequested(sig, out);
  }

  /** Whether sig, as forwarded (after --rewrite; 0 drops it), asks the command to stop. */
  private asksToStop(sig: number): boolean {
    return STOPS.includes(this.o.rewrite.get(sig) ?? sig);
  }

  /** The command was sent a stop signal: the orchestrator that asked owns its
   * deadline, unless --kill-after sets one here. */
  private stopRequested(received: number, sent: number): void {
    const { killAfterMs, log } = this.o;
    if (this.command.phase !== 'idle') return;
    const why = `${signalName(received)} received${sent !== received ? ` (sent as ${signalName(sent)})` : ''}`;
    if (killAfterMs === null) {
      // Marks the stop as begun, so that this is said once; nothing is armed.
      this.command.start([], null);
      log.event('info', 'stop-forwarded', `${why}: waiting for the command to exit (no --kill-after)`, { signal: sent });
      return;
    }
    if (killAfterMs > 0) log.event('info', 'kill-after-started', `${why}: the command has ${killAfterMs} ms before SIGKILL (--kill-after)`, { killAfterMs });
    this.command.start([], killAfterMs);
  }

  /** Forwards to the command's process group (default) or to the command alone. */
  private forward(sig: number, received: number): void {
    const { child, singleChild, log } = this.o;
    const target = singleChild ? child : -child;
    const r = native.kill(target, sig);
    // The hot path: nothing is formatted unless it will be written.
    if (r === 0 && !log.enabled('debug')) return;
    const to = singleChild ? `pid ${child}` : `process group ${child}`;
    const rewritten = sig !== received ? ` (rewritten from ${signalName(received)})` : '';
    if (r === 0) {
      log.event('debug', 'signal-forwarded', `forwarded ${signalName(sig)} to ${to}${rewritten}`, { signal: sig, received, target });
    } else if (r !== ESRCH) {
      log.warning(`cannot forward ${signalName(sig)} to ${to}: error ${-r}`);
    }
  }

  private reap(): void {
    const { child, log } = this.o;
    let command: Exit | null = null;
    const r = reapAll((e) => {
      if (e.pid === child && this.phase === 'running') command = e;
      else this.logReaped(e);
    });
    if (r < 0) log.warning(`waitpid failed: error ${-r}`);
    if (command !== null) this.commandExited(command);
    // While killing, each exit is a cue to walk again for late forks.
    else if (this.phase === 'draining' && !this.finishIfEmpty()) this.tree.onChildExit();
  }

  private logReaped(e: Exit): void {
    if (!this.o.log.enabled('debug')) return;
    this.o.log.event('debug', 'reaped', `reaped pid ${e.pid} (${describe(e)})`, { reaped: e.pid, code: e.code, signal: e.signal });
  }

  private commandExited(e: Exit): void {
    const { child, log, remapExit } = this.o;
    const raw = exitStatusOf(e);
    this.status = remapExit.get(raw) ?? raw;
    // The command is gone: its group is no target any more.
    this.unroute();
    log.event('info', 'command-exited', `command (pid ${child}) ${describe(e)}`, { child, code: e.code, signal: e.signal, status: raw });
    if (this.status !== raw) log.event('info', 'exit-remapped', `status ${raw} remapped to ${this.status}`, { from: raw, to: this.status });
    this.command.done();
    this.phase = 'draining';
    if (this.finishIfEmpty()) return;
    this.stopDescendants();
  }

  /** Descendants remain (the command's group, adopted orphans, processes
   * that escaped with setsid or a double fork): the stop signal, --grace,
   * then SIGKILL. As soon as the last is gone, tsinit exits. */
  private stopDescendants(): void {
    const { graceMs, stopSignal, log } = this.o;
    // Named before they are signalled: the report is about who did not reap.
    if (log.enabled('info')) this.negligence.report();
    const first = withCont(stopSignal);
    const n = this.tree.start(first, graceMs);
    if (graceMs === 0 || n === 0) return;
    const sent = first.map(signalName).join(' and ');
    const then = graceMs === null ? 'no SIGKILL (--grace never)' : `SIGKILL in ${graceMs} ms`;
    log.event('info', 'grace-started', `${n === null ? 'descendants remain' : `${n} descendant(s) remain`}: sent ${sent}, ${then}`, {
      remaining: n,
      graceMs,
    });
  }

  /** Done when tsinit has no children left at all (waitpid says ECHILD). */
  private finishIfEmpty(): boolean {
    for (;;) {
      const [r, status] = native.waitpid(-1, WNOHANG);
      if (r === ECHILD) {
        this.finish();
        return true;
      }
      if (r <= 0) return false;
      // A zombie that appeared after the drain: reaped here, so say so.
      this.logReaped(decodeStatus(r, status));
    }
  }

  private finish(): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    this.command.done();
    this.tree.done();
    this.o.log.event('info', 'exit', `exiting with status ${this.status}`, { status: this.status });
    this.o.onDone(this.status);
  }

  /** At -v, looks after firstMs and then every intervalMs for zombies whose live parent does not reap them. */
  watchNegligentParents(firstMs: number, intervalMs: number): void {
    this.negligence.watch(firstMs, intervalMs, () => this.phase !== 'done');
  }
}

function describe(e: Exit): string {
  return e.code !== null ? `exited with status ${e.code}` : `was killed by ${signalName(e.signal!)}${e.core ? ' (core dumped)' : ''}`;
}
