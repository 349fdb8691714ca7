// Privilege drop and socket hand-off (issue 3): resolves --user/--groups/--cap,
// binds the --listen sockets, drops tsinit's own credentials for good and
// proves it, and says what the spawn must pass on. Runs before the spawn, so
// every failure here exits with nothing started and every socket closed.
//
// The order: resolve (files, specs) → bind → setgroups → setresgid →
// setresuid → capabilities → no_new_privs → verify. Binding first, because
// low ports need root; groups and gid before uid, because changing them needs
// the privilege the uid change gives up (runc, libuv, setpriv); then prove
// that root cannot be regained, or abort.
import * as fs from 'node:fs';
import type { Options } from '../cli/args';
import type { Logger } from '../core/log';
import { native, type NativeSpawnOptions } from '../native';
import { errnoMessage } from '../core/errno';
import { capName, capNames, lastCap, maskHex, maskOf, maskWords, resolveCaps, wordsMask } from './caps';
import { readUserDb, resolveIdentity, type Identity, type UserDb } from './users';
import {
  MAX_LISTEN,
  SD_LISTEN_FDS_START,
  addressOf,
  bindListen,
  closeAll,
  inheritedActivation,
  listenEnv,
  parseListen,
  type Activation,
  type Bound,
  type ListenSpec,
} from './listen';

/** Exit statuses of this stage (the values of EXIT.usage and EXIT.startFailed in main.ts). */
export const PRIV_EXIT = {
  /** The command line names something that does not exist or does not parse. */
  input: 2,
  /** The system refused: bind, not root, the drop or its verification, the working directory. */
  setup: 125,
} as const;

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

/** Everything resolved, nothing changed yet. */
export interface Plan {
  identity: Identity | null;
  /** Ambient capabilities for the command (only with --user). */
  caps: number[];
  /** Whether tsinit sets no_new_privs (with --user, unless --allow-new-privs). */
  noNewPrivs: boolean;
  umask: number | undefined;
  workdir: string | undefined;
  listen: ListenSpec[];
  activation: Activation;
  env: Buffer[];
  listenPidIndex: number | undefined;
  removedEnv: string[];
  keep: number[];
  warnings: string[];
  argv: Buffer[];
  /** tsinit's own parent-death signal (--pdeathsig), which the drop clears. */
  pdeathsig: number;
}

function exit(status: number, message: string | null): Prepared {
  return { kind: 'exit', status, message };
}

/** Replaces HOME (its first entry keeps its place) or appends it. */
function withHome(env: readonly Buffer[], home: string): Buffer[] {
  const prefix = Buffer.from('HOME=');
  const entry = Buffer.from(`HOME=${home}`, 'latin1');
  const out: Buffer[] = [];
  let placed = false;
  for (const e of env) {
    if (e.length >= prefix.length && e.subarray(0, prefix.length).equals(prefix)) {
      if (!placed) out.push(entry);
      placed = true;
    } else out.push(e);
  }
  if (!placed) out.push(entry);
  return out;
}

/** Resolves every option into a plan, reading only /etc/passwd and /etc/group. */
export function makePlan(o: Options, ctx: Pick<PrivilegeContext, 'env' | 'inherited'>, pid = process.pid): Plan | string {
  if (o.user === undefined) {
    if (o.groups !== undefined) return '--groups needs --user';
    if (o.caps.length > 0) return '--cap needs --user (without it tsinit does not drop, and the command keeps what tsinit has)';
  }
  let db: UserDb | null = null;
  const userDb = (): UserDb => (db ??= readUserDb());

  let identity: Identity | null = null;
  if (o.user !== undefined) {
    const r = resolveIdentity(userDb(), o.user, o.groups);
    if (typeof r === 'string') return r;
    identity = r;
  }
  const caps = resolveCaps(o.caps, lastCap());
  if (typeof caps === 'string') return caps;
  if (caps.length > 0 && identity?.uid === 0) return '--cap: the command runs as root and keeps every capability anyway';

  let umask: number | undefined;
  if (o.umask !== undefined) {
    if (!/^[0-7]{1,4}$/.test(o.umask) || parseInt(o.umask, 8) > 0o777) return `--umask: '${o.umask}' is not an octal mode such as 0027`;
    umask = parseInt(o.umask, 8);
  }
  if (o.workdir === '') return '--workdir: empty path';

  const listen: ListenSpec[] = [];
  for (const text of o.listen) {
    const s = parseListen(text, userDb);
    if (typeof s === 'string') return s;
    listen.push(s);
  }
  if (listen.length > MAX_LISTEN) return `--listen: at most ${MAX_LISTEN} sockets`;

  const warnings: string[] = [];
  const act = inheritedActivation(ctx.env, pid, ctx.inherited);
  if (act.warning) warnings.push(act.warning);
  const activation = act.activation;
  const names = [...activation.names, ...listen.map((l) => l.name)];
  const le = listenEnv(ctx.env, names);
  const env = identity ? withHome(le.env, identity.home) : le.env;
  if (le.removed.length > 0 && activation.fds.length === 0) warnings.push(`removed stale ${[...new Set(le.removed)].join(', ')} (LISTEN_PID is not tsinit's pid ${pid})`);

  // The --listen sockets take the numbers after the handed-on ones. An
  // inherited descriptor that sits on one of them cannot keep its number.
  const first = SD_LISTEN_FDS_START + activation.fds.length;
  const keep: number[] = [];
  for (const fd of ctx.inherited) {
    if (fd >= first && fd < first + listen.length) warnings.push(`inherited fd ${fd} is not passed on: --listen ${listen[fd - first]!.text} takes its number`);
    else keep.push(fd);
  }

  return {
    identity,
    caps,
    noNewPrivs: identity !== null && o.noNewPrivs,
    umask,
    workdir: o.workdir,
    listen,
    activation,
    env,
    listenPidIndex: le.listenPidIndex,
    removedEnv: [...new Set(le.removed)],
    keep,
    warnings,
    argv: o.command,
    pdeathsig: o.pdeathsig,
  };
}

function octal(n: number): string {
  return `0${n.toString(8).padStart(3, '0')}`;
}

/** The Groups line of a /proc status file, as numbers ascending. */
function statusGroups(status: string): number[] {
  const m = /^Groups:(.*)$/m.exec(status);
  return (m?.[1] ?? '').trim().split(/\s+/).filter((g) => g !== '').map(Number).sort((a, b) => a - b);
}

function currentGroups(): number[] {
  return statusGroups(fs.readFileSync('/proc/self/status', 'latin1'));
}

/** The plan as --dry-run prints it (setpriv -d's idea, as JSON). */
export function describePlan(p: Plan): Record<string, unknown> {
  const id = p.identity;
  const fds: Record<string, unknown>[] = p.activation.fds.map((fd, i) => ({ fd, name: p.activation.names[i], socket: 'inherited', address: null }));
  p.listen.forEach((l, i) => {
    const fd = SD_LISTEN_FDS_START + p.activation.fds.length + i;
    const d: Record<string, unknown> = { fd, name: l.name, socket: l.kind, address: addressOf(l) };
    if (l.kind === 'unix') {
      d['mode'] = octal(l.mode);
      // owner= as ids; null: that id stays tsinit's (chown(1) leaves it alone).
      d['owner'] = { uid: l.owner && l.owner.uid >= 0 ? l.owner.uid : null, gid: l.owner && l.owner.gid >= 0 ? l.owner.gid : null };
    }
    fds.push(d);
  });
  const env: Record<string, string> = {};
  if (id) env['HOME'] = id.home;
  if (p.listenPidIndex !== undefined) {
    env['LISTEN_FDS'] = String(fds.length);
    env['LISTEN_FDNAMES'] = [...p.activation.names, ...p.listen.map((l) => l.name)].join(':');
    env['LISTEN_PID'] = "(the command's own pid, written between fork and exec)";
  }
  return {
    user: id ? id.name : null,
    uid: id ? id.uid : process.getuid?.(),
    gid: id ? id.gid : process.getgid?.(),
    groups: id ? id.groups : currentGroups(),
    capabilities: id ? p.caps.map(capName) : null,
    no_new_privs: p.noNewPrivs || native.prctlGetNoNewPrivs() === 1,
    umask: p.umask === undefined ? null : octal(p.umask),
    cwd: p.workdir ?? null,
    fds,
    env,
    env_removed: p.removedEnv.filter((v) => !(v in env)),
    argv: p.argv.map((a) => a.toString()),
  };
}

/** A failure after something has changed: close what was bound, then exit. */
class Abort extends Error {}

function ids(r: number | [number, number, number], what: string): [number, number, number] {
  if (typeof r === 'number') throw new Abort(`${what}: ${errnoMessage(r)}`);
  return r;
}

/**
 * Checks the drop from the kernel's side and fails loudly: every thread's
 * ids and groups (/proc/self/task/N/status, so glibc's SIGSETXID broadcast
 * is proven, not assumed), that uid 0, gid 0 and other groups cannot be
 * taken back, the capability sets, and no_new_privs.
 */
function verifyDrop(id: Identity, caps: readonly number[], noNewPrivs: boolean): string[] {
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
    throw new Abort(`cannot check every thread: /proc/self/task: ${errnoMessage((err as NodeJS.ErrnoException).errno ?? -2)} (is /proc mounted?)`);
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

/** The drop itself; throws Abort with the step that failed. */
function drop(id: Identity, caps: readonly number[], noNewPrivs: boolean, changeIds: boolean): void {
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

/** The first line of the reason a bind failed, with the usual cause named. */
function bindMessage(spec: ListenSpec, step: string, errno: number): string {
  let why = errnoMessage(errno);
  if (step === 'bind' && errno === -13 && spec.kind !== 'unix') {
    let start = 1024;
    try {
      start = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'latin1').trim());
    } catch {
      // Older kernels: 1024.
    }
    if (spec.port < start) why += ` (ports below ${start} need root or CAP_NET_BIND_SERVICE)`;
  }
  return `cannot ${step === 'bind' ? 'bind' : `${step} the socket for`} --listen ${spec.text}: ${why}`;
}

/**
 * Whether libuv made an io_uring ring with a kernel submission thread
 * (IORING_SETUP_SQPOLL) while tsinit was root. That thread keeps the
 * credentials of the ring's creator, so requests through it would still run
 * as root after the drop (CVE-2024-22017). Rings without it, which newer
 * libuv (Node 22 and later) makes for epoll_ctl batching, are harmless: each
 * request runs with its submitter's current credentials. Node 20 makes an
 * SQPOLL ring only with UV_USE_IO_URING=1. A ring whose fdinfo does not say
 * (a kernel too old to print SqThread) counts as one.
 */
function sqpollRing(): boolean {
  let fds: string[];
  try {
    fds = fs.readdirSync('/proc/self/fd');
  } catch {
    return false;
  }
  return fds.some((fd) => {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) !== 'anon_inode:[io_uring]') return false;
      const m = /^SqThread:\s*(-?[0-9]+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'));
      return !m || Number(m[1]) >= 0;
    } catch {
      return false;
    }
  });
}

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
      if (!same) return exit(PRIV_EXIT.setup, `${who}: tsinit runs as uid ${eu} gid ${eg}, not as root, and cannot switch to uid ${id.uid} gid ${id.gid}`);
      const groups = currentGroups();
      if (groups.join(',') !== id.groups.join(',')) {
        return exit(PRIV_EXIT.setup, `${who}: tsinit is not root and cannot change its groups (${groups.join(',') || 'none'}) to ${id.groups.join(',') || 'none'}; give --groups to match`);
      }
      changeIds = false;
    }
    if (sqpollRing()) {
      return exit(PRIV_EXIT.setup, `${who}: libuv's io_uring polls with a kernel thread created as root (UV_USE_IO_URING=1?), whose requests would keep root's credentials after the drop (CVE-2024-22017); unset UV_USE_IO_URING`);
    }
  }

  const bound: Bound[] = [];
  for (const spec of p.listen) {
    const b = bindListen(spec);
    if ('errno' in b) {
      closeAll(bound, true);
      return exit(PRIV_EXIT.setup, bindMessage(spec, b.step, b.errno));
    }
    bound.push(b);
    log.info(`--listen ${spec.text}: bound ${spec.kind} ${addressOf(spec)} for fd ${SD_LISTEN_FDS_START + p.activation.fds.length + bound.length - 1} (${spec.name})`);
  }

  if (id) {
    try {
      drop(id, p.caps, p.noNewPrivs, changeIds);
      for (const w of verifyDrop(id, p.caps, p.noNewPrivs)) log.warning(w);
    } catch (err) {
      closeAll(bound, true);
      if (err instanceof Abort) return exit(PRIV_EXIT.setup, `cannot drop privileges to uid ${id.uid} gid ${id.gid}: ${err.message}; aborting`);
      throw err;
    }
    // The kernel clears the parent-death signal whenever the effective ids
    // change (commit_creds in kernel/cred.c); set it again, as it was asked for.
    if (changeIds && p.pdeathsig !== 0) {
      const r = native.prctlSetPdeathsig(p.pdeathsig);
      if (r < 0) log.warning(`cannot set the parent-death signal again after the drop: ${errnoMessage(r)}`);
    }
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
      if (!fs.statSync(cwd).isDirectory()) throw Object.assign(new Error(), { errno: -20 });
      fs.accessSync(cwd, fs.constants.X_OK);
    } catch (err) {
      closeAll(bound, true);
      const e = (err as NodeJS.ErrnoException).errno ?? -2;
      return exit(PRIV_EXIT.setup, `--workdir ${p.workdir}: ${errnoMessage(e)}${id ? ` (as uid ${id.uid})` : ''}`);
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
    closeAll(bound, !started);
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

export function preparePrivileges(o: Options, ctx: PrivilegeContext): Prepared {
  const plan = makePlan(o, ctx);
  if (typeof plan === 'string') return exit(PRIV_EXIT.input, plan);
  if (o.dryRun) {
    for (const w of plan.warnings) ctx.log.warning(w);
    return { kind: 'exit', status: 0, message: null, output: `${JSON.stringify(describePlan(plan), null, 2)}\n` };
  }
  return carryOut(plan, ctx.log);
}
