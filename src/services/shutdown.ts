// The formation's stop: every service in reverse dependency order (one gets
// its stop once every service that depends on it has stopped, so independent
// ones stop in parallel), within the one optional stop_timeout budget, then
// what escaped the services' sessions. Each service's own tree is its own
// Stop's (service.ts); this holds the budget, and the Stop of the rest.
import * as os from 'node:os';
import type { Logger } from '../core/log';
import { Stop, withCont } from '../supervise/stop';
import { descendantsTarget } from '../supervise/targets';
import type { Service } from './service';
import { sessionMembers } from './sessions';

const S = os.constants.signals;

export interface ShutdownOptions {
  services: readonly Service[];
  isPid1: boolean;
  log: Logger;
  /** stop_timeout, or null: no timer at all (the orchestrator owns the deadline). */
  budgetMs: number | null;
  /** Reaps now and reports an empty tree (the formation's empty()). */
  drain(): void;
  /** tsinit leaves (processes survived SIGKILL). */
  giveUp(): void;
}

/** idle until begin(); stopping while services stop; draining once all are down and only what escaped is waited for. */
export type ShutdownPhase = 'idle' | 'stopping' | 'draining' | 'done';

export class Shutdown {
  phase: ShutdownPhase = 'idle';
  private readonly o: ShutdownOptions;
  private readonly dependents = new Map<Service, Service[]>();
  private deadline: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** The stop of everything below tsinit, for what left the services' sessions. */
  private readonly rest: Stop;

  constructor(o: ShutdownOptions) {
    this.o = o;
    for (const s of o.services) this.dependents.set(s, o.services.filter((d) => d.plan.after.includes(s.name)));
    this.rest = new Stop({
      target: descendantsTarget({ isPid1: o.isPid1, group: null, log: o.log }),
      log: o.log,
      option: 'stop_timeout',
      event: 'stop-budget-over',
      onGiveUp: () => {
        o.log.warning('processes survived SIGKILL; exiting anyway');
        o.giveUp();
      },
    });
  }

  /** What is left of the budget, in ms; null: no budget. */
  budgetLeft(): number | null {
    return this.deadline === null ? null : Math.max(0, this.deadline - Date.now());
  }

  begin(): void {
    if (this.phase !== 'idle') return;
    this.phase = 'stopping';
    const ms = this.o.budgetMs;
    if (ms === null) return;
    this.deadline = Date.now() + ms;
    this.timer = setTimeout(() => this.budgetOver(), ms);
  }

  /** After every change while stopping: whom to stop next, whose session is empty, and whether all are down. */
  evaluate(): void {
    if (this.phase !== 'stopping') return;
    for (const s of this.o.services) {
      if (!s.ended && this.dependents.get(s)!.every((d) => d.ended)) s.stop();
    }
    this.settled();
    if (this.phase === 'stopping' && this.o.services.every((s) => s.ended)) this.drainRest();
  }

  /** Services whose leader is gone wait for the rest of their session: one /proc scan for all. */
  settled(): void {
    if (this.phase !== 'stopping') return;
    const draining = this.o.services.filter((s) => s.draining);
    if (draining.length === 0) return;
    const members = sessionMembers(new Set(draining.map((s) => s.sid)));
    for (const s of draining) if (!members.has(s.sid)) s.sessionEmpty();
  }

  /** A child was reaped: while SIGKILL is under way, each tree is walked again (late forks). */
  childExited(): void {
    for (const s of this.o.services) s.childExited();
    this.rest.onChildExit();
  }

  /** tsinit is leaving: no timer is left behind. */
  done(): void {
    this.phase = 'done';
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.rest.done();
  }

  /** Every service is down: what escaped their sessions gets the stop signal; the formation exits once no child is left. */
  private drainRest(): void {
    this.phase = 'draining';
    // Done at once when no child is left (the drain reports it: done()).
    this.o.drain();
    if (this.phase !== 'draining') return;
    this.o.log.event('info', 'draining', 'every service is down; processes that left their sessions remain: sending SIGTERM', {});
    // kill(-1) as PID 1, else each descendant pinned (the single command's target).
    this.rest.start(withCont(S.SIGTERM), null);
  }

  /** SIGKILL to everything left, walked again until it is empty; the formation leaves at most AFTER_KILL_MS later. */
  private budgetOver(): void {
    this.timer = null;
    this.rest.kill('stop_timeout over');
    for (const s of this.o.services) if (!s.ended) s.killTree('stop_timeout over');
  }
}
