// Command-line options, usage text and TSINIT_* environment: pure, no I/O.
// Options end at the first word that is not an option, or at "--", like tini's
// getopt("+..."), so `tsinit ls -l` runs `ls -l`.

export interface Options {
  verbosity: number;
  /** Forward to the child only, not its process group (dumb-init -c). */
  singleChild: boolean;
  /** Become a child subreaper when not PID 1. */
  subreaper: boolean;
  /** The command and its arguments, byte for byte. */
  command: Buffer[];
}

export type Parsed =
  | { kind: 'run'; options: Options }
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'usage-error'; message: string };

export const USAGE = 'usage: tsinit [-h] [-V] [-v]... [-c|--single-child] [--no-subreaper] [--] COMMAND [ARG...]';

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

exit status: the command's; 128+N if it was killed by signal N; 127 if it was
not found; 126 if it could not be executed; 125 if tsinit failed to start it;
2 for a usage error.`;

interface Spec {
  long?: string;
  short?: string;
  /** Name of the value the option takes, if it takes one. */
  value?: string;
  apply(o: Options, value: string): Parsed | void;
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
  const o: Options = { verbosity: v, singleChild: false, subreaper: true, command: [] };

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
  if (o.command.length === 0) return usageError('no command given');
  return { kind: 'run', options: o };
}
