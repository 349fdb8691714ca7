// The process tree below tsinit, read from /proc: who is left at shutdown, and
// which live process is leaving its zombie children unreaped.
import * as fs from 'node:fs';

export interface ProcInfo {
  pid: number;
  ppid: number;
  state: string;
  comm: string;
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
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue; // gone meanwhile
    }
    // comm may hold spaces and parentheses: it ends at the last ')'.
    const close = stat.lastIndexOf(')');
    const rest = stat.slice(close + 2).split(' ');
    out.push({ pid: Number(name), ppid: Number(rest[1]), state: rest[0] ?? '?', comm: stat.slice(stat.indexOf('(') + 1, close) });
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
  const procs = listProcs();
  const below = descendants(root, procs);
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
