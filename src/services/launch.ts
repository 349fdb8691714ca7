// A service's plan and the resources tsinit holds for it (listen sockets,
// /dev/null, its notify socket, a readiness pipe) → the spawn request: fds,
// environment with LISTEN_* and NOTIFY_SOCKET, ids, groups, capabilities,
// no_new_privs, umask and workdir, all applied in the child between fork and
// exec (native/spawn.c). Also the exit status a failed spawn stands for.
import type { SpawnError, SpawnRequest } from '../core/spawn';
import { SESSION } from '../core/spawn';
import { maskOf, maskWords } from '../privileges/caps';
import { SD_LISTEN_FDS_START, listenEnv } from '../privileges/listen';
import { findUser, readUserDb } from '../privileges/users';
import type { ServicePlan } from '../config/plan';

export interface Resources {
  /** tsinit's bound listen sockets, handed on as 3, 4, ... */
  listenFds: number[];
  devNull: number;
  notifyPath: string | null;
  /** tsinit already runs as the service's user (selfdrop.ts): no credential steps, which would fail without root. */
  ownIds: boolean;
}

/** The request for the service itself (readyFd: the write end of its readiness pipe), or for a check command. */
export function spawnRequest(plan: ServicePlan, res: Resources, opts: { readyFd?: number; check?: Buffer[] } = {}): SpawnRequest {
  const check = opts.check !== undefined;
  const env = [...plan.env];
  if (!check && res.notifyPath !== null) env.push(Buffer.from(`NOTIFY_SOCKET=${res.notifyPath}`));
  const le = listenEnv(env, check ? [] : plan.listen.map((l) => l.name));
  const map: number[] = [];
  if (plan.stdin === 'null' || check) map.push(0, res.devNull);
  // fds 1 and 2: tsinit's own (log = "raw"), or the relay's pipes, which
  // formation.ts adds to this map for "prefix" and "json".
  if (!check) {
    res.listenFds.forEach((fd, i) => map.push(SD_LISTEN_FDS_START + i, fd));
    if (opts.readyFd !== undefined && plan.ready.kind === 'fd') map.push(plan.ready.fd, opts.readyFd);
  }
  const req: SpawnRequest = { command: check ? opts.check! : plan.argv, env: le.env, session: SESSION.setsid, keep: [] };
  if (map.length > 0) req.map = map;
  if (le.listenPidIndex !== undefined) req.listenPidIndex = le.listenPidIndex;
  const id = res.ownIds ? null : plan.identity;
  if (id) {
    req.uid = id.uid;
    req.gid = id.gid;
    req.groups = id.groups;
    // Not root: permitted, inheritable and ambient become exactly `caps`
    // (often none), so nothing of root's sets survives the uid change.
    if (id.uid !== 0) req.caps = maskWords(maskOf(plan.caps));
  }
  if (plan.noNewPrivs) req.noNewPrivs = 1;
  if (plan.umask !== null) req.umask = plan.umask;
  if (plan.cwd !== null) req.cwd = Buffer.from(plan.cwd);
  return req;
}

/** The shell's convention for a start that never ran: 127 not found, 126 not executable, else 125. */
export function spawnFailureStatus(err: SpawnError): number {
  if (err.step === 'execvp' || err.step === 'execve') return err.code === 'ENOENT' || err.code === 'ENOTDIR' ? 127 : 126;
  return 125;
}

/**
 * Whether the service's user is still the one the plan resolved: a user
 * removed from /etc/passwd (or given another uid) while tsinit runs makes
 * the next start a failed one, with this line, rather than a process
 * running under an id nobody owns. null when all is well.
 */
export function identityGone(plan: ServicePlan): string | null {
  const id = plan.identity;
  if (!id || id.name === null) return null;
  const now = findUser(readUserDb(), id.name);
  if (!now) return `user ${id.name} is no longer in /etc/passwd`;
  if (now.uid !== id.uid) return `user ${id.name} is now uid ${now.uid}, not ${id.uid}`;
  return null;
}
