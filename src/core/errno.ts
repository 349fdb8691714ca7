// One helper turning -errno into a Node-shaped error: message "<syscall> <CODE>",
// with errno, code and syscall, as Node's own fs and child_process errors have.
import * as os from 'node:os';
import * as util from 'node:util';

// libuv's table lacks some errnos an exec can meet; the kernel's names come
// from os.constants.errno, and these few get a description of their own.
const EXTRA_MESSAGES: Readonly<Record<string, string>> = {
  ENOEXEC: 'exec format error',
  ETXTBSY: 'text file is busy',
  ELIBBAD: 'accessing a corrupted shared library',
  EPERM: 'operation not permitted',
};
const CODES = new Map<number, string>();
for (const [name, num] of Object.entries(os.constants.errno)) if (!CODES.has(num)) CODES.set(num, name);

export interface SysError extends Error {
  errno: number;
  code: string;
  syscall: string;
}

/** The error code (ENOENT) for a negative or positive errno. */
export function errnoCode(errno: number): string {
  const n = -Math.abs(errno);
  const known = util.getSystemErrorMap().get(n);
  if (known) return known[0];
  return CODES.get(-n) ?? `Unknown system error ${n}`;
}

/** Node's lower-case description of an errno ("no such file or directory"). */
export function errnoMessage(errno: number): string {
  const n = -Math.abs(errno);
  const entry = util.getSystemErrorMap().get(n);
  if (entry) return entry[1];
  const code = errnoCode(n);
  return EXTRA_MESSAGES[code] ?? code;
}

export function sysError(errno: number, syscall: string, extra?: Record<string, unknown>): SysError {
  const n = -Math.abs(errno);
  const code = errnoCode(n);
  const err = new Error(`${syscall} ${code}`) as SysError;
  err.errno = n;
  err.code = code;
  err.syscall = syscall;
  if (extra) Object.assign(err, extra);
  return err;
}

/** Returns ret when it is >= 0; throws the Node-shaped error for -errno. */
export function check(ret: number, syscall: string): number {
  if (ret < 0) throw sysError(ret, syscall);
  return ret;
}
