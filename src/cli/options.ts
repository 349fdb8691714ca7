// The one description of every option: names, environment variable, parser,
// default, help text, group, and who consumes it. args.ts parses with it,
// help.ts writes --help and the README's tables from it, main.ts asks it
// whether the privilege code is needed and what the supervisor gets. Adding
// an option is one entry here plus its consumer.
import * as os from 'node:os';
import { bool, logFormat, remapExit, rewrite, signal, text, timeout, verbosityFromEnv, type LogFormat } from './values';

export { BOOLEANS, MAX_TIMER_MS, parseDuration, uncatchable, verbosityFromEnv, type LogFormat } from './values';

const S = os.constants.signals;

export interface Options {
  verbosity: number;
  /** Forward to the child only, not its process group (dumb-init -c). */
  singleChild: boolean;
  /** Become a child subreaper when not PID 1. */
  subreaper: boolean;
  /** The command and its arguments, byte for byte. */
  command: Buffer[];

  // Lifecycle (shutdown, rewriting, remapping, parent death, logging).
  /** How long descendants get between the stop signal and SIGKILL, in ms;
   * 0: SIGKILL at once; null: no timer. */
  graceMs: number | null;
  /** After a stop signal, SIGKILL to the command's group once this many ms
   * have passed; null (the default): never, the orchestrator decides. */
  killAfterMs: number | null;
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

  // Several services.
  /** --config FILE (or TSINIT_CONFIG): supervise the services it describes (src/services/run.ts). */
  config: string | undefined;
  /** --procfile FILE (or TSINIT_PROCFILE): supervise the processes of a Foreman Procfile (src/config/procfile.ts). */
  procfile: string | undefined;
}

type Field = Exclude<keyof Options, 'command'>;

/** Sections of --help and of the README, in order. */
export const GROUPS = ['general', 'lifecycle', 'privileges', 'services'] as const;
export type Group = (typeof GROUPS)[number];

/** What an entry tells the parser, the help and the consumers. */
export interface OptionEntry {
  readonly long: string | undefined;
  readonly short: string | undefined;
  /** The value's name (DURATION) when the option takes one. */
  readonly value: string | undefined;
  readonly group: Group;
  /** --help lines; the first shares the line with the names when it fits. */
  readonly help: readonly string[];
  /** The README's "meaning" column (markdown). */
  readonly doc: string;
  /** -h and -V end parsing with their own result. */
  readonly action: 'help' | 'version' | undefined;
  readonly field: Field | undefined;
  readonly env: EnvEntry | undefined;
  /** Given, it needs privileges/privdrop (which is otherwise not even loaded). */
  readonly privileged: boolean;
  /** Its field is one of the supervisor's options. */
  readonly supervisor: boolean;
  /** Sets the default of the field this entry owns (aliases such as -g own none). */
  init(o: Options): void;
  /** Applies the option with its value ('' for a flag); throws UserError. */
  apply(o: Options, text: string, what: string): void;
  /** Whether o holds something other than this entry's default. */
  given(o: Options): boolean;
}

export interface EnvEntry {
  readonly name: string;
  /** The value's name in the help and the README (DURATION, BOOL). */
  readonly value: string;
  /** One line for --help and the README: what the value does. */
  readonly help: string;
  /** Applies a non-empty value as the starting point the command line changes; throws UserError. */
  apply(o: Options, text: string): void;
}

interface Spec<K extends Field, P extends boolean, Sv extends boolean> {
  long?: string;
  short?: string;
  value?: string;
  group: Group;
  help: string | readonly string[];
  /** Defaults to the help text. */
  doc?: string;
  field: K;
  /** Only on the entry that owns the field; a function, so lists are fresh. */
  default?: () => Options[K];
  /** The field's new value from the option's text and the value so far. */
  parse(text: string, what: string, current: Options[K]): Options[K];
  /** help defaults to "as --long". */
  env?: { name: string; value: string; help?: string; parse?(text: string, what: string, current: Options[K]): Options[K] };
  privileged?: P;
  supervisor?: Sv;
}

function opt<K extends Field, P extends boolean = false, Sv extends boolean = false>(
  s: Spec<K, P, Sv>,
): OptionEntry & { readonly field: K; readonly privileged: P; readonly supervisor: Sv } {
  const envParse = s.env?.parse ?? s.parse;
  return {
    long: s.long,
    short: s.short,
    value: s.value,
    group: s.group,
    help: typeof s.help === 'string' ? [s.help] : s.help,
    doc: s.doc ?? (typeof s.help === 'string' ? s.help : s.help.join(' ')),
    action: undefined,
    field: s.field,
    env: s.env && {
      name: s.env.name,
      value: s.env.value,
      help: s.env.help ?? `as --${s.long}`,
      apply: (o, text) => void (o[s.field] = envParse(text, s.env!.name, o[s.field])),
    },
    privileged: (s.privileged ?? false) as P,
    supervisor: (s.supervisor ?? false) as Sv,
    init: (o) => {
      if (s.default) o[s.field] = s.default();
    },
    apply: (o, text, what) => void (o[s.field] = s.parse(text, what, o[s.field])),
    given: (o) => {
      if (!s.default) return false;
      const v: unknown = o[s.field];
      const d: unknown = s.default();
      return Array.isArray(v) && Array.isArray(d) ? v.length !== d.length : v !== d;
    },
  };
}

function action(long: string, short: string, act: 'help' | 'version', help: string, doc: string): OptionEntry {
  const none = (): void => {};
  return { long, short, value: undefined, group: 'general', help: [help], doc, action: act, field: undefined, env: undefined, privileged: false, supervisor: false, init: none, apply: none, given: () => false };
}

// --- the table ---

export const OPTIONS = [
  action('help', 'h', 'help', 'show this help and exit', 'print the help to stdout and exit 0'),
  action('version', 'V', 'version', 'show the version and exit', 'print `tsinit <version>` and exit 0'),
  opt({
    long: 'verbose', short: 'v', group: 'general', field: 'verbosity', default: () => 0,
    help: 'log more to stderr; repeat for more',
    doc: 'log more to stderr; repeat for more (`-vv` logs every forwarded signal and every reaped orphan)',
    parse: (_t, _w, n) => n + 1,
    env: { name: 'TSINIT_VERBOSITY', value: 'N', help: 'the starting verbosity; each -v adds one', parse: (t) => verbosityFromEnv(t) },
  }),
  opt({
    long: 'single-child', short: 'c', group: 'general', field: 'singleChild', default: () => false, supervisor: true,
    help: 'forward signals to the command only, not its process group',
    doc: 'forward signals to the command only, not to its process group',
    parse: () => true,
    env: { name: 'TSINIT_SINGLE_CHILD', value: 'BOOL', help: 'true is -c, false is -g (the default)', parse: bool },
  }),
  opt({
    long: 'no-subreaper', group: 'general', field: 'subreaper', default: () => true,
    help: 'when not PID 1, do not become a child subreaper',
    doc: 'when not PID 1, do not register as a child subreaper (a warning says that orphans will not be reaped)',
    parse: () => false,
    // Named for what it turns on, as tini's TINI_SUBREAPER: TSINIT_SUBREAPER=0 is --no-subreaper.
    env: { name: 'TSINIT_SUBREAPER', value: 'BOOL', help: 'false is --no-subreaper, true is -s (the default)', parse: bool },
  }),
  // tini's -g (signal the group) is our default; tini's -s (be a subreaper) is automatic.
  opt({ short: 'g', group: 'general', field: 'singleChild', help: 'accepted for tini: forwarding to the group is the default', doc: 'accepted for tini (forward to the process group): tsinit\'s default', parse: () => false }),
  opt({ short: 's', group: 'general', field: 'subreaper', help: 'accepted for tini: tsinit is a subreaper by itself', doc: 'accepted for tini (register as a subreaper): tsinit does it by itself', parse: () => true }),

  opt({
    long: 'grace', value: 'DURATION', group: 'lifecycle', field: 'graceMs', default: () => 5000, supervisor: true,
    help: ['once the command is gone, time its descendants get between', 'the stop signal and SIGKILL (5s; 500ms, 2s, 1m; a bare', 'number is seconds; 0: SIGKILL at once; never: no timer)'],
    doc: 'once the command is gone, how long its remaining descendants get between the stop signal and SIGKILL (default `5s`; `500ms`, `2s`, `1m`; a bare number is seconds; `0`: SIGKILL at once; `never` or `infinity`: no timer; at most 24 days)',
    parse: timeout,
    env: { name: 'TSINIT_GRACE', value: 'DURATION' },
  }),
  opt({
    long: 'kill-after', value: 'DURATION', group: 'lifecycle', field: 'killAfterMs', default: () => null, supervisor: true,
    help: ['after a stop signal, SIGKILL the command\'s group once', 'DURATION has passed (default never: the sender decides)'],
    doc: 'after a stop signal (SIGTERM or SIGINT, as sent after `--rewrite`), SIGKILL to the command\'s process group once DURATION has passed, like timeout(1)\'s `-k` (default `never`: whoever sent the stop signal owns the deadline)',
    parse: timeout,
    env: { name: 'TSINIT_KILL_AFTER', value: 'DURATION' },
  }),
  opt({
    long: 'stop-signal', value: 'SIG', group: 'lifecycle', field: 'stopSignal', default: () => S.SIGTERM, supervisor: true,
    help: 'signal remaining descendants get first (SIGTERM)',
    doc: 'what remaining descendants get first at shutdown (default SIGTERM)',
    parse: signal,
    env: { name: 'TSINIT_STOP_SIGNAL', value: 'SIG' },
  }),
  opt({
    long: 'rewrite', short: 'r', value: 'FROM:TO', group: 'lifecycle', field: 'rewrite', default: () => new Map(), supervisor: true,
    help: 'forward signal FROM as TO; TO 0 drops it (repeatable)',
    doc: 'forward signal FROM as TO; TO `0` drops FROM (repeatable; dumb-init\'s `-r`); a FROM tsinit never catches (KILL, STOP, CHLD, the faults, 32, 33) is a usage error',
    parse: rewrite,
  }),
  opt({
    long: 'remap-exit', short: 'e', value: 'CODE[:NEW]', group: 'lifecycle', field: 'remapExit', default: () => new Map(), supervisor: true,
    help: 'exit NEW (default 0) when the command\'s status is CODE',
    doc: 'exit NEW (default 0) when the command\'s status is CODE (repeatable; tini\'s `-e`), e.g. `-e 143`',
    parse: remapExit,
  }),
  opt({
    long: 'pdeathsig', short: 'p', value: 'SIG', group: 'lifecycle', field: 'pdeathsig', default: () => 0,
    help: 'signal tsinit gets when its parent dies',
    doc: 'signal tsinit receives when its parent dies (tini\'s `-p`), for use under another process; sent at once if the parent is already gone, or died while node was starting (the launcher records the parent)',
    parse: signal,
    env: { name: 'TSINIT_PDEATHSIG', value: 'SIG' },
  }),
  opt({
    long: 'log-format', value: 'FORMAT', group: 'lifecycle', field: 'logFormat', default: (): LogFormat => 'text',
    help: 'text (default) or json, one event a line on stderr',
    doc: 'lifecycle events as text lines or JSON lines on stderr (`text` or `json`)',
    parse: logFormat,
    env: { name: 'TSINIT_LOG_FORMAT', value: 'FORMAT' },
  }),

  // Privileges: raw text here, checked by privileges/privdrop.ts. No environment
  // variables: a drop is the image's contract, not a run-time knob, and an
  // inherited TSINIT_USER must never change who a nested tsinit runs as.
  opt({
    long: 'user', short: 'u', value: 'USER[:GROUP]', group: 'privileges', field: 'user', default: () => undefined, privileged: true,
    help: 'run as USER (name or id); drops tsinit\'s own ids too',
    doc: 'run as USER, a name or a number, as Docker\'s `--user` and gosu parse it; tsinit itself drops to the same ids first',
    parse: text,
  }),
  opt({
    long: 'groups', value: 'G1,G2', group: 'privileges', field: 'groups', default: () => undefined, privileged: true,
    help: 'supplementary groups (default: USER\'s from /etc/group)',
    doc: 'supplementary groups: exactly this list (names or numbers; `--groups \'\'` for none)',
    parse: text,
  }),
  opt({
    long: 'listen', value: 'SPEC', group: 'privileges', field: 'listen', default: (): string[] => [], privileged: true,
    help: [
      'bind before the drop, pass as fd 3, 4, ... with LISTEN_FDS:',
      'tcp://HOST:PORT, udp://HOST:PORT, unix:/PATH[,mode=0660]',
      '[,owner=USER[:GROUP]]; add ,name=NAME for LISTEN_FDNAMES',
    ],
    doc: 'bind before the drop and pass on as fd 3, 4, … in the order given (repeatable, up to 64)',
    parse: (t, _w, list) => [...list, t],
  }),
  opt({
    long: 'cap', value: 'CAP', group: 'privileges', field: 'caps', default: (): string[] => [], privileged: true,
    help: 'keep CAP as an ambient capability for the command',
    doc: 'give the command CAP as an ambient capability (`NET_BIND_SERVICE`, `cap_net_raw`, …; repeatable or comma-separated)',
    parse: (t, _w, list) => [...list, ...t.split(',').filter((c) => c !== '')],
  }),
  opt({ long: 'workdir', value: 'DIR', group: 'privileges', field: 'workdir', default: () => undefined, privileged: true, help: 'working directory, entered as the target user', parse: text }),
  opt({ long: 'umask', value: 'MODE', group: 'privileges', field: 'umask', default: () => undefined, privileged: true, help: 'umask for the command (octal)', doc: 'the command\'s umask, octal (`027`)', parse: text }),
  opt({
    long: 'allow-new-privs', group: 'privileges', field: 'noNewPrivs', default: () => true,
    help: 'do not set no_new_privs',
    doc: 'do not set `no_new_privs` (on by default with `--user`)',
    parse: () => false,
  }),
  opt({
    long: 'dry-run', group: 'privileges', field: 'dryRun', default: () => false, privileged: true,
    help: 'print the resolved plan as JSON and exit',
    doc: 'print the resolved plan as JSON and exit 0, binding and running nothing',
    parse: () => true,
  }),
  opt({
    long: 'config', value: 'FILE', group: 'services', field: 'config', default: () => undefined,
    help: ['supervise the services of FILE (.toml or .json); a COMMAND', 'given too runs as the essential service main'],
    doc: 'supervise the services FILE describes (`.toml` or `.json`, see Several services); a COMMAND given too runs as the essential service `main`',
    parse: text,
    env: { name: 'TSINIT_CONFIG', value: 'FILE' },
  }),
  opt({
    long: 'procfile', value: 'FILE', group: 'services', field: 'procfile', default: () => undefined,
    help: ['supervise the processes of a Procfile, as Foreman does;', 'a COMMAND given too runs as the essential service main'],
    doc: 'supervise the processes of a Foreman Procfile FILE (see Procfile); a COMMAND given too runs as the essential service `main`',
    parse: text,
    env: { name: 'TSINIT_PROCFILE', value: 'FILE' },
  }),
] as const;

/** The fields the supervisor takes, as flagged in the table. */
export type SupervisedField = Extract<(typeof OPTIONS)[number], { supervisor: true }>['field'];
export type SupervisorSettings = Pick<Options, SupervisedField>;

/** The supervisor's options, picked from o by the table's flags. */
export function supervisorSettings(o: Options): SupervisorSettings {
  const out: Partial<Record<Field, unknown>> = {};
  for (const e of OPTIONS) if (e.supervisor && e.field !== undefined) out[e.field] = o[e.field];
  return out as SupervisorSettings;
}

/** Whether an option that needs privileges/privdrop was given. */
export function privilegedOptionGiven(o: Options): boolean {
  return OPTIONS.some((e) => e.privileged && e.given(o));
}

/** Every option at its default, with no command. */
export function defaults(): Options {
  const o = { command: [] as Buffer[] } as Options;
  for (const e of OPTIONS) e.init(o);
  return o;
}
