// Privilege drop and socket hand-off, the entry (loaded by cli/main.ts only
// when there is privilege work): plan → (dry run: describe) → refuse what
// cannot work → bind → drop → verify → working directory; says what the spawn
// must pass on. Runs before the spawn, so every failure here exits with
// nothing started, every socket closed and every socket file removed.
//
// Binding first, because low ports need root; groups and gid before uid,
// because changing them needs the privilege the uid change gives up (runc,
// libuv, setpriv); then prove that root cannot be regained, or abort.
//
// The files: plan.ts (resolve), describe.ts (--dry-run), listen.ts (specs),
// sockets.ts (binding, removing socket files), drop.ts (the drop), verify.ts (its proof), uring.ts (the
// io_uring check), users.ts and caps.ts (the tables).
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { Logger } from '../core/log';
import { native, type NativeSpawnOptions } from '../native';
import { errnoMessage, UserError } from '../core/errno';
import { EXIT } from '../core/exit';
import { capName } from './caps';
import { describePlan } from './describe';
import { Abort, drop } from './drop';
import { SD_LISTEN_FDS_START, addressOf } from './listen';
import { bindListen, bindMessage, closeAll, startUnlinker, type Bound, type Unlinker } from './sockets';
import { makePlan, type Plan, type PrivilegeOptions } from './plan';
import { sqpollRing } from './uring';
import { currentGroups, verifyDrop } from './verify';

export interface PrivilegeContext {
  /** The raw environment tsinit was given. */
  env: Buffer[];
  /** Descriptors tsinit inherited, from 3 up. */
  inherited: number[];
  log: Logger;
}

export type Prepared =
  | {
      kind: 'ready';
      /** The command's environment. */
      env: Buffer[];
      /** Descriptors that pass through unchanged, besides 0, 1, 2. */
      keep: number[];
      /** Further spawn settings: map, listenPidIndex, umask, cwd. */
      spawn: Pick<NativeSpawnOptions, 'map' | 'listenPidIndex' | 'umask' | 'cwd'>;
      /**
       * Call once the spawn has returned: closes tsinit's copies of the
       * sockets (the command holds its own) and gives up the capabilities
       * kept for the command's ambient set. started=false (the spawn failed)
       * also removes the unix socket files tsinit created.
       */
      done(started: boolean): void;
    }
  | { kind: 'exit'; status: number; message: string | null; /** Printed to stdout (--dry-run). */ output?: string };

/** Carries the plan out; throws a UserError (exit 125) for a refusal, with
 * every socket closed and every socket file removed. */
function carryOut(p: Plan, log: Logger): Prepared {
  for (const w of p.warnings) log.warning(w);
  const id = p.identity;
  let changeIds = id !== null;
  if (id) {
    const who = `--user ${id.name ?? id.uid}`;
    if (process.geteuid?.() !== 0) {
      // Not root: only "already that user" can go ahead (nothing to change).
      const [ru, eu, su] = native.getresuid() as [number, number, number];
      const [rg, eg, sg] = native.getresgid() as [number, number, number];
      const same = [ru, eu, su].every((u) => u === id.uid) && [rg, eg, sg].every((g) => g === id.gid);
      if (!same) throw new UserError(`${who}: tsinit runs as uid ${eu} gid ${eg}, not as root, and cannot switch to uid ${id.uid} gid ${id.gid}`, EXIT.startFailed);
      const groups = currentGroups();
      if (groups.join(',') !== id.groups.join(',')) {
        throw new UserError(`${who}: tsinit is not root and cannot change its groups (${groups.join(',') || 'none'}) to ${id.groups.join(',') || 'none'}; give --groups to match`, EXIT.startFailed);
      }
      changeIds = false;
    }
    if (sqpollRing()) {
      throw new UserError(`${who}: libuv's io_uring polls with a kernel thread created as root (UV_USE_IO_URING=1?), whose requests would keep root's credentials after the drop (CVE-2024-22017); unset UV_USE_IO_URING`, EXIT.startFailed);
    }
  }

  const bound: Bound[] = [];
  let unlinker: Unlinker | null = null;
  // Every failure from here on: close the sockets, remove their files, refuse.
  const abort = (message: string): UserError => {
    for (const w of closeAll(bound, true, unlinker)) log.warning(w);
    return new UserError(message, EXIT.startFailed);
  };
  for (const spec of p.listen) {
    const b = bindListen(spec);
    if ('errno' in b) throw abort(bindMessage(spec, b));
    bound.push(b);
    log.info(`--listen ${spec.text}: bound ${spec.kind} ${addressOf(spec)} for fd ${SD_LISTEN_FDS_START + p.activation.fds.length + bound.length - 1} (${spec.name})`);
  }
  // After the drop, tsinit could no longer remove the socket files it made:
  // a helper that stays root does (sockets.ts says why this design).
  if (id && changeIds && id.uid !== 0) {
    const u = startUnlinker(bound);
    if (typeof u === 'number') throw abort(`cannot fork the helper that removes the socket files if the start fails: ${errnoMessage(u)}`);
    unlinker = u;
  }

  if (id) {
    try {
      drop(id, p.caps, p.noNewPrivs, changeIds);
      for (const w of verifyDrop(id, p.caps, p.noNewPrivs)) log.warning(w);
    } catch (err) {
      if (err instanceof Abort) throw abort(`cannot drop privileges to uid ${id.uid} gid ${id.gid}: ${err.message}; aborting`);
      closeAll(bound, true, unlinker);
      throw err;
    }
    // --pdeathsig, which the kernel clears when the ids change, is set again
    // by cli/main.ts after this returns.
    log.info(
      `dropped to uid ${id.uid} gid ${id.gid} groups ${id.groups.join(',') || 'none'} in every thread; ` +
        `no_new_privs ${p.noNewPrivs ? 'on' : 'off'}; ambient capabilities for the command: ${p.caps.map(capName).join(',') || 'none'}`,
    );
  }

  // The working directory, checked here as the target user (tsinit already
  // is that user), so a refusal is one clear line and not a failed child.
  // The child still enters it itself (chdir after fork).
  let cwd: Buffer | undefined;
  if (p.workdir !== undefined) {
    cwd = Buffer.from(p.workdir, 'latin1');
    try {
      if (!fs.statSync(cwd).isDirectory()) throw Object.assign(new Error(), { errno: -os.constants.errno.ENOTDIR });
      fs.accessSync(cwd, fs.constants.X_OK);
    } catch (err) {
      const e = (err as NodeJS.ErrnoException).errno ?? -os.constants.errno.ENOENT;
      throw abort(`--workdir ${p.workdir}: ${errnoMessage(e)}${id ? ` (as uid ${id.uid})` : ''}`);
    }
  }

  const first = SD_LISTEN_FDS_START + p.activation.fds.length;
  const map: number[] = [];
  bound.forEach((b, i) => map.push(first + i, b.fd));
  const spawn: Pick<NativeSpawnOptions, 'map' | 'listenPidIndex' | 'umask' | 'cwd'> = {};
  if (map.length > 0) spawn.map = map;
  if (p.listenPidIndex !== undefined) spawn.listenPidIndex = p.listenPidIndex;
  if (p.umask !== undefined) spawn.umask = p.umask;
  if (cwd !== undefined) spawn.cwd = cwd;

  let finished = false;
  const done = (started: boolean): void => {
    if (finished) return;
    finished = true;
    for (const w of closeAll(bound, !started, unlinker)) log.warning(w);
    // The capabilities were kept only for the child to inherit. Lowering the
    // permitted and inheritable sets lowers the ambient set with them.
    if (id && id.uid !== 0 && p.caps.length > 0) {
      const r = native.capset([0, 0, 0, 0, 0, 0]);
      const w = native.capget();
      if (r < 0 || typeof w === 'number' || w.some((x) => x !== 0)) log.warning(`could not give up the capabilities kept for the command: ${r < 0 ? errnoMessage(r) : 'still set'}`);
    }
  };
  return { kind: 'ready', env: p.env, keep: p.keep, spawn, done };
}

/** The stage's one entry: resolve, then print (--dry-run) or carry out.
 * Throws a UserError: bad input (2) or a refusal (125); cli/main.ts reports it. */
export function prepare(o: PrivilegeOptions, ctx: PrivilegeContext): Prepared {
  const plan = makePlan(o, ctx);
  if (o.dryRun) {
    for (const w of plan.warnings) ctx.log.warning(w);
    return { kind: 'exit', status: 0, message: null, output: `${JSON.stringify(describePlan(plan), null, 2)}\n` };
  }
  return carryOut(plan, ctx.log);
}

/** prepare() for the public API (index.ts), whose result type already says
 * "refused": its edge (core/errno.ts) turns the UserError into kind 'exit'. */
export function preparePrivileges(o: PrivilegeOptions, ctx: PrivilegeContext): Prepared {
  try {
    return prepare(o, ctx);
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    return { kind: 'exit', status: err.status, message: err.message };
  }
}
