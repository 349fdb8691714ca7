// Signal names and numbers, and the forwarding policy.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import os from 'node:os';

const require = createRequire(import.meta.url);
const sig = require('../../../dist/core/signals.js');
const S = os.constants.signals;

test('parseSignal takes names with and without SIG, numbers, and RTMIN/RTMAX offsets', () => {
  assert.is(sig.parseSignal('TERM'), S.SIGTERM);
  assert.is(sig.parseSignal('sigterm'), S.SIGTERM);
  assert.is(sig.parseSignal('SIGKILL'), 9);
  assert.is(sig.parseSignal('15'), 15);
  assert.is(sig.parseSignal('RTMIN'), 34);
  assert.is(sig.parseSignal('SIGRTMIN+3'), 37);
  assert.is(sig.parseSignal('RTMAX-1'), 63);
  assert.is(sig.parseSignal('RTMAX'), 64);
  for (const bad of ['NOPE', '0', '65', 'RTMIN-1', 'RTMAX+1', '', '1.5']) assert.is(sig.parseSignal(bad), null, bad);
});

test('names round-trip', () => {
  assert.is(sig.signalName(15), 'SIGTERM');
  assert.is(sig.signalName(34), 'SIGRTMIN');
  assert.is(sig.signalName(40), 'SIGRTMIN+6');
  for (let n = 1; n <= 64; n++) {
    if (n === 32 || n === 33) continue;
    assert.is(sig.parseSignal(sig.signalName(n)), n, `signal ${n}`);
  }
});

test('never forwarded: SIGCHLD and the faults; never caught: KILL, STOP and the faults', () => {
  for (const n of [S.SIGCHLD, S.SIGSEGV, S.SIGBUS, S.SIGFPE, S.SIGILL, S.SIGABRT, S.SIGTRAP, S.SIGSYS]) assert.not.ok(sig.isForwarded(n), String(n));
  for (const n of [S.SIGTERM, S.SIGINT, S.SIGHUP, S.SIGUSR1, S.SIGUSR2, S.SIGWINCH, S.SIGTSTP, S.SIGCONT, 34, 64]) assert.ok(sig.isForwarded(n), String(n));
  const caught = sig.catchableSignals();
  for (const n of [S.SIGKILL, S.SIGSTOP, S.SIGSEGV, S.SIGBUS, S.SIGFPE, S.SIGILL, S.SIGABRT, S.SIGTRAP, S.SIGSYS, 32, 33]) assert.not.ok(caught.includes(n), String(n));
  assert.ok(caught.includes(S.SIGCHLD));
  assert.is(caught.length, 31 - 2 - 7 + 31);
});

test.run();
