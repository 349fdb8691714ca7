// tsinit --config FILE (or --procfile FILE): load and check the plan (every mistake exits 2 with
// nothing started), print it for --dry-run, bind every listen socket while
// tsinit is root, drop tsinit's own credentials when every service runs as one
// user (selfdrop.ts), make every notify socket, then hand over to the formation.
// Loaded only with --config or --procfile, so single-command mode never pays for it.
import * as fs from 'node:fs';
import { native, type EventHandler } from '../native';
import { envGet, setParentDeathSignal } from '../core/proc';
import { errnoMessage, UserError } from '../core/errno';
import { EXIT } from '../core/exit';
import type { Logger } from '../core/log';
import { addressOf } from '../privileges/listen';
import type { PrivilegeOptions } from '../privileges/plan';
import { bindListen, closeAll, type Bound, type Unlinker } from '../privileges/sockets';
import { makePlan, type Plan } from '../config/plan';
import { makeProcfilePlan } from '../config/procplan';
import { describePlan } from '../config/describe';
import { processEvents } from './events';
import { createRelay } from './relay';
import { guardStdio } from './relaystdio';
import { Formation } from './formation';
import { NotifyChannel } from './readiness';
import { decideSelfDrop, describeSelfDrop, dropSelf, runtimeBase } from './selfdrop';
import type { Resources } from './launch';

/** The options of the command line that matter here (a subset of cli/options.ts's
 * Options): the single-command privilege options only to refuse them. */
export interface ServicesOptions extends Pick<PrivilegeOptions, 'user' | 'groups' | 'listen' | 'caps' | 'workdir' | 'umask' | 'dryRun'> {
  config: string | undefined;
  procfile: string | undefined;
  command: Buffer[];
  remapExit: ReadonlyMap<number, number>;
  /** tsinit's own parent-death signal (--pdeathsig), or 0. */
  pdeathsig: number;
}

export interface ServicesDeps {
  env: Buffer[];
  setSignalHandler(handler: EventHandler): void;
  log: Logger;
  /** tsinit's parent as first seen, for --pdeathsig (cli/main.ts's). */
  parentPid: number;
}

interface Held {
  bound: Bound[];
  resources: Map<string, Resources>;
  channels: Map<string, NotifyChannel>;
  runtimeDir: string | null;
  devNull: number;
  /** The root helper that removes the unix socket files if a start-up step after tsinit's own drop fails. */
  unlinker: Unlinker | null;
}

/** Closes what tsinit holds. removeFiles: also the unix listen socket files it created (after a failed start-up; at
 * the end they stay, as in single-command mode). The notify sockets' directory always goes. */
function release(h: Held, removeFiles: boolean): void {
  closeAll(h.bound, removeFiles, h.unlinker);
  h.unlinker = null;
  for (const ch of h.channels.values()) ch.close();
  if (h.runtimeDir !== null) fs.rmSync(h.runtimeDir, { recursive: true, force: true });
  if (h.devNull >= 0) fs.closeSync(h.devNull);
}

/** Runs step on h; on failure, releases everything (socket files removed) and
 * throws the UserError (exit 125) that cli/main.ts reports: an fs call's
 * error is named by its path and code. */
function attempt(h: Held, step: () => void): void {
  try {
    step();
  } catch (err) {
    release(h, true);
    if (err instanceof UserError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new UserError(e.code !== undefined && e.path !== undefined ? `${e.path}: ${e.code}` : e.message, EXIT.startFailed);
  }
}

/** What needs root, before any service starts (and before tsinit's own drop): every listen socket bound. */
function bindAll(plan: Plan, h: Held, log: Logger): void {
  h.devNull = fs.openSync('/dev/null', 'r+');
  for (const s of plan.services) {
    const fds: number[] = [];
    for (const spec of s.listen) {
      const b = bindListen(spec);
      if ('errno' in b) throw new UserError(`service ${s.name}: cannot ${b.step} listen ${spec.text}: ${errnoMessage(b.errno)}`, EXIT.startFailed);
      h.bound.push(b);
      fds.push(b.fd);
      log.info(`service ${s.name}: bound ${spec.kind} ${addressOf(spec)} for fd ${2 + fds.length} (${spec.name})`);
    }
    h.resources.set(s.name, { listenFds: fds, devNull: h.devNull, notifyPath: null, ownIds: false });
  }
}

/** The notify sockets, by whoever tsinit is by now (root, or the services' user after its drop, who can then remove them). */
function openChannels(plan: Plan, h: Held, ownIds: boolean): void {
  for (const s of plan.services) {
    const res = h.resources.get(s.name)!;
    res.ownIds = ownIds;
    if (s.ready.kind !== 'notify') continue;
    if (h.runtimeDir === null) {
      const base = runtimeBase(plan);
      fs.mkdirSync(base, { recursive: true, mode: 0o755 });
      h.runtimeDir = fs.mkdtempSync(`${base}/notify-`);
      // Traversable, not listable: each service's own directory inside is 0700.
      fs.chmodSync(h.runtimeDir, 0o711);
    }
    const id = s.identity;
    const ch = NotifyChannel.open(s.name, `${h.runtimeDir}/${h.channels.size}`, id ? id.uid : (process.geteuid?.() ?? 0), id ? id.gid : (process.getegid?.() ?? 0));
    h.channels.set(s.name, ch);
    res.notifyPath = ch.path;
  }
}

export function runServices(o: ServicesOptions, deps: ServicesDeps): Promise<number> {
  const { log } = deps;
  // Every refusal before a service starts is a UserError that cli/main.ts
  // reports as every other: one line (a usage error would add the synopsis),
  // exit 2 for bad input (a mistake in the file: ConfigError or
  // ConfigFileError) and 125 when the system refuses a start-up step.
  if (o.config !== undefined && o.procfile !== undefined) {
    throw new UserError('--config and --procfile cannot be used together (TSINIT_CONFIG or TSINIT_PROCFILE counts as given)');
  }
  const single = (['user', 'groups', 'workdir', 'umask'] as const).find((k) => o[k] !== undefined) ?? (o.listen.length > 0 ? 'listen' : o.caps.length > 0 ? 'cap' : null);
  if (single !== null) {
    throw new UserError(o.config !== undefined
      ? `--${single} is for single-command mode; with --config, set ${single === 'cap' ? 'caps' : single} in the service's table`
      : `--${single} is for single-command mode; a Procfile's processes run as tsinit, in the Procfile's directory`);
  }
  const plan: Plan = o.procfile !== undefined
    ? makeProcfilePlan({ file: o.procfile, command: o.command, env: deps.env })
    : makePlan({ file: o.config!, command: o.command, env: deps.env });
  const upstream = envGet(deps.env, 'NOTIFY_SOCKET') ?? null;
  // Decided once, from the plan: whether tsinit itself can give up root (selfdrop.ts).
  const self = decideSelfDrop(plan, upstream === null ? null : upstream.toString());
  if (o.dryRun) {
    fs.writeSync(1, `${JSON.stringify({ ...describePlan(plan), tsinit: describeSelfDrop(self) }, null, 2)}\n`);
    return Promise.resolve(0);
  }
  if (self.kind === 'stay') log.event('info', 'tsinit-stays-root', `tsinit stays root: ${self.reason}`, {});
  // Node would put libuv streams on fds 1 and 2 the first time anything
  // reads process.stdout/stderr (a net.Socket's teardown does, e.g. a tcp
  // probe's), making the shared descriptions non-blocking: plain writers
  // instead (relaystdio.ts).
  guardStdio();
  // The log relay, for services with log = "prefix" or "json": made before
  // anything starts (it reopens tsinit's stdout and stderr through /proc).
  const relayed = plan.services.filter((s) => s.log !== 'raw');
  const relay = relayed.length > 0 ? createRelay({ names: relayed.map((s) => s.name), log }) : null;
  const held: Held = { bound: [], resources: new Map(), channels: new Map(), runtimeDir: null, devNull: -1, unlinker: null };
  attempt(held, () => bindAll(plan, held, log));
  let dropped = false;
  if (self.kind === 'drop') {
    const r = dropSelf(self, held.bound, log);
    if (r === 'stayed') {
      // Warned: the services still get their credentials in the child.
    } else if ('error' in r) {
      release(held, true);
      throw new UserError(r.error, EXIT.startFailed);
    } else {
      dropped = true;
      held.unlinker = r.unlinker;
    }
  }
  attempt(held, () => openChannels(plan, held, dropped));
  // Started well: the unlinker (if any) exits, leaving the socket files.
  if (held.unlinker !== null) for (const w of closeAll([], false, held.unlinker)) log.warning(w);
  held.unlinker = null;
  // tini -p, as in single-command mode: after the drop, which clears it; tsinit's credentials change no more.
  if (o.pdeathsig !== 0) setParentDeathSignal(o.pdeathsig, deps.parentPid, log);
  // The point of no return: services start; from here on PID 1 only warns.
  // A bug in a timer or watcher callback must not take every service down
  // with tsinit (catatonit's rule): it is logged and tsinit carries on.
  process.on('uncaughtException', (err) => log.warning(`internal error, carrying on: ${err.stack ?? String(err)}`));
  return new Promise<number>((resolve) => {
    const formation = new Formation({
      plan,
      log,
      resources: held.resources,
      channels: held.channels,
      remapExit: o.remapExit,
      isPid1: process.pid === 1,
      upstream: upstream === null ? null : Buffer.from(upstream),
      cleanup: () => release(held, false),
      relay,
      onDone: resolve,
    });
    const events = processEvents(formation);
    formation.drain = events.drain;
    deps.setSignalHandler((ev) => {
      try {
        events.handler(ev);
      } catch (err) {
        log.warning(`internal error, carrying on: ${(err as Error).stack ?? String(err)}`);
      }
    });
    formation.start();
  });
}

