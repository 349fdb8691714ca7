// The configuration's schema: every key, its type and its default, checked
// into typed settings. The first mistake throws a ConfigError naming the key
// and its line. Names (users, services, sockets) are resolved in plan.ts.
import { parseSignal } from '../core/signals';
import { isTable, keyError, type Source } from './load';

export type LogMode = 'raw' | 'prefix' | 'json';
export const LOG_MODES: readonly LogMode[] = ['raw', 'prefix', 'json'];
export type Policy = 'no' | 'on-failure' | 'always';
export const POLICIES: readonly Policy[] = ['no', 'on-failure', 'always'];

export type Readiness =
  | { kind: 'none' }
  | { kind: 'notify'; timeoutMs: number | null }
  | { kind: 'fd'; fd: number; timeoutMs: number | null }
  | { kind: 'tcp'; address: string; timeoutMs: number | null; intervalMs: number }
  | { kind: 'http'; url: string; timeoutMs: number | null; intervalMs: number }
  | { kind: 'exec'; argv: string[]; timeoutMs: number | null; intervalMs: number };

export interface Restart {
  policy: Policy;
  /** Exit codes that count as success (on-failure does not restart them). */
  success: number[];
  backoffMs: number;
  backoffMaxMs: number;
  resetAfterMs: number;
  /** Starts allowed within limitIntervalMs before the service is failed; 0: no limit. */
  limit: number;
  limitIntervalMs: number;
}

export interface ServiceSettings {
  name: string;
  argv: string[];
  user: string | null;
  groups: string[] | null;
  workdir: string | null;
  umask: number | null;
  env: [string, string][];
  envFile: string | null;
  listen: string[];
  caps: string[];
  noNewPrivs: boolean | null;
  after: string[];
  essential: boolean;
  ready: Readiness;
  restart: Restart;
  stop: { signal: number; timeoutMs: number | null };
  signals: number[];
  log: LogMode | null;
}

export interface GlobalSettings {
  stopTimeoutMs: number | null;
  log: LogMode;
  readyFile: string | null;
  runtimeDir: string | null;
}

export interface Settings {
  global: GlobalSettings;
  services: ServiceSettings[];
}

/** Every default, in one place (the README's reference lists the same). */
export const DEFAULTS = {
  restart: { policy: 'no', success: [0], backoff: '1s', backoff_max: '30s', reset_after: '60s', limit: 5, limit_interval: '60s' },
  stopSignal: 'TERM',
  signals: ['HUP', 'USR1', 'USR2'],
  tcpInterval: '100ms',
  httpInterval: '500ms',
  execInterval: '1s',
} as const;

export const SERVICE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

type Path = (string | number)[];

/** 25s, 500ms, 1.5s, 2m, 1h; a bare number (JSON, TOML) is seconds. */
export function parseDurationMs(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? Math.round(v * 1000) : null;
  if (typeof v !== 'string') return null;
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)$/.exec(v.trim());
  if (!m) return null;
  const n = Number(m[1]);
  return Math.round(n * { ms: 1, s: 1000, m: 60000, h: 3600000 }[m[2] as 'ms' | 's' | 'm' | 'h']);
}

function typeName(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (isTable(v)) return 'a table';
  if (v instanceof Date) return 'a date';
  return `a ${typeof v}`;
}

/** One checker per source: each getter reads a key and throws at its line when it is wrong. */
class Check {
  readonly src: Source;
  constructor(src: Source) {
    this.src = src;
  }
  fail(path: Path, what: string): never {
    throw keyError(this.src, path, what);
  }
  known(table: Record<string, unknown>, path: Path, keys: readonly string[]): void {
    for (const k of Object.keys(table)) if (!keys.includes(k)) this.fail([...path, k], `unknown key (known here: ${keys.join(', ')})`);
  }
  table(v: unknown, path: Path): Record<string, unknown> {
    if (!isTable(v)) this.fail(path, `expected a table, not ${typeName(v)}`);
    return v;
  }
  string(v: unknown, path: Path): string {
    if (typeof v !== 'string') this.fail(path, `expected a string, not ${typeName(v)}`);
    return v;
  }
  nonEmpty(v: unknown, path: Path): string {
    const s = this.string(v, path);
    if (s === '') this.fail(path, 'must not be empty');
    if (s.includes('\0')) this.fail(path, 'must not contain NUL');
    return s;
  }
  bool(v: unknown, path: Path): boolean {
    if (typeof v !== 'boolean') this.fail(path, `expected true or false, not ${typeName(v)}`);
    return v;
  }
  int(v: unknown, path: Path, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(path, `expected a whole number ${min}-${max}, not ${JSON.stringify(v) ?? typeName(v)}`);
    return v;
  }
  strings(v: unknown, path: Path, nonEmptyList = false): string[] {
    if (!Array.isArray(v)) this.fail(path, `expected an array of strings, not ${typeName(v)}`);
    if (nonEmptyList && v.length === 0) this.fail(path, 'must not be empty');
    return v.map((e, i) => this.nonEmpty(e, [...path, i]));
  }
  duration(v: unknown, path: Path): number {
    const ms = parseDurationMs(v);
    if (ms === null) this.fail(path, `${JSON.stringify(v) ?? typeName(v)} is not a duration (500ms, 5s, 2m, 1h; or a number of seconds)`);
    return ms;
  }
  oneOf<T extends string>(v: unknown, path: Path, options: readonly T[]): T {
    const s = this.string(v, path);
    if (!options.includes(s as T)) this.fail(path, `'${s}' is not one of ${options.join(', ')}`);
    return s as T;
  }
  signal(v: unknown, path: Path): number {
    const text = typeof v === 'number' ? String(v) : this.string(v, path);
    const n = parseSignal(text);
    if (n === null) this.fail(path, `unknown signal '${text}' (TERM, SIGTERM, 15, RTMIN+1)`);
    return n;
  }
  /** A command: an argv array, or a string for /bin/sh -c. */
  command(v: unknown, path: Path): string[] {
    if (typeof v === 'string') return ['/bin/sh', '-c', this.nonEmpty(v, path)];
    if (!Array.isArray(v)) this.fail(path, `expected an array of strings (argv) or a string (run by /bin/sh -c), not ${typeName(v)}`);
    return this.strings(v, path, true);
  }
}

const GLOBAL_KEYS = ['stop_timeout', 'log', 'ready_file', 'runtime_dir'] as const;
const SERVICE_KEYS = [
  'command', 'user', 'groups', 'workdir', 'umask', 'env', 'env_file', 'listen', 'caps', 'no_new_privs',
  'after', 'essential', 'ready', 'restart', 'stop', 'signals', 'log',
] as const;
const READY_KINDS = ['notify', 'fd', 'tcp', 'http', 'exec'] as const;
const RESTART_KEYS = ['policy', 'success', 'backoff', 'backoff_max', 'reset_after', 'limit', 'limit_interval'] as const;

function readiness(c: Check, v: unknown, path: Path): Readiness {
  const t = c.table(v, path);
  c.known(t, path, [...READY_KINDS, 'timeout', 'interval']);
  const kinds = READY_KINDS.filter((k) => k in t);
  if (kinds.length !== 1) c.fail(path, `needs exactly one of ${READY_KINDS.join(', ')}${kinds.length > 1 ? ` (got ${kinds.join(' and ')})` : ''}`);
  const kind = kinds[0]!;
  const timeoutMs = t['timeout'] === undefined ? null : c.duration(t['timeout'], [...path, 'timeout']);
  const interval = (dflt: string): number => c.duration(t['interval'] ?? dflt, [...path, 'interval']);
  if (kind !== 'tcp' && kind !== 'http' && kind !== 'exec' && t['interval'] !== undefined) c.fail([...path, 'interval'], `applies to tcp, http and exec only, not ${kind}`);
  switch (kind) {
    case 'notify':
      if (c.bool(t['notify'], [...path, 'notify']) !== true) c.fail([...path, 'notify'], 'only notify = true means anything; leave ready out for none');
      return { kind, timeoutMs };
    case 'fd':
      return { kind, fd: c.int(t['fd'], [...path, 'fd'], 3, 1023), timeoutMs };
    case 'tcp':
      return { kind, address: c.nonEmpty(t['tcp'], [...path, 'tcp']), timeoutMs, intervalMs: interval(DEFAULTS.tcpInterval) };
    case 'http':
      return { kind, url: c.nonEmpty(t['http'], [...path, 'http']), timeoutMs, intervalMs: interval(DEFAULTS.httpInterval) };
    case 'exec':
      return { kind, argv: c.command(t['exec'], [...path, 'exec']), timeoutMs, intervalMs: interval(DEFAULTS.execInterval) };
  }
}

function restart(c: Check, v: unknown, path: Path): Restart {
  const t = v === undefined ? {} : c.table(v, path);
  c.known(t, path, RESTART_KEYS);
  const d = DEFAULTS.restart;
  const success = t['success'] === undefined ? [...d.success] : (() => {
    if (!Array.isArray(t['success'])) c.fail([...path, 'success'], `expected an array of exit codes, not ${typeName(t['success'])}`);
    return (t['success'] as unknown[]).map((e, i) => c.int(e, [...path, 'success', i], 0, 255));
  })();
  const r: Restart = {
    policy: c.oneOf(t['policy'] ?? d.policy, [...path, 'policy'], POLICIES),
    success,
    backoffMs: c.duration(t['backoff'] ?? d.backoff, [...path, 'backoff']),
    backoffMaxMs: c.duration(t['backoff_max'] ?? d.backoff_max, [...path, 'backoff_max']),
    resetAfterMs: c.duration(t['reset_after'] ?? d.reset_after, [...path, 'reset_after']),
    limit: c.int(t['limit'] ?? d.limit, [...path, 'limit'], 0, 1_000_000),
    limitIntervalMs: c.duration(t['limit_interval'] ?? d.limit_interval, [...path, 'limit_interval']),
  };
  if (r.backoffMaxMs < r.backoffMs) c.fail([...path, 'backoff_max'], `${r.backoffMaxMs} ms is less than backoff (${r.backoffMs} ms)`);
  return r;
}

function service(c: Check, name: string, v: unknown): ServiceSettings {
  const path: Path = ['service', name];
  if (!SERVICE_NAME.test(name)) c.fail(path, 'a service name is 1-64 letters, digits, _ or -');
  const t = c.table(v, path);
  c.known(t, path, SERVICE_KEYS);
  const at = (k: string): Path => [...path, k];
  if (t['command'] === undefined) c.fail(path, 'command is missing');
  const opt = <T>(k: string, f: (v: unknown, p: Path) => T): T | null => (t[k] === undefined ? null : f(t[k], at(k)));
  const umask = opt('umask', (v, p) => {
    const s = c.string(v, p);
    if (!/^[0-7]{1,4}$/.test(s) || parseInt(s, 8) > 0o777) c.fail(p, `'${s}' is not an octal mode such as "027"`);
    return parseInt(s, 8);
  });
  const env = opt('env', (v, p) => {
    const e = c.table(v, p);
    return Object.entries(e).map(([k, val]): [string, string] => {
      if (!/^[^=\0]+$/.test(k)) c.fail([...p, k], 'not a valid variable name');
      return [k, c.string(val, [...p, k])];
    });
  });
  const stopT = t['stop'] === undefined ? {} : c.table(t['stop'], at('stop'));
  c.known(stopT, at('stop'), ['signal', 'timeout']);
  const log = opt('log', (v, p) => c.oneOf(v, p, LOG_MODES));
  return {
    name,
    argv: c.command(t['command'], at('command')),
    user: opt('user', (v, p) => c.nonEmpty(v, p)),
    groups: opt('groups', (v, p) => c.strings(v, p)),
    workdir: opt('workdir', (v, p) => c.nonEmpty(v, p)),
    umask,
    env: env ?? [],
    envFile: opt('env_file', (v, p) => c.nonEmpty(v, p)),
    listen: opt('listen', (v, p) => c.strings(v, p)) ?? [],
    caps: opt('caps', (v, p) => c.strings(v, p)) ?? [],
    noNewPrivs: opt('no_new_privs', (v, p) => c.bool(v, p)),
    after: opt('after', (v, p) => c.strings(v, p)) ?? [],
    essential: opt('essential', (v, p) => c.bool(v, p)) ?? false,
    ready: t['ready'] === undefined ? { kind: 'none' } : readiness(c, t['ready'], at('ready')),
    restart: restart(c, t['restart'], at('restart')),
    stop: {
      signal: c.signal(stopT['signal'] ?? DEFAULTS.stopSignal, [...at('stop'), 'signal']),
      timeoutMs: stopT['timeout'] === undefined ? null : c.duration(stopT['timeout'], [...at('stop'), 'timeout']),
    },
    signals: (opt('signals', (v, p) => {
      if (!Array.isArray(v)) c.fail(p, `expected an array of signal names, not ${typeName(v)}`);
      return v.map((s, i) => c.signal(s, [...p, i]));
    }) ?? DEFAULTS.signals.map((s) => parseSignal(s)!)),
    log,
  };
}

/** Checks every key of the source. Service order is the file's. */
export function checkSettings(src: Source): Settings {
  const c = new Check(src);
  c.known(src.data, [], ['tsinit', 'service']);
  const g = src.data['tsinit'] === undefined ? {} : c.table(src.data['tsinit'], ['tsinit']);
  c.known(g, ['tsinit'], GLOBAL_KEYS);
  const global: GlobalSettings = {
    stopTimeoutMs: g['stop_timeout'] === undefined ? null : c.duration(g['stop_timeout'], ['tsinit', 'stop_timeout']),
    log: c.oneOf(g['log'] ?? 'raw', ['tsinit', 'log'], LOG_MODES),
    readyFile: g['ready_file'] === undefined ? null : c.nonEmpty(g['ready_file'], ['tsinit', 'ready_file']),
    runtimeDir: g['runtime_dir'] === undefined ? null : c.nonEmpty(g['runtime_dir'], ['tsinit', 'runtime_dir']),
  };
  for (const k of ['ready_file', 'runtime_dir'] as const) {
    const p = g[k];
    if (typeof p === 'string' && !p.startsWith('/')) c.fail(['tsinit', k], 'must be an absolute path');
  }
  const table = src.data['service'] === undefined ? {} : c.table(src.data['service'], ['service']);
  return { global, services: Object.entries(table).map(([name, v]) => service(c, name, v)) };
}
