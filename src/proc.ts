// The command line and environment exactly as the kernel holds them. Node's
// process.argv and process.env decode as UTF-8 and lose bytes that are not
// valid UTF-8; /proc/self/cmdline and /proc/self/environ keep them.
import * as fs from 'node:fs';

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

/** The environment tsinit was started with, byte for byte, in order. */
export function rawEnv(): Buffer[] {
  try {
    return splitNul(fs.readFileSync('/proc/self/environ'));
  } catch {
    return Object.entries(process.env).map(([k, v]) => Buffer.from(`${k}=${v ?? ''}`));
  }
}

/** The value of NAME in a raw environment, or undefined. */
export function envGet(env: readonly Buffer[], name: string): Buffer | undefined {
  const prefix = Buffer.from(`${name}=`);
  for (const e of env) if (e.length >= prefix.length && e.subarray(0, prefix.length).equals(prefix)) return e.subarray(prefix.length);
  return undefined;
}
