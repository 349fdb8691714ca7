// The harness of the privilege-drop and --listen tests: starting tsinit in a
// fresh network namespace or as another user, running it to a privreport,
// waiting for privserve, and the "refused: one line, nothing started" check;
// privSetup() creates the test users and a scratch directory around a suite.
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startInit, fixture, NODE } from './tsinit.mjs';
import { lineWatcher } from './wait.mjs';
import { createTestIds, removeTestIds, portIsFree, parseReport, SERVE } from './users.mjs';

export const WRAP = fixture('wrap');
export const REPORT = fixture('privreport');
export const ZERO = '0000000000000000';
/** Prints true when this node holds an io_uring ring with a kernel SQPOLL thread. */
export const SQPOLL_PROBE = `const fs = require('fs');
process.stdout.write(String(fs.readdirSync('/proc/self/fd').some((f) => {
  try { return fs.readlinkSync('/proc/self/fd/' + f) === 'anon_inode:[io_uring]' && /^SqThread:\\s*[0-9]/m.test(fs.readFileSync('/proc/self/fdinfo/' + f, 'utf8')); } catch { return false; }
})));`;
export const NET_BIND_SERVICE = '0000000000000400';

/**
 * Starts tsinit with args; netns: in a fresh network namespace (lo up), so
 * port 80 is ours and nothing reaches the host; asUser: started by that user
 * ({uid, gid, groups}) instead of root.
 */
export function start(mode, args, { netns = false, asUser = null, env = {}, timeoutMs = 30000 } = {}) {
  const e = { ...process.env, ...env };
  let node;
  if (netns || asUser) {
    node = WRAP;
    e.TSINIT_WRAP_NODE = NODE;
    if (netns) e.TSINIT_WRAP_NETNS = '1';
    if (asUser) e.TSINIT_WRAP_IDS = `${asUser.uid}:${asUser.gid}:${asUser.groups.join(',')}`;
  }
  return startInit(args, { mode, timeoutMs, env: e, ...(node ? { node } : {}) });
}

export async function run(mode, args, opts = {}) {
  const h = start(mode, args, opts);
  h.proc.stdin.end();
  const r = await h.result;
  h.kill();
  return { ...r, out: r.stdout.toString(), err: r.stderr.toString() };
}

/** Runs tsinit with privreport as the command and returns the report. */
export async function report(mode, args, opts = {}) {
  const r = await run(mode, [...args, '--', REPORT], opts);
  assert.is(r.code, 0, `exit ${r.code}: ${r.err}`);
  return { ...parseReport(r.out.split('\n')), err: r.err };
}

/** Starts a serving command (privreport, then privserve) and waits until it listens. */
export async function serving(mode, args, kinds, opts = {}) {
  const h = start(mode, [...args, '--', REPORT, '--', NODE, SERVE, ...kinds], opts);
  const w = lineWatcher(h.proc.stdout);
  try {
    const readyLine = await w.waitLine((l) => l.startsWith('{'), 'privserve', 15000);
    const ready = JSON.parse(readyLine);
    assert.ok(ready.ready, `privserve: ${readyLine}; stderr: ${Buffer.concat(h.stderr).toString()}`);
    return { h, ready, rep: parseReport(w.lines), initPid: await h.initPid };
  } catch (err) {
    h.kill();
    await h.result;
    throw err;
  }
}

/** The one line tsinit printed, and that nothing started or stayed bound. */
export async function assertRefused(r, status, line, freePorts = []) {
  assert.is(r.code, status, `exit status; stderr: ${r.err}`);
  assert.is(r.err, `tsinit: ${line}\n`);
  assert.is(r.out, '', 'the command must not have run');
  for (const p of freePorts) assert.ok(await portIsFree(p), `port ${p} is still bound`);
}

/** Each [args, line] exits 2 with that one line (a RegExp: matching it) and runs nothing. */
export async function assertUsageErrors(mode, cases) {
  for (const [args, line] of cases) {
    const r = await run(mode, [...args, '--', REPORT]);
    if (line instanceof RegExp) {
      assert.is(r.code, 2);
      assert.is(r.out, '');
      assert.is(r.err.split('\n').length, 2, r.err);
      assert.match(r.err.slice('tsinit: '.length), line);
    } else await assertRefused(r, 2, line);
  }
}

/**
 * Creates the test users and a scratch directory (0755) before the suite and
 * removes both after it; ready({ ids, tmp }) is called once they exist.
 */
export function privSetup(test, ready) {
  let tmp;
  test.before(() => {
    const ids = createTestIds();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsinit-priv-'));
    fs.chmodSync(tmp, 0o755);
    ready({ ids, tmp });
  });
  test.after(() => {
    removeTestIds();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });
}
