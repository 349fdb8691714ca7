// The processes of each service's session, read from /proc: a service leads
// its own session (setsid in the spawn), so everything it started and did not
// move away with setsid is found by session id, even after the leader is
// gone and its children were re-parented to tsinit. Read only while stopping.
import * as fs from 'node:fs';

/** Live (not zombie) members of each of the given sessions: sid → pids. */
export function sessionMembers(sids: ReadonlySet<number>): Map<number, number[]> {
  const out = new Map<number, number[]>();
  if (sids.size === 0) return out;
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue;
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const sid = Number(f[3]);
    if (f[0] === 'Z' || !sids.has(sid)) continue;
    const list = out.get(sid);
    if (list) list.push(Number(name));
    else out.set(sid, [Number(name)]);
  }
  return out;
}
