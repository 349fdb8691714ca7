// Runs the built CLI as PID 1 of a fresh PID namespace or as a plain
// subreaper, with a hard timeout (kernel state: proc.mjs; waiting: wait.mjs).
// Every process a test starts is killed by pid when the test ends.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { childrenOf, descendantsOf } from './proc.mjs';
import { waitFor } from './wait.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '../..');
export const CLI = path.join(ROOT, 'dist/cli.js');
export const FIXTURES = path.join(ROOT, 'test/.bin');
export const fixture = (name) => path.join(FIXTURES, name);
export const NODE = process.env.TSINIT_TEST_NODE || process.execPath;
export const LAUNCHER = path.join(ROOT, 'build/Release/tsinit-launcher');
const { versionFlags, LAUNCHER_FLAGS } = createRequire(import.meta.url)('../../scripts/place-launcher.js');

const flagsOf = new Map();
/**
 * The flags the launcher gives tsinit's node (native/launcher.c and
 * scripts/place-launcher.js), so that startInit runs node as users get it:
 * one V8 worker, a 1 MiB young generation (launcher.c's two), and what
 * place-launcher.js records for that node's version (--disable-sigusr1,
 * 22.14 and 23.7 on). There node has 3 threads and tsinit adds its
 * signal thread (native/sigthread.c); on Node 20 it has 4 and the handler
 * takes the signals. The suite, run on each version, covers both.
 */
export function launcherFlags(node = NODE) {
  if (!flagsOf.has(node)) {
    const v = spawnSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8', timeout: 20000 }).stdout.trim();
    flagsOf.set(node, [...LAUNCHER_FLAGS, ...versionFlags(v)]);
  }
  return flagsOf.get(node);
}

export const isRoot = process.getuid() === 0;

let straceFound;
/** strace, for the tests that watch tsinit's system calls (null: not installed, and those tests
 * say so). Looked for on first use, not by every test file that imports this one. */
export function strace() {
  straceFound ??= ['/usr/bin/strace', '/bin/strace'].find((p) => fs.existsSync(p) && spawnSync(p, ['-V']).status === 0) ?? null;
  return straceFound;
}
const UNSHARE = ['/usr/bin/unshare', '/bin/unshare'].find((p) => fs.existsSync(p)) ?? 'unshare';

/** Whether this machine lets the tests make a PID namespace (root, or unprivileged user namespaces). */
function probeUnshare() {
  const ns = isRoot ? ['--pid', '--fork', '--mount-proc'] : ['--user', '--map-root-user', '--pid', '--fork', '--mount-proc'];
  const r = spawnSync(UNSHARE, [...ns, 'true'], { stdio: 'ignore', timeout: 10000 });
  return r.status === 0;
}
export const canUnshare = probeUnshare();
if (!canUnshare) {
  process.stdout.write('SKIP: the PID-1 runs of every test: unshare --pid failed here (needs root or unprivileged user namespaces)\n');
}
/** Both ways tsinit runs: PID 1 of a namespace, and a subreaper under the test. */
export const MODES = canUnshare ? ['pid1', 'subreaper'] : ['subreaper'];

/**
 * Starts tsinit with args. mode 'pid1' wraps it in unshare (adding a user
 * namespace where not root); 'subreaper' runs it directly. Returns handles:
 *   proc     the spawned process (unshare or tsinit)
 *   initPid  promise of tsinit's pid as seen from the test
 *   result   promise of { code, signal, stdout: Buffer, stderr: Buffer }
 *   kill()   kills tsinit and every descendant, by pid
 */
export function startInit(args, opts = {}) {
  const { mode = 'pid1', timeoutMs = 30000, stdio = ['pipe', 'pipe', 'pipe'], env = process.env, argv0 = null } = opts;
  const node = opts.node ?? NODE;
  // opts.launcher: start through the native `tsinit` executable instead of node + cli.js
  // (else node gets opts.nodeFlags, by default the launcher's: launcherFlags).
  const tsinit = opts.launcher ? [LAUNCHER, ...args] : [node, ...(opts.nodeFlags ?? launcherFlags(node)), CLI, ...args];
  let cmd;
  let cmdArgs;
  if (mode === 'pid1') {
    const ns = isRoot ? ['--pid', '--fork', '--mount-proc'] : ['--user', '--map-root-user', '--pid', '--fork', '--mount-proc'];
    cmd = UNSHARE;
    cmdArgs = [...ns, ...tsinit];
  } else {
    cmd = tsinit[0];
    cmdArgs = tsinit.slice(1);
  }
  const proc = spawn(argv0 ?? cmd, cmdArgs, { stdio, env });
  proc.on('error', (err) => {
    stderr.push(Buffer.from(`test harness: ${err.message}\n`));
  });
  const stdout = [];
  const stderr = [];
  proc.stdout?.on('data', (d) => stdout.push(d));
  proc.stderr?.on('data', (d) => stderr.push(d));

  const initPid =
    mode === 'pid1'
      ? waitFor('tsinit under unshare', () => childrenOf(proc.pid)[0], 10000, 2)
      : Promise.resolve(proc.pid);

  const kill = () => {
    for (const p of [...descendantsOf(proc.pid)].reverse()) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {}
    }
    try {
      proc.kill('SIGKILL');
    } catch {}
  };

  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, timeoutMs);
  const result = new Promise((resolve) => {
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), timedOut });
    });
  });
  return { proc, initPid, result, kill, stdout, stderr };
}

/** Runs tsinit to completion; returns { code, signal, stdout, stderr }. */
export async function runInit(args, opts = {}) {
  const h = startInit(args, opts);
  if (opts.input !== undefined) h.proc.stdin.end(opts.input);
  else h.proc.stdin?.end();
  const r = await h.result;
  h.kill();
  return r;
}
