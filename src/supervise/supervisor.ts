// Joins forwarding, reaping and shutdown once the command runs, and owns the
// exit-status policy. This is past the point of no return: the command is
// running, so failures here are warnings and tsinit carries on (catatonit): if
// PID 1 died, the whole container would die with it.
import * as os from 'node:os';
import { native } from '../native';
import { reapAll, exitStatusOf, decodeStatus, type Exit } from '../core/reaper';
import { isForwarded, signalName } from '../core/signals';
import { descendants, negligentParents } from '../core/tree';
import type { Logger } from '../core/log';

const S = os.constants.signals;
const ECHILD = -10;
const ESRCH = -3;
const WNOHANG = 1;
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

  /** Whether the addon forwards on its own (see route()). */
  private routed = false;

  constructor(opts: SupervisorOptions) {
    this.o = opts;
    this.route();
  }

  /**
   * The hot path: while the command runs, the addon forwards each signal
   * itself, as this table says, without a trip into JavaScript (about a
   * quarter of the CPU per signal). Only SIGCHLD, SIGTERM and SIGINT (which
   * start the grace period) still come here. At -vv every signal comes here,
   * to be logged.
   */
  private route(): void {
    const { child, singleChild, rewrite, log } = this.o;
    if (log.enabled('debug')) return;
    const to = new Array<number>(65).fill(0);
    const notify = new Array<number>(65).fill(0);
    for (let sig = 1; sig < 65; sig++) if (isForwarded(sig)) to[sig] = rewrite.get(sig) ?? sig;
    for (const sig of [S.SIGCHLD, S.SIGTERM, S.SIGINT]) notify[sig] = 1;
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
      this.signalRemaining(out);
    }
    // Asked to stop: the command gets the grace period, then SIGKILL.
    if ((sig === S.SIGTERM || sig === S.SIGINT) && this.phase === 'running' && this.deadline === null) {
      this.startGrace(`${signalName(sig)} received`);
    }
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
    else if (this.phase === 'draining' || this.phase === 'killing') this.finishIfEmpty();
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
    this.phase = 'draining';
    if (this.finishIfEmpty()) return;
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
