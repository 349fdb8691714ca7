// The formation: every service of the plan, started in dependency order once
// their dependencies are ready, stopped in reverse order (independent ones in
// parallel) within the one optional stop budget, and tsinit's exit status.
// It is the ProcessSink of events.ts: every reaped pid is a service's leader,
// a readiness check, or an adopted orphan, which is logged and never taken
// for a service's exit (Foreman's bug). Past the point of no return: errors
// here are logged and tsinit carries on.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { native } from '../native';
import type { Exit } from '../core/reaper';
import { isForwarded, signalName } from '../core/signals';
import { spawnCommand } from '../core/spawn';
import { descendantsTarget } from '../supervise/targets';
import type { StopTarget } from '../supervise/stop';
import type { Logger } from '../core/log';
import type { Plan } from '../config/plan';
import type { ProcessSink } from './events';
import { identityGone, spawnRequest, type Resources } from './launch';
import type { NotifyChannel } from './readiness';
import { Service, type ServiceHost } from './service';
import { sessionMembers } from './sessions';
import type { Relay } from './relay';
import { errnoMessage } from '../core/errno';

const S = os.constants.signals;
/** What stops everything: docker stop and Kubernetes send TERM; a terminal INT; s6 and systemd also take QUIT and PWR. */
const STOP_SIGNALS: readonly number[] = [S.SIGTERM, S.SIGINT, S.SIGQUIT, S.SIGPWR ?? 30];
/** After SIGKILL at the end of the budget, how long the kernel gets before tsinit leaves anyway. */
const AFTER_KILL_MS = 2000;
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

type Phase = 'running' | 'stopping' | 'draining' | 'done';

export class Formation implements ProcessSink {
  readonly services: Service[];
  private readonly o: FormationOptions;
  private readonly pids = new Map<number, (e: Exit) => void>();
  /** Session id → service, for every instance so far: adopted orphans name where they came from. */
  private readonly sessions = new Map<number, string>();
  private readonly dependents = new Map<Service, Service[]>();
  private phase: Phase = 'running';
  private deadline: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private scheduled = false;
  private allUp = false;
  private announced = false;
  /** Set when an essential service ends: tsinit's status. */
  private essentialStatus: number | null = null;
  private stopCause: 'essential' | 'signal' | 'ended' = 'ended';
  /** Everything below tsinit, for what left the services' sessions. */
  private readonly rest: StopTarget;

  constructor(o: FormationOptions) {
    this.o = o;
    this.rest = descendantsTarget({ isPid1: o.isPid1, group: null, log: o.log });
    this.services = o.plan.services.map((p) => new Service(p, this.hostFor(p.name)));
    const byName = new Map(this.services.map((s) => [s.name, s]));
    for (const s of this.services) this.dependents.set(s, this.services.filter((d) => d.plan.after.includes(s.name)));
    for (const [name, ch] of o.channels) ch.onMessage((m) => byName.get(name)?.notified(m));
  }

  private hostFor(name: string): ServiceHost {
    const res = (): Resources => this.o.resources.get(name)!;
    const plan = this.o.plan.services.find((p) => p.name === name)!;
    return {
      log: this.o.log,
      stopping: () => this.phase !== 'running',
      budgetLeft: () => (this.deadline === null ? null : Math.max(0, this.deadline - Date.now())),
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
    if (this.phase === 'stopping') this.checkDrains();
  }

  empty(): void {
    if (this.phase === 'draining') this.finish();
  }

  /** Reaps now and delivers what it found (processEvents' drain), set once the adapter exists. */
  drain: () => void = () => {};

  warning(msg: string): void {
    this.o.log.warning(msg);
  }

  // --- policy ----------------------------------------------------------------

  private evaluate(): void {
    if (this.phase === 'running') this.evaluateRunning();
    if (this.phase === 'stopping') this.evaluateStopping();
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
    const up = this.services.every((s) => s.state === 'ready' || (s.state === 'exited' && s.everUp));
    if (up !== this.allUp) {
      this.allUp = up;
      this.readyChanged(up);
    }
  }

  /** ready_file present exactly while every service is up; READY=1 upstream the first time. */
  private readyChanged(up: boolean): void {
    const file = this.o.plan.global.readyFile;
    if (up) {
      if (file !== null) {
        try {
          fs.mkdirSync(path.dirname(file), { recursive: true });
          fs.writeFileSync(file, '');
        } catch (err) {
          this.o.log.warning(`cannot create ready_file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
        }
      }
      this.o.log.event('info', 'services-ready', `all ${this.services.length} service(s) are ready`, { services: this.services.length });
      if (!this.announced) {
        this.announced = true;
        this.tellUpstream(`READY=1\nSTATUS=${this.services.length} service(s) ready`);
      }
    } else this.removeReadyFile();
  }

  private removeReadyFile(): void {
    const file = this.o.plan.global.readyFile;
    if (file === null) return;
    try {
      fs.unlinkSync(file);
    } catch {
      // Not there.
    }
  }

  private tellUpstream(msg: string): void {
    if (this.o.upstream === null) return;
    const r = native.notifySend(this.o.upstream, Buffer.from(msg));
    if (r < 0) this.o.log.warning(`cannot notify NOTIFY_SOCKET ${this.o.upstream.toString()}: ${errnoMessage(r)}`);
  }

  private stopAll(why: string): void {
    if (this.phase !== 'running') return;
    this.phase = 'stopping';
    const budget = this.o.plan.global.stopTimeoutMs;
    this.o.log.event('info', 'services-stopping', `${why}: stopping in reverse order${budget === null ? '' : `, within ${budget} ms`}`, { budgetMs: budget });
    this.removeReadyFile();
    this.allUp = false;
    if (this.announced) this.tellUpstream('STOPPING=1');
    if (budget !== null) {
      this.deadline = Date.now() + budget;
      this.timer = setTimeout(() => this.budgetOver(), budget);
    }
    this.schedule();
  }

  private evaluateStopping(): void {
    // A service stops once every service that depends on it has stopped.
    for (const s of this.services) {
      if (!s.ended && this.dependents.get(s)!.every((d) => d.ended)) s.stop();
    }
    this.checkDrains();
    if (this.phase === 'stopping' && this.services.every((s) => s.ended)) this.drainRest();
  }

  /** Services whose leader is gone wait for the rest of their session: one /proc scan for all. */
  private checkDrains(): void {
    const draining = this.services.filter((s) => s.draining);
    if (draining.length === 0) return;
    const members = sessionMembers(new Set(draining.map((s) => s.sid)));
    for (const s of draining) if (!members.has(s.sid)) s.sessionEmpty();
  }

  /** Every service is down: what escaped their sessions gets the stop signal; tsinit exits once it has no child left. */
  private drainRest(): void {
    this.phase = 'draining';
    // Done at once when no child is left (the drain reports it: empty()).
    this.drain();
    if (this.phase !== 'draining') return;
    this.o.log.event('info', 'draining', 'every service is down; processes that left their sessions remain: sending SIGTERM', {});
    this.signalRemaining(S.SIGTERM, S.SIGCONT);
  }

  /** What escaped the services' sessions: kill(-1) as PID 1, else each
   * descendant pinned before it is signalled (the single command's target). */
  private signalRemaining(...sigs: number[]): void {
    this.rest.signal(sigs);
  }

  private budgetOver(): void {
    this.timer = null;
    this.o.log.event('warning', 'stop-budget-over', `stop_timeout over: SIGKILL to what is left`, {});
    for (const s of this.services) if (!s.ended) s.killTree('stop_timeout over');
    this.signalRemaining(S.SIGKILL);
    this.timer = setTimeout(() => {
      this.o.log.warning(`processes survived SIGKILL for ${AFTER_KILL_MS} ms; exiting anyway`);
      this.finish();
    }, AFTER_KILL_MS);
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
    if (this.timer) clearTimeout(this.timer);
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
