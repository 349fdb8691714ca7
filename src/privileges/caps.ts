// Capability names ⇄ numbers (capabilities(7), linux/capability.h) and the
// 64-bit masks /proc/<pid>/status prints and capget(2) returns as two words.
import * as fs from 'node:fs';
import { OptionError } from '../core/errno';

/** Index = capability number. */
export const CAPABILITIES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID',
  'SETPCAP', 'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
] as const;

/** Capabilities --cap refuses, with why: each undoes the drop or its proof. */
export const REFUSED: ReadonlyMap<number, string> = new Map([
  // With CAP_SETUID or CAP_SETGID the command could call setresuid(0, 0, 0) again.
  [6, 'would let the command undo the drop (setresuid/setresgid back to 0)'],
  [7, 'would let the command undo the drop (setresuid/setresgid back to 0)'],
  // capabilities(7): CAP_SETPCAP adds any bounding-set capability to the
  // inheritable set and changes the securebits the drop relies on.
  [8, 'would let the command change its own capability bounds and securebits (what the drop verified)'],
  // CAP_SETFCAP writes security.capability: a program it marks gains those
  // capabilities on exec (ignored only while no_new_privs holds).
  [31, 'would let the command give a program file capabilities, which its exec then grants'],
]);

/** Capabilities that are root in all but name (capabilities(7); the
 * "root-equivalent" list of grsecurity's false boundaries and of Docker's
 * security notes): granted, with one warning naming what each can do. */
export const ROOT_EQUIVALENT: ReadonlyMap<number, string> = new Map([
  [0, 'take ownership of any file'],
  [1, 'read, write and execute any file'],
  [2, 'read any file and directory'],
  [3, 'change the mode and attributes of any file'],
  [16, 'load kernel modules'],
  [17, 'raw I/O on devices, ports and memory'],
  [19, 'trace and modify any process, root ones included'],
  [21, 'mount, namespaces and most of administration'],
]);

/** The highest capability the running kernel knows (/proc/sys/kernel/cap_last_cap). */
export function lastCap(): number {
  try {
    const n = Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'latin1').trim());
    if (Number.isInteger(n) && n >= 0 && n < 64) return n;
  } catch {
    // No /proc: trust the table.
  }
  return CAPABILITIES.length - 1;
}

export function capName(n: number): string {
  return `CAP_${CAPABILITIES[n] ?? String(n)}`;
}

/** NET_BIND_SERVICE, CAP_NET_BIND_SERVICE or cap_net_bind_service → 10; null if unknown. */
export function parseCap(text: string): number | null {
  const name = text.toUpperCase().replace(/^CAP_/, '');
  const n = (CAPABILITIES as readonly string[]).indexOf(name);
  return n >= 0 ? n : null;
}

/**
 * Resolves the --cap list: numbers ascending. Throws an OptionError (--cap)
 * saying what is wrong (an unknown name lists the valid ones; REFUSED ones
 * are refused because the drop must not be undoable).
 */
export function resolveCaps(names: readonly string[], last = lastCap()): number[] {
  const out = new Set<number>();
  for (const text of names) {
    const n = parseCap(text);
    if (n === null) throw new OptionError('--cap', `unknown capability '${text}' (one of ${CAPABILITIES.join(', ')})`);
    if (n > last) throw new OptionError('--cap', `${capName(n)} is not known to this kernel (its last is ${capName(last)})`);
    const refused = REFUSED.get(n);
    if (refused !== undefined) throw new OptionError('--cap', `${capName(n)} ${refused}; it is refused`);
    out.add(n);
  }
  return [...out].sort((a, b) => a - b);
}

/** The one warning for root-equivalent capabilities among caps, or null. */
export function riskWarning(caps: readonly number[]): string | null {
  const risky = caps.filter((c) => ROOT_EQUIVALENT.has(c));
  if (risky.length === 0) return null;
  const what = risky.map((c) => `${capName(c)}: ${ROOT_EQUIVALENT.get(c)!}`).join('; ');
  return `--cap: ${risky.length === 1 ? 'this capability is' : 'these capabilities are'} root-equivalent (${what}): the command can regain full root with ${risky.length === 1 ? 'it' : 'them'}`;
}

export function maskOf(caps: readonly number[]): bigint {
  let m = 0n;
  for (const c of caps) m |= 1n << BigInt(c);
  return m;
}

/** A mask as /proc/<pid>/status prints it: 16 hex digits. */
export function maskHex(mask: bigint): string {
  return mask.toString(16).padStart(16, '0');
}

/** The two 32-bit words of a mask, low first, as capset(2) takes them. */
export function maskWords(mask: bigint): [number, number] {
  return [Number(mask & 0xffffffffn), Number((mask >> 32n) & 0xffffffffn)];
}

export function wordsMask(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

export function capNames(mask: bigint): string[] {
  const out: string[] = [];
  for (let n = 0; n < 64; n++) if ((mask >> BigInt(n)) & 1n) out.push(capName(n));
  return out;
}
