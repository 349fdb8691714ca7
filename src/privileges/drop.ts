// The drop itself: setgroups → setresgid → setresuid, then the capability
// sets and no_new_privs, in that order (runc, libuv, setpriv). Changes this
// thread's credentials for good; the proof is verify.ts's.
import { native } from '../native';
import { errnoMessage } from '../core/errno';
import { capName, maskOf, maskWords } from './caps';
import type { Identity } from './users';

/** A failure after something has changed: the caller closes what was bound, then exits. */
export class Abort extends Error {}

/** The drop itself; throws Abort naming the step that failed. */
export function drop(id: Identity, caps: readonly number[], noNewPrivs: boolean, changeIds: boolean): void {
  const step = (r: number, what: string): void => {
    if (r < 0) throw new Abort(`${what}: ${errnoMessage(r)}`);
  };
  const want = maskOf(caps);
  if (changeIds) {
    // A uid change away from 0 clears the permitted set unless the thread
    // asked to keep it (PR_SET_KEEPCAPS, prctl(2)); only this thread asks,
    // and only for the capabilities the command is to get.
    if (caps.length > 0) step(native.prctlSetKeepcaps(1), 'prctl(PR_SET_KEEPCAPS)');
    // glibc applies each of these to every thread of the process (its
    // SIGSETXID broadcast, nptl(7)), so no Node thread keeps root.
    step(native.setgroups(id.groups), `setgroups(${id.groups.join(',')})`);
    step(native.setresgid(id.gid, id.gid, id.gid), `setresgid(${id.gid})`);
    step(native.setresuid(id.uid, id.uid, id.uid), `setresuid(${id.uid})`);
  }
  if (id.uid !== 0) {
    // Permitted and inheritable = exactly the --cap set (empty by default:
    // this also clears an inheritable set the uid change leaves alone);
    // effective empty, so tsinit itself uses none of them.
    const [lo, hi] = maskWords(want);
    step(native.capset([0, 0, lo, hi, lo, hi]), 'capset');
    if (caps.length > 0) {
      step(native.prctlSetKeepcaps(0), 'prctl(PR_SET_KEEPCAPS, 0)');
      // Ambient capabilities survive execve of a program without file
      // capabilities and become its permitted and effective sets
      // (capabilities(7)); the child inherits them from this thread by fork.
      for (const c of caps) step(native.capAmbientRaise(c), `raise ambient ${capName(c)}`);
    }
  }
  if (noNewPrivs) step(native.prctlSetNoNewPrivs(), 'prctl(PR_SET_NO_NEW_PRIVS)');
}
