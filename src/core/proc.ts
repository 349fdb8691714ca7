// The command line and environment exactly as the kernel holds them. Node's
// process.argv and process.env decode as UTF-8 and lose bytes that are not
// valid UTF-8; /proc/self/cmdline and /proc/self/environ keep them.
import * as fs from 'node:fs';
import { errnoMessage } from './errno';
import type { Logger } from './log';
import { signalName } from './signals';
import { native } from '../native';

function splitNul(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0) {
      out.push(buf.subarray(start, i));
      start = i + 1;
    }
  }
  if (start < buf.length) out.push(buf.subarray(start));
  return out;
}

/** The arguments after the script, byte for byte. Falls back to process.argv
 * (UTF-8) where /proc is not mounted or does not agree with it. */
export function rawArgs(): Buffer[] {
  const want = process.argv.length - 2;
  try {
    const all = splitNul(fs.readFileSync('/proc/self/cmdline'));
    // Node's own options (execArgv) come before the script: the user's
    // arguments are always the last `want` words.
    if (all.length >= want + 2) return all.slice(all.length - want);
  } catch {
    // fall through
  }
  return process.argv.slice(2).map((a) => Buffer.from(a));
}

/** What the tsinit executable (native/launcher.c) puts before each variable
 * it hides from the node running tsinit (NODE_*, OPENSSL_*, UV_*, ..., and
 * any already named with this prefix), and the variables it adds last: its
 * parent, and the descriptors tsinit inherited (core/fds.ts). The same names
 * are in launcher.c. */
export const HIDE_PREFIX = 'TSINIT_ENV_';
export const LAUNCHER_FDS = 'TSINIT_INHERITED_FDS';
/** The launcher's parent as it started (getppid() before it exec'd node). */
export const LAUNCHER_PARENT = 'TSINIT_PARENT_PID';
const HIDE = Buffer.from(HIDE_PREFIX);
const MARK = Buffer.from(`${LAUNCHER_FDS}=`);
const PARENT_MARK = Buffer.from(`${LAUNCHER_PARENT}=`);

/** Whether the bytes of e begin with prefix (an environment entry and "NAME="). */
export function hasPrefix(e: Buffer, prefix: Buffer): boolean {
  return e.length >= prefix.length && e.subarray(0, prefix.length).equals(prefix);
}

/** Undoes the launcher: drops its descriptor record and strips one prefix
 * from every variable that has it, which gives back the environment the
 * launcher was started with, byte for byte and in order. Without the record
 * tsinit was not started through the launcher (`node dist/cli.js`), and the
 * environment is already the original. */
export function restoreEnv(env: readonly Buffer[]): Buffer[] {
  const mark = env.findIndex((e) => hasPrefix(e, MARK));
  if (mark < 0) return [...env];
  // The launcher escapes a variable of the command's with either name, so
  // every one left unescaped is its own.
  return env.filter((e, i) => i !== mark && !hasPrefix(e, PARENT_MARK)).map((e) => (hasPrefix(e, HIDE) ? e.subarray(HIDE.length) : e));
}

/** tsinit's parent as the launcher saw it when it started, before node took
 * its tens of ms to start (undefined without the launcher): what --pdeathsig
 * compares with, so that a parent that died meanwhile is noticed. */
export function launcherParent(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env[LAUNCHER_FDS] === undefined ? undefined : env[LAUNCHER_PARENT];
  return v !== undefined && /^[0-9]{1,10}$/.test(v) ? Number(v) : undefined;
}

/** The environment tsinit was started with, byte for byte, in order, with
 * what the launcher hid from tsinit's own node restored. */
export function rawEnv(): Buffer[] {
  let env: Buffer[];
  try {
    env = splitNul(fs.readFileSync('/proc/self/environ'));
  } catch {
    env = Object.entries(process.env).map(([k, v]) => Buffer.from(`${k}=${v ?? ''}`));
  }
  return restoreEnv(env);
}

/** The value of NAME in a raw environment, or undefined. */
export function envGet(env: readonly Buffer[], name: string): Buffer | undefined {
  const prefix = Buffer.from(`${name}=`);
  for (const e of env) if (hasPrefix(e, prefix)) return e.subarray(prefix.length);
  return undefined;
}

/**
 * tini -p: a subreaper under a supervisor learns of that supervisor's death.
 * Set after the drop: the kernel clears it when the credentials change. A
 * parent that died before the prctl sends nothing, so look (as prctl(2)
 * advises): re-parented already means the death was missed, and tsinit acts
 * as if the signal had come, sending it to itself (a caught signal then takes
 * the usual way, forwarded once the command runs).
 */
export function setParentDeathSignal(sig: number, parentPid: number, log: Logger): void {
  const r = native.prctlSetPdeathsig(sig);
  if (r < 0) {
    log.warning(`cannot set the parent-death signal: ${errnoMessage(r)}`);
    return;
  }
  if (process.ppid === parentPid) return;
  log.info(`parent ${parentPid} is already gone (parent now ${process.ppid}): sending ${signalName(sig)} to tsinit as --pdeathsig asks`);
  native.kill(process.pid, sig);
}
