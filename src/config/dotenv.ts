// `.env` files as Foreman reads them (lib/foreman/env.rb), for `--procfile`
// (and any `env_file`): KEY=VALUE lines, nothing evaluated.
//
// The rules, exactly:
// - Lines end at "\n"; a "\r" before it is dropped (Foreman: gsub("\r\n", "\n")).
// - A blank line, or one whose first non-blank character is "#", is skipped.
// - `export ` before the key is accepted and ignored (the dotenv gem's rule,
//   so a file that is also sourced by a shell works; Foreman itself skips such
//   a line without a word).
// - KEY is [A-Za-z0-9_]+ and is followed directly by "=" (Foreman's regex).
// - VALUE is the rest of the line, byte for byte: spaces and "#" included
//   (Foreman has no inline comments). Wrapped in single quotes, the quotes
//   are removed and nothing else changes. Wrapped in double quotes, the
//   quotes are removed, `\n` becomes a newline and any other `\X` becomes X.
// - No `${VAR}` expansion, no command substitution, no multi-line values
//   (a value that opens a quote must close it on its line).
// - A later line for the same key wins.
// Foreman silently ignores a line that fits none of this; tsinit refuses it
// (one line naming the file and line), because a skipped line is a variable
// that silently is not set.
import * as fs from 'node:fs';
import { errnoMessage, UserError } from '../core/errno';

/** A mistake in a file tsinit reads: the message is one line, "FILE:LINE:
 * what is wrong"; a UserError (exit 2), so the CLI reports it as any other. */
export class ConfigFileError extends UserError {
  readonly code = 'TSINIT_CONFIG';
  readonly file: string;
  readonly line: number;
  constructor(file: string, line: number, what: string) {
    super(line > 0 ? `${file}:${line}: ${what}` : `${file}: ${what}`);
    this.name = 'ConfigFileError';
    this.file = file;
    this.line = line;
  }
}

const ASSIGNMENT = /^(?:export[ \t]+)?([A-Za-z0-9_]+)=(.*)$/;

/** A file's lines as Foreman splits them (CRLF as LF), numbered from 1. A
 * leading byte-order mark (some editors write one) is not part of line 1. */
export function fileLines(text: string): string[] {
  const lines = text.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n').split('\n');
  // A final newline ends the last line; it does not start another.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function unquote(value: string, file: string, n: number): string {
  const q = value[0];
  if (q !== "'" && q !== '"') return value;
  if (value.length < 2 || value[value.length - 1] !== q) {
    throw new ConfigFileError(file, n, `the value opens a ${q === '"' ? 'double' : 'single'} quote and does not close it on this line (multi-line values are not supported)`);
  }
  const inner = value.slice(1, -1);
  return q === "'" ? inner : inner.replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
}

/** Parses a .env file's text; file names it in errors. Throws ConfigFileError. */
export function parseDotenv(text: string, file: string): Record<string, string> {
  const env: Record<string, string> = {};
  fileLines(text).forEach((line, i) => {
    const n = i + 1;
    const t = line.trim();
    if (t === '' || t.startsWith('#')) return;
    if (line.includes('\0')) throw new ConfigFileError(file, n, 'a NUL byte cannot be part of an environment variable');
    const m = ASSIGNMENT.exec(line);
    if (!m) {
      const why = /^\s/.test(line)
        ? 'expected KEY=VALUE at the start of the line'
        : /^(?:export[ \t]+)?[A-Za-z0-9_]+[ \t]+=/.test(line)
          ? 'no space is allowed between the key and "="'
          : 'expected KEY=VALUE, where KEY is letters, digits and _';
      throw new ConfigFileError(file, n, why);
    }
    env[m[1]!] = unquote(m[2]!, file, n);
  });
  return env;
}

/** Reads and parses a .env file (an `env_file`). Throws ConfigFileError, also when it cannot be read. */
export function loadDotenv(file: string): Record<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ConfigFileError(file, 0, `cannot read the file: ${typeof e.errno === 'number' ? errnoMessage(e.errno) : e.message}`);
  }
  return parseDotenv(text, file);
}
