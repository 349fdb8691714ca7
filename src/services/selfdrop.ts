// Whether tsinit itself can give up root in services mode, decided once from
// the checked plan, and the drop when it can (the single-command drop and its
// proof: privileges/drop.ts, verify.ts). tsinit stays root only while some
// service needs root's help: every (re)start of a service as another user,
// every readiness check run as that user, every capability handed on is a
// credential change only root may make. When every service runs as one
// non-root user with the same groups and no capabilities, nothing tsinit does
// after the start needs root, so it drops to that user before any service
// starts, and from then on is simply a tsinit running as the services' user.
//
// What tsinit touches after the start, and how each is prepared:
// - listen sockets: bound before the drop; tsinit holds them across restarts.
//   The unix socket files stay at the end (as in single-command mode); a
//   failed drop removes them through the root unlinker (privileges/sockets.ts).
// - notify sockets and their directory: made after the drop, as the user
//   (under runtime_dir, or the non-root default), so the user can remove them.
// - ready_file: created and removed as the user: its directory (or the nearest
//   one that exists, for the rest to be made) must be writable by the user.
// - tsinit's own NOTIFY_SOCKET: a path socket must be writable by the user.
// - exec probes: run as tsinit, which is the service's user by then.
// - env_file: read at plan time (config/plan.ts), as root.
// - --pdeathsig: set after the drop (the kernel clears it when ids change).
// - io_uring: a ring polled by a kernel thread made as root keeps root's
//   credentials (CVE-2024-22017): then tsinit warns and stays root.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Abort, drop } from '../privileges/drop';
import { closeAll, startUnlinker, type Bound, type Unlinker } from '../privileges/sockets';
import { sqpollRing } from '../privileges/uring';
import { verifyDrop } from '../privileges/verify';
import type { Identity } from '../privileges/users';
import { errnoMessage } from '../core/errno';
import type { Logger } from '../core/log';
import type { Plan } from '../config/plan';

export type SelfDrop =
  | { kind: 'drop'; identity: Identity; noNewPrivs: boolean }
  | { kind: 'stay'; reason: string }
  /** Not root to begin with: every service runs as tsinit (config/plan.ts refuses others). */
  | { kind: 'unprivileged'; uid: number };

const who = (id: Identity): string => `${id.name ?? `uid ${id.uid}`} (uid ${id.uid} gid ${id.gid} groups ${id.groups.join(',') || 'none'})`;

/** Whether id may create and remove entries in dir (its owner, group or other write bit). */
function writableBy(st: fs.Stats, id: Identity): boolean {
  if (st.uid === id.uid) return (st.mode & 0o200) !== 0;
  if (st.gid === id.gid || id.groups.includes(st.gid)) return (st.mode & 0o020) !== 0;
  return (st.mode & 0o002) !== 0;
}

/** Why id could not create (and later remove) file, with the directories on the way made as needed; null if it can. */
function cannotCreate(file: string, id: Identity): string | null {
  let dir = path.dirname(path.resolve(file));
  for (;;) {
    let st: fs.Stats;
    try {
      st = fs.statSync(dir);
    } catch {
      if (dir === '/') return 'no / to create it in';
      dir = path.dirname(dir);
      continue;
    }
    if (!st.isDirectory()) return `${dir} is not a directory`;
    if (!writableBy(st, id)) return `${dir} is not writable by uid ${id.uid}`;
    return null;
  }
}

/** The upstream notify socket (tsinit's own NOTIFY_SOCKET): an abstract one is reachable by anyone. */
function cannotNotify(socket: string, id: Identity): string | null {
  if (socket.startsWith('@')) return null;
  try {
    return writableBy(fs.statSync(socket), id) ? null : `NOTIFY_SOCKET ${socket} is not writable by uid ${id.uid}`;
  } catch {
    return null; // Not there: sending fails as it would as root, with a warning.
  }
}

/** Where notify sockets go: runtime_dir, else /run/tsinit as root, else a directory of this user's under TMPDIR. */
export function runtimeBase(plan: Plan, euid = process.geteuid?.() ?? 0): string {
  if (plan.global.runtimeDir !== null) return plan.global.runtimeDir;
  return euid === 0 ? '/run/tsinit' : `${os.tmpdir()}/tsinit-${euid}`;
}

/** The decision, from the plan alone (the dry run prints it); upstream: tsinit's NOTIFY_SOCKET. */
export function decideSelfDrop(plan: Plan, upstream: string | null): SelfDrop {
  const euid = process.geteuid?.() ?? 0;
  if (euid !== 0) return { kind: 'unprivileged', uid: euid };
  const stay = (reason: string): SelfDrop => ({ kind: 'stay', reason });
  const first = plan.services[0];
  if (first === undefined) return stay('no services');
  for (const s of plan.services) {
    const id = s.identity;
    if (id === null) return stay(`service ${s.name} has no user, so it runs as root`);
    if (id.uid === 0) return stay(`service ${s.name} runs as root`);
    if (s.caps.length > 0) return stay(`service ${s.name} gets capabilities, which only root can hand on`);
    const f = first.identity!;
    if (id.uid !== f.uid || id.gid !== f.gid || id.groups.join(',') !== f.groups.join(',')) {
      return stay(`services ${first.name} and ${s.name} run as different users or groups (${who(f)}, ${who(id)}): each start needs root`);
    }
  }
  const id = first.identity!;
  if (plan.global.readyFile !== null) {
    const why = cannotCreate(plan.global.readyFile, id);
    if (why !== null) return stay(`ready_file ${plan.global.readyFile}: ${why}`);
  }
  if (plan.services.some((s) => s.ready.kind === 'notify')) {
    const base = runtimeBase(plan, id.uid);
    const why = cannotCreate(`${base}/notify-x`, id);
    if (why !== null) return stay(`the notify sockets' directory ${base}: ${why}`);
  }
  if (upstream !== null) {
    const why = cannotNotify(upstream, id);
    if (why !== null) return stay(why);
  }
  // tsinit's no_new_privs is inherited by every service: set only if every service would have it.
  return { kind: 'drop', identity: id, noNewPrivs: plan.services.every((s) => s.noNewPrivs) };
}

/** The dry run's "tsinit" entry. */
export function describeSelfDrop(d: SelfDrop): Record<string, unknown> {
  if (d.kind === 'stay') return { stays_root: d.reason };
  if (d.kind === 'unprivileged') return { not_root: `tsinit runs as uid ${d.uid}: nothing to drop; every service runs as tsinit` };
  const id = d.identity;
  return { drops_to: { user: id.name, uid: id.uid, gid: id.gid, groups: id.groups, no_new_privs: d.noNewPrivs } };
}

/**
 * The drop, after the listen sockets are bound and before anything else:
 * irreversible and proven (verify.ts). 'stayed' when tsinit stays root after
 * all (a warning says why); { error } when the drop failed, after closing the
 * sockets and removing their files (bound is emptied). Once dropped, the
 * unlinker (null without unix socket files) stays until the caller's last
 * step before the services start: closeAll(bound, remove, unlinker) after a
 * failure, closeAll([], false, unlinker) when all went well.
 */
export function dropSelf(d: Extract<SelfDrop, { kind: 'drop' }>, bound: Bound[], log: Logger): { unlinker: Unlinker | null } | 'stayed' | { error: string } {
  const id = d.identity;
  if (sqpollRing()) {
    log.event('warning', 'tsinit-stays-root', `tsinit stays root: libuv's io_uring polls with a kernel thread created as root (UV_USE_IO_URING=1?), whose requests would keep root's credentials after a drop (CVE-2024-22017)`, {});
    return 'stayed';
  }
  // After the drop tsinit may no longer write the socket files' directories: a root helper removes them on failure.
  const u = startUnlinker(bound);
  if (typeof u === 'number') return { error: `cannot fork the helper that removes the socket files if the start fails: ${errnoMessage(u)}` };
  try {
    drop(id, [], d.noNewPrivs, true);
    for (const w of verifyDrop(id, [], d.noNewPrivs)) log.warning(w);
  } catch (err) {
    for (const w of closeAll(bound.splice(0), true, u)) log.warning(w);
    if (err instanceof Abort) return { error: `cannot drop tsinit's privileges to uid ${id.uid} gid ${id.gid}: ${err.message}; aborting` };
    throw err;
  }
  log.event('info', 'tsinit-dropped', `every service runs as ${who(id)}: tsinit dropped to it in every thread; no_new_privs ${d.noNewPrivs ? 'on' : 'off'}`, { uid: id.uid, gid: id.gid });
  return { unlinker: u };
}
