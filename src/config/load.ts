// Reads a configuration file (TOML by smol-toml, or JSON: the same schema)
// into plain values, and the one error shape of this folder: the file, the
// line, the key and what is wrong, on one line (a UserError, exit 2). smol-toml is loaded here and
// only here, so single-command mode never pays for it.
import * as fs from 'node:fs';
import { errnoMessage, UserError } from '../core/errno';
import { indexJson, indexToml, lineOf, type LineIndex } from './locate';

/** A mistake in a configuration file: a UserError (exit 2, the CLI prints
 * the message), its parts kept for callers and tests. */
export class ConfigError extends UserError {
  readonly file: string;
  readonly line: number | null;
  readonly key: string | null;
  readonly what: string;
  constructor(file: string, line: number | null, key: string | null, what: string) {
    super(`${file}${line !== null ? `:${line}` : ''}: ${key !== null ? `${key}: ` : ''}${what}`);
    this.name = 'ConfigError';
    this.file = file;
    this.line = line;
    this.key = key;
    this.what = what;
  }
}

export interface Source {
  file: string;
  format: 'toml' | 'json';
  data: Record<string, unknown>;
  index: LineIndex;
}

/** The error for a key path, with the line the key is on. */
export function keyError(src: Pick<Source, 'file' | 'index'>, path: readonly (string | number)[], what: string): ConfigError {
  const key = path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '[');
  return new ConfigError(src.file, lineOf(src.index, path), key === '' ? null : key, what);
}

/** A JSON syntax error's line: Node 20 says "at position N", Node 22 "(line L column C)". */
function jsonErrorLine(text: string, message: string): number | null {
  const lc = /line (\d+) column/.exec(message);
  if (lc) return Number(lc[1]);
  const pos = /position (\d+)/.exec(message);
  if (pos) return text.slice(0, Number(pos[1])).split('\n').length;
  return null;
}

/** Plain objects only: TOML tables come with a null prototype, JSON's with Object's. */
export function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

export function loadSource(file: string): Source {
  const format = file.endsWith('.json') ? 'json' : file.endsWith('.toml') ? 'toml' : null;
  if (format === null) throw new ConfigError(file, null, null, 'the file name must end in .toml or .json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, null, null, `cannot read: ${errnoMessage((err as NodeJS.ErrnoException).errno ?? -2)}`);
  }
  let data: unknown;
  if (format === 'toml') {
    const toml = require('smol-toml') as { parse(text: string): unknown };
    try {
      data = toml.parse(text);
    } catch (err) {
      const e = err as { line?: number; message?: string };
      // smol-toml's message repeats the source under a caret: only its first line is the reason.
      const why = (e.message ?? String(err)).split('\n')[0]!.replace(/^Invalid TOML document: /, '');
      throw new ConfigError(file, typeof e.line === 'number' ? e.line : null, null, `TOML syntax: ${why}`);
    }
  } else {
    try {
      data = JSON.parse(text);
    } catch (err) {
      const message = (err as Error).message;
      throw new ConfigError(file, jsonErrorLine(text, message), null, `JSON syntax: ${message.replace(/ in JSON at position \d+.*$/, '')}`);
    }
  }
  if (!isTable(data)) throw new ConfigError(file, 1, null, 'the top level must be a table of [tsinit] and [service.NAME]');
  return { file, format, data, index: format === 'toml' ? indexToml(text) : indexJson(text) };
}
