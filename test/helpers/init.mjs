// Runs the built CLI as PID 1 of a fresh PID namespace or as a plain
// subreaper, with a hard timeout, and reads kernel state from /proc.
// Every process a test starts is killed by pid when the test ends.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '../..');
export const CLI = path.join(ROOT, 'dist/cli.js');
export const FIXTURES = path.join(ROOT, 'test/.bin');
export const fixture = (name) => path.join(FIXTURES, name);
export const NODE = process.env.TSINIT_TEST_NODE || process.execPath;
export const LAUNCHER = path.join(ROOT, 'build/Release/tsinit-launcher');

export const isRoot = process.getuid() === 0;
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

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Children of pid, from /proc/<pid>/task/<tid>/children. */
export function childrenOf(pid) {
  const out = [];
  let tids = [];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tids) {
    try {
      const s = fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim();
      if (s) out.push(...s.split(/\s+/).map(Number));
    } catch {}
  }
  return out;
}

export function descendantsOf(pid) {
  const out = [];
  const stack = [pid];
  while (stack.length) {
    for (const c of childrenOf(stack.pop())) {
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}

/** /proc/<pid>/status as a map of field → value. */
export function procStatus(pid) {
  const m = new Map();
  for (const line of fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return m;
}

/** /proc/<pid>/stat fields, numbered as in proc(5) (1 = pid, 3 = state, ...). */
export function procStat(pid) {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const close = s.lastIndexOf(')');
  const rest = s.slice(close + 2).split(' ');
  const f = [undefined, Number(s.slice(0, s.indexOf(' '))), s.slice(s.indexOf('(') + 1, close), ...rest];
  return f;
}

export function fdsOf(pid) {
  const out = {};
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      out[fd] = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {}
  }
  return out;
}

/** Zombie children of pid. */
export function zombiesOf(pid) {
  return childrenOf(pid).filter((c) => {
    try {
      return procStat(c)[3] === 'Z';
    } catch {
      return false;
    }
  });
}

export function exists(pid) {
  try {
    fs.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

export async function waitFor(what, fn, timeoutMs = 10000, everyMs = 10) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** The signal bit for sig in a /proc status mask (SigCgt, SigBlk, ...). */
export function maskHas(hex, sig) {
  return ((BigInt(`0x${hex}`) >> BigInt(sig - 1)) & 1n) === 1n;
}

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
  // opts.launcher: start through the native `tsinit` executable instead of node + cli.js.
  const tsinit = opts.launcher ? [LAUNCHER, ...args] : [node, CLI, ...args];
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

/** Runs fn over items with at most `limit` at once. */
export async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  });
  await Promise.all(workers);
  return out;
}

/** Lines of stdout as they arrive, with a waiter for a line matching a test. */
export function lineWatcher(stream) {
  const lines = [];
  let buf = '';
  const waiters = [];
  stream.on('data', (d) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    for (const w of [...waiters]) w();
  });
  const waitLine = (pred, what, timeoutMs = 5000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = lines.find(pred);
        if (found !== undefined) {
          clearTimeout(t);
          waiters.splice(waiters.indexOf(check), 1);
          resolve(found);
        }
      };
      const t = setTimeout(() => {
        waiters.splice(waiters.indexOf(check), 1);
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(lines.slice(-10))}`));
      }, timeoutMs);
      waiters.push(check);
      check();
    });
  return { lines, waitLine };
}

/** Descriptors of this test process that any child it spawns inherits (open
 * without FD_CLOEXEC, from 3 up): tsinit rightly passes them on too. */
export function leakedFds() {
  const out = [];
  for (const fd of fs.readdirSync('/proc/self/fd').map(Number)) {
    if (fd < 3) continue;
    try {
      const flags = parseInt(/flags:\s*([0-7]+)/.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))[1], 8);
      if ((flags & 0o2000000) === 0) out.push(fd);
    } catch {}
  }
  return out;
}
