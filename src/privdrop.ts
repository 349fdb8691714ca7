// Privilege drop and socket hand-off (issue 3): resolves --user/--groups,
// binds --listen sockets, drops tsinit's own credentials for good, and says
// what the spawn must pass on. Placeholder until that work lands: with none
// of its options given it passes everything through unchanged.
import type { Options } from './args';
import type { Logger } from './log';
import type { NativeSpawnOptions } from './native';

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
    }
  | { kind: 'exit'; status: number; message: string | null };

export function preparePrivileges(o: Options, ctx: PrivilegeContext): Prepared {
  const asked = o.user !== undefined || o.groups !== undefined || o.listen.length > 0 || o.caps.length > 0 || o.workdir !== undefined || o.umask !== undefined || o.dryRun;
  if (asked) return { kind: 'exit', status: 2, message: 'privilege options are not supported yet' };
  return { kind: 'ready', env: ctx.env, keep: ctx.inherited, spawn: {} };
}
