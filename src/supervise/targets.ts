// What the single command's stops act on: its process group, and everything
// below tsinit. Each signal reaches only a process tsinit has pinned.
import * as os from 'node:os';
import { native } from '../native';
import { procIsOwn, signalDescendants, othersInNamespace } from '../core/tree';
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
  /** Whether /proc is tsinit's own, decided at the first walk. */
  let own: boolean | null = null;
  let degraded = false;
  const degrade = (why: string): void => {
    if (degraded) return;
    degraded = true;
    const only = o.group === null ? 'no descendant is signalled but through its service' : `only the command's process group ${o.group} is signalled`;
    o.log.warning(`${why}: at shutdown ${only}; other descendants are left to the kernel`);
  };
  const group = o.group === null ? null : groupTarget(o.group);
  return {
    signal: (sigs) => {
      if (own === null) own = procIsOwn();
      if (o.isPid1) {
        const n = own ? othersInNamespace() : null;
        for (const sig of sigs) if (native.kill(-1, sig) === ESRCH) return 0;
        return n;
      }
      if (own && !degraded) {
        const n = signalDescendants(process.pid, sigs);
        if (n !== ENOSYS) return n;
        degrade('this kernel cannot signal through a pidfd (Linux 5.1 can)');
      } else {
        degrade(`/proc is not of tsinit's PID namespace (/proc/self does not name pid ${process.pid})`);
      }
      return group === null ? null : group.signal(sigs);
    },
    describe: (n) => (n === null ? 'the remaining descendants' : `${n} descendant(s)`),
  };
}
