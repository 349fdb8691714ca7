// The command line and the TSINIT_* environment → Options, by the option
// table (options.ts): pure, no I/O. Options end at the first word that is not
// an option, or at "--", like tini's getopt("+..."), so `tsinit ls -l` runs
// `ls -l`.
//
// Not node:util parseArgs: it has no way to stop at the first non-option (it
// goes on taking options after a positional; only a second pass over its
// `tokens` could find where the command starts), it takes strings while the
// command's words must stay raw Buffers, and its errors (ERR_PARSE_ARGS_*,
// "Unknown option '--x'. To specify a positional argument ...") are not the
// one-line messages tsinit documents and tests.
import { UserError } from '../core/errno';
import { OPTIONS, defaults, type OptionEntry, type Options } from './options';

export { helpText, USAGE } from './help';
export { parseDuration, verbosityFromEnv, type LogFormat, type Options } from './options';

export type Parsed =
  | { kind: 'run'; options: Options }
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'usage-error'; message: string };

type Env = Readonly<Record<string, string | undefined>>;

/** An option as written, its value still text. */
interface Given {
  entry: OptionEntry;
  value: string;
  /** How the user spelt it, for messages: --grace, --rewrite (-r's messages name the long form). */
  what: string;
}

/** The words up to the command: syntax only; values are checked later. */
function scan(argv: readonly Buffer[]): { given: Given[]; rest: number } | 'help' | 'version' {
  const given: Given[] = [];
  const add = (entry: OptionEntry, value: string): 'help' | 'version' | undefined => {
    if (entry.action !== undefined) return entry.action;
    given.push({ entry, value, what: entry.long !== undefined ? `--${entry.long}` : `-${entry.short}` });
    return undefined;
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
      const entry = OPTIONS.find((e) => e.long === (eq >= 0 ? name.slice(0, eq) : name));
      if (!entry) throw new UserError(`unknown option '${word}'`);
      let value = '';
      if (entry.value === undefined) {
        if (eq >= 0) throw new UserError(`option '--${entry.long}' takes no value`);
      } else if (eq >= 0) {
        value = name.slice(eq + 1);
      } else {
        const next = argv[++i];
        if (next === undefined) throw new UserError(`option '--${entry.long}' needs a value (${entry.value})`);
        value = next.toString('latin1');
      }
      const act = add(entry, value);
      if (act) return act;
      continue;
    }
    // A cluster of short flags: -vvv, -gs; a value-taking flag ends it (-p SIGKILL, -pSIGKILL).
    const cluster = word.slice(1);
    for (let c = 0; c < cluster.length; c++) {
      const ch = cluster[c]!;
      const entry = OPTIONS.find((e) => e.short === ch);
      if (!entry) throw new UserError(`unknown option '-${ch}'`);
      let value = '';
      if (entry.value !== undefined) {
        if (c + 1 < cluster.length) value = cluster.slice(c + 1);
        else {
          const next = argv[++i];
          if (next === undefined) throw new UserError(`option '-${ch}' needs a value (${entry.value})`);
          value = next.toString('latin1');
        }
        c = cluster.length;
      }
      const act = add(entry, value);
      if (act) return act;
    }
  }
  return { given, rest: i };
}

/**
 * The environment gives each option its starting value (an empty variable
 * is unset); the command line then applies on top, exactly as it would to
 * the default, so it wins: --grace replaces TSINIT_GRACE, -g undoes
 * TSINIT_SINGLE_CHILD=1, and -v adds to TSINIT_VERBOSITY.
 */
function fromEnv(o: Options, env: Env): void {
  for (const e of OPTIONS) {
    if (e.env === undefined) continue;
    const v = env[e.env.name];
    if (v !== undefined && v !== '') e.env.apply(o, v);
  }
}

/** Throws UserError; parseArgs is the edge that turns it into a Parsed. */
function parse(argv: readonly Buffer[], env: Env): Parsed {
  const s = scan(argv);
  if (s === 'help' || s === 'version') return { kind: s };
  const o = defaults();
  fromEnv(o, env);
  for (const g of s.given) g.entry.apply(o, g.value, g.what);
  o.command = argv.slice(s.rest);
  if (o.command.length === 0 && o.config === undefined && o.procfile === undefined) throw new UserError('no command given');
  return { kind: 'run', options: o };
}

export function parseArgs(argv: readonly Buffer[], env: Env): Parsed {
  try {
    return parse(argv, env);
  } catch (err) {
    if (err instanceof UserError) return { kind: 'usage-error', message: err.message };
    throw err;
  }
}
