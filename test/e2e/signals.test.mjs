// Every forwardable signal, real-time ones included, reaches the command and a
// grandchild in its process group; --single-child reaches the command alone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import os from 'node:os';
import { MODES, startInit, fixture, NODE, CLI, isRoot } from '../helpers/tsinit.mjs';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { procStatus, procStat, maskHas, childrenOf } from '../helpers/proc.mjs';
import { lineWatcher, waitFor, sleep } from '../helpers/wait.mjs';

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

/** Whether tsinit's main thread sleeps in a write to its stderr (Node gives a
 * child a socket pair for 'pipe'; a shell, a pipe). */
function blockedInWrite(pid) {
  return /pipe_write|sock_alloc_send|sendmsg/.test(fs.readFileSync(`/proc/${pid}/wchan`, 'utf8'));
}

/**
 * tsinit at -vv on the recorder, after 6,000 orphans whose "reaped" lines
 * fill its stderr, which the test has stopped reading: tsinit's main thread
 * (its event loop) then sits in write(2), while its signal handler still runs
 * on whichever thread the kernel picks. resume() lets it go on.
 */
async function startBlocked(mode, extra = []) {
  const h = startInit(['-vv', ...extra, 'sh', '-c', `${fixture('orphans')} 6000 >/dev/null; exec ${fixture('sigrec')}`], { mode, timeoutMs: 90000 });
  h.proc.stderr.pause();
  const out = lineWatcher(h.proc.stdout);
  await out.waitLine((l) => l.startsWith('ready '), 'the recorder to be ready', 60000);
  const pid = await h.initPid;
  await waitFor('tsinit blocked writing its log', () => blockedInWrite(pid), 30000);
  const command = childrenOf(pid).find((c) => fs.readFileSync(`/proc/${c}/comm`, 'utf8').trim() === 'sigrec');
  return { h, out, pid, command, resume: () => h.proc.stderr.resume() };
}

for (const mode of MODES) {
  test(`${mode}: the signal handler forwards by itself while the event loop is blocked (issue 11 §1)`, async () => {
    const { h, out, pid, resume } = await startBlocked(mode);
    try {
      for (const sig of [S.SIGUSR1, 40, S.SIGHUP]) {
        await waitFor('the event loop blocked', () => blockedInWrite(pid), 10000);
        process.kill(pid, sig);
        await out.waitLine((l) => l === `c ${sig}`, `signal ${sig} at the command`, 10000);
        await out.waitLine((l) => l === `g ${sig}`, `signal ${sig} at the grandchild`, 10000);
      }
      resume();
      // Logged at -vv once the loop runs again, each once.
      const forwarded = () => Buffer.concat(h.stderr).toString().split('\n').filter((l) => l.includes('forwarded'));
      await waitFor('the forwards logged', () => forwarded().length >= 3, 30000);
      const r = await finish(h);
      assert.is(r.code, 0, r.stderr.toString().slice(-500));
      assert.is(forwarded().length, 3, forwarded().join('\n'));
    } finally {
      h.kill();
    }
  });

  test(`${mode}: SIGTERM read after the command's SIGCHLD goes once to what remains, not twice (issue 12 §7)`, async () => {
    // stderr is a FIFO filled to within a few bytes: tsinit's event loop
    // blocks on its first -v line written after the spawn, before it can read
    // the signal pipe. The command dies and tsinit gets SIGTERM meanwhile, so
    // one read finds the command's SIGCHLD and then SIGTERM.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsinit-fifo-'));
    const fifo = path.join(dir, 'err');
    assert.is(spawnSync('mkfifo', [fifo]).status, 0);
    const r = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const w = fs.openSync(fifo, fs.constants.O_WRONLY);
    let drain = null;
    // Room for the subreaper's first line ("registered as a child subreaper"), not for the next.
    fs.writeSync(w, Buffer.alloc(65536 - (mode === 'pid1' ? 16 : 70), 0x2e));
    const h = startInit(['-v', '--stop-signal', 'USR2', fixture('sigrec')], { mode, timeoutMs: 60000, stdio: ['pipe', 'pipe', w] });
    fs.closeSync(w);
    try {
      const out = lineWatcher(h.proc.stdout);
      await out.waitLine((l) => l.startsWith('ready '), 'the recorder to be ready', 30000);
      const pid = await h.initPid;
      await waitFor('tsinit blocked writing its log', () => blockedInWrite(pid), 20000);
      const command = childrenOf(pid)[0];
      process.kill(command, 'SIGKILL');
      await waitFor('the command a zombie', () => procStat(command)[3] === 'Z');
      await waitFor('the SIGCHLD handled', () => !maskHas(procStatus(pid).get('ShdPnd'), S.SIGCHLD));
      process.kill(pid, S.SIGTERM);
      await waitFor('the SIGTERM handled', () => !maskHas(procStatus(pid).get('ShdPnd'), S.SIGTERM));
      await sleep(200);
      // Nothing for the dead command's group while tsinit cannot act.
      assert.equal(out.lines.filter((l) => l.startsWith('g ')), []);
      const buf = Buffer.alloc(65536);
      drain = setInterval(() => {
        try {
          while (fs.readSync(r, buf) > 0);
        } catch {}
      }, 20);
      // The stop signal (USR2 and CONT) to what remains, and SIGTERM once.
      await out.waitLine((l) => l === `g ${S.SIGTERM}`, 'SIGTERM at the grandchild', 20000);
      await sleep(300);
      h.proc.stdin.end();
      const res = await h.result;
      assert.is(res.code, 128 + S.SIGKILL);
      const g = out.lines.filter((l) => l.startsWith('g '));
      assert.is(g.filter((l) => l === `g ${S.SIGTERM}`).length, 1, g.join(','));
      assert.is(g.filter((l) => l === `g ${S.SIGUSR2}`).length, 1, g.join(','));
    } finally {
      if (drain) clearInterval(drain);
      h.kill();
      fs.closeSync(r);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${mode}: a SIGXFSZ raised by tsinit's own log write is not forwarded (issue 12 §3)`, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsinit-xfsz-'));
    try {
      const log = path.join(dir, 'log');
      fs.writeFileSync(log, 'x'.repeat(8192));
      const ns = mode === 'pid1' ? ['unshare', ...(isRoot ? [] : ['--user', '--map-root-user']), '--pid', '--fork', '--mount-proc'] : [];
      // The limit is below the file's size already: every write of tsinit's raises SIGXFSZ.
      const r = spawnSync('sh', ['-c', 'ulimit -f 1 && exec "$@" 2>>"$LOG"', 'sh', ...ns, NODE, CLI, '-v', '--', 'sh', '-c', 'sleep 0.5; exit 0'], {
        env: { ...process.env, LOG: log },
        encoding: 'utf8',
        timeout: 30000,
      });
      assert.is(r.status, 0, `${r.stderr}; the command died of a forwarded SIGXFSZ (153)?`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test.run();
