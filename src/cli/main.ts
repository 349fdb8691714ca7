// parse → configure → spawn → supervise; resolves to tsinit's exit status.
// Before the spawn every error exits (nothing has started); after it, see supervisor.ts.
import * as fs from 'node:fs';
import { HELP, USAGE, parseArgs, type Options } from './args';
import { createLogger, type Logger } from '../core/log';
import { native } from '../native';
import { errnoMessage } from '../core/errno';
import { spawnCommand, type SpawnError } from '../core/spawn';
import { planTerminal } from '../core/tty';
import { Supervisor } from '../supervise/supervisor';
import type { Prepared } from '../privileges/privdrop';

export const EXIT = {
  usage: 2,
  startFailed: 125,
  cannotExecute: 126,
  notFound: 127,
} as const;

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
  /** Routes the signals the addon catches to the supervisor. */
  setSignalHandler(handler: (sigs: Uint8Array, lost?: number[]) => void): void;
  log?: Logger;
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

/** Whether privdrop.ts has anything to do: an option of its own, or LISTEN_*
 * variables to hand on or remove. Without, it is not even loaded, which keeps
 * the usual start-up and tsinit's memory small. */
function privilegeWork(o: Options, env: readonly Buffer[]): boolean {
  return (
    o.user !== undefined ||
    o.groups !== undefined ||
    o.listen.length > 0 ||
    o.caps.length > 0 ||
    o.workdir !== undefined ||
    o.umask !== undefined ||
    o.dryRun ||
    env.some((e) => e.length > LISTEN_.length && e.subarray(0, LISTEN_.length).equals(LISTEN_))
  );
}

function passThrough(deps: MainDeps): Prepared {
  return { kind: 'ready', env: deps.env, keep: deps.inherited, spawn: {}, done: () => {} };
}

export function runMain(deps: MainDeps): Promise<number> {
  const env = process.env;
  const parsed = parseArgs(deps.args, env);
  const earlyLog = deps.log ?? createLogger(0);
  switch (parsed.kind) {
    case 'help':
      fs.writeSync(1, `${HELP}\n`);
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

  // Orphans of the subtree re-parent to the nearest subreaper: without this,
  // tsinit under another supervisor would leave them to someone else.
  if (process.pid !== 1 && o.subreaper) {
    const r = native.prctlSetChildSubreaper(1);
    if (r < 0) log.warning(`cannot become a child subreaper (${errnoMessage(r)}): orphans will not be reaped by tsinit`);
    else log.info('not PID 1: registered as a child subreaper');
  }

  // Several services from a configuration file: a module of its own, loaded only here.
  if (o.config !== undefined) {
    return (require('../services/run') as typeof import('../services/run')).runServices(o, { env: deps.env, setSignalHandler: deps.setSignalHandler, log });
  }

  // Everything privileged happens here, before the spawn: binding sockets,
  // then the irreversible drop of tsinit's own credentials.
  const prep = privilegeWork(o, deps.env)
    ? (require('../privileges/privdrop') as typeof import('../privileges/privdrop')).preparePrivileges(o, { env: deps.env, inherited: deps.inherited, log })
    : passThrough(deps);
  if (prep.kind === 'exit') {
    if (prep.output !== undefined) fs.writeSync(1, prep.output);
    if (prep.message !== null) log.error(prep.message);
    return Promise.resolve(prep.status);
  }

  // tini -p: a subreaper under a supervisor learns of that supervisor's death.
  // Set after the drop: the kernel clears it when the credentials change.
  if (o.pdeathsig !== 0) {
    const r = native.prctlSetPdeathsig(o.pdeathsig);
    if (r < 0) log.warning(`cannot set the parent-death signal: ${errnoMessage(r)}`);
  }

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
    const sup = new Supervisor({
      child,
      singleChild: o.singleChild,
      rewrite: o.rewrite,
      remapExit: o.remapExit,
      graceMs: o.graceMs,
      stopSignal: o.stopSignal,
      isPid1: process.pid === 1,
      log,
      onDone: resolve,
    });
    // At -v, name any process that leaves its zombie children unreaped.
    if (log.enabled('info')) sup.watchNegligentParents(NEGLIGENCE_FIRST_MS, NEGLIGENCE_EVERY_MS);
    deps.setSignalHandler((sigs, lost) => {
      try {
        sup.onSignals(sigs, lost);
      } catch (err) {
        log.warning(`internal error, carrying on: ${(err as Error).stack ?? String(err)}`);
      }
    });
  });
}
