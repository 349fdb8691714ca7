// Command-line options, usage text and TSINIT_* environment: pure, no I/O.
// Options end at the first word that is not an option, or at "--", like tini's
// getopt("+..."), so `tsinit ls -l` runs `ls -l`.
import { parseSignal, signalNames } from '../core/signals';

export type LogFormat = 'text' | 'json';

export interface Options {
  verbosity: number;
  /** Forward to the child only, not its process group (dumb-init -c). */
  singleChild: boolean;
  /** Become a child subreaper when not PID 1. */
  subreaper: boolean;
  /** The command and its arguments, byte for byte. */
  command: Buffer[];

  // Lifecycle (shutdown, rewriting, remapping, parent death, logging).
  /** How long descendants get between the stop signal and SIGKILL, in ms. */
  graceMs: number;
  /** What remaining descendants get first at shutdown. */
  stopSignal: number;
  /** Incoming signal → signal forwarded instead; 0 drops it (dumb-init -r). */
  rewrite: Map<number, number>;
  /** The command's exit status → tsinit's (tini -e). */
  remapExit: Map<number, number>;
  /** tsinit's own parent-death signal (tini -p), or 0. */
  pdeathsig: number;
  logFormat: LogFormat;

  // Privilege drop and socket hand-off: raw text here, checked by privdrop.ts.
  /** USER[:GROUP], names or numeric ids. */
  user: string | undefined;
  /** Explicit supplementary groups, comma-separated. */
  groups: string | undefined;
  /** --listen specs in the order given (they become fds 3, 4, ...). */
  listen: string[];
  /** Capabilities granted to the command as ambient capabilities. */
  caps: string[];
  workdir: string | undefined;
  umask: string | undefined;
  dryRun: boolean;
  /** PR_SET_NO_NEW_PRIVS before running the command (default on). */
  noNewPrivs: boolean;
  /** --config FILE (or TSINIT_CONFIG): supervise the services it describes (src/services/run.ts). */
  config: string | undefined;
}

export type Parsed =
  | { kind: 'run'; options: Options }
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'usage-error'; message: string };

export const USAGE = 'usage: tsinit [-h] [-V] [-v]... [-c] [-u USER[:GROUP]] [--listen SPEC]... [--grace DURATION] [OPTION]... [--] COMMAND [ARG...]';

export const HELP = `${USAGE}

Runs COMMAND as its one child, reaps every zombie, forwards signals to the
command's process group and exits with the command's status.

options:
  -h, --help            show this help and exit
  -V, --version         show the version and exit
  -v, --verbose         log more to stderr; repeat for more (or TSINIT_VERBOSITY=N)
  -c, --single-child    forward signals to the command only, not its process group
      --no-subreaper    when not PID 1, do not become a child subreaper
  -g                    accepted for tini: forwarding to the group is the default
  -s                    accepted for tini: tsinit is a subreaper by itself

lifecycle:
      --grace DURATION  time descendants get between the stop signal and SIGKILL
                        at shutdown (5s; 500ms, 2s, 1m; a bare number is seconds)
      --stop-signal SIG signal remaining descendants get first (SIGTERM)
  -r, --rewrite FROM:TO forward signal FROM as TO; TO 0 drops it (repeatable)
  -e, --remap-exit CODE[:NEW]
                        exit NEW (default 0) when the command's status is CODE
  -p, --pdeathsig SIG   signal tsinit gets when its parent dies
      --log-format FMT  text (default) or json, one event a line on stderr

privileges:
  -u, --user USER[:GROUP]
                        run as USER (name or id); drops tsinit's own ids too
      --groups G1,G2    supplementary groups (default: USER's from /etc/group)
      --listen SPEC     bind before the drop, pass as fd 3, 4, ... with LISTEN_FDS:
                        tcp://HOST:PORT, udp://HOST:PORT, unix:/PATH[,mode=0660]
                        [,owner=USER[:GROUP]]; add ,name=NAME for LISTEN_FDNAMES
      --cap CAP         keep CAP as an ambient capability for the command
      --workdir DIR     working directory, entered as the target user
      --umask MODE      umask for the command (octal)
      --allow-new-privs do not set no_new_privs
      --dry-run         print the resolved plan as JSON and exit

services:
      --config FILE     supervise the services of FILE (.toml or .json; or
                        TSINIT_CONFIG); a COMMAND given too runs as service main

exit status: the command's; 128+N if it was killed by signal N; 127 if it was
not found; 126 if it could not be executed; 125 if tsinit failed to start it;
2 for a usage error.`;

/** 5s, 500ms, 1.5s, 2m, or a bare number of seconds → ms; null if malformed. */
export function parseDuration(text: string): number | null {
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m)?$/.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const ms = unit === 'ms' ? n : unit === 's' ? n * 1000 : n * 60000;
  return Number.isFinite(ms) ? Math.round(ms) : null;
}

function signalOrError(text: string, what: string): number | Parsed {
  const n = parseSignal(text);
  if (n === null) return usageError(`${what}: unknown signal '${text}' (use a number or one of ${signalNames().join(', ')})`);
  return n;
}

function exitCodeOrError(text: string, what: string): number | Parsed {
  if (!/^[0-9]+$/.test(text) || Number(text) > 255) return usageError(`${what}: '${text}' is not an exit status (0-255)`);
  return Number(text);
}

interface Spec {
  long?: string;
  short?: string;
  /** Name of the value the option takes, if it takes one. */
  value?: string;
  apply(o: Options, value: string): Parsed | void;
}

/** An option whose value is one signal, by name or number, stored in field. */
function signalOption(long: string, short: string | undefined, field: 'stopSignal' | 'pdeathsig'): Spec {
  const spec: Spec = {
    long,
    value: 'SIG',
    apply: (o, v) => {
      const n = signalOrError(v, `--${long}`);
      if (typeof n !== 'number') return n;
      o[field] = n;
    },
  };
  if (short !== undefined) spec.short = short;
  return spec;
}

const SPECS: readonly Spec[] = [
  { long: 'help', short: 'h', apply: () => ({ kind: 'help' }) },
  { long: 'version', short: 'V', apply: () => ({ kind: 'version' }) },
  {
    long: 'verbose',
    short: 'v',
    apply: (o) => {
      o.verbosity++;
    },
  },
  {
    long: 'single-child',
    short: 'c',
    apply: (o) => {
      o.singleChild = true;
    },
  },
  {
    long: 'no-subreaper',
    apply: (o) => {
      o.subreaper = false;
    },
  },
  {
    long: 'grace',
    value: 'DURATION',
    apply: (o, v) => {
      const ms = parseDuration(v);
      if (ms === null) return usageError(`--grace: '${v}' is not a duration (5s, 500ms, 2m)`);
      o.graceMs = ms;
    },
  },
  signalOption('stop-signal', undefined, 'stopSignal'),
  {
    long: 'rewrite',
    short: 'r',
    value: 'FROM:TO',
    apply: (o, v) => {
      const [from, to, extra] = v.split(':');
      if (from === undefined || to === undefined || extra !== undefined) return usageError(`--rewrite: '${v}' is not FROM:TO`);
      const f = signalOrError(from, '--rewrite');
      if (typeof f !== 'number') return f;
      const t = to === '0' ? 0 : signalOrError(to, '--rewrite');
      if (typeof t !== 'number') return t;
      o.rewrite.set(f, t);
    },
  },
  {
    long: 'remap-exit',
    short: 'e',
    value: 'CODE[:NEW]',
    apply: (o, v) => {
      const [code, to = '0', extra] = v.split(':');
      if (code === undefined || extra !== undefined) return usageError(`--remap-exit: '${v}' is not CODE[:NEW]`);
      const c = exitCodeOrError(code, '--remap-exit');
      if (typeof c !== 'number') return c;
      const n = exitCodeOrError(to, '--remap-exit');
      if (typeof n !== 'number') return n;
      o.remapExit.set(c, n);
    },
  },
  signalOption('pdeathsig', 'p', 'pdeathsig'),
  {
    long: 'log-format',
    value: 'FORMAT',
    apply: (o, v) => {
      if (v !== 'text' && v !== 'json') return usageError(`--log-format: '${v}' is not text or json`);
      o.logFormat = v;
    },
  },
  { long: 'user', short: 'u', value: 'USER[:GROUP]', apply: (o, v) => void (o.user = v) },
  { long: 'groups', value: 'G1,G2', apply: (o, v) => void (o.groups = v) },
  { long: 'listen', value: 'SPEC', apply: (o, v) => void o.listen.push(v) },
  { long: 'cap', value: 'CAP', apply: (o, v) => void o.caps.push(...v.split(',').filter((c) => c !== '')) },
  { long: 'workdir', value: 'DIR', apply: (o, v) => void (o.workdir = v) },
  { long: 'umask', value: 'MODE', apply: (o, v) => void (o.umask = v) },
  { long: 'dry-run', apply: (o) => void (o.dryRun = true) },
  { long: 'config', value: 'FILE', apply: (o, v) => void (o.config = v) },
  { long: 'allow-new-privs', apply: (o) => void (o.noNewPrivs = false) },
  // tini's -g (signal the group) is our default; tini's -s (be a subreaper) is automatic.
  { short: 'g', apply: (o) => void (o.singleChild = false) },
  { short: 's', apply: (o) => void (o.subreaper = true) },
];

function usageError(message: string): Parsed {
  return { kind: 'usage-error', message };
}

/** Verbosity from TSINIT_VERBOSITY; an invalid value is a usage error. */
export function verbosityFromEnv(value: string | undefined): number | string {
  if (value === undefined || value === '') return 0;
  if (!/^[0-9]+$/.test(value)) return `TSINIT_VERBOSITY must be a whole number, not '${value}'`;
  return Number(value);
}

export function parseArgs(argv: readonly Buffer[], env: Readonly<Record<string, string | undefined>>): Parsed {
  const v = verbosityFromEnv(env['TSINIT_VERBOSITY']);
  if (typeof v === 'string') return usageError(v);
  const o: Options = {
    verbosity: v,
    singleChild: false,
    subreaper: true,
    command: [],
    graceMs: 5000,
    stopSignal: 15,
    rewrite: new Map(),
    remapExit: new Map(),
    pdeathsig: 0,
    logFormat: 'text',
    user: undefined,
    groups: undefined,
    listen: [],
    caps: [],
    workdir: undefined,
    umask: undefined,
    dryRun: false,
    noNewPrivs: true,
    config: env['TSINIT_CONFIG'] || undefined,
  };

  let i = 0;
  for (; i < argv.length; i++) {
    const word = argv[i]!.toString('latin1');
    if (word === '--') {
      i++;
      break;
    }
    if (!word.startsWith('-') || word === '-') break;
    if (word.startsWith('--')) {
      const name = word.slice(2);
      const eq = name.indexOf('=');
      const spec = SPECS.find((s) => s.long === (eq >= 0 ? name.slice(0, eq) : name));
      if (!spec) return usageError(`unknown option '${word}'`);
      let value = '';
      if (spec.value === undefined) {
        if (eq >= 0) return usageError(`option '--${spec.long}' takes no value`);
      } else if (eq >= 0) {
        value = name.slice(eq + 1);
      } else {
        const next = argv[++i];
        if (next === undefined) return usageError(`option '--${spec.long}' needs a value (${spec.value})`);
        value = next.toString('latin1');
      }
      const r = spec.apply(o, value);
      if (r) return r;
      continue;
    }
    // A cluster of short flags: -vvv, -gs; a value-taking flag ends it (-p SIGKILL, -pSIGKILL).
    const cluster = word.slice(1);
    for (let c = 0; c < cluster.length; c++) {
      const ch = cluster[c]!;
      const spec = SPECS.find((s) => s.short === ch);
      if (!spec) return usageError(`unknown option '-${ch}'`);
      let value = '';
      if (spec.value !== undefined) {
        if (c + 1 < cluster.length) value = cluster.slice(c + 1);
        else {
          const next = argv[++i];
          if (next === undefined) return usageError(`option '-${ch}' needs a value (${spec.value})`);
          value = next.toString('latin1');
        }
        c = cluster.length;
      }
      const r = spec.apply(o, value);
      if (r) return r;
    }
  }
  o.command = argv.slice(i);
  if (o.command.length === 0 && o.config === undefined) return usageError('no command given');
  return { kind: 'run', options: o };
}
