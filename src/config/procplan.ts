// tsinit --procfile FILE: a Procfile (procfile.ts) made into the same Plan
// as a --config file, through plan.ts's own resolution, with Foreman's
// semantics. Reads the Procfile, its .env and (only if asked) the user
// database; binds nothing and starts nothing.
import { readUserDb, type UserDb } from '../privileges/users';
import type { Source } from './load';
import type { GlobalSettings } from './schema';
import { order, resolveService, settingsFor, type Plan, type PlanInput } from './plan';
import { ConfigFileError, loadProcfile } from './procfile';

/**
 * `tsinit --procfile FILE`: the same Plan, with Foreman's semantics (see
 * procfile.ts): each entry `/bin/sh -c COMMAND` in the Procfile's directory,
 * the .env then PORT and PS over tsinit's environment, essential and never
 * restarted (one exit stops all), no readiness, TERM with no timeout, output
 * prefixed with its name, all started and stopped in parallel. `-- CMD` is
 * also the essential service `main`, as with --config. Throws ConfigFileError.
 */
export function makeProcfilePlan(input: PlanInput): Plan {
  const pf = loadProcfile(input.file, envRecord(input.env));
  const dotenv = Object.entries(pf.env);
  const settings = pf.services.map((e) => settingsFor(e.name, e.argv, pf.workdir, [...dotenv, ...Object.entries(e.env)]));
  if (input.command.length > 0) {
    const taken = pf.services.find((e) => e.name === 'main');
    if (taken) throw new ConfigFileError(input.file, taken.line, "main: the name 'main' is taken by the command after --");
    settings.push(settingsFor('main', [], null, []));
  }
  const global: GlobalSettings = { stopTimeoutMs: null, log: 'prefix', readyFile: null, runtimeDir: null };
  // Nothing here can fail by key (no users, caps, sockets or dependencies): the Source only names the file.
  const src: Source = { file: input.file, format: 'toml', data: {}, index: new Map() };
  const startOrder = order(src, settings);
  const db = (): UserDb => input.db ?? readUserDb();
  const services = settings.map((s) => resolveService(src, s, global, input.env, db));
  const main = services.find((s) => s.name === 'main');
  if (main && input.command.length > 0) {
    main.argv = input.command;
    main.stdin = 'inherit';
  }
  return { file: pf.file, global, services, startOrder, stopOrder: [...startOrder].reverse() };
}

/** tsinit's raw environment as names to values (procfile.ts reads its PORT). */
function envRecord(env: readonly Buffer[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env) {
    const i = e.indexOf(0x3d);
    if (i > 0) out[e.subarray(0, i).toString('latin1')] = e.subarray(i + 1).toString();
  }
  return out;
}
