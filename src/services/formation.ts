// The formation: every service of the plan, started in dependency order once
// their dependencies are ready, stopped in reverse order (independent ones in
// parallel) within the one optional stop budget, and tsinit's exit status.
// It is the ProcessSink of events.ts: every reaped pid is a service's leader,
// a readiness check, or an adopted orphan, which is logged and never taken
// for a service's exit (Foreman's bug). Past the point of no return: errors
// here are logged and tsinit carries on.
import * as os from 'node:os';
import type { Exit } from '../core/reaper';
import { isForwarded, signalName } from '../core/signals';
import { spawnCommand } from '../core/spawn';
import type { Logger } from '../core/log';
import type { Plan } from '../config/plan';
import type { ProcessSink } from './events';
import { identityGone, spawnRequest, type Resources } from './launch';
import type { NotifyChannel } from './readiness';
import { Service, type ServiceHost } from './service';
import type { Relay } from './relay';
import { Announcer } from './announce';
import { Shutdown } from './shutdown';

const S = os.constants.signals;
/** What stops everything: docker stop and Kubernetes send TERM; a terminal INT; s6 and systemd also take QUIT and PWR. */
const STOP_SIGNALS: readonly number[] = [S.SIGTERM, S.SIGINT, S.SIGQUIT, S.SIGPWR ?? 30];
/** How long the relay gets, once nothing is left, to write out what it holds. */
const RELAY_DRAIN_MS = 2000;
/** Sessions remembered for naming where an adopted orphan came from. */
const SESSIONS_KEPT = 1024;

export interface FormationOptions {
  plan: Plan;
  log: Logger;
  resources: ReadonlyMap<string, Resources>;
  channels: ReadonlyMap<string, NotifyChannel>;
  remapExit: ReadonlyMap<number, number>;
  isPid1: boolean;
  /** tsinit's own NOTIFY_SOCKET (podman --sdnotify=container, a systemd unit), or null. */
  upstream: Buffer | null;
  /** Closes what tsinit holds (sockets, the runtime directory); called once, at the end. */
  cleanup(): void;
  /** The log relay for services with log = "prefix" or "json" (relay.ts), or null when none has. */
  relay: Relay | null;
  onDone(status: number): void;
}

type Phase = 'running' | 'stopping' | 'done';

export class Formation implements ProcessSink {
  readonly services: Service[];
  private readonly o: FormationOptions;
  private readonly pids = new Map<number, (e: Exit) => void>();
  /** Session id → service, for every instance so far: adopted orphans name where they came from. */
  private readonly sessions = new Map<number, string>();
  private phase: Phase = 'running';
  private scheduled = false;
  private readonly announce: Announcer;
  private readonly shutdown: Shutdown;
  private degradeSaid = false;
  /** Set when an essential service ends: tsinit's status. */
  private essentialStatus: number | null = null;
  private stopCause: 'essential' | 'signal' | 'ended' = 'ended';

  constructor(o: FormationOptions) {
    this.o = o;
    this.services = o.plan.services.map((p) => new Service(p, this.hostFor(p.name)));
    const byName = new Map(this.services.map((s) => [s.name, s]));
    this.announce = new Announcer({ readyFile: o.plan.global.readyFile, upstream: o.upstream, log: o.log, services: this.services.length });
    this.shutdown = new Shutdown({
      services: this.services,
      isPid1: o.isPid1,
      log: o.log,
      budgetMs: o.plan.global.stopTimeoutMs,
      drain: () => this.drain(),
      giveUp: () => this.finish(),
    });
    for (const [name, ch] of o.channels) ch.onMessage((m) => byName.get(name)?.notified(m));
  }

  private hostFor(name: string): ServiceHost {
    const res = (): Resources => this.o.resources.get(name)!;
    const plan = this.o.plan.services.find((p) => p.name === name)!;
    return {
      log: this.o.log,
      stopping: () => this.phase !== 'running',
      budgetLeft: () => this.shutdown.budgetLeft(),
      spawnService: (svc, readyFd) => {
        const gone = svc.everStarted ? identityGone(plan) : null;
        if (gone !== null) throw new Error(gone);
        const req = spawnRequest(plan, res(), readyFd === undefined ? {} : { readyFd });
        // log = "prefix" or "json": fds 1 and 2 are the write ends of new
        // pipes the relay reads; tsinit's copies close once the spawn returned.
        const pipes = plan.log !== 'raw' && this.o.relay ? this.o.relay.open(name, plan.log) : null;
        if (pipes) req.map = [...(req.map ?? []), ...pipes.map];
        let pid: number;
        try {
          pid = spawnCommand(req);
        } finally {
          pipes?.closeChildEnds();
        }
        this.sessions.set(pid, svc.name);
        // Bounded, so a crash loop without a start limit cannot grow it: the oldest sessions go first.
        if (this.sessions.size > SESSIONS_KEPT) this.sessions.delete(this.sessions.keys().next().value!);
        return pid;
      },
      spawnCheck: (argv) => spawnCommand(spawnRequest(plan, res(), { check: argv })),
      watchPid: (pid, onExit) => void this.pids.set(pid, onExit),
      notifyChannel: () => this.o.channels.get(name) ?? null,
      changed: () => this.schedule(),
      degraded: (why) => {
        if (this.degradeSaid) return;
        this.degradeSaid = true;
        this.o.log.warning(`${why}: a service's tree is signalled through its process group only`);
      },
    };
  }

  start(): void {
    this.o.log.event('info', 'services-starting', `starting ${this.services.length} service(s) in order: ${this.o.plan.startOrder.map((l) => l.join(' ')).join(' | ')}`, {
      services: this.services.length,
    });
    this.evaluate();
  }

  /** Every change is looked at once, after the current event: no re-entry into a service mid-transition. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      try {
        this.evaluate();
      } catch (err) {
        this.o.log.warning(`internal error, carrying on: ${(err as Error).stack ?? String(err)}`);
      }
    });
  }

  // --- ProcessSink --------------------------------------------------------

  known(pid: number): boolean {
    return this.pids.has(pid);
  }

  exited(e: Exit, sid: number | null): void {
    this.shutdown.childExited();
    const owner = this.pids.get(e.pid);
    if (owner) {
      this.pids.delete(e.pid);
      owner(e);
      return;
    }
    const from = sid === null ? undefined : this.sessions.get(sid);
    const how = e.code !== null ? `status ${e.code}` : signalName(e.signal!);
    this.o.log.event('info', 'orphan-reaped', `reaped pid ${e.pid} (${how}), adopted from ${from ? `service ${from}` : 'outside any service'}`, {
      reaped: e.pid,
      service: from ?? null,
      code: e.code,
      signal: e.signal,
    });
  }

  signal(sig: number): void {
    if (STOP_SIGNALS.includes(sig)) {
      if (this.phase === 'running') {
        this.stopCause = 'signal';
        this.stopAll(`${signalName(sig)} received`);
      } else this.o.log.event('info', 'signal-ignored', `${signalName(sig)} received while stopping: the stop goes on`, { signal: sig });
      return;
    }
    if (!isForwarded(sig)) return;
    for (const s of this.services) s.forward(sig);
  }

  settled(): void {
    this.shutdown.settled();
  }

  empty(): void {
    if (this.shutdown.phase === 'draining') this.finish();
  }

  /** Reaps now and delivers what it found (processEvents' drain), set once the adapter exists. */
  drain: () => void = () => {};

  warning(msg: string): void {
    this.o.log.warning(msg);
  }

  // --- policy ----------------------------------------------------------------

  private evaluate(): void {
    if (this.phase === 'running') this.evaluateRunning();
    if (this.phase === 'stopping') this.shutdown.evaluate();
  }

  private evaluateRunning(): void {
    const byName = new Map(this.services.map((s) => [s.name, s]));
    for (const s of this.services) {
      if (s.state !== 'stopped') continue;
      const deps = s.plan.after.map((d) => byName.get(d)!);
      const dead = deps.find((d) => d.ended && !d.everUp);
      if (dead) s.dependencyFailed(dead);
      else if (deps.every((d) => d.everUp)) s.start();
    }
    const essential = this.services.find((s) => s.plan.essential && s.ended);
    if (essential) {
      this.essentialStatus = essential.status ?? 1;
      this.stopCause = 'essential';
      return this.stopAll(`essential service ${essential.name} ended (status ${this.essentialStatus})`);
    }
    if (this.services.every((s) => s.ended)) return this.stopAll('every service has ended');
    this.announce.set(this.services.every((s) => s.state === 'ready' || (s.state === 'exited' && s.everUp)));
  }

  private stopAll(why: string): void {
    if (this.phase !== 'running') return;
    this.phase = 'stopping';
    const budget = this.o.plan.global.stopTimeoutMs;
    this.o.log.event('info', 'services-stopping', `${why}: stopping in reverse order${budget === null ? '' : `, within ${budget} ms`}`, { budgetMs: budget });
    this.announce.stopping();
    this.shutdown.begin();
    this.schedule();
  }

  /** The status contract: an essential service's; after a stop signal, the first essential service's (0 without one); else the first failed service's, or 0. */
  private exitStatus(): number {
    if (this.stopCause === 'essential' && this.essentialStatus !== null) return this.essentialStatus;
    if (this.stopCause === 'signal') return this.services.find((s) => s.plan.essential)?.status ?? 0;
    return this.services.find((s) => s.state === 'failed')?.status ?? 0;
  }

  private finish(): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    this.shutdown.done();
    try {
      this.o.cleanup();
    } catch (err) {
      this.o.log.warning(`cleanup: ${(err as Error).message}`);
    }
    const raw = this.exitStatus();
    const status = this.o.remapExit.get(raw) ?? raw;
    if (status !== raw) this.o.log.event('info', 'exit-remapped', `status ${raw} remapped to ${status}`, { from: raw, to: status });
    this.o.log.event('info', 'exit', `exiting with status ${status}`, { status });
    const relay = this.o.relay;
    if (!relay) {
      this.o.onDone(status);
      return;
    }
    // Nothing is left that could write: every relayed line goes out before
    // tsinit does, within a bound (a pipe held open from outside the tree).
    let left = false;
    const leave = (): void => {
      if (left) return;
      left = true;
      clearTimeout(bound);
      this.o.onDone(status);
    };
    const bound = setTimeout(() => {
      relay.close();
      leave();
    }, RELAY_DRAIN_MS);
    void relay.drain().then(leave);
  }
}
