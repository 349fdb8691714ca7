// What the stops act on: the single command's process group, everything
// below tsinit, and one service's tree (its group and its session). Each
// signal reaches only a process tsinit has pinned.
import * as os from 'node:os';
import { native } from '../native';
import { procIsOwn, signalDescendants, signalSession, othersInNamespace } from '../core/tree';
import type { Logger } from '../core/log';
import type { StopTarget } from './stop';

const ENOSYS = -os.constants.errno.ENOSYS;
const ESRCH = -os.constants.errno.ESRCH;

/** The command's process group (the command leads it): safe to signal while
 * the command is unreaped, since until then no other process can get its id. */
export function groupTarget(pgid: number): StopTarget {
  return {
    signal: (sigs) => {
      // A session leader cannot leave its group: -pgid reaches the command too.
      for (const sig of sigs) native.kill(-pgid, sig);
      return null;
    },
    describe: () => `the command's process group ${pgid}`,
  };
}

/**
 * Everything below tsinit: as PID 1, kill(-1), which reaches every other
 * process of the namespace and is atomic against fork; as a subreaper, each
 * descendant found in /proc, pinned before it is signalled (core/tree.ts).
 * Where /proc is of another PID namespace (or missing, or the kernel cannot
 * signal through a pidfd), a subreaper signals only what it can pin without
 * it: the command's process group, whose id no other process can take while
 * a member lives (group null, as for several services: nothing). It says so
 * once.
 */
export function descendantsTarget(o: { isPid1: boolean; group: number | null; log: Logger }): StopTarget {
  let degraded = false;
  const degrade = (why: string): void => {
    if (degraded) return;
    degraded = true;
    const only = o.group === null ? 'no descendant is signalled but through its service' : `only the command's process group ${o.group} is signalled`;
    o.log.warning(`${why}: at shutdown ${only}; other descendants are left to the kernel`);
  };
  const walks = pinnedWalks(degrade);
  const group = o.group === null ? null : groupTarget(o.group);
  return {
    signal: (sigs) => {
      if (o.isPid1) {
        const n = walks.own() ? othersInNamespace() : null;
        for (const sig of sigs) if (native.kill(-1, sig) === ESRCH) return 0;
        return n;
      }
      const n = walks.walk(() => signalDescendants(process.pid, sigs));
      if (n !== null) return n;
      return group === null ? null : group.signal(sigs);
    },
    describe: (n) => (n === null ? 'the remaining descendants' : `${n} descendant(s)`),
  };
}

/**
 * One service's tree: its process group while its leader is unreaped (pinned
 * by being unreaped; kill(-pgid) reaches the whole group at once, late forks
 * included), and every other live process of its session, each pinned and
 * checked to be in that session still (core/tree.ts signalSession): after
 * its leader is gone, that is all of them. The leader leads both, so the
 * group's id and the session's are its pid. Where /proc is not tsinit's own
 * (or the kernel cannot signal through a pidfd), pids read there would name
 * other processes: only the group is signalled, and `degrade` says why.
 */
export function sessionTarget(o: { sid: number; leader: () => number; degrade: (why: string) => void }): StopTarget {
  const walks = pinnedWalks(o.degrade);
  return {
    signal: (sigs) => {
      const leader = o.leader();
      if (leader > 0) groupTarget(leader).signal(sigs);
      const n = walks.walk(() => signalSession(o.sid, sigs, leader > 0 ? leader : null));
      if (n !== null) return n;
      return leader > 0 ? null : 0;
    },
    describe: (n) => (n === null ? `what is left of session ${o.sid}` : `the ${n} process(es) of session ${o.sid}`),
  };
}

/**
 * The pinned walks of /proc one target makes (core/tree.ts): walk() returns
 * the walk's count, or null where none can be made, /proc being of another
 * PID namespace (decided at the first call and kept) or the kernel unable to
 * signal through a pidfd (found at the first walk), telling `degrade` why.
 */
function pinnedWalks(degrade: (why: string) => void): { own(): boolean; walk(run: () => number): number | null } {
  let own: boolean | null = null;
  let unsupported = false;
  const isOwn = (): boolean => (own ??= procIsOwn());
  return {
    own: isOwn,
    walk: (run) => {
      if (!isOwn()) degrade(`/proc is not of tsinit's PID namespace (/proc/self does not name pid ${process.pid})`);
      else if (!unsupported) {
        const n = run();
        if (n !== ENOSYS) return n;
        unsupported = true;
        degrade('this kernel cannot signal through a pidfd (Linux 5.1 can)');
      }
      return null;
    },
  };
}
