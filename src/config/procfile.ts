// Foreman's Procfile, for `tsinit --procfile FILE`: a neutral description
// (names, shell commands, environment, line numbers) that the services
// runtime maps into its plan. Nothing runs here; every mistake is one line.
//
// What Foreman does, and so what this describes (foreman(1), lib/foreman/
// procfile.rb, engine.rb):
// - One process per line, `NAME: COMMAND`. NAME is [A-Za-z0-9_-]+ (Foreman's
//   own regex is [A-Za-z0-9_]+; honcho and node-foreman also accept "-").
//   Blank lines and lines starting with "#" are comments. Foreman skips any
//   other line without a word; tsinit refuses it, since a skipped line is a
//   service that silently never runs. A name given twice is refused too.
// - COMMAND is a shell command line: it runs as `/bin/sh -c COMMAND`, in the
//   Procfile's directory, so `$PORT`, pipes and `&&` work as with Foreman
//   (Foreman also replaces `$VAR` in the text itself; the shell does that here).
// - The `.env` beside the Procfile, if there is one, is added to the
//   environment of every process (dotenv.ts has its exact rules).
// - PORT: the base is PORT from that .env, else PORT from tsinit's
//   environment, else 5000; the Nth process line (N from 0, in file order)
//   gets base + 100 × N (web 5000, worker 5100, …), as Foreman assigns it to
//   the first instance of each process type. PS is NAME.1, as Foreman sets it.
// - Foreman's semantics: one exit stops all. Every process is essential and
//   is never restarted; the first to exit stops the rest, and its status is
//   tsinit's.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errnoMessage } from '../core/errno';
import { ConfigFileError, fileLines, parseDotenv } from './dotenv';

export { ConfigFileError } from './dotenv';

export const BASE_PORT = 5000;
export const PORT_STEP = 100;
const ENTRY = /^([A-Za-z0-9_-]+):[ \t]*(.*)$/;

export interface ProcfileService {
  /** The process type, also the service's name. */
  name: string;
  /** The command line as written. */
  command: string;
  /** What to execute: ["/bin/sh", "-c", command]. */
  argv: [string, string, string];
  /** PORT and PS for this process: they go on top of `Procfile.env`. */
  env: Record<string, string>;
  /** Its line in the Procfile, for messages. */
  line: number;
}

export interface Procfile {
  /** The Procfile, as an absolute path. */
  file: string;
  /** Where every command runs: the Procfile's directory (Foreman's root). */
  workdir: string;
  /** The .env that was loaded, or null when there is none. */
  envFile: string | null;
  /** From the .env: added to (and overriding) tsinit's environment for every process. */
  env: Record<string, string>;
  /** In file order. Every one is essential with restart "never": one exit stops all. */
  services: ProcfileService[];
}

/** The entries of a Procfile's text; file names it in errors. Throws ConfigFileError. */
export function parseProcfile(text: string, file: string): { name: string; command: string; line: number }[] {
  const out: { name: string; command: string; line: number }[] = [];
  const seen = new Map<string, number>();
  fileLines(text).forEach((raw, i) => {
    const n = i + 1;
    const t = raw.trim();
    if (t === '' || t.startsWith('#')) return;
    const m = ENTRY.exec(raw);
    if (!m) {
      const name = /^([^:\s]*):/.exec(raw)?.[1];
      const why = /^\s/.test(raw)
        ? 'a process line starts with its name, with no space before it'
        : name !== undefined && name !== ''
          ? `'${name}' is not a process name: use letters, digits, _ and -`
          : 'expected NAME: COMMAND';
      throw new ConfigFileError(file, n, why);
    }
    const [, name, rest] = m as unknown as [string, string, string];
    const command = rest.trimEnd();
    if (command === '') throw new ConfigFileError(file, n, `${name}: no command after "${name}:"`);
    if (command.includes('\0')) throw new ConfigFileError(file, n, `${name}: a NUL byte cannot be part of a command`);
    const before = seen.get(name);
    if (before !== undefined) throw new ConfigFileError(file, n, `${name}: already defined on line ${before}`);
    seen.set(name, n);
    out.push({ name, command, line: n });
  });
  if (out.length === 0) throw new ConfigFileError(file, 0, 'no processes: expected NAME: COMMAND lines');
  return out;
}

/** The base PORT (see the header); where names the source for an error. */
function basePort(value: string | undefined, where: string, file: string, line: number): number {
  if (value === undefined) return BASE_PORT;
  if (!/^[0-9]+$/.test(value) || Number(value) < 1 || Number(value) > 65535) {
    throw new ConfigFileError(file, line, `PORT ${JSON.stringify(value)} ${where} is not a port number (1-65535)`);
  }
  return Number(value);
}

function readText(file: string, what: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (what === '.env' && e.code === 'ENOENT') return null;
    throw new ConfigFileError(file, 0, `cannot read the ${what}: ${typeof e.errno === 'number' ? errnoMessage(e.errno) : e.message}`);
  }
}

/**
 * Reads FILE and the .env beside it. environ is tsinit's environment (only
 * its PORT is read, for the base port). Throws ConfigFileError: the caller
 * prints its message as one line and exits 2.
 */
export function loadProcfile(file: string, environ: Readonly<Record<string, string | undefined>> = process.env): Procfile {
  const abs = path.resolve(file);
  const text = readText(file, 'Procfile')!;
  const entries = parseProcfile(text, file);
  const workdir = path.dirname(abs);
  // Messages name the files as the user wrote them.
  const envName = path.join(path.dirname(file), '.env');
  const envText = readText(envName, '.env');
  const env = envText === null ? {} : parseDotenv(envText, envName);
  let base: number;
  if (env.PORT !== undefined) {
    let line = 0;
    fileLines(envText!).forEach((l, i) => {
      if (/^(?:export[ \t]+)?PORT=/.test(l)) line = i + 1;
    });
    base = basePort(env.PORT, 'in the .env', envName, line);
  } else {
    base = basePort(environ.PORT, "in tsinit's environment", file, 0);
  }
  const services = entries.map((e, i): ProcfileService => {
    const port = base + PORT_STEP * i;
    if (port > 65535) throw new ConfigFileError(file, e.line, `${e.name}: its PORT would be ${port} (base ${base} + ${PORT_STEP} × ${i}), past 65535`);
    return { name: e.name, command: e.command, argv: ['/bin/sh', '-c', e.command], env: { PORT: String(port), PS: `${e.name}.1` }, line: e.line };
  });
  return { file: abs, workdir, envFile: envText === null ? null : path.join(workdir, '.env'), env, services };
}
