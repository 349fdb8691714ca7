// Pinning before signalling (issue 12 §2): a handle names one process and
// never the next one to get its pid; the walk signals only what it pinned.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { waitFor } from '../../helpers/wait.mjs';

const require = createRequire(import.meta.url);
const { native } = require('../../../dist/native.js');
const { listProcs, descendants, subtree, signalDescendants, signalSession, procIsOwn } = require('../../../dist/core/tree.js');

const ESRCH = -os.constants.errno.ESRCH;
const S = os.constants.signals;
const KINDS = [
  [0, 1, 'pidfd_open'],
  [native.PIDFD_PIN_PROC_DIR, 2, 'a /proc/<pid> directory'],
];

function startOf(pid) {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[19]);
}

/** A sleep child of the test process, with a promise of its exit. */
async function sleeper() {
  const p = spawn('sleep', ['30'], { stdio: 'ignore' });
  const exited = new Promise((r) => p.on('exit', (code, signal) => r(signal)));
  await waitFor('the sleep to exec', () => fs.readFileSync(`/proc/${p.pid}/comm`, 'utf8').trim() === 'sleep');
  return { p, pid: p.pid, start: startOf(p.pid), exited };
}

test('this machine shows its own /proc to the tests', () => {
  assert.ok(procIsOwn());
  const me = listProcs().find((p) => p.pid === process.pid);
  assert.is(me.start, startOf(process.pid));
});

for (const [flags, kind, how] of KINDS) {
  test(`pin through ${how}: the live process, its parent; a wrong start time is refused`, async () => {
    const s = await sleeper();
    try {
      const r = native.pidfdPin(s.pid, s.start, flags);
      assert.ok(Array.isArray(r), String(r));
      const [fd, k, ppid] = r;
      assert.is(k, kind);
      assert.is(ppid, process.pid);
      assert.is(native.pidfdSendSignal(fd, 0), 0);
      assert.is(native.close(fd), 0);
      // The same pid, but not the process that started then: not pinned.
      assert.is(native.pidfdPin(s.pid, s.start + 1, flags), ESRCH);
    } finally {
      s.p.kill('SIGKILL');
      await s.exited;
    }
  });

  test(`pin through ${how}: once the process is reaped the handle is stale: ESRCH, nothing delivered`, async () => {
    const s = await sleeper();
    const r = native.pidfdPin(s.pid, s.start, flags);
    assert.ok(Array.isArray(r), String(r));
    const fd = r[0];
    try {
      s.p.kill('SIGKILL');
      assert.is(await s.exited, 'SIGKILL'); // reaped by node
      assert.is(native.pidfdSendSignal(fd, S.SIGTERM), ESRCH);
      assert.is(native.pidfdPin(s.pid, s.start, flags), ESRCH);
    } finally {
      native.close(fd);
    }
  });
}

test('the walk signals a listed process only if it is still the one listed', async () => {
  const s = await sleeper();
  try {
    const entry = { pid: s.pid, ppid: process.pid, state: 'S', comm: 'sleep' };
    // Listed with another start time: its pid was reused. Not signalled.
    assert.is(signalDescendants(process.pid, [S.SIGTERM], [{ ...entry, start: s.start - 1 }]), 0);
    // Listed under a parent that is not below root any more: not signalled.
    assert.is(signalDescendants(999999, [S.SIGTERM], [{ ...entry, ppid: 999999, start: s.start }]), 0);
    await new Promise((r) => setTimeout(r, 100));
    assert.is(s.p.exitCode, null);
    assert.is(s.p.signalCode, null);
    // Listed as it is: signalled.
    assert.is(signalDescendants(process.pid, [S.SIGTERM], [{ ...entry, start: s.start }]), 1);
    assert.is(await s.exited, 'SIGTERM');
  } finally {
    s.p.kill('SIGKILL');
  }
});

test('the walk pins parents first and takes a child only under a parent it pinned', async () => {
  // sh (child of the test) with a sleep child: both signalled, parent first.
  const p = spawn('sh', ['-c', 'sleep 30 & echo $!; wait'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const exited = new Promise((r) => p.on('exit', (code, signal) => r(signal)));
  let grandchild = 0;
  try {
    grandchild = Number(await new Promise((r) => p.stdout.once('data', (d) => r(String(d).trim()))));
    await waitFor('the grandchild to exec', () => fs.readFileSync(`/proc/${grandchild}/comm`, 'utf8').trim() === 'sleep');
    const procs = listProcs();
    assert.is(signalDescendants(process.pid, [S.SIGKILL], procs.filter((q) => q.pid === p.pid || q.pid === grandchild)), 2);
    assert.is(await exited, 'SIGKILL');
    await waitFor('the grandchild to be gone', () => !fs.existsSync(`/proc/${grandchild}`) || fs.readFileSync(`/proc/${grandchild}/stat`, 'latin1').includes(') Z'));
  } finally {
    p.kill('SIGKILL');
    if (grandchild > 0) try { process.kill(grandchild, 'SIGKILL'); } catch {}
  }
});

test('the session walk signals a listed member only if it is the one listed and still in that session', async () => {
  // sh leads a session of its own (detached: setsid) with a background sleep in its group.
  const p = spawn('sh', ['-c', 'sleep 30 & echo $!; wait'], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
  const exited = new Promise((r) => p.on('exit', (code, signal) => r(signal)));
  let member = 0;
  try {
    member = Number(await new Promise((r) => p.stdout.once('data', (d) => r(String(d).trim()))));
    await waitFor('the member to exec', () => fs.readFileSync(`/proc/${member}/comm`, 'utf8').trim() === 'sleep');
    const entry = listProcs().find((q) => q.pid === member);
    assert.equal([entry.sid, entry.pgid], [p.pid, p.pid]);
    // Another start time (its pid reused), or a session it is not in (the
    // listing is stale): not signalled. The test process is in neither.
    assert.is(signalSession(p.pid, [S.SIGTERM], null, [{ ...entry, start: entry.start - 1 }]), 0);
    assert.is(signalSession(999999, [S.SIGTERM], null, [{ ...entry, sid: 999999 }]), 0);
    // Its group is one its owner signals itself: counted, not signalled.
    assert.is(signalSession(p.pid, [S.SIGTERM], p.pid), 2);
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(fs.readFileSync(`/proc/${member}/stat`, 'latin1').includes(') S'), 'the member was signalled');
    assert.is(p.exitCode, null);
    // As /proc shows it now: the leader and the member.
    assert.is(signalSession(p.pid, [S.SIGKILL], null), 2);
    assert.is(await exited, 'SIGKILL');
    // kill() returns once the signal is queued; the member dies when next
    // scheduled, which can be after the leader's exit is seen. Left alive
    // (not signalled), it would still be sleeping when this times out.
    await waitFor('every member of the session to die of the SIGKILL', () => !listProcs().some((q) => q.sid === p.pid && q.state !== 'Z'));
  } finally {
    p.kill('SIGKILL');
    if (member > 0) try { process.kill(member, 'SIGKILL'); } catch {}
  }
});

test('subtree reads only the tree below root and finds what the full scan finds', async () => {
  const p = spawn('sh', ['-c', 'sleep 30 & sleep 30 & echo go; wait'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    await new Promise((r) => p.stdout.once('data', r));
    await waitFor('both sleeps', () => (subtree(process.pid) ?? []).filter((q) => q.comm === 'sleep').length === 2);
    const key = (list) => list.map((q) => `${q.pid}:${q.ppid}:${q.start}`).sort();
    assert.equal(key(subtree(process.pid)), key(descendants(process.pid, listProcs())));
    assert.is(subtree(999999999), null);
  } finally {
    for (const q of subtree(process.pid) ?? []) try { process.kill(q.pid, 'SIGKILL'); } catch {}
  }
});

test.run();
