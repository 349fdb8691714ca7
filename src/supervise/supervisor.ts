// Joins forwarding, reaping and shutdown once the command runs, and owns the
// exit-status policy. This is past the point of no return: the command is
// running, so failures here are warnings and tsinit carries on (catatonit): if
// PID 1 died, the whole container would die with it.
import * as os from 'node:os';
import { native, constants } from '../native';
import { exitStatusOf, decodeStatus, watchExit, type Exit } from '../core/reaper';
import { isForwarded, signalName } from '../core/signals';
import { descendants, negligentParents } from '../core/tree';
import type { Logger } from '../core/log';
import { Forwarder } from './forward';

const S = os.constants.signals;
const EV = constants.EVENT;
/** After SIGKILL, how long to wait for the kernel before leaving anyway. */
const AFTER_KILL_MS = 2000;

export interface SupervisorOptions {
  /** The command's pid; it leads its own process group. */
  child: number;
  singleChild: boolean;
  /** Incoming signal → signal forwarded instead (0 drops it). */
  rewrite: ReadonlyMap<number, number>;
  /** The command's exit status → tsinit's. */
  remapExit: ReadonlyMap<number, number>;
  graceMs: number;
  stopSignal: number;
  /** PID 1 of its namespace: kill(-1) reaches every other process in it. */
  isPid1: boolean;
  log: Logger;
  /** Called once, with tsinit's exit status, when everything below tsinit is gone. */
  onDone(status: number): void;
}

type Phase = 'running' | 'draining' | 'killing' | 'done';

export class Supervisor {
  private readonly o: SupervisorOptions;
  private phase: Phase = 'running';
  private status = 0;
  /** When the grace period ends (ms since epoch), once a stop began. */
  private deadline: number | null = null;
  private timer: NodeJS.Timeout | null = null;

  private readonly fwd: Forwarder;

  constructor(opts: SupervisorOptions) {
    this.o = opts;
    this.fwd = new Forwarder(opts);
    // The addon reports the command's exit; at -vv every reap, to be logged.
    watchExit(opts.child);
    native.reapReportAll(opts.log.enabled('debug'));
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
      this.signalRemaining(out);
    }
    // Asked to stop: the command gets the grace period, then SIGKILL.
    if ((sig === S.SIGTERM || sig === S.SIGINT) && this.phase === 'running' && this.deadline === null) {
      this.startGrace(`${signalName(sig)} received`);
    }
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
    if (command !== null) this.commandExited(command, ev[j] === EV.EMPTY);
    return j;
  }

  /** Done when tsinit has no children left at all (waitpid said ECHILD). */
  private treeEmpty(): void {
    if (this.phase === 'draining' || this.phase === 'killing') this.finish();
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
    this.phase = 'draining';
    if (empty) {
      this.finish();
      return;
    }
    // Descendants remain (the command's group, adopted orphans, processes
    // that escaped with setsid or a double fork): ask them to stop, give them
    // the grace period, then SIGKILL. As soon as the last is gone, tsinit exits.
    const left = this.remaining();
    log.event('info', 'grace-started', `${left} descendant(s) remain: sending ${signalName(this.o.stopSignal)}, SIGKILL in ${this.graceLeft()} ms`, {
      remaining: left,
      graceMs: this.graceLeft(),
    });
    if (log.enabled('info')) this.reportNegligentParents();
    // A stopped process cannot act on the stop signal until it is continued (systemd does the same).
    const cont = this.o.stopSignal !== S.SIGCONT && this.o.stopSignal !== S.SIGKILL;
    this.signalRemaining(...(cont ? [this.o.stopSignal, S.SIGCONT] : [this.o.stopSignal]));
    if (this.deadline === null) this.startGrace('command exited');
    else this.armTimer();
  }

  private graceLeft(): number {
    return this.deadline === null ? this.o.graceMs : Math.max(0, this.deadline - Date.now());
  }

  private startGrace(why: string): void {
    this.deadline = Date.now() + this.o.graceMs;
    if (this.phase === 'running') this.o.log.event('info', 'grace-started', `${why}: the command has ${this.o.graceMs} ms before SIGKILL`, { graceMs: this.o.graceMs });
    this.armTimer();
  }

  private armTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.graceExpired(), this.graceLeft());
  }

  private graceExpired(): void {
    this.timer = null;
    const { child, log } = this.o;
    if (this.phase === 'running') {
      log.event('warning', 'killed', `grace period over: sending SIGKILL to the command's process group ${child}`, { signal: S.SIGKILL, target: -child });
      native.kill(-child, S.SIGKILL);
      native.kill(child, S.SIGKILL);
      // Its exit arrives as SIGCHLD; then whatever is left is killed at once.
      return;
    }
    if (this.phase === 'draining') {
      const left = this.remaining();
      log.event('warning', 'killed', `grace period over: sending SIGKILL to ${left} remaining descendant(s)`, { signal: S.SIGKILL, remaining: left });
      this.phase = 'killing';
      this.signalRemaining(S.SIGKILL);
      this.timer = setTimeout(() => {
        log.warning(`descendants survived SIGKILL for ${AFTER_KILL_MS} ms; exiting anyway`);
        this.finish();
      }, AFTER_KILL_MS);
    }
  }

  /** Every process below tsinit gets each signal in turn: kill(-1) as PID 1,
   * else each descendant found in /proc (read once for all the signals). */
  private signalRemaining(...sigs: number[]): void {
    if (this.o.isPid1) {
      for (const sig of sigs) native.kill(-1, sig);
      return;
    }
    const below = descendants(process.pid);
    for (const p of below) for (const sig of sigs) native.kill(p.pid, sig);
  }

  private remaining(): number {
    return descendants(process.pid).filter((p) => p.state !== 'Z').length;
  }

  private finish(): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    if (this.timer) clearTimeout(this.timer);
    this.o.log.event('info', 'exit', `exiting with status ${this.status}`, { status: this.status });
    this.o.onDone(this.status);
  }

  /** At -v, looks after firstMs and then every intervalMs for zombies whose live parent does not reap them. */
  watchNegligentParents(firstMs: number, intervalMs: number): void {
    const check = (): void => {
      if (this.phase === 'done') return;
      this.reportNegligentParents();
      setTimeout(check, intervalMs).unref();
    };
    setTimeout(check, firstMs).unref();
  }

  /** Zombies tsinit cannot reap because their parent lives: say who is at fault, once per parent and set. */
  private reported = new Set<string>();
  reportNegligentParents(): void {
    for (const { parent, zombies } of negligentParents(process.pid)) {
      const key = `${parent.pid}:${zombies.map((z) => z.pid).join(',')}`;
      if (this.reported.has(key)) continue;
      this.reported.add(key);
      this.o.log.event(
        'info',
        'not-reaping',
        `pid ${parent.pid} (${parent.comm}) is not reaping its ${zombies.length} zombie child(ren) ${zombies
          .slice(0, 5)
          .map((z) => z.pid)
          .join(', ')}: only their parent can; tsinit reaps them once it exits`,
        { parent: parent.pid, zombies: zombies.map((z) => z.pid) },
      );
    }
  }
}

function describe(e: Exit): string {
  return e.code !== null ? `exited with status ${e.code}` : `was killed by ${signalName(e.signal!)}${e.core ? ' (core dumped)' : ''}`;
}
