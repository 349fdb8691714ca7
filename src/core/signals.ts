// Signal names ⇄ numbers, which signals tsinit catches, and which it never forwards.
import * as os from 'node:os';

const S = os.constants.signals;

/** Kept at the kernel's default: faults belong to the process that faulted. */
const FAULTS: readonly number[] = [S.SIGSEGV, S.SIGBUS, S.SIGFPE, S.SIGILL, S.SIGABRT, S.SIGTRAP, S.SIGSYS];

/** Caught but never forwarded: SIGCHLD drives reaping; faults are never caught at all. */
export const NEVER_FORWARDED: readonly number[] = [S.SIGCHLD, S.SIGKILL, S.SIGSTOP, ...FAULTS];

let rtRange: [number, number] = [34, 64];

/** Records glibc's SIGRTMIN..SIGRTMAX as the addon reports them. */
export function setRealtimeRange(range: [number, number]): void {
  rtRange = range;
}

/** Every signal tsinit installs its handler for: 1..31 but KILL, STOP and the
 * faults, plus the real-time signals glibc leaves to applications. */
export function catchableSignals(): number[] {
  const out: number[] = [];
  for (let sig = 1; sig < 32; sig++) {
    if (sig === S.SIGKILL || sig === S.SIGSTOP || FAULTS.includes(sig)) continue;
    out.push(sig);
  }
  for (let sig = rtRange[0]; sig <= rtRange[1]; sig++) out.push(sig);
  return out;
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
  const name = NAMES.get(sig);
  if (name !== undefined && sig < rtRange[0]) return name;
  if (sig >= rtRange[0] && sig <= rtRange[1]) return sig === rtRange[0] ? 'SIGRTMIN' : `SIGRTMIN+${sig - rtRange[0]}`;
  return `signal ${sig}`;
}

/** Parses TERM, SIGTERM, 15, RTMIN+3 or SIGRTMAX-1; null when it names no signal. */
export function parseSignal(text: string): number | null {
  if (/^[0-9]+$/.test(text)) {
    const n = Number(text);
    return n >= 1 && n <= rtRange[1] ? n : null;
  }
  const up = text.toUpperCase();
  const name = up.startsWith('SIG') ? up : `SIG${up}`;
  const rt = /^SIGRT(MIN|MAX)(?:([+-])([0-9]+))?$/.exec(name);
  if (rt) {
    const base = rt[1] === 'MIN' ? rtRange[0] : rtRange[1];
    const off = rt[3] === undefined ? 0 : Number(rt[3]) * (rt[2] === '-' ? -1 : 1);
    const n = base + off;
    return n >= rtRange[0] && n <= rtRange[1] ? n : null;
  }
  const n = (S as Record<string, number | undefined>)[name];
  return n === undefined ? null : n;
}

/** Valid names, for an error message that lists them. */
export function signalNames(): string[] {
  return [...new Set(NAMES.values())].filter((n) => (S as Record<string, number>)[n]! < rtRange[0]).concat('SIGRTMIN+N', 'SIGRTMAX-N');
}
