// The option table end to end with the built CLI: TSINIT_* variables (honoured,
// beaten by the command line, refused with one line), the -r refusal of
// signals tsinit never catches, the --no-subreaper warning and --pdeathsig
// after a parent that is already gone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { MODES, startInit, runInit, CLI, NODE } from '../helpers/tsinit.mjs';
import { exists, childrenOf, procStat } from '../helpers/proc.mjs';
import { lineWatcher, waitFor } from '../helpers/wait.mjs';

const S = os.constants.signals;
const STUBBORN = `sh -c 'trap "" TERM; echo $$; exec sleep 60' & sleep 0.3; exit 0`;
/** The environment without any TSINIT_* of the test's own. */
const BASE = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^TSINIT_(VERBOSITY|GRACE|KILL_AFTER|SINGLE_CHILD|SUBREAPER|STOP_SIGNAL|PDEATHSIG|LOG_FORMAT)$/.test(k)));

/**
 * Runs a command whose descendant ignores SIGTERM, with JSON events on
 * (TSINIT_VERBOSITY=1, TSINIT_LOG_FORMAT=json), and returns the grace
 * period tsinit announced: the events say it exactly, where a stopwatch on a
 * loaded machine cannot tell 1 s from the default 5 s.
 */
async function announcedGrace(args, env, mode, launcher = false) {
  const h = startInit([...args, 'sh', '-c', STUBBORN], { mode, launcher, env: { ...BASE, TSINIT_VERBOSITY: '1', TSINIT_LOG_FORMAT: 'json', ...env }, timeoutMs: 30000 });
  try {
    const r = await h.result;
    assert.is(r.code, 0, r.stderr.toString());
    const events = r.stderr.toString().trim().split('\n').map((l) => JSON.parse(l));
    const grace = events.find((e) => e.event === 'grace-started');
    assert.ok(grace, `no grace-started event: ${r.stderr}`);
    // The stubborn descendant outlived the grace period and was killed.
    assert.ok(events.some((e) => e.event === 'killed' && e.signal === S.SIGKILL), r.stderr.toString());
    return grace.graceMs;
  } finally {
    h.kill();
  }
}

for (const mode of MODES) {
  test(`${mode}: TSINIT_GRACE=1s is honoured (and TSINIT_VERBOSITY, TSINIT_LOG_FORMAT with it)`, async () => {
    assert.is(await announcedGrace([], { TSINIT_GRACE: '1s' }, mode), 1000);
  });

  test(`${mode}: the command line beats the environment: --grace 1500ms with TSINIT_GRACE=30s`, async () => {
    assert.is(await announcedGrace(['--grace', '1500ms'], { TSINIT_GRACE: '30s' }, mode), 1500);
  });

  test(`${mode}: a bad variable is a usage error naming it, and starts nothing`, async () => {
    for (const [env, line] of [
      [{ TSINIT_GRACE: 'soon' }, "tsinit: TSINIT_GRACE: 'soon' is not a duration (5s, 500ms, 2m)"],
      [{ TSINIT_KILL_AFTER: '99999999m' }, "tsinit: TSINIT_KILL_AFTER: '99999999m' is longer than a timer can hold (at most 2147483647 ms, about 24 days; 'never' for no timer)"],
      [{ TSINIT_SINGLE_CHILD: 'maybe' }, "tsinit: TSINIT_SINGLE_CHILD: 'maybe' is not a boolean (1, true, yes, on or 0, false, no, off)"],
      [{ TSINIT_LOG_FORMAT: 'xml' }, "tsinit: TSINIT_LOG_FORMAT: 'xml' is not text or json"],
    ]) {
      const r = await runInit(['--grace', '1s', 'sh', '-c', 'echo started'], { mode, env: { ...BASE, ...env } });
      const lines = r.stderr.toString().split('\n');
      assert.is(r.code, 2, `${JSON.stringify(env)}: ${r.stderr}`);
      assert.is(lines[0], line);
      assert.ok(lines[1].startsWith('tsinit: usage: tsinit '), lines[1]);
      assert.is(lines.length, 3, r.stderr.toString());
      assert.is(r.stdout.toString(), '', 'the command ran');
    }
  });
}

test('subreaper: through the tsinit executable, as `docker run -e TSINIT_GRACE=1s IMAGE` starts it', async () => {
  assert.is(await announcedGrace([], { TSINIT_GRACE: '1s', TSINIT_NODE: NODE }, 'subreaper', true), 1000);
});

test('subreaper: the variables reach the command unchanged, and one sets -c', async () => {
  const env = { ...BASE, TSINIT_GRACE: '20s', TSINIT_SINGLE_CHILD: 'yes', TSINIT_VERBOSITY: '' };
  const r = await runInit(['-vv', 'sh', '-c', 'trap "" USR1; echo "$TSINIT_GRACE $TSINIT_SINGLE_CHILD [$TSINIT_VERBOSITY]"; kill -USR1 $PPID; sleep 0.3'], { mode: 'subreaper', env });
  assert.is(r.code, 0, r.stderr.toString());
  assert.is(r.stdout.toString(), '20s yes []\n');
  // -c from TSINIT_SINGLE_CHILD: the signal goes to the pid, not the group.
  assert.match(r.stderr.toString(), /forwarded SIGUSR1 to pid [0-9]+/);
});

test('-r refuses a signal tsinit never catches: exit 2, one line, nothing started', async () => {
  for (const sig of ['SYS', 'KILL', 'CHLD', 'SEGV', '32']) {
    const r = await runInit(['-r', `${sig}:HUP`, 'sh', '-c', 'echo started'], { mode: 'subreaper', env: BASE });
    const lines = r.stderr.toString().split('\n');
    assert.is(r.code, 2, `${sig}: ${r.stderr}`);
    assert.ok(lines[0].startsWith(`tsinit: --rewrite: '${sig}:HUP': `) && lines[0].endsWith(', so it cannot be rewritten'), lines[0]);
    assert.is(lines.length, 3, r.stderr.toString());
    assert.is(r.stdout.toString(), '');
  }
});

for (const mode of MODES) {
  test(`${mode}: --no-subreaper (or TSINIT_SUBREAPER=0) warns once where orphans then escape tsinit`, async () => {
    for (const [args, env] of [[['--no-subreaper'], {}], [[], { TSINIT_SUBREAPER: '0' }]]) {
      const r = await runInit([...args, 'true'], { mode, env: { ...BASE, ...env } });
      assert.is(r.code, 0, r.stderr.toString());
      const want = mode === 'pid1' ? '' : 'tsinit: warning: not PID 1 and not a subreaper (--no-subreaper or TSINIT_SUBREAPER=0): orphans re-parent past tsinit and it will not reap them\n';
      assert.is(r.stderr.toString(), want);
    }
    // No warning when tsinit is a subreaper.
    assert.is((await runInit(['true'], { mode, env: BASE })).stderr.toString(), '');
  });
}

/** Whether tsinit's main thread sleeps in write(2) on a full pipe. */
function blockedInWrite(pid) {
  try {
    if (fs.readFileSync(`/proc/${pid}/wchan`, 'utf8') === 'pipe_write') return true;
    const nr = fs.readFileSync(`/proc/${pid}/syscall`, 'utf8').split(' ')[0];
    return nr === { x64: '1', arm64: '64' }[os.arch()];
  } catch {
    return false;
  }
}

test('subreaper: --pdeathsig when the parent died before it was set: tsinit acts as if the signal came', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsinit-opt-'));
  const fifo = path.join(dir, 'stderr');
  assert.is(spawnSync('mkfifo', [fifo]).status, 0);
  // Our end is read-write and non-blocking; filled to the brim, it makes
  // tsinit's first log line block, after tsinit recorded its parent and
  // before it sets the parent-death signal. The parent dies in that window.
  const fd = fs.openSync(fifo, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
  const chunk = Buffer.alloc(4096, 'x');
  let filler = 0;
  for (;;) {
    try {
      filler += fs.writeSync(fd, chunk);
    } catch (err) {
      if (err.code === 'EAGAIN') break;
      throw err;
    }
  }
  const parent = spawn('sh', ['-c', `"${NODE}" "${CLI}" -v -p TERM sleep 60 </dev/null >/dev/null 2>"${fifo}" & echo $!; exec sleep 60`], { stdio: ['ignore', 'pipe', 'inherit'], env: BASE });
  let tsinit = 0;
  try {
    const out = lineWatcher(parent.stdout);
    tsinit = Number(await out.waitLine((l) => /^[0-9]+$/.test(l), 'tsinit pid', 10000));
    await waitFor('tsinit blocked writing its first log line', () => blockedInWrite(tsinit), 15000);
    parent.kill('SIGKILL');
    await waitFor('tsinit re-parented', () => !exists(tsinit) || procStat(tsinit)[4] !== String(parent.pid), 10000);
    let text = '';
    const buf = Buffer.alloc(65536);
    await waitFor('tsinit to end as if SIGTERM had come', () => {
      for (;;) {
        let n = 0;
        try {
          n = fs.readSync(fd, buf);
        } catch (err) {
          if (err.code === 'EAGAIN') break;
          throw err;
        }
        const skip = Math.min(filler, n);
        filler -= skip;
        text += buf.subarray(skip, n).toString('latin1');
      }
      return text.includes('exiting with status');
    }, 15000, 50);
    assert.match(text, /parent [0-9]+ is already gone \(parent now [0-9]+\): sending SIGTERM to tsinit as --pdeathsig asks/);
    assert.match(text, /command \(pid [0-9]+\) was killed by SIGTERM/);
    assert.match(text, new RegExp(`exiting with status ${128 + S.SIGTERM}`));
  } finally {
    if (tsinit) {
      for (const c of childrenOf(tsinit)) try { process.kill(c, 'SIGKILL'); } catch {}
      try { process.kill(tsinit, 'SIGKILL'); } catch {}
    }
    try { parent.kill('SIGKILL'); } catch {}
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
