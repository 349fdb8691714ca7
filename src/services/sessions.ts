// The processes of each service's session, and their stop: a service leads
// its own session (setsid in the spawn), so everything it started and did not
// move away with setsid is found by session id in /proc, even after the
// leader is gone and its children were re-parented to tsinit. Read only
// while stopping; each is pinned before it is signalled (targets.ts).
import type { Logger } from '../core/log';
import { listProcs } from '../core/tree';
import { MAX_DEADLINE_MS, Stop } from '../supervise/stop';
import { sessionTarget } from '../supervise/targets';
import type { StopTarget } from '../supervise/stop';

/** What names one instance's tree: the service, its session, its leader while unreaped (0 after). */
export interface Instance {
  readonly name: string;
  readonly sid: number;
  readonly pid: number;
}

export interface SessionHost {
  log: Logger;
  /** Its tree cannot be pinned beyond its group (why): the formation says it once for all. */
  degraded(why: string): void;
}

/** Live (not zombie) members of each of the given sessions: sid → pids. */
export function sessionMembers(sids: ReadonlySet<number>): Map<number, number[]> {
  const out = new Map<number, number[]>();
  if (sids.size === 0) return out;
  for (const p of listProcs()) {
    if (p.state === 'Z' || !sids.has(p.sid)) continue;
    const list = out.get(p.sid);
    if (list) list.push(p.pid);
    else out.set(p.sid, [p.pid]);
  }
  return out;
}

/** The instance's tree (its group while the leader is unreaped, and its
 * session), each process pinned before it is signalled. */
export function instanceTarget(svc: Instance, host: SessionHost): StopTarget {
  return sessionTarget({ sid: svc.sid, leader: () => svc.pid, degrade: (why) => host.degraded(why) });
}

/** The stop sequence of one instance's tree (supervise/stop.ts), its SIGKILL logged as service-killed. */
export function instanceStop(svc: Instance, host: SessionHost, option: string, onGiveUp: () => void): Stop {
  return new Stop({ target: instanceTarget(svc, host), log: host.log, option: `service ${svc.name}: ${option}`, event: 'service-killed', fields: { service: svc.name }, onGiveUp });
}

/** The service's own stop deadline: stop.timeout, unless stop_timeout ends
 * first (or alone): then the budget's timer SIGKILLs every service left
 * (shutdown.ts), and one deadline has one timer. null: no timer. */
export function stopDeadline(own: number | null, budgetLeft: number | null): { ms: number | null; option: string } {
  if (budgetLeft !== null && (own === null || budgetLeft <= own)) return { ms: null, option: 'stop.timeout' };
  // Past what a timer holds (24.8 days) is never, in practice.
  return { ms: own !== null && own > MAX_DEADLINE_MS ? null : own, option: `stop.timeout (${own} ms)` };
}
