// The process tree below tsinit, read from /proc: who is left at shutdown,
// and who is left of a service's session (each pinned before it is
// signalled), and which live process is leaving its zombie children unreaped.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { native } from '../native';

const ESRCH = -os.constants.errno.ESRCH;
const ENOSYS = -os.constants.errno.ENOSYS;
const EMFILE = -os.constants.errno.EMFILE;
/** Handles held at once during a walk; more are signalled in batches. */
const MAX_PINNED = 256;

export interface ProcInfo {
  pid: number;
  ppid: number;
  state: string;
  comm: string;
  /** Its process group and session (proc(5) stat fields 5 and 6). */
  pgid: number;
  sid: number;
  /** When it started, in clock ticks since boot (proc(5) stat field 22): with
   * the pid, what names this process and no later one. */
  start: number;
}

/** Every process in tsinit's PID namespace that /proc shows; [] without /proc. */
export function listProcs(): ProcInfo[] {
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const out: ProcInfo[] = [];
  for (const name of names) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    const p = readStat(Number(name));
    if (p) out.push(p);
  }
  return out;
}

/** /proc/<pid>/stat, or null when pid is gone. */
function readStat(pid: number): ProcInfo | null {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // comm may hold spaces and parentheses: it ends at the last ')'.
  const close = stat.lastIndexOf(')');
  const rest = stat.slice(close + 2).split(' ');
  return {
    pid,
    ppid: Number(rest[1]),
    state: rest[0] ?? '?',
    comm: stat.slice(stat.indexOf('(') + 1, close),
    pgid: Number(rest[2]),
    sid: Number(rest[3]),
    start: Number(rest[19]),
  };
}

/**
 * The descendants of root, parents before children, read through each
 * process's /proc/<pid>/task/<tid>/children (proc(5)): only the subtree, not
 * every process of the host (a subreaper on a busy host would read thousands;
 * a walk that takes a second leaves a second for late forks). Every thread's
 * file counts: an orphan is re-parented to any live thread of its subreaper.
 * A child that comes or goes while a file is read can be missed, which the
 * repeated SIGKILL walks make up for. null where the kernel has no such files
 * (CONFIG_PROC_CHILDREN), or root is not in /proc.
 */
export function subtree(root: number): ProcInfo[] | null {
  const out: ProcInfo[] = [];
  const seen = new Set<number>([root]);
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    let tids: string[];
    try {
      tids = fs.readdirSync(`/proc/${pid}/task`);
    } catch {
      if (pid === root) return null;
      continue; // gone meanwhile
    }
    for (const tid of tids) {
      let text: string;
      try {
        text = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1');
      } catch {
        if (pid === root && !fs.existsSync(`/proc/${pid}/task/${tid}/children`)) return null;
        continue;
      }
      for (const word of text.split(' ')) {
        const c = Number(word);
        if (word === '' || !Number.isInteger(c) || seen.has(c)) continue;
        seen.add(c);
        const info = readStat(c);
        if (!info) continue;
        out.push(info);
        queue.push(c);
      }
    }
  }
  return out;
}

/** The descendants of root (not root itself), parents before children. */
export function descendants(root: number, procs: readonly ProcInfo[] = listProcs()): ProcInfo[] {
  const kids = new Map<number, ProcInfo[]>();
  for (const p of procs) {
    const list = kids.get(p.ppid);
    if (list) list.push(p);
    else kids.set(p.ppid, [p]);
  }
  const out: ProcInfo[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const c of kids.get(queue.shift()!) ?? []) {
      if (c.pid === root) continue;
      out.push(c);
      queue.push(c.pid);
    }
  }
  return out;
}

/** Live processes below root that have zombie children: they, not tsinit, must reap them. */
export function negligentParents(root: number): { parent: ProcInfo; zombies: ProcInfo[] }[] {
  const below = subtree(root) ?? descendants(root, listProcs());
  const byPid = new Map(below.map((p) => [p.pid, p]));
  const found = new Map<number, ProcInfo[]>();
  for (const p of below) {
    if (p.state !== 'Z' || p.ppid === root) continue;
    const parent = byPid.get(p.ppid);
    if (!parent || parent.state === 'Z') continue;
    const list = found.get(parent.pid);
    if (list) list.push(p);
    else found.set(parent.pid, [p]);
  }
  return [...found].map(([pid, zombies]) => ({ parent: byPid.get(pid)!, zombies }));
}

/** Whether /proc is of tsinit's own PID namespace. Under `unshare --pid
 * --fork` without --mount-proc (or a sandbox showing the outer /proc), pid N
 * there is another process than pid N here: /proc/self must name tsinit. */
export function procIsOwn(): boolean {
  try {
    return fs.readlinkSync('/proc/self') === String(process.pid);
  } catch {
    return false; // no /proc at all
  }
}

/** Pinned in one walk and not yet signalled: whether a pid pinned earlier in it still holds its pid. */
type Held = (pid: number) => boolean;

/**
 * The one pinning walk: pins each live listed process (man 2 pidfd_open) and
 * checks through its handle that it is the process listed (same start time),
 * then keeps it only if `vouch` does (fd: its handle; ppid: its parent read
 * after the pin). All are pinned before any is signalled, in batches of
 * MAX_PINNED, in the listing's order. Returns how many were kept, or -ENOSYS
 * where the kernel cannot signal through a handle (before Linux 5.1).
 */
function signalPinned(list: readonly ProcInfo[], sigs: readonly number[], vouch: (p: ProcInfo, fd: number, ppid: number, held: Held) => boolean): number {
  const start = new Map<number, number>();
  /** Pinned and not yet signalled: pid → handle. */
  let batch = new Map<number, number>();
  let count = 0;
  let unsupported = false;
  const flush = (): void => {
    for (const fd of batch.values()) {
      for (const sig of sigs) if (!unsupported && native.pidfdSendSignal(fd, sig) === ENOSYS) unsupported = true;
      native.close(fd);
    }
    batch = new Map();
  };
  /** Whether pid, pinned earlier in this walk, still holds its pid (a zombie does). */
  const held: Held = (pid) => {
    const fd = batch.get(pid);
    if (fd !== undefined) return native.pidfdSendSignal(fd, 0) !== ESRCH;
    const s = start.get(pid);
    if (s === undefined) return false;
    const again = native.pidfdPin(pid, s);
    if (typeof again === 'number') return false;
    native.close(again[0]);
    return true;
  };
  for (const p of list) {
    if (p.state === 'Z') continue; // gone already: nothing to signal, its children are reparented
    let pin = native.pidfdPin(p.pid, p.start);
    if (pin === EMFILE && batch.size > 0) {
      flush();
      pin = native.pidfdPin(p.pid, p.start);
    }
    if (typeof pin === 'number') continue; // gone, or its pid names another process now
    const [fd, , ppid] = pin;
    if (!vouch(p, fd, ppid, held)) {
      native.close(fd);
      continue;
    }
    start.set(p.pid, p.start);
    batch.set(p.pid, fd);
    count++;
    if (batch.size >= MAX_PINNED) flush();
  }
  flush();
  return unsupported ? ENOSYS : count;
}

/**
 * Sends each signal in turn to every live descendant of root, each pinned
 * first and checked through its handle to be the process the walk listed
 * (same start time) and still below root (its parent, read after the pin,
 * is root or a process pinned in this walk that still holds its pid). A pid
 * reaped by its own parent and reused meanwhile is never signalled. All are
 * pinned before any is signalled, so that a parent ending on the signal
 * cannot take its children out of the walk; parents are signalled before
 * their children. Returns how many were pinned (the live descendants that
 * remain), or -ENOSYS where the kernel cannot signal through a handle
 * (before Linux 5.1). Only for a /proc of tsinit's own namespace
 * (procIsOwn). procs: a listing to walk instead of /proc (tests).
 */
export function signalDescendants(root: number, sigs: readonly number[], procs?: readonly ProcInfo[]): number {
  const below = procs ? descendants(root, procs) : (subtree(root) ?? descendants(root, listProcs()));
  // Moved out of what this walk can vouch for (its parent ended and was
  // reaped meanwhile): the next walk finds it under its new parent.
  return signalPinned(below, sigs, (_p, _fd, ppid, held) => ppid === root || held(ppid));
}

/**
 * Sends each signal in turn to every live process of session sid but those
 * of process group `skip` (a group its owner signals itself), each pinned
 * first (same start time as listed) and then checked to be in that session
 * still: its stat, read after the pin, is the pinned process's own, since
 * the handle still names a process holding the pid after the read (a member
 * that was reaped and whose pid went to an unrelated process, or that left
 * with setsid, is not signalled). The session id itself cannot be reused
 * while a member lives; a member's pid can. Returns how many live members
 * there are (those pinned plus those of `skip`), or -ENOSYS as
 * signalDescendants. Every process of /proc is listed, not tsinit's subtree:
 * with --no-subreaper a member's orphans go to another reaper.
 */
export function signalSession(sid: number, sigs: readonly number[], skip: number | null, procs: readonly ProcInfo[] = listProcs()): number {
  const members = procs.filter((p) => p.sid === sid && p.state !== 'Z');
  const grouped = members.filter((p) => p.pgid === skip).length;
  const n = signalPinned(
    members.filter((p) => p.pgid !== skip),
    sigs,
    (p, fd) => {
      const now = readStat(p.pid);
      return now !== null && native.pidfdSendSignal(fd, 0) !== ESRCH && now.sid === sid && now.pgid !== skip;
    },
  );
  return n === ENOSYS ? n : n + grouped;
}

/** Live processes other than tsinit in its PID namespace: what kill(-1) reaches as PID 1. */
export function othersInNamespace(procs: readonly ProcInfo[] = listProcs()): number {
  return procs.filter((p) => p.pid !== process.pid && p.state !== 'Z').length;
}
