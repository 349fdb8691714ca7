// One service as a state machine (after systemd's and supervisord's
// documented states): every transition goes through go(), which logs it as
// a service-* event and tells the formation. Timers exist only while
// something is pending (a backoff or a readiness timeout: one slot, since
// never both; a stop timeout is its Stop's, supervise/stop.ts).
import { native } from '../native';
import { exitStatusOf, type Exit } from '../core/reaper';
import { signalName } from '../core/signals';
import type { Fields, Level, Logger } from '../core/log';
import type { SpawnError } from '../core/spawn';
import type { ServicePlan } from '../config/plan';
import { spawnFailureStatus } from './launch';
import { execProbe, httpProbe, pipeProbe, tcpProbe, type CheckHost, type NotifyChannel, type Probe } from './readiness';
import { errnoMessage } from '../core/errno';
import { withCont, type Stop } from '../supervise/stop';
import { instanceStop, instanceTarget, stopDeadline, type SessionHost } from './sessions';

/**
 * stopped: not started yet (waiting for its dependencies); starting: running,
 * not ready yet; ready; backoff: waiting to restart; stopping: its stop
 * signal was sent; exited: ended for good, successfully or as asked;
 * failed: ended for good, failed (or its start limit was hit).
 */
export type State = 'stopped' | 'starting' | 'ready' | 'backoff' | 'stopping' | 'exited' | 'failed';

export interface ServiceHost extends CheckHost, SessionHost {
  log: Logger;
  /** The whole formation is stopping: nothing restarts. */
  stopping(): boolean;
  /** What is left of the global stop budget, in ms; null: no budget. */
  budgetLeft(): number | null;
  /** Spawns the service (readyFd: the write end of its readiness pipe); throws a SpawnError. */
  spawnService(svc: Service, readyFd: number | undefined): number;
  notifyChannel(svc: Service): NotifyChannel | null;
  changed(svc: Service): void;
}

export class Service {
  readonly plan: ServicePlan;
  readonly name: string;
  state: State = 'stopped';
  /** The running leader, until it is reaped; 0 otherwise. */
  pid = 0;
  /** The session of the current or last instance (its leader's pid). */
  sid = 0;
  /** Reached ready (or ended successfully) at least once: dependents may start. */
  everUp = false;
  /** Started at least once: a restart checks that its user still exists. */
  everStarted = false;
  /** The last instance's exit status (code, or 128+signal; 127/126/125 when it never ran). */
  status: number | null = null;
  private readonly host: ServiceHost;
  private starts: number[] = [];
  private failures = 0;
  private startedAt = 0;
  private probe: Probe | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** The stop sequence of the current instance's tree, from its stop signal (or a SIGKILL of the formation's) to done. */
  private halt: Stop | null = null;
  /** Why it is stopping: asked to (no restart), or a failed start being cleaned up. */
  private stopReason: 'request' | 'failed-start' = 'request';

  constructor(plan: ServicePlan, host: ServiceHost) {
    this.plan = plan;
    this.name = plan.name;
    this.host = host;
  }

  get ended(): boolean {
    return this.state === 'exited' || this.state === 'failed';
  }

  /** The one place a state changes. */
  private go(to: State, event: string, text: string, level: Level = 'info', fields: Fields = {}): void {
    const from = this.state;
    this.state = to;
    this.host.log.event(level, `service-${event}`, `service ${this.name}: ${text}`, { service: this.name, from, to, ...fields });
    this.host.changed(this);
  }

  private arm(ms: number, fn: () => void): void {
    this.disarm();
    this.timer = setTimeout(() => {
      this.timer = null;
      fn();
    }, ms);
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private cancelProbe(): void {
    this.probe?.cancel();
    this.probe = null;
  }

  start(): void {
    if (this.host.stopping() || (this.state !== 'stopped' && this.state !== 'backoff')) return;
    const now = Date.now();
    this.starts.push(now);
    this.startedAt = now;
    const ready = this.plan.ready;
    let pipe: [number, number] | null = null;
    if (ready.kind === 'fd') {
      const p = native.pipe2();
      if (typeof p === 'number') return this.startFailed(125, `cannot make its readiness pipe: ${errnoMessage(p)}`);
      pipe = p;
    }
    let pid: number;
    try {
      pid = this.host.spawnService(this, pipe?.[1]);
    } catch (err) {
      if (pipe) pipe.forEach((fd) => native.close(fd));
      return this.startFailed(spawnFailureStatus(err as SpawnError), (err as Error).message);
    }
    if (pipe) native.close(pipe[1]);
    this.everStarted = true;
    this.pid = pid;
    this.sid = pid;
    this.host.watchPid(pid, (e) => this.exited(e));
    this.go('starting', 'started', `started (pid ${pid})`, 'info', { child: pid });
    switch (ready.kind) {
      case 'none':
        return this.becameReady('started');
      case 'fd':
        this.probe = pipeProbe(pipe![0], () => this.becameReady(`newline on fd ${ready.fd}`));
        break;
      case 'tcp':
        this.probe = tcpProbe(ready.address, ready.intervalMs, () => this.becameReady(`tcp ${ready.address} accepts`));
        break;
      case 'http':
        this.probe = httpProbe(ready.url, ready.intervalMs, () => this.becameReady(`http ${ready.url} answered 2xx`));
        break;
      case 'exec':
        this.probe = execProbe(this.host, ready.argv.map((a) => Buffer.from(a)), ready.intervalMs, () => this.becameReady('check exited 0'), (why) => this.failedStart(why));
        break;
      case 'notify':
        // Messages arrive through the formation's channel for this service (notified()).
        break;
    }
    if (ready.timeoutMs !== null && (this.state as State) === 'starting') {
      this.arm(ready.timeoutMs, () => this.failedStart(`not ready within ${ready.timeoutMs} ms`));
    }
  }

  /** An sd_notify message on this service's own socket. */
  notified(m: { ready: boolean; stopping: boolean; status: string | null }): void {
    if (m.status !== null) this.host.log.event('info', 'service-status', `service ${this.name}: status: ${m.status}`, { service: this.name, status: m.status });
    if (m.stopping) this.host.log.event('info', 'service-stopping-notified', `service ${this.name}: says it is stopping`, { service: this.name });
    if (m.ready && this.plan.ready.kind === 'notify') this.becameReady('READY=1');
  }

  private becameReady(how: string): void {
    if (this.state !== 'starting') return;
    this.cancelProbe();
    this.disarm();
    this.everUp = true;
    this.go('ready', 'ready', `ready (${how})`);
  }

  /** It never ran (exec failed, ...): the restart policy decides. */
  private startFailed(status: number, why: string): void {
    this.status = status;
    this.host.log.event('warning', 'service-start-failed', `service ${this.name}: cannot start: ${why}`, { service: this.name, status });
    this.end(true);
  }

  /** It runs but did not become ready (timeout, check missing): a failed start; stop it, then the policy decides. */
  private failedStart(why: string): void {
    if (this.state !== 'starting') return;
    this.cancelProbe();
    this.stopReason = 'failed-start';
    this.sendStop();
    this.go('stopping', 'start-failed', `${why}: a failed start; sending ${signalName(this.plan.stop.signal)}`, 'warning');
  }

  /** Its leader was reaped. */
  private exited(e: Exit): void {
    this.pid = 0;
    this.status = exitStatusOf(e);
    this.cancelProbe();
    const how = e.code !== null ? `exited with status ${e.code}` : `was killed by ${signalName(e.signal!)}`;
    const fields = { child: this.sid, code: e.code, signal: e.signal, status: this.status };
    if (this.state === 'stopping') {
      this.host.log.event('info', 'service-exited', `service ${this.name} (pid ${this.sid}) ${how}`, { service: this.name, ...fields });
      if (this.stopReason === 'failed-start') this.end(true);
      else this.host.changed(this); // the formation checks whether its session is empty
      return;
    }
    const failure = !(e.code !== null && this.plan.restart.success.includes(e.code)) || (this.state === 'starting' && this.plan.ready.kind !== 'none');
    this.host.log.event(failure ? 'warning' : 'info', 'service-exited', `service ${this.name} (pid ${this.sid}) ${how}`, { service: this.name, ...fields });
    // What it leaves behind in its session is asked to stop too (systemd's
    // KillMode=control-group), each process pinned first.
    instanceTarget(this, this.host).signal(withCont(this.plan.stop.signal));
    if (e.code === 0 && !failure) this.everUp = true;
    this.end(failure);
  }

  /** This instance is over: restart per policy, or end for good. */
  private end(failure: boolean): void {
    this.disarm();
    this.halt?.done();
    const r = this.plan.restart;
    const again = !this.host.stopping() && (r.policy === 'always' || (r.policy === 'on-failure' && failure));
    if (!again) {
      if (failure) this.go('failed', 'failed', `failed for good (status ${this.status})`, 'warning', { status: this.status });
      else this.go('exited', 'ended', `ended for good (status ${this.status})`, 'info', { status: this.status });
      return;
    }
    const now = Date.now();
    if (now - this.startedAt >= r.resetAfterMs) this.failures = 0;
    this.starts = this.starts.filter((t) => now - t < r.limitIntervalMs);
    if (r.limit > 0 && this.starts.length >= r.limit) {
      this.go('failed', 'failed', `started ${this.starts.length} times within ${r.limitIntervalMs} ms: start limit hit, giving up (status ${this.status})`, 'warning', {
        status: this.status,
        reason: 'start-limit',
      });
      return;
    }
    const delay = Math.min(r.backoffMs * 2 ** this.failures, r.backoffMaxMs);
    this.failures++;
    this.arm(delay, () => this.start());
    this.go('backoff', 'backoff', `restarting in ${delay} ms`, 'info', { delayMs: delay, status: this.status });
  }

  /** Its stop signal (and SIGCONT, so a stopped process can act on it) to its
   * process group; SIGKILL to its tree after stop.timeout. No timeout: no timer. */
  private sendStop(): void {
    // The leader is unreaped, so its pid (and group id) is pinned.
    if (this.pid > 0) for (const sig of withCont(this.plan.stop.signal)) native.kill(-this.pid, sig);
    const d = stopDeadline(this.plan.stop.timeoutMs, this.host.budgetLeft());
    this.stopper(d.option).start([], d.ms);
  }

  /** A fresh stop sequence for the current instance's tree. */
  private stopper(option: string): Stop {
    this.halt?.done();
    this.halt = instanceStop(this, this.host, option, () => {
      this.host.log.warning(`service ${this.name}: processes of its session survived SIGKILL; counting it as stopped`);
      this.sessionEmpty();
    });
    return this.halt;
  }

  /** Asked to stop (the formation is stopping, dependents first). */
  stop(): void {
    switch (this.state) {
      case 'stopped':
      case 'backoff':
        this.disarm();
        this.go('exited', 'stopped', this.state === 'stopped' ? 'never started: stopping' : 'not restarted: stopping');
        return;
      case 'starting':
      case 'ready':
        this.cancelProbe();
        this.stopReason = 'request';
        this.sendStop();
        this.go('stopping', 'stopping', `sending ${signalName(this.plan.stop.signal)} to process group ${this.pid}`, 'info', { signal: this.plan.stop.signal });
        return;
      case 'stopping':
        // Asked again at every look while it stops: only a failed start being
        // stopped changes (now it stays stopped). Telling the formation each
        // time would look again at once, forever: a microtask loop that
        // starved every timer (stop.timeout never fired once the leader was gone).
        if (this.stopReason === 'request') return;
        this.stopReason = 'request';
        if (this.pid === 0) this.host.changed(this);
        return;
      default:
        return;
    }
  }

  /** A dependency ended for good without ever being ready: this one cannot start (systemd's Requires=). */
  dependencyFailed(dep: Service): void {
    if (this.state !== 'stopped') return;
    this.status = dep.status;
    this.go('failed', 'failed', `not started: its dependency ${dep.name} failed`, 'warning', { dependency: dep.name });
  }

  /** Whether it waits for the rest of its session to go (leader reaped, stop asked for). */
  get draining(): boolean {
    return this.state === 'stopping' && this.pid === 0 && this.stopReason === 'request';
  }

  /** Called by the formation when no live process of its session is left. */
  sessionEmpty(): void {
    if (!this.draining) return;
    this.disarm();
    this.halt?.done();
    this.go('exited', 'stopped', `stopped (status ${this.status})`, 'info', { status: this.status });
  }

  /** A child of tsinit was reaped: while SIGKILL is under way, its tree is walked again (late forks). */
  childExited(): void {
    this.halt?.onChildExit();
  }

  /** SIGKILL now to its tree, walked again until it is empty (stop_timeout is over). */
  killTree(why: string): void {
    if (this.ended || this.sid === 0) return;
    const halt = this.halt && this.halt.phase !== 'done' ? this.halt : this.stopper(why);
    halt.kill(`service ${this.name}: ${why}`);
  }

  /** A forwarded signal (its `signals` list) to its process group, while its leader is pinned. */
  forward(sig: number): void {
    if (this.pid > 0 && this.plan.signals.includes(sig)) native.kill(-this.pid, sig);
  }
}
