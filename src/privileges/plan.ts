// The plan: every privilege option resolved (users, groups, capabilities,
// --listen specs, umask, LISTEN_* and HOME), reading only /etc/passwd and
// /etc/group. Nothing is bound, checked against the system or changed here.
import { lastCap, resolveCaps, riskWarning } from './caps';
import { readUserDb, resolveIdentity, type Identity, type UserDb } from './users';
import { MAX_LISTEN, SD_LISTEN_FDS_START, inheritedActivation, listenEnv, parseListen, type Activation, type ListenSpec } from './listen';
import { hasPrefix } from '../core/proc';
import { UserError } from '../core/errno';

/**
 * What the privileges layer reads of the command line: its own input, so
 * the import points down (cli/args.ts's Options has these fields and more).
 */
export interface PrivilegeOptions {
  /** USER[:GROUP], names or numeric ids. */
  user: string | undefined;
  /** Explicit supplementary groups, comma-separated. */
  groups: string | undefined;
  /** --listen specs in the order given (they become fds 3, 4, ...). */
  listen: readonly string[];
  /** Capabilities granted to the command as ambient capabilities. */
  caps: readonly string[];
  workdir: string | undefined;
  umask: string | undefined;
  dryRun: boolean;
  /** PR_SET_NO_NEW_PRIVS before running the command. */
  noNewPrivs: boolean;
  /** The command and its arguments, byte for byte. */
  command: readonly Buffer[];
}

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
  argv: readonly Buffer[];
}

/** Replaces HOME (its first entry keeps its place) or appends it. */
function withHome(env: readonly Buffer[], home: string): Buffer[] {
  const prefix = Buffer.from('HOME=');
  const entry = Buffer.from(`HOME=${home}`, 'latin1');
  const out: Buffer[] = [];
  let placed = false;
  for (const e of env) {
    if (hasPrefix(e, prefix)) {
      if (!placed) out.push(entry);
      placed = true;
    } else out.push(e);
  }
  if (!placed) out.push(entry);
  return out;
}

/** Resolves every option into a plan, reading only /etc/passwd and
 * /etc/group. Throws a UserError for the first option that is wrong. */
export function makePlan(o: PrivilegeOptions, ctx: { env: Buffer[]; inherited: number[] }, pid = process.pid): Plan {
  if (o.user === undefined) {
    if (o.groups !== undefined) throw new UserError('--groups needs --user');
    if (o.caps.length > 0) throw new UserError('--cap needs --user (without it tsinit does not drop, and the command keeps what tsinit has)');
  }
  let db: UserDb | null = null;
  const userDb = (): UserDb => (db ??= readUserDb());

  const identity: Identity | null = o.user === undefined ? null : resolveIdentity(userDb(), o.user, o.groups);
  const caps = resolveCaps(o.caps, lastCap());
  if (caps.length > 0 && identity?.uid === 0) throw new UserError('--cap: the command runs as root and keeps every capability anyway');

  let umask: number | undefined;
  if (o.umask !== undefined) {
    if (!/^[0-7]{1,4}$/.test(o.umask) || parseInt(o.umask, 8) > 0o777) throw new UserError(`--umask: '${o.umask}' is not an octal mode such as 0027`);
    umask = parseInt(o.umask, 8);
  }
  if (o.workdir === '') throw new UserError('--workdir: empty path');

  const listen: ListenSpec[] = o.listen.map((text) => parseListen(text, userDb));
  if (listen.length > MAX_LISTEN) throw new UserError(`--listen: at most ${MAX_LISTEN} sockets`);

  const warnings: string[] = [];
  const risk = riskWarning(caps);
  if (risk !== null) warnings.push(risk);
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
  };
}
