// Options → resolved executable path, environment and ids → the addon's spawn.
// Everything the child needs is computed here, before the clone: the child side in
// native/spawn.c may not allocate.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { native, constants, type NativeSpawnOptions } from '../native';
import { errnoCode, errnoMessage, sysError, type SysError } from './errno';
import { envGet } from './proc';

/** The native spawn's step numbers, named (one table: SPAWN_STEPS in native/spawn.h). */
export const SPAWN_STEPS: Readonly<Record<number, string>> = constants.spawnSteps;

export const SESSION = { none: 0, setsid: 1, setpgid: 2 } as const;
export const TTY = { none: 0, acquire: 1, foreground: 2 } as const;

/** glibc's execvp searches this when PATH is unset; so do Docker's images. */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const X_OK = fs.constants.X_OK;
const ENOENT = -os.constants.errno.ENOENT;
const EACCES = -os.constants.errno.EACCES;

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
 * cwd: the directory the child enters before its execve (--workdir), against
 * which a relative entry is checked, as execvp in the child would; the
 * candidate returned stays relative, for the child to resolve the same way.
 */
export function resolveCommand(command: Buffer, pathVar: Buffer | undefined, cwd?: Buffer): Buffer | number {
  if (command.length === 0) return ENOENT;
  if (command.includes(0x2f)) return command;
  const dirs = (pathVar ?? Buffer.from(DEFAULT_PATH)).toString('latin1').split(':');
  let denied = false;
  for (const dir of dirs) {
    const candidate = Buffer.concat([Buffer.from(dir === '' ? '.' : dir, 'latin1'), Buffer.from('/'), command]);
    const seen = cwd !== undefined && candidate[0] !== 0x2f ? Buffer.concat([cwd, Buffer.from('/'), candidate]) : candidate;
    let st: fs.Stats;
    try {
      st = fs.statSync(seen);
    } catch {
      continue;
    }
    if (!st.isFile()) {
      denied = true;
      continue;
    }
    try {
      fs.accessSync(seen, X_OK);
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
  const resolved = resolveCommand(argv0, envGet(env, 'PATH'), rest.cwd);
  if (typeof resolved === 'number') fail(resolved, 'execvp');
  const res = native.spawn({ ...rest, path: resolved as Buffer, argv: command, envp: env });
  if ('pid' in res) return res.pid;
  return fail(res.errno, SPAWN_STEPS[res.step] ?? `step ${res.step}`);
}
