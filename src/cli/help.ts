// --help and the README's option and environment tables, written from the
// option table (options.ts) so that none of them can drift from the parser.
import { BOOLEANS, GROUPS, OPTIONS, type Group, type OptionEntry } from './options';

export const USAGE = 'usage: tsinit [-h] [-V] [-v]... [-c] [-u USER[:GROUP]] [--listen SPEC]... [--grace DURATION] [OPTION]... [--] COMMAND [ARG...]';

const HEADINGS: Readonly<Record<Group, string>> = { general: 'options', lifecycle: 'lifecycle', privileges: 'privileges', services: 'services' };
/** Where the help text starts, as getopt-style tools (and tini) align it. */
const COLUMN = 24;

function names(e: OptionEntry): string {
  const both = e.short !== undefined && e.long !== undefined;
  const left = both ? `-${e.short}, --${e.long}` : e.long !== undefined ? `    --${e.long}` : `-${e.short}`;
  return `  ${left}${e.value !== undefined ? ` ${e.value}` : ''}`;
}

function column(left: string, lines: readonly string[]): string[] {
  const pad = ' '.repeat(COLUMN);
  const [first = '', ...rest] = lines;
  const head = left.length < COLUMN ? [`${left.padEnd(COLUMN)}${first}`] : [left, `${pad}${first}`];
  return [...head, ...rest.map((l) => `${pad}${l}`)];
}

function envHelp(): string[] {
  const out = ['environment (the command line wins; passed on to the command unchanged):'];
  for (const e of OPTIONS) {
    if (e.env === undefined) continue;
    out.push(...column(`  ${e.env.name}`, [`${e.env.value}, ${e.env.help}`]));
  }
  out.push(`  BOOL is ${BOOLEANS.true.join(', ')} or ${BOOLEANS.false.join(', ')}; an empty value is unset`);
  return out;
}

function buildHelp(): string {
  const out = [
    USAGE,
    '',
    'Runs COMMAND as its one child, reaps every zombie, forwards signals to the',
    "command's process group and exits with the command's status.",
  ];
  for (const g of GROUPS) {
    out.push('', `${HEADINGS[g]}:`);
    for (const e of OPTIONS) if (e.group === g) out.push(...column(names(e), e.help));
  }
  out.push(
    '',
    ...envHelp(),
    '',
    "exit status: the command's; 128+N if it was killed by signal N; 127 if it was",
    'not found; 126 if it could not be executed; 125 if tsinit failed to start it;',
    '2 for a usage error.',
  );
  return out.join('\n');
}

let help: string | undefined;
/** --help's text, built on first use: a plain run never prints it. */
export function helpText(): string {
  return (help ??= buildHelp());
}

// --- the README's tables (checked by test/unit/cli/readme.test.mjs) ---

const md = (s: string): string => s.replace(/\|/g, '\\|');

function mdNames(e: OptionEntry): string {
  const value = e.value !== undefined ? ` ${e.value}` : '';
  if (e.short !== undefined && e.long !== undefined) return `\`-${e.short}\`, \`--${e.long}${value}\``;
  return e.long !== undefined ? `\`--${e.long}${value}\`` : `\`-${e.short}${value}\``;
}

/** One markdown row per option of the given groups: `| names | meaning |`. */
export function optionRows(groups: readonly Group[]): string[] {
  return OPTIONS.filter((e) => groups.includes(e.group)).map((e) => `| ${mdNames(e)} | ${md(e.doc)} |`);
}

export function optionTable(groups: readonly Group[]): string {
  return ['| option | meaning |', '|---|---|', ...optionRows(groups)].join('\n');
}

export function envTable(): string {
  const rows = OPTIONS.filter((e) => e.env !== undefined).map((e) => `| \`${e.env!.name}\` | ${e.env!.value} | ${md(e.env!.help).replace(/(^|\s)(-{1,2}[a-z-]+)/g, '$1`$2`')} |`);
  return ['| variable | value | meaning |', '|---|---|---|', ...rows].join('\n');
}
