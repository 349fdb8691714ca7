// Signal names ⇄ numbers, which signals tsinit catches, and which it never forwards.
import * as os from 'node:os';
import { native, constants } from '../native';

const S = os.constants.signals;

/** Kept at the kernel's default: faults belong to the process that faulted. */
const FAULTS: readonly number[] = [S.SIGSEGV, S.SIGBUS, S.SIGFPE, S.SIGILL, S.SIGABRT, S.SIGTRAP, S.SIGSYS];

/** Caught but never forwarded: SIGCHLD drives reaping; faults are never caught at all. */
export const NEVER_FORWARDED: readonly number[] = [S.SIGCHLD, S.SIGKILL, S.SIGSTOP, ...FAULTS];

/** SIGRTMIN..SIGRTMAX as the C library defines them (glibc: 34..64, musl: 35..64),
 * from the addon: right for every caller, whoever asks first. */
function rtRange(): readonly [number, number] {
  return [constants.SIGRTMIN, constants.SIGRTMAX];
}

/** Every signal tsinit installs its handler for: 1..31 but KILL, STOP and the
 * faults, plus the real-time signals glibc leaves to applications. */
export function catchableSignals(): number[] {
  const out: number[] = [];
  for (let sig = 1; sig < 32; sig++) {
    if (sig === S.SIGKILL || sig === S.SIGSTOP || FAULTS.includes(sig)) continue;
    out.push(sig);
  }
  const [min, max] = rtRange();
  for (let sig = min; sig <= max; sig++) out.push(sig);
  return out;
}

/**
 * With a terminal on any of fds 0-2, tsinit ignores SIGTTIN and SIGTTOU (as
 * tini does), so they are neither caught nor forwarded: a log line written
 * from a background job of a `stty tostop` terminal would otherwise raise
 * SIGTTOU, the handler would return, and SA_RESTART would retry the write
 * forever (man 3 termios, TOSTOP). Returns the signals tsinit catches. Run
 * first thing, before anything can be written.
 */
export function catchForTerminal(signals: readonly number[]): number[] {
  if (![0, 1, 2].some((fd) => native.isatty(fd) === 1)) return [...signals];
  native.signalsIgnore([S.SIGTTIN, S.SIGTTOU]);
  return signals.filter((sig) => sig !== S.SIGTTIN && sig !== S.SIGTTOU);
}

export function isForwarded(sig: number): boolean {
  return !NEVER_FORWARDED.includes(sig);
}

const NAMES = new Map<number, string>();
for (const [name, num] of Object.entries(S)) {
  // Aliases (SIGIOT, SIGPOLL) lose to the name listed first.
  if (!NAMES.has(num)) NAMES.set(num, name);
}

/** SIGTERM, or SIGRTMIN+3 for a real-time signal. */
export function signalName(sig: number): string {
  const [min, max] = rtRange();
  const name = NAMES.get(sig);
  if (name !== undefined && sig < min) return name;
  if (sig >= min && sig <= max) return sig === min ? 'SIGRTMIN' : `SIGRTMIN+${sig - min}`;
  return `signal ${sig}`;
}

/** Parses TERM, SIGTERM, 15, RTMIN+3 or SIGRTMAX-1; null when it names no signal. */
export function parseSignal(text: string): number | null {
  const [min, max] = rtRange();
  if (/^[0-9]+$/.test(text)) {
    const n = Number(text);
    return n >= 1 && n <= max ? n : null;
  }
  const up = text.toUpperCase();
  const name = up.startsWith('SIG') ? up : `SIG${up}`;
  const rt = /^SIGRT(MIN|MAX)(?:([+-])([0-9]+))?$/.exec(name);
  if (rt) {
    const base = rt[1] === 'MIN' ? min : max;
    const off = rt[3] === undefined ? 0 : Number(rt[3]) * (rt[2] === '-' ? -1 : 1);
    const n = base + off;
    return n >= min && n <= max ? n : null;
  }
  const n = (S as Record<string, number | undefined>)[name];
  return n === undefined ? null : n;
}

/** Valid names, for an error message that lists them. */
export function signalNames(): string[] {
  const [min] = rtRange();
  return [...new Set(NAMES.values())].filter((n) => (S as Record<string, number>)[n]! < min).concat('SIGRTMIN+N', 'SIGRTMAX-N');
}
