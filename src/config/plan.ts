// Settings → one fully resolved plan: users and groups to ids, capability
// names to numbers, listen specs parsed, env_file read, the dependency graph
// checked (unknown names, cycles) and ordered. Reads /etc/passwd, /etc/group
// and env files; binds nothing and starts nothing.
import * as fs from 'node:fs';
import * as net from 'node:net';
import { readUserDb, resolveIdentity, type Identity, type UserDb } from '../privileges/users';
import { lastCap, resolveCaps } from '../privileges/caps';
import { MAX_LISTEN, SD_LISTEN_FDS_START, parseListen, type ListenSpec } from '../privileges/listen';
import { keyError, loadSource, ConfigError, type Source } from './load';
import { ConfigFileError } from './dotenv';
import { checkSettings, DEFAULTS, type LogMode, type Readiness, type Restart, type ServiceSettings, type GlobalSettings } from './schema';
import { parseSignal } from '../core/signals';
import { OptionError, UserError } from '../core/errno';

export interface ServicePlan {
  name: string;
  argv: Buffer[];
  /** tsinit's environment (without LISTEN_* and NOTIFY_SOCKET), then HOME/USER/LOGNAME, env_file, env. */
  env: Buffer[];
  /** What the plan set on top of tsinit's environment, for the dry run. */
  envSet: [string, string][];
  identity: Identity | null;
  caps: number[];
  noNewPrivs: boolean;
  umask: number | null;
  cwd: string | null;
  listen: ListenSpec[];
  ready: Readiness;
  restart: Restart;
  stop: { signal: number; timeoutMs: number | null };
  signals: number[];
  essential: boolean;
  after: string[];
  log: LogMode;
  /** The `-- CMD` service keeps tsinit's stdin; the others read /dev/null. */
  stdin: 'inherit' | 'null';
}

export interface Plan {
  file: string;
  global: GlobalSettings;
  services: ServicePlan[];
  /** Levels: every service of a level depends only on services of earlier levels. */
  startOrder: string[][];
  stopOrder: string[][];
}

/** Variables tsinit sets per service, never passed through from its own environment. */
const OWN = ['LISTEN_PID', 'LISTEN_FDS', 'LISTEN_FDNAMES', 'NOTIFY_SOCKET'];

function stripOwn(env: readonly Buffer[]): Buffer[] {
  return env.filter((e) => !OWN.some((v) => e.length > v.length && e[v.length] === 0x3d && e.subarray(0, v.length).toString('latin1') === v));
}

function setVar(env: Buffer[], name: string, value: string): void {
  const prefix = `${name}=`;
  const i = env.findIndex((e) => e.length >= prefix.length && e.subarray(0, prefix.length).toString('latin1') === prefix);
  const entry = Buffer.from(`${prefix}${value}`);
  if (i >= 0) env[i] = entry;
  else env.push(entry);
}

/** KEY=VALUE lines as Foreman and Docker read them: # comments, `export `, '…' literal, "…" with \n.
 * Throws a ConfigFileError ("FILE:LINE: what") for a line that is not one. */
export function parseEnvFile(text: string, file: string): [string, string][] {
  const out: [string, string][] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new ConfigFileError(file, i + 1, `'${line.slice(0, 40)}' is not KEY=VALUE`);
    let v = m[2]!;
    if (v.length >= 2 && v.startsWith("'") && v.endsWith("'")) v = v.slice(1, -1);
    else if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1).replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
    else v = v.replace(/\s+#.*$/, '');
    out.push([m[1]!, v]);
  }
  return out;
}

/** HOST:PORT for a tcp probe: a name or an address (the probe resolves it), a port 1-65535. */
function isHostPort(text: string): boolean {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(text);
  return m !== null && Number(m[3]) <= 65535 && Number(m[3]) !== 0;
}

export interface HttpTarget {
  host: string;
  port: number;
  /** Path and query, as sent in the request line. */
  path: string;
}

/**
 * ready = { http = URL }: http://, a literal IP address or localhost (taken as
 * 127.0.0.1), so no resolver is ever asked (a readiness probe must not hang on
 * DNS); no user or password. The target; what is wrong goes to fail (by
 * default thrown as a UserError, core/errno.ts's convention).
 */
export function httpTarget(text: string, fail: (what: string) => never = (what) => {
  throw new UserError(what);
}): HttpTarget {
  let u: URL | null = null;
  try {
    // WHATWG parsing forgives much (http:/x, a missing scheme read as one): the scheme and // must be there.
    if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text)) u = new URL(text);
  } catch {
    // Reported below.
  }
  if (u === null) return fail(`'${text}' is not a URL (http://127.0.0.1:8080/healthz, http://[::1]/ready)`);
  if (u.protocol !== 'http:') return fail(`only http:// URLs (plain HTTP to a local address), not ${u.protocol}//`);
  if (u.username !== '' || u.password !== '') return fail('no user or password in the URL');
  const bare = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  if (bare !== 'localhost' && net.isIP(bare) === 0) return fail(`'${u.hostname}' is not an IP address or localhost (no name is resolved: DNS must not delay readiness)`);
  return { host: bare === 'localhost' ? '127.0.0.1' : bare, port: u.port === '' ? 80 : Number(u.port), path: `${u.pathname}${u.search}` };
}

/** Dependency order: unknown names and cycles are errors at the `after` that names them. */
export function order(src: Source, services: readonly ServiceSettings[]): string[][] {
  const byName = new Map(services.map((s) => [s.name, s]));
  for (const s of services) {
    s.after.forEach((d, i) => {
      if (d === s.name) throw keyError(src, ['service', s.name, 'after', i], 'a service cannot depend on itself');
      if (!byName.has(d)) throw keyError(src, ['service', s.name, 'after', i], `no service '${d}' (services: ${[...byName.keys()].join(', ')})`);
    });
  }
  const level = new Map<string, number>();
  const visiting: string[] = [];
  const visit = (name: string): number => {
    const known = level.get(name);
    if (known !== undefined) return known;
    const at = visiting.indexOf(name);
    if (at >= 0) {
      const cycle = [...visiting.slice(at), name];
      throw keyError(src, ['service', cycle[0]!, 'after'], `dependency cycle: ${cycle.join(' -> ')}`);
    }
    visiting.push(name);
    let l = 0;
    for (const d of byName.get(name)!.after) l = Math.max(l, visit(d) + 1);
    visiting.pop();
    level.set(name, l);
    return l;
  };
  const levels: string[][] = [];
  for (const s of services) (levels[visit(s.name)] ??= []).push(s.name);
  // A level can be empty only if a service sat there: fill holes anyway.
  return levels.filter((l) => l !== undefined);
}

/** The privilege resolvers' OptionError (--user, --cap, --listen SPEC),
 * worded for the key it came from: `service.web.user: no user 'x' ...`. */
function asKeyError<T>(src: Source, resolve: () => T, key: (e: OptionError) => (string | number)[], what: (e: OptionError) => string): T {
  try {
    return resolve();
  } catch (err) {
    if (!(err instanceof OptionError)) throw err;
    throw keyError(src, key(err), what(err));
  }
}

export function resolveService(src: Source, s: ServiceSettings, g: GlobalSettings, baseEnv: readonly Buffer[], db: () => UserDb): ServicePlan {
  const at = (...k: (string | number)[]): (string | number)[] => ['service', s.name, ...k];
  const fail = (k: (string | number)[], what: string): never => {
    throw keyError(src, k, what);
  };
  let identity: Identity | null = null;
  if (s.user !== null) {
    const user = s.user;
    identity = asKeyError(
      src,
      () => resolveIdentity(db(), user, s.groups === null ? undefined : s.groups.join(',')),
      (e) => at(e.option === '--groups' ? 'groups' : 'user'),
      (e) => e.reason.replace(/\(--user (\d+):GID\)/, `(user = "$1:GID")`),
    );
  } else if (s.groups !== null) fail(at('groups'), 'groups needs user');
  const euid = process.geteuid?.() ?? 0;
  if (identity && euid !== 0 && (identity.uid !== euid || identity.gid !== process.getegid?.())) {
    fail(at('user'), `tsinit runs as uid ${euid}, not root, and cannot start a service as uid ${identity.uid} gid ${identity.gid}`);
  }

  let caps: number[] = [];
  if (s.caps.length > 0) {
    if (!identity) fail(at('caps'), 'caps needs user (a service without one runs as tsinit, with what tsinit has)');
    caps = asKeyError(src, () => resolveCaps(s.caps, lastCap()), () => at('caps'), (e) => e.reason);
    if (identity!.uid === 0) fail(at('caps'), 'the service runs as root and keeps every capability anyway');
  }

  const listen: ListenSpec[] = s.listen.map((text, i) => asKeyError(src, () => parseListen(text, db), () => at('listen', i), (e) => `${text}: ${e.reason}`));
  if (listen.length > MAX_LISTEN) fail(at('listen'), `at most ${MAX_LISTEN} sockets`);
  if (s.ready.kind === 'fd' && s.ready.fd < SD_LISTEN_FDS_START + listen.length) {
    fail(at('ready', 'fd'), `fd ${s.ready.fd} is taken by a listen socket (fds 3-${2 + listen.length}); use ${3 + listen.length} or above`);
  }
  if (s.ready.kind === 'tcp' && !isHostPort(s.ready.address)) {
    fail(at('ready', 'tcp'), `'${s.ready.address}' is not HOST:PORT (127.0.0.1:6379, [::1]:80, localhost:8080)`);
  }
  if (s.ready.kind === 'http') httpTarget(s.ready.url, (what) => fail(at('ready', 'http'), what));
  if (s.workdir !== null && !s.workdir.startsWith('/')) fail(at('workdir'), 'must be an absolute path');

  const env = stripOwn(baseEnv);
  const envSet: [string, string][] = [];
  const set = (k: string, v: string): void => {
    setVar(env, k, v);
    const i = envSet.findIndex(([n]) => n === k);
    if (i >= 0) envSet.splice(i, 1);
    envSet.push([k, v]);
  };
  if (identity) {
    set('HOME', identity.home);
    if (identity.name !== null) {
      set('USER', identity.name);
      set('LOGNAME', identity.name);
    }
  }
  if (s.envFile !== null) {
    let text: string;
    try {
      text = fs.readFileSync(s.envFile, 'utf8');
    } catch (err) {
      return fail(at('env_file'), `cannot read ${s.envFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    let vars: [string, string][];
    try {
      vars = parseEnvFile(text, s.envFile);
    } catch (err) {
      if (!(err instanceof ConfigFileError)) throw err;
      return fail(at('env_file'), err.message);
    }
    for (const [k, v] of vars) set(k, v);
  }
  for (const [k, v] of s.env) set(k, v);

  return {
    name: s.name,
    argv: s.argv.map((a) => Buffer.from(a)),
    env,
    envSet,
    identity,
    caps,
    noNewPrivs: s.noNewPrivs ?? identity !== null,
    umask: s.umask,
    cwd: s.workdir,
    listen,
    ready: s.ready,
    restart: s.restart,
    stop: s.stop,
    signals: s.signals,
    essential: s.essential,
    after: s.after,
    log: s.log ?? g.log,
    stdin: 'null',
  };
}

/** A service with every default but its command, workdir and env: `-- CMD`'s main, and each Procfile entry. */
export function settingsFor(name: string, argv: string[], workdir: string | null, env: [string, string][]): ServiceSettings {
  return {
    name,
    argv,
    user: null,
    groups: null,
    workdir,
    umask: null,
    env,
    envFile: null,
    listen: [],
    caps: [],
    noNewPrivs: null,
    after: [],
    essential: true,
    ready: { kind: 'none' },
    restart: { ...DEFAULTS.restart, success: [0], policy: 'no', backoffMs: 1000, backoffMaxMs: 30000, resetAfterMs: 60000, limitIntervalMs: 60000 },
    stop: { signal: parseSignal(DEFAULTS.stopSignal)!, timeoutMs: null },
    signals: DEFAULTS.signals.map((x) => parseSignal(x)!),
    log: null,
  };
}

export interface PlanInput {
  file: string;
  /** `tsinit --config FILE -- CMD`: CMD, run as the essential service `main`. */
  command: Buffer[];
  env: readonly Buffer[];
  db?: UserDb;
}

/** Loads, checks and resolves; throws ConfigError for the first mistake. */
export function makePlan(input: PlanInput): Plan {
  const src = loadSource(input.file);
  const settings = checkSettings(src);
  if (input.command.length > 0) {
    if (settings.services.some((s) => s.name === 'main')) {
      throw keyError(src, ['service', 'main'], "the name 'main' is taken by the command after --");
    }
    settings.services.push(settingsFor('main', [], null, []));
  }
  if (settings.services.length === 0) throw new ConfigError(input.file, null, 'service', 'no services: add a [service.NAME] table with a command, or give one after --');
  let db: UserDb | null = input.db ?? null;
  const userDb = (): UserDb => (db ??= readUserDb());
  const startOrder = order(src, settings.services);
  const services = settings.services.map((s) => resolveService(src, s, settings.global, input.env, userDb));
  const main = services.find((s) => s.name === 'main');
  if (main && input.command.length > 0) {
    main.argv = input.command;
    main.stdin = 'inherit';
  }
  return { file: input.file, global: settings.global, services, startOrder, stopOrder: [...startOrder].reverse() };
}

