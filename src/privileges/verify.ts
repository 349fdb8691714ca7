// The proof of the drop, from the kernel's side: every thread's ids, groups
// and capability sets read back, root shown to be out of reach, no_new_privs
// read back. Also the current groups, which the plan and the checks compare.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { native } from '../native';
import { errnoMessage } from '../core/errno';
import { capName, capNames, lastCap, maskHex, maskOf, wordsMask } from './caps';
import { Abort } from './drop';
import type { Identity } from './users';

/** The Groups line of a /proc status file, as numbers ascending. */
function statusGroups(status: string): number[] {
  const m = /^Groups:(.*)$/m.exec(status);
  return (m?.[1] ?? '').trim().split(/\s+/).filter((g) => g !== '').map(Number).sort((a, b) => a - b);
}

/** tsinit's own supplementary groups, ascending. */
export function currentGroups(): number[] {
  return statusGroups(fs.readFileSync('/proc/self/status', 'latin1'));
}

function ids(r: number | [number, number, number], what: string): [number, number, number] {
  if (typeof r === 'number') throw new Abort(`${what}: ${errnoMessage(r)}`);
  return r;
}

/**
 * Checks the drop from the kernel's side and fails loudly (throws Abort):
 * every thread's ids and groups (/proc/self/task/N/status, so glibc's
 * SIGSETXID broadcast is proven, not assumed), that uid 0, gid 0 and other
 * groups cannot be taken back, the capability sets, and no_new_privs.
 * Returns warnings that do not make the drop unsafe.
 */
export function verifyDrop(id: Identity, caps: readonly number[], noNewPrivs: boolean): string[] {
  const warnings: string[] = [];
  const want = maskOf(caps);
  const [ru, eu, su] = ids(native.getresuid(), 'getresuid');
  const [rg, eg, sg] = ids(native.getresgid(), 'getresgid');
  if (ru !== id.uid || eu !== id.uid || su !== id.uid) throw new Abort(`uids are ${ru}/${eu}/${su}, not ${id.uid}`);
  if (rg !== id.gid || eg !== id.gid || sg !== id.gid) throw new Abort(`gids are ${rg}/${eg}/${sg}, not ${id.gid}`);

  const uidLine = Array(4).fill(id.uid).join('\t');
  const gidLine = Array(4).fill(id.gid).join('\t');
  const groupsText = id.groups.join(',');
  let tids: string[];
  try {
    tids = fs.readdirSync('/proc/self/task');
  } catch (err) {
    const errno = (err as NodeJS.ErrnoException).errno ?? -os.constants.errno.ENOENT;
    throw new Abort(`cannot check every thread: /proc/self/task: ${errnoMessage(errno)} (is /proc mounted?)`);
  }
  for (const tid of tids) {
    let st: string;
    try {
      st = fs.readFileSync(`/proc/self/task/${tid}/status`, 'latin1');
    } catch {
      continue; // The thread has exited.
    }
    const field = (name: string): string => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(st)?.[1]?.trim() ?? '';
    if (field('Uid') !== uidLine) throw new Abort(`thread ${tid} has uids ${field('Uid')}`);
    if (field('Gid') !== gidLine) throw new Abort(`thread ${tid} has gids ${field('Gid')}`);
    if (statusGroups(st).join(',') !== groupsText) throw new Abort(`thread ${tid} has groups ${statusGroups(st).join(',')}`);
    if (id.uid === 0) continue;
    // Capabilities are per thread (capabilities(7)). The uid change cleared
    // the permitted, effective and ambient sets of every thread but the one
    // that kept them for the command; the inheritable set is untouched by a
    // uid change and only this thread can clear its own (capset(2)).
    const main = Number(tid) === process.pid;
    for (const set of ['CapPrm', 'CapEff', 'CapAmb']) {
      const expected = main && set !== 'CapEff' ? want : 0n;
      if (BigInt(`0x${field(set) || '0'}`) !== expected) throw new Abort(`thread ${tid} has ${set} ${field(set)}, not ${maskHex(expected)}`);
    }
    const inh = BigInt(`0x${field('CapInh') || '0'}`);
    if (main && inh !== want) throw new Abort(`CapInh is ${field('CapInh')}, not ${maskHex(want)}`);
    if (!main && inh !== 0n) warnings.push(`thread ${tid} keeps inheritable capabilities ${capNames(inh).join(',')} (grants nothing without a permitted set; only that thread could clear them)`);
  }

  if (id.uid !== 0) {
    // The point of the whole exercise: root must be out of reach. If any of
    // these succeeds, tsinit aborts (still before anything has started).
    if (native.setresuid(0, 0, 0) === 0) throw new Abort('setresuid(0, 0, 0) succeeded after the drop');
    if (id.gid !== 0 && native.setresgid(0, 0, 0) === 0) throw new Abort('setresgid(0, 0, 0) succeeded after the drop');
    if (native.setgroups([0]) === 0) throw new Abort('setgroups([0]) succeeded after the drop');
    const w = native.capget();
    if (typeof w === 'number') throw new Abort(`capget: ${errnoMessage(w)}`);
    const [effLo, effHi, prmLo, prmHi, inhLo, inhHi] = w as [number, number, number, number, number, number];
    if (wordsMask(effLo, effHi) !== 0n) throw new Abort(`effective capabilities remain: ${capNames(wordsMask(effLo, effHi)).join(',')}`);
    if (wordsMask(prmLo, prmHi) !== want || wordsMask(inhLo, inhHi) !== want) throw new Abort('permitted or inheritable capabilities are not the --cap set');
    for (let c = 0; c <= lastCap(); c++) {
      const on = native.capAmbientIsSet(c);
      if (on < 0) throw new Abort(`PR_CAP_AMBIENT_IS_SET: ${errnoMessage(on)}`);
      if ((on === 1) !== caps.includes(c)) throw new Abort(`ambient ${capName(c)} is ${on === 1 ? 'set' : 'not set'}`);
    }
  }
  if (noNewPrivs && native.prctlGetNoNewPrivs() !== 1) throw new Abort('no_new_privs is not set');
  return warnings;
}
