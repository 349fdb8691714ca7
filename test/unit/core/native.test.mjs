// The addon's constants are the one source of the facts both sides share,
// and its process-wide exports work as documented (called in fixtures, never
// in this process).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { ROOT, NODE, isRoot } from '../../helpers/tsinit.mjs';

const require = createRequire(import.meta.url);
const { native, constants } = require('../../../dist/native.js');
const { SPAWN_STEPS } = require('../../../dist/core/spawn.js');
const { MAX_LISTEN } = require('../../../dist/privileges/listen.js');
const sig = require('../../../dist/core/signals.js');
const E = os.constants.errno;

test('constants: exported once by the addon, used by TypeScript', () => {
  assert.is(constants.NSIG, 65);
  assert.is(constants.REAP_BATCH, 4096);
  assert.is(constants.MAX_FD_MAP, 64);
  assert.is(MAX_LISTEN, constants.MAX_FD_MAP);
  assert.is(constants.WNOHANG, 1);
  assert.is(constants.LISTEN_PID_PREFIX, 'LISTEN_PID=');
  assert.equal([constants.SIGRTMIN, constants.SIGRTMAX], native.sigrtRange());
  assert.ok(Object.isFrozen(constants));
  // The step names come from spawn.h's one table.
  assert.is(SPAWN_STEPS, constants.spawnSteps);
  assert.equal(
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13].map((n) => SPAWN_STEPS[n]),
    ['sigaction', 'setsid', 'setpgid', 'setgroups', 'setresgid', 'setresuid', 'chdir', 'dup2', 'LISTEN_PID', 'execve', 'clone', 'pipe2', 'terminal'],
  );
  const kinds = Object.values(constants.EVENT);
  assert.is(new Set(kinds).size, 6);
});

test('real-time signals: parseSignal and signalName agree with the addon without any set-up call', () => {
  // A process that loads only signals.js: no cli.ts has run.
  const code = `const s = require(${JSON.stringify(path.join(ROOT, 'dist/core/signals.js'))});
const { native } = require(${JSON.stringify(path.join(ROOT, 'dist/native.js'))});
const [min, max] = native.sigrtRange();
console.log(JSON.stringify([s.parseSignal('RTMIN') === min, s.parseSignal('RTMAX') === max, s.signalName(min + 1) === 'SIGRTMIN+1', s.parseSignal(String(max + 1)) === null, s.catchableSignals().includes(min - 1)]));`;
  const r = spawnSync(NODE, ['-e', code], { encoding: 'utf8', timeout: 20000 });
  assert.is(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout), [true, true, true, true, false]);
  assert.is(typeof sig.setRealtimeRange, 'undefined', 'one source: the range is not set from outside');
});

function exportsReport(args = []) {
  const fixture = path.join(ROOT, 'test/fixtures/exports.cjs');
  const r = spawnSync(args.length ? 'python3' : NODE, args.length ? [...args, NODE, fixture] : [fixture], { encoding: 'utf8', timeout: 30000 });
  assert.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split(/\r?\n/).at(-1));
}

test('setsid, setpgid, prctlGetChildSubreaper, capAmbientClearAll, tcgetpgrp off a terminal', () => {
  const o = exportsReport();
  assert.is(o.subreaperBefore, 0);
  assert.is(o.subreaperSet, 0);
  assert.is(o.subreaperAfter, 1);
  assert.is(o.tcgetpgrp, -E.ENOTTY);
  assert.is(o.setsid, o.pid, 'setsid returns the new session id');
  assert.is(o.sid, o.pid);
  assert.is(o.setpgidLeader, -E.EPERM);
  if (isRoot) {
    assert.is(o.capset, 0);
    assert.is(o.raise, 0);
    assert.is(o.isSetBefore, 1);
  }
  assert.is(o.clearAll, 0);
  assert.is(o.isSetAfter, 0);
});

const python = spawnSync('python3', ['-c', 'import pty'], { stdio: 'ignore' }).status === 0;
if (!python) console.log('SKIP: tcgetpgrp on a terminal: needs python3 with pty');
if (python) {
  test('tcgetpgrp on a terminal: the foreground group', () => {
    const o = exportsReport([path.join(ROOT, 'test/fixtures/ptydrive.py'), '[]', '--']);
    // ptydrive makes the fixture the session leader, in the foreground.
    assert.is(o.tcgetpgrp, o.pid);
  });
}

test.run();
