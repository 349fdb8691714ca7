// Every forwardable signal, real-time ones included, reaches the command and a
// grandchild in its process group; --single-child reaches the command alone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import os from 'node:os';
import { MODES, startInit, fixture } from '../helpers/tsinit.mjs';
import { procStatus, maskHas } from '../helpers/proc.mjs';
import { lineWatcher, waitFor } from '../helpers/wait.mjs';

const S = os.constants.signals;
const NEVER = new Set([S.SIGCHLD, S.SIGKILL, S.SIGSTOP, S.SIGSEGV, S.SIGBUS, S.SIGFPE, S.SIGILL, S.SIGABRT, S.SIGTRAP, S.SIGSYS]);
// glibc: SIGRTMIN is 34 and SIGRTMAX 64; 32 and 33 are its own.
const FORWARDABLE = [];
for (let s = 1; s <= 64; s++) if (!NEVER.has(s) && s !== 32 && s !== 33) FORWARDABLE.push(s);

async function startRecorder(mode, extra = []) {
  const h = startInit([...extra, fixture('sigrec')], { mode, timeoutMs: 60000 });
  const out = lineWatcher(h.proc.stdout);
  const ready = await out.waitLine((l) => l.startsWith('ready '), 'the recorder to be ready', 10000);
  const pid = await h.initPid;
  return { h, out, pid, ready };
}

async function finish(h) {
  h.proc.stdin.end();
  const r = await h.result;
  h.kill();
  return r;
}

for (const mode of MODES) {
  test(`${mode}: every forwardable signal reaches the command and its group`, async () => {
    const { h, out, pid } = await startRecorder(mode);
    try {
      for (const sig of FORWARDABLE) {
        process.kill(pid, sig);
        await out.waitLine((l) => l === `c ${sig}`, `signal ${sig} at the command`);
        await out.waitLine((l) => l === `g ${sig}`, `signal ${sig} at the grandchild`);
      }
      const r = await finish(h);
      assert.is(r.code, 0, r.stderr.toString());
      // Nothing else was delivered: exactly one line per signal and process.
      const got = out.lines.filter((l) => /^[cg] /.test(l));
      assert.is(got.length, 2 * FORWARDABLE.length, got.join(','));
    } finally {
      h.kill();
    }
  });

  test(`${mode}: --single-child forwards to the command only`, async () => {
    const { h, out, pid } = await startRecorder(mode, ['--single-child']);
    try {
      for (const sig of [S.SIGUSR2, S.SIGHUP, 40]) {
        process.kill(pid, sig);
        await out.waitLine((l) => l === `c ${sig}`, `signal ${sig} at the command`);
      }
      // The grandchild is in the same group; give a misrouted signal time to land.
      process.kill(pid, S.SIGWINCH);
      await out.waitLine((l) => l === `c ${S.SIGWINCH}`, 'SIGWINCH at the command');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(out.lines.filter((l) => l.startsWith('g ')), []);
      const r = await finish(h);
      assert.is(r.code, 0);
    } finally {
      h.kill();
    }
  });

  test(`${mode}: tsinit catches every forwardable signal and no fault signal`, async () => {
    const { h, pid } = await startRecorder(mode);
    try {
      const st = procStatus(pid);
      for (const sig of FORWARDABLE) assert.ok(maskHas(st.get('SigCgt'), sig), `signal ${sig} not caught`);
      // Node's V8 may install its own SIGSEGV handler for WebAssembly; tsinit
      // itself never forwards faults, which the first test shows.
      for (const sig of [S.SIGKILL, S.SIGSTOP]) assert.not.ok(maskHas(st.get('SigCgt'), sig));
      await finish(h);
    } finally {
      h.kill();
    }
  });
}

test(`${MODES[0]}: a burst of 50 real-time signals arrives whole`, async () => {
  const { h, out, pid } = await startRecorder(MODES[0]);
  try {
    // Real-time signals queue: each of 50 sent back to back must arrive once.
    for (let i = 0; i < 50; i++) process.kill(pid, 34 + (i % 5));
    await waitFor('50 real-time signals at the command', () => out.lines.filter((l) => /^c 3[4-8]$/.test(l)).length >= 50, 10000);
    assert.is(out.lines.filter((l) => /^c 3[4-8]$/.test(l)).length, 50);
    await finish(h);
  } finally {
    h.kill();
  }
});

test.run();
