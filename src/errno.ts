// One helper turning -errno into a Node-shaped error: message "<syscall> <CODE>",
// with errno, code and syscall, as Node's own fs and child_process errors have.
import * as util from 'node:util';

export interface SysError extends Error {
  errno: number;
  code: string;
  syscall: string;
}

/** The error code (ENOENT) for a negative or positive errno. */
export function errnoCode(errno: number): string {
  const n = -Math.abs(errno);
  try {
    return util.getSystemErrorName(n);
  } catch {
    return `Unknown system error ${n}`;
  }
}

/** Node's lower-case description of an errno ("no such file or directory"). */
export function errnoMessage(errno: number): string {
  const n = -Math.abs(errno);
  const entry = util.getSystemErrorMap().get(n);
  return entry ? entry[1] : `unknown error ${Math.abs(errno)}`;
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
