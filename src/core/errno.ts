// tsinit's one error convention, and the helpers that carry it: -errno
// becomes a Node-shaped error (message "<syscall> <CODE>", errno, code,
// syscall), and bad input becomes a UserError with its exit status.
//
// The convention, end to end:
// - The addon returns >= 0 or -errno and never throws, except a TypeError for
//   a programmer's mistake (wrong argument types).
// - An errno that is a normal outcome (ESRCH from kill, ECHILD from waitpid,
//   EAGAIN) is compared as `r === -os.constants.errno.X`, never as a literal.
// - An errno the caller cannot go on after: `check(r, 'syscall')` throws the
//   SysError, as Node's own fs calls do (`sysError` adds fields: spawn's step).
// - An errno in a message for a person is spelt `errnoMessage(r)` ("no such
//   file or directory"), never `error ${-r}` or a bare number.
// - Bad input, or a refusal before the command runs: `throw new
//   UserError(message, EXIT.x)`. The message is one line naming what was
//   wrong and the value given ("--grace: 'soon' is not a duration ...");
//   the status is from core/exit.ts (usage 2 by default, startFailed 125).
//   Parsers throw rather than return `T | string`, so a string-valued result
//   is never mistaken for an error and nested parsers need no re-checking.
//   A caller that words the same mistake for another place (config/plan.ts
//   names the key, not the option) needs the parts: `OptionError` carries
//   what the message names first and the reason after it. ConfigError and
//   ConfigFileError (config/) are UserErrors that also carry file and line.
//   It is caught at the one edge that reports it (runMain prints
//   "tsinit: message" and returns the status); a public function whose
//   result type already says "refused" (parseArgs's `usage-error`,
//   preparePrivileges's kind 'exit') converts at its own edge, and nowhere
//   else.
// - Past the point of no return nothing is thrown at the user: a failure is
//   a log.warning and tsinit carries on (see supervise/).
import * as os from 'node:os';
import * as util from 'node:util';
import { EXIT } from './exit';

// libuv's table lacks some errnos an exec can meet; the kernel's names come
// from os.constants.errno, and these few get a description of their own.
const EXTRA_MESSAGES: Readonly<Record<string, string>> = {
  ENOEXEC: 'exec format error',
  ETXTBSY: 'text file is busy',
  ELIBBAD: 'accessing a corrupted shared library',
  EPERM: 'operation not permitted',
};
/** errno → the kernel's name, for the few libuv lacks; built on first use (a
 * plain run never asks, and building it was a fifth of a millisecond of start-up). */
let codes: Map<number, string> | undefined;
function kernelCode(errno: number): string | undefined {
  if (codes === undefined) {
    codes = new Map();
    for (const [name, num] of Object.entries(os.constants.errno)) if (!codes.has(num)) codes.set(num, name);
  }
  return codes.get(errno);
}

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
  return kernelCode(-n) ?? `Unknown system error ${n}`;
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

// This module exists twice in a running tsinit: in the bundle (cli/main.ts's
// copy) and as dist/core/errno.js, which the lazily loaded privileges/,
// config/ and services/ require (scripts/bundle.js). A UserError thrown by
// config/ must still be `instanceof UserError` in cli/main.ts: the brand, a
// registered symbol, is the same in both copies.
const BRAND = Symbol.for('tsinit.UserError');

/** Bad input or a refusal before the command runs: one line for the user and
 * tsinit's exit status (see the convention above). */
export class UserError extends Error {
  readonly status: number;
  readonly [BRAND] = true;
  constructor(message: string, status: number = EXIT.usage) {
    super(message);
    this.name = 'UserError';
    this.status = status;
  }

  /** `x instanceof UserError` by the brand, whichever copy made x; a
   * subclass (ConfigError, OptionError) tests its own prototype chain. */
  static override [Symbol.hasInstance](v: unknown): boolean {
    if (this !== UserError) return Function.prototype[Symbol.hasInstance].call(this, v);
    return typeof v === 'object' && v !== null && (v as { [BRAND]?: unknown })[BRAND] === true;
  }
}

/** A UserError whose message is "OPTION: reason" ("--user: no user 'x' in
 * /etc/passwd"), kept in parts for a caller that names the mistake its own
 * way: config/plan.ts says `service.web.user: no user 'x' ...`. */
export class OptionError extends UserError {
  /** What the message names first: "--user", "--listen tcp://x:1". */
  readonly option: string;
  readonly reason: string;
  constructor(option: string, reason: string, status: number = EXIT.usage) {
    super(`${option}: ${reason}`, status);
    this.name = 'OptionError';
    this.option = option;
    this.reason = reason;
  }
}
