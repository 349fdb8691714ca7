// Options → resolved executable path, environment and ids → the addon's spawn.
// Everything the child needs is computed here, before fork: the child side in
// native/spawn.c may not allocate.
import * as fs from 'node:fs';
import { native, type NativeSpawnOptions } from '../native';
import { errnoCode, errnoMessage, sysError, type SysError } from './errno';
import { envGet } from './proc';

/** The native spawn's step numbers (native/spawn.h), named. */
export const SPAWN_STEPS: Readonly<Record<number, string>> = {
  1: 'sigaction',
  2: 'setsid',
  3: 'setpgid',
  4: 'setgroups',
  5: 'setresgid',
  6: 'setresuid',
  7: 'chdir',
  8: 'dup2',
  9: 'LISTEN_PID',
  10: 'execve',
  11: 'fork',
  12: 'pipe2',
  13: 'terminal',
  14: 'PR_SET_KEEPCAPS',
  15: 'capset',
  16: 'PR_CAP_AMBIENT_RAISE',
  17: 'PR_SET_NO_NEW_PRIVS',
};

export const SESSION = { none: 0, setsid: 1, setpgid: 2 } as const;
export const TTY = { none: 0, acquire: 1, foreground: 2 } as const;

/** glibc's execvp searches this when PATH is unset; so do Docker's images. */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const X_OK = fs.constants.X_OK;
const ENOENT = -2;
const EACCES = -13;

export interface SpawnError extends SysError {
  path: string;
  spawnargs: string[];
  /** The step of the child's start-up that failed. */
  step: string;
}

/**
 * Finds COMMAND as execvp(3) would: a name with a slash is used as given;
 * otherwise each PATH entry is tried in order (an empty entry is the current
 * directory). A candidate that exists but cannot be executed is remembered, so
 * the result is EACCES rather than ENOENT when nothing better is found.
 */
export function resolveCommand(command: Buffer, pathVar: Buffer | undefined): Buffer | number {
  if (command.length === 0) return ENOENT;
  if (command.includes(0x2f)) return command;
  const dirs = (pathVar ?? Buffer.from(DEFAULT_PATH)).toString('latin1').split(':');
  let denied = false;
  for (const dir of dirs) {
    const candidate = Buffer.concat([Buffer.from(dir === '' ? '.' : dir, 'latin1'), Buffer.from('/'), command]);
    let st: fs.Stats;
    try {
      st = fs.statSync(candidate);
    } catch {
      continue;
    }
    if (!st.isFile()) {
      denied = true;
      continue;
    }
    try {
      fs.accessSync(candidate, X_OK);
      return candidate;
    } catch {
      denied = true;
    }
  }
  return denied ? EACCES : ENOENT;
}

export interface SpawnRequest extends Omit<NativeSpawnOptions, 'path' | 'argv' | 'envp'> {
  command: Buffer[];
  env: Buffer[];
}

/** Spawns the command; returns its pid or throws a SpawnError shaped like child_process's. */
export function spawnCommand(req: SpawnRequest): number {
  const { command, env, ...rest } = req;
  const argv0 = command[0]!;
  const spawnargs = command.map((a) => a.toString());
  const fail = (errno: number, step: string): never => {
    const err = sysError(errno, `spawn ${argv0.toString()}`, { path: argv0.toString(), spawnargs, step }) as SpawnError;
    err.message = `spawn ${argv0.toString()} ${errnoCode(errno)} (${step}: ${errnoMessage(errno)})`;
    throw err;
  };
  const resolved = resolveCommand(argv0, envGet(env, 'PATH'));
  if (typeof resolved === 'number') fail(resolved, 'execvp');
  const res = native.spawn({ ...rest, path: resolved as Buffer, argv: command, envp: env });
  if ('pid' in res) return res.pid;
  return fail(res.errno, SPAWN_STEPS[res.step] ?? `step ${res.step}`);
}
