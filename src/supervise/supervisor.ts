// The one command: joins forwarding, reaping and its stop once it runs, and
// owns the exit-status policy. Routing signals is forward.ts, the stop
// sequence stop.ts, the report of parents that do not reap negligence.ts.
// This is past the point of no return: the command is running, so failures
// here are warnings and tsinit carries on (catatonit): if PID 1 died, the
// whole container would die with it.
import { native, constants } from '../native';
import { exitStatusOf, decodeStatus, watchExit, type Exit } from '../core/reaper';
import { isForwarded, signalName } from '../core/signals';
import type { Logger } from '../core/log';
import { Forwarder } from './forward';
import { Stop, withCont, AFTER_KILL_MS } from './stop';
import { groupTarget, descendantsTarget } from './targets';
import { NegligenceReport } from './negligence';

const EV = constants.EVENT;
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
  private readonly fwd: Forwarder;
  /** The command's own stop: --kill-after, after a stop signal. */
  private readonly command: Stop;
  /** Its descendants' stop, once it is gone: --grace. */
  private readonly tree: Stop;
  private readonly negligence: NegligenceReport;

  constructor(opts: SupervisorOptions) {
    this.o = opts;
    const { child, isPid1, log } = opts;
    this.fwd = new Forwarder(opts);
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
    // The addon reports the command's exit; at -vv every reap, to be logged.
    watchExit(child);
    native.reapReportAll(log.enabled('debug'));
    this.fwd.route();
  }

  /** Events in order, as the addon reports them (native.ts EventHandler). */
  onEvents(ev: Int32Array): void {
    for (let i = 0; i + 2 < ev.length; i += 3) {
      if (this.phase === 'done') return;
      const kind = ev[i]!;
      const a = ev[i + 1]!;
      const b = ev[i + 2]!;
      if (kind === EV.SIGNAL) this.handle(a, b);
      else if (kind === EV.EXIT) i = this.reaped(ev, i) - 3;
      else if (kind === EV.EMPTY) this.treeEmpty();
      else if (kind === EV.LOST || kind === EV.LOST_FORWARDED) this.lost(a, b, kind === EV.LOST_FORWARDED);
    }
  }

  /** Signals that found the addon's pipe full (never expected: it holds
   * 32,768; but not silently lost either). Real-time signals queue, so each
   * one is handled; a standard one is pending at most once, so once. */
  private lost(sig: number, count: number, forwarded: boolean): void {
    const rt = sig >= constants.SIGRTMIN && !forwarded;
    this.o.log.warning(`${count} × ${signalName(sig)} arrived while tsinit was busy; ${rt ? 'forwarding each' : 'handling it once'}`);
    // Forwarded ones were sent by the handler: only the notice was lost.
    for (let n = 0; n < (rt ? count : 1) && this.phase !== 'done'; n++) this.handle(sig, forwarded ? 0 : -1);
  }

  /** One signal; errno -1 when the handler did not forward it, else its kill()'s errno. */
  private handle(sig: number, errno: number): void {
    if (!isForwarded(sig)) return;
    const out = this.fwd.rewritten(sig);
    if (errno >= 0) {
      // Sent already, by the handler, while the command's pid was pinned:
      // once, to the command's group, whatever happened since.
      this.fwd.sent(out, sig, errno);
    } else if (out === 0) {
      if (this.o.log.enabled('debug')) this.o.log.event('debug', 'signal-dropped', `dropped ${signalName(sig)} (--rewrite)`, { signal: sig });
    } else if (this.phase === 'running') {
      this.fwd.forward(out, sig);
    } else {
      // The command is gone: what tsinit is told now goes to whatever is left.
      this.tree.signal(out);
    }
    if (this.phase === 'running' && this.fwd.asksToStop(sig)) this.stopRequested(sig, out);
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

  /** One drain's exits, from i on: each logged, the command's acted on last
   * (as one SIGCHLD's worth). Returns the index after them. */
  private reaped(ev: Int32Array, i: number): number {
    let command: Exit | null = null;
    let j = i;
    for (; j + 2 < ev.length && ev[j] === EV.EXIT; j += 3) {
      const e = decodeStatus(ev[j + 1]!, ev[j + 2]!);
      if (e.pid === this.o.child && this.phase === 'running') command = e;
      else this.logReaped(e);
    }
    // The drain ends with EMPTY when it found no child left.
    const empty = ev[j] === EV.EMPTY;
    if (command !== null) this.commandExited(command, empty);
    // While killing, each batch of exits is a cue to walk again for late forks.
    else if (this.phase === 'draining' && !empty) this.tree.onChildExit();
    return j;
  }

  /** Done when tsinit has no children left at all (waitpid said ECHILD). */
  private treeEmpty(): void {
    if (this.phase === 'draining') this.finish();
  }

  private logReaped(e: Exit): void {
    if (!this.o.log.enabled('debug')) return;
    this.o.log.event('debug', 'reaped', `reaped pid ${e.pid} (${describe(e)})`, { reaped: e.pid, code: e.code, signal: e.signal });
  }

  private commandExited(e: Exit, empty: boolean): void {
    const { child, log, remapExit } = this.o;
    const raw = exitStatusOf(e);
    this.status = remapExit.get(raw) ?? raw;
    // The command is gone: its group is no target any more (the addon
    // cleared the route before it reaped the command).
    this.fwd.unroute();
    log.event('info', 'command-exited', `command (pid ${child}) ${describe(e)}`, { child, code: e.code, signal: e.signal, status: raw });
    if (this.status !== raw) log.event('info', 'exit-remapped', `status ${raw} remapped to ${this.status}`, { from: raw, to: this.status });
    this.command.done();
    this.phase = 'draining';
    if (empty) {
      this.finish();
      return;
    }
    // From now on every reap reaches JavaScript: each is a cue for the stop
    // sequence to walk again (late forks), and the tree is short-lived.
    native.reapReportAll(true);
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
