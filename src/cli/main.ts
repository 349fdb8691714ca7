// parse → configure → spawn → supervise; resolves to tsinit's exit status.
// Before the spawn every error exits (nothing has started); after it, see supervisor.ts.
import * as fs from 'node:fs';
import { helpText, USAGE, parseArgs } from './args';
import { privilegedOptionGiven, supervisorSettings, type Options } from './options';
import { createLogger, type Logger } from '../core/log';
import { native, type EventHandler } from '../native';
import { errnoMessage, UserError } from '../core/errno';
import { EXIT } from '../core/exit';
import { hasPrefix, setParentDeathSignal } from '../core/proc';
import { spawnCommand, type SpawnError } from '../core/spawn';
import { signalName } from '../core/signals';
import { planTerminal } from '../core/tty';
import { Supervisor } from '../supervise/supervisor';
import type { Prepared } from '../privileges/privdrop';

export { EXIT };

/** At -v, when and how often to look for zombies whose parent is not reaping them. */
const NEGLIGENCE_FIRST_MS = 1000;
const NEGLIGENCE_EVERY_MS = 10000;

export interface MainDeps {
  /** Raw arguments after the script. */
  args: Buffer[];
  /** Raw environment, passed to the command unchanged. */
  env: Buffer[];
  /** Descriptors inherited from tsinit's parent, from 3 up. */
  inherited: number[];
  /** Routes the addon's events (signals, watched exits) to the supervisor. */
  setSignalHandler(handler: EventHandler): void;
  log?: Logger;
  /** tsinit's parent as first seen (the launcher's record, else process.ppid when runMain starts),
   * to tell after --pdeathsig is set whether that parent has already died. */
  parentPid?: number | undefined;
  /** What became of the bundle's code cache (src/cli.ts), said at -vv. */
  codeCache?: string;
}

function printable(b: Buffer): string {
  return b.toString().replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** The exit status for a spawn that failed, and the one line that says why. */
export function spawnFailure(err: SpawnError, command: Buffer): { status: number; message: string } {
  const name = printable(command);
  const why = errnoMessage(err.errno);
  if (err.step === 'execvp' || err.step === 'execve') {
    const notFound = err.code === 'ENOENT' || err.code === 'ENOTDIR';
    return { status: notFound ? EXIT.notFound : EXIT.cannotExecute, message: `cannot run '${name}': ${why}` };
  }
  return { status: EXIT.startFailed, message: `cannot start '${name}': ${err.step}: ${why}` };
}

const LISTEN_ = Buffer.from('LISTEN_');

/** Whether privdrop.ts has anything to do: an option the table marks as
 * privileged, or LISTEN_* variables to hand on or remove. Without, it is not
 * even loaded, which keeps the usual start-up and tsinit's memory small. */
function privilegeWork(o: Options, env: readonly Buffer[]): boolean {
  return privilegedOptionGiven(o) || env.some((e) => e.length > LISTEN_.length && hasPrefix(e, LISTEN_));
}

function passThrough(deps: MainDeps): Prepared {
  return { kind: 'ready', env: deps.env, keep: deps.inherited, spawn: {}, done: () => {} };
}

export function runMain(deps: MainDeps): Promise<number> {
  const parentPid = deps.parentPid ?? process.ppid;
  const env = process.env;
  const parsed = parseArgs(deps.args, env);
  const earlyLog = deps.log ?? createLogger(0);
  switch (parsed.kind) {
    case 'help':
      fs.writeSync(1, `${helpText()}\n`);
      return Promise.resolve(0);
    case 'version': {
      const pkg = require('../../package.json') as { version: string };
      fs.writeSync(1, `tsinit ${pkg.version}\n`);
      return Promise.resolve(0);
    }
    case 'usage-error':
      earlyLog.error(parsed.message);
      earlyLog.error(USAGE);
      return Promise.resolve(EXIT.usage);
    case 'run':
      break;
  }
  const o = parsed.options;
  const log = deps.log ?? createLogger(o.verbosity, o.logFormat);
  if (deps.log) {
    log.verbosity = o.verbosity;
    log.format = o.logFormat;
  }

  if (deps.codeCache) log.debug(`start-up: ${deps.codeCache}`);

  // The kernel takes every signal; a tool tsinit runs under may keep one.
  for (const sig of native.signalsRefused()) log.warning(`cannot catch ${signalName(sig)} here: sigaction refused it (valgrind keeps the highest real-time signal for itself); it will not be forwarded`);

  // Orphans of the subtree re-parent to the nearest subreaper: without this,
  // tsinit under another supervisor would leave them to someone else.
  if (process.pid !== 1 && o.subreaper) {
    const r = native.prctlSetChildSubreaper(1);
    if (r < 0) log.warning(`cannot become a child subreaper (${errnoMessage(r)}): orphans will not be reaped by tsinit`);
    else log.info('not PID 1: registered as a child subreaper');
  } else if (process.pid !== 1) {
    // As tini warns: nothing else would tell the user why zombies pile up elsewhere.
    log.warning('not PID 1 and not a subreaper (--no-subreaper or TSINIT_SUBREAPER=0): orphans re-parent past tsinit and it will not reap them');
  }

  let prep: Prepared;
  try {
    // Several services from a configuration file or a Procfile: a module of its own, loaded only here.
    if (o.config !== undefined || o.procfile !== undefined) {
      return (require('../services/run') as typeof import('../services/run')).runServices(o, { env: deps.env, setSignalHandler: deps.setSignalHandler, log, parentPid });
    }
    // Everything privileged happens here, before the spawn: binding sockets,
    // then the irreversible drop of tsinit's own credentials.
    prep = privilegeWork(o, deps.env)
      ? (require('../privileges/privdrop') as typeof import('../privileges/privdrop')).prepare(o, { env: deps.env, inherited: deps.inherited, log })
      : passThrough(deps);
  } catch (err) {
    // Bad input found before anything runs (core/errno.ts), in either mode:
    // a ConfigError or ConfigFileError is a UserError too. One line, its status.
    if (!(err instanceof UserError)) throw err;
    log.error(err.message);
    return Promise.resolve(err.status);
  }
  if (prep.kind === 'exit') {
    if (prep.output !== undefined) fs.writeSync(1, prep.output);
    if (prep.message !== null) log.error(prep.message);
    return Promise.resolve(prep.status);
  }

  if (o.pdeathsig !== 0) setParentDeathSignal(o.pdeathsig, parentPid, log);

  const term = planTerminal(log);
  let child: number;
  try {
    child = spawnCommand({ command: o.command, env: prep.env, keep: prep.keep, ...prep.spawn, ...term });
  } catch (err) {
    prep.done(false);
    const f = spawnFailure(err as SpawnError, o.command[0]!);
    log.error(f.message);
    return Promise.resolve(f.status);
  }
  prep.done(true);
  // The point of no return: the command runs.
  const argv = o.command.map(printable);
  log.event('info', 'command-started', `started command (pid ${child}): ${argv.join(' ')}`, { child, argv: argv.join(' ') });

  return new Promise<number>((resolve) => {
    const settings = supervisorSettings(o);
    const sup = new Supervisor({
      ...settings,
      child,
      isPid1: process.pid === 1,
      log,
      onDone: resolve,
    });
    // At -v, name any process that leaves its zombie children unreaped.
    if (log.enabled('info')) sup.watchNegligentParents(NEGLIGENCE_FIRST_MS, NEGLIGENCE_EVERY_MS);
    deps.setSignalHandler((events) => {
      try {
        sup.onEvents(events);
      } catch (err) {
        log.warning(`internal error, carrying on: ${(err as Error).stack ?? String(err)}`);
      }
    });
  });
}
