// The parsers of option and variable values: text → value, or a UserError
// whose one line names the option or variable (`what`) and the text given.
import * as os from 'node:os';
import { UserError } from '../core/errno';
import { catchableSignals, isForwarded, parseSignal, signalName, signalNames } from '../core/signals';
import { MAX_DEADLINE_MS } from '../supervise/stop';

const S = os.constants.signals;

export type LogFormat = 'text' | 'json';

/** The longest deadline a Node timer holds (2^31-1 ms, about 24.8 days; beyond it
 * Node fires at once and warns): defined once, by the stop sequence. */
export const MAX_TIMER_MS = MAX_DEADLINE_MS;

/** 5s, 500ms, 1.5s, 2m, or a bare number of seconds → ms; null if malformed. */
export function parseDuration(text: string): number | null {
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m)?$/.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const ms = unit === 'ms' ? n : unit === 's' ? n * 1000 : n * 60000;
  return Number.isFinite(ms) ? Math.round(ms) : null;
}

/** A duration for a timer: 0 is "at once", never/infinity is null (no timer). */
export function timeout(text: string, what: string): number | null {
  if (text === 'never' || text === 'infinity') return null;
  const ms = parseDuration(text);
  if (ms === null) throw new UserError(`${what}: '${text}' is not a duration (5s, 500ms, 2m)`);
  if (ms > MAX_TIMER_MS) throw new UserError(`${what}: '${text}' is longer than a timer can hold (at most ${MAX_TIMER_MS} ms, about 24 days; 'never' for no timer)`);
  return ms;
}

export function signal(text: string, what: string): number {
  const n = parseSignal(text);
  if (n === null) throw new UserError(`${what}: unknown signal '${text}' (use a number or one of ${signalNames().join(', ')})`);
  return n;
}

export function exitCode(text: string, what: string): number {
  if (!/^[0-9]+$/.test(text) || Number(text) > 255) throw new UserError(`${what}: '${text}' is not an exit status (0-255)`);
  return Number(text);
}

/** Why tsinit can never see sig arrive, or null when it can (man 7 signal). */
export function uncatchable(sig: number): string | null {
  if (sig === S.SIGKILL || sig === S.SIGSTOP) return `${signalName(sig)} cannot be caught`;
  if (sig === S.SIGCHLD) return 'SIGCHLD drives reaping and is never forwarded';
  if (catchableSignals().includes(sig) && isForwarded(sig)) return null;
  if (sig < 32 && !isForwarded(sig)) return `${signalName(sig)} is left at the kernel's default (a fault belongs to the process that faulted)`;
  return `${signalName(sig)} is reserved by the C library's threads (below SIGRTMIN) and never caught`;
}

export function rewrite(text: string, what: string, map: Map<number, number>): Map<number, number> {
  const [from, to, extra] = text.split(':');
  if (from === undefined || to === undefined || extra !== undefined) throw new UserError(`${what}: '${text}' is not FROM:TO`);
  const f = signal(from, what);
  const t = to === '0' ? 0 : signal(to, what);
  // A FROM tsinit never receives would be accepted and silently never applied
  // (and SIGSYS, left at its default, ended a subreaper tsinit instead).
  const why = uncatchable(f);
  if (why !== null) throw new UserError(`${what}: '${text}': ${why}, so it cannot be rewritten`);
  return map.set(f, t);
}

export function remapExit(text: string, what: string, map: Map<number, number>): Map<number, number> {
  const [code, to = '0', extra] = text.split(':');
  if (code === undefined || extra !== undefined) throw new UserError(`${what}: '${text}' is not CODE[:NEW]`);
  return map.set(exitCode(code, what), exitCode(to, what));
}

/** Accepted boolean spellings of an environment variable, lower or upper case. */
export const BOOLEANS = { true: ['1', 'true', 'yes', 'on'], false: ['0', 'false', 'no', 'off'] } as const;

export function bool(text: string, what: string): boolean {
  const t = text.toLowerCase();
  if ((BOOLEANS.true as readonly string[]).includes(t)) return true;
  if ((BOOLEANS.false as readonly string[]).includes(t)) return false;
  throw new UserError(`${what}: '${text}' is not a boolean (${BOOLEANS.true.join(', ')} or ${BOOLEANS.false.join(', ')})`);
}

/** Verbosity from TSINIT_VERBOSITY; empty or unset is 0. */
export function verbosityFromEnv(value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  if (!/^[0-9]+$/.test(value)) throw new UserError(`TSINIT_VERBOSITY must be a whole number, not '${value}'`);
  return Number(value);
}

export function logFormat(t: string, what: string): LogFormat {
  if (t !== 'text' && t !== 'json') throw new UserError(`${what}: '${t}' is not text or json`);
  return t;
}

/** The text as given (privdrop.ts checks it). */
export const text = (t: string): string => t;
