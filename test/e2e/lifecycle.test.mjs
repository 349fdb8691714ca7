// Shutdown that reaches every descendant and ends as soon as they are gone;
// signal rewriting, exit remapping, the parent-death signal, JSON events and
// the report of a parent that does not reap its zombies.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { MODES, startInit, runInit, fixture, CLI, NODE, LAUNCHER } from '../helpers/tsinit.mjs';
import { exists, childrenOf, procStat } from '../helpers/proc.mjs';
import { lineWatcher, waitFor, sleep } from '../helpers/wait.mjs';

const S = os.constants.signals;

function tmpdir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tsinit-life-'));
}

for (const mode of MODES) {
  test(`${mode}: a grandchild that needs 1 s to clean up on SIGTERM finishes before tsinit exits`, async () => {
    const dir = tmpdir();
    try {
      const done = path.join(dir, 'done');
      const grandchild = `trap 'sleep 1; echo cleaned > ${done}; exit 0' TERM; echo ready; while :; do sleep 0.05; done`;
      const t0 = Date.now();
      const r = await runInit(['sh', '-c', `sh -c "${grandchild}" & sleep 0.3; exit 4`], { mode, timeoutMs: 20000 });
      const took = Date.now() - t0;
      assert.is(r.code, 4, r.stderr.toString());
      assert.is(fs.readFileSync(done, 'utf8'), 'cleaned\n');
      assert.ok(took >= 1000, `exited after ${took} ms, before the clean-up could finish`);
      assert.ok(took < 4500, `took ${took} ms: waited out the grace period for nothing`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${mode}: a descendant that ignores SIGTERM is killed when the grace period ends`, async () => {
    const h = startInit(['--grace', '1s', 'sh', '-c', `sh -c 'trap "" TERM; echo $$; exec sleep 60' & sleep 0.3; exit 0`], { mode, timeoutMs: 20000 });
    try {
      const out = lineWatcher(h.proc.stdout);
      const pidLine = await out.waitLine((l) => /^[0-9]+$/.test(l), 'the stubborn pid');
      const t0 = Date.now();
      const r = await h.result;
      const took = Date.now() - t0;
      assert.is(r.code, 0, r.stderr.toString());
      assert.ok(took >= 700, `exited after ${took} ms: did not wait for the grace period`);
      assert.ok(took < 6000, `took ${took} ms`);
      if (mode === 'subreaper') assert.not.ok(exists(Number(pidLine)), 'the stubborn process survived');
    } finally {
      h.kill();
    }
  });

  test(`${mode}: a setsid escapee and a double-forked daemon both get SIGTERM`, async () => {
    const dir = tmpdir();
    try {
      const f1 = path.join(dir, 'escapee');
      const f2 = path.join(dir, 'daemon');
      const waiter = (f) => `trap 'echo term > ${f}; exit 0' TERM; while :; do sleep 0.05; done`;
      const script = `setsid sh -c "${waiter(f1)}" & (sh -c "${waiter(f2)}" &) ; sleep 0.3; exit 0`;
      const r = await runInit(['sh', '-c', script], { mode, timeoutMs: 20000 });
      assert.is(r.code, 0, r.stderr.toString());
      assert.is(fs.readFileSync(f1, 'utf8'), 'term\n');
      assert.is(fs.readFileSync(f2, 'utf8'), 'term\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${mode}: with nothing left, tsinit exits at once, not after the grace period`, async () => {
    for (const script of ['exit 6', 'sleep 30 & sleep 0.2; exit 6']) {
      const t0 = Date.now();
      const r = await runInit(['--grace', '30s', 'sh', '-c', script], { mode, timeoutMs: 20000 });
      const took = Date.now() - t0;
      assert.is(r.code, 6, r.stderr.toString());
      assert.ok(took < 3000, `'${script}' took ${took} ms with a 30 s grace period`);
    }
  });

  // Issue 12 §1: SIGKILL on tsinit's own timer only when asked (--kill-after);
  // --grace alone no longer ends the command (see stop.test.mjs).
  test(`${mode}: SIGTERM to tsinit, a command that ignores it, SIGKILL after --kill-after: 137`, async () => {
    const h = startInit(['--kill-after', '1s', 'sh', '-c', `trap "" TERM; echo ready; while :; do sleep 0.05; done`], { mode, timeoutMs: 20000 });
    try {
      const out = lineWatcher(h.proc.stdout);
      await out.waitLine((l) => l === 'ready', 'the command');
      const pid = await h.initPid;
      const t0 = Date.now();
      process.kill(pid, 'SIGTERM');
      const r = await h.result;
      const took = Date.now() - t0;
      assert.is(r.code, 128 + S.SIGKILL, r.stderr.toString());
      assert.ok(took >= 800 && took < 6000, `took ${took} ms`);
    } finally {
      h.kill();
    }
  });

  test(`${mode}: --rewrite forwards another signal, or drops one with 0`, async () => {
    const h = startInit(['-r', 'TERM:USR1', '--rewrite', 'SIGUSR2:0', '-r', '40:41', fixture('sigrec')], { mode, timeoutMs: 20000 });
    try {
      const out = lineWatcher(h.proc.stdout);
      await out.waitLine((l) => l.startsWith('ready'), 'recorder ready');
      const pid = await h.initPid;
      process.kill(pid, S.SIGUSR2);
      process.kill(pid, 40);
      await out.waitLine((l) => l === 'c 41', 'signal 40 arriving as 41');
      process.kill(pid, S.SIGTERM);
      await out.waitLine((l) => l === `c ${S.SIGUSR1}`, 'TERM arriving as USR1');
      process.kill(pid, S.SIGHUP);
      await out.waitLine((l) => l === `c ${S.SIGHUP}`, 'HUP unchanged');
      const seen = out.lines.filter((l) => l.startsWith('c '));
      assert.equal(seen, ['c 41', `c ${S.SIGUSR1}`, `c ${S.SIGHUP}`]);
      h.proc.stdin.end();
      assert.is((await h.result).code, 0);
    } finally {
      h.kill();
    }
  });

  test(`${mode}: --remap-exit maps a status, others pass unchanged`, async () => {
    const cases = [
      [['-e', '3', 'sh', '-c', 'exit 3'], 0],
      [['--remap-exit', '3:9', 'sh', '-c', 'exit 3'], 9],
      [['-e', '143', fixture('killself'), '15'], 0],
      [['-e', '3', 'sh', '-c', 'exit 4'], 4],
    ];
    for (const [args, want] of cases) {
      const r = await runInit(args, { mode });
      assert.is(r.code, want, `${args.join(' ')}: ${r.stderr}`);
    }
  });

  test(`${mode}: JSON events parse and carry a timestamp and an event name`, async () => {
    const r = await runInit(['-vv', '--log-format', 'json', 'sh', '-c', `${fixture('orphans')} 3 >/dev/null; exit 0`], { mode });
    assert.is(r.code, 0);
    const lines = r.stderr.toString().trim().split('\n');
    assert.ok(lines.length >= 5, r.stderr.toString());
    const events = lines.map((l) => JSON.parse(l));
    for (const e of events) {
      assert.type(e.event, 'string');
      assert.ok(!Number.isNaN(Date.parse(e.ts)), e.ts);
      assert.ok(['error', 'warning', 'info', 'debug'].includes(e.level));
    }
    const names = events.map((e) => e.event);
    for (const n of ['command-started', 'reaped', 'command-exited', 'exit']) assert.ok(names.includes(n), `${n} missing from ${names}`);
    assert.is(events.at(-1).status, 0);
  });

  test(`${mode}: -v names a process that does not reap its zombie child`, async () => {
    // sh forks `true`, then becomes `sleep`, which never waits: a zombie only its parent can reap.
    const h = startInit(['-v', '--log-format', 'json', 'sh', '-c', 'true & exec sleep 30'], { mode, timeoutMs: 20000 });
    try {
      const pid = await h.initPid;
      const child = await waitFor('the command', () => childrenOf(pid)[0]);
      const lines = lineWatcher(h.proc.stderr);
      const line = await lines.waitLine((l) => l.includes('"not-reaping"'), 'the not-reaping event', 8000);
      const e = JSON.parse(line);
      assert.is(e.zombies.length, 1);
      if (mode === 'subreaper') assert.is(e.parent, child);
    } finally {
      h.kill();
    }
  });
}

test('subreaper: --pdeathsig delivers the signal when tsinit\'s parent dies, and it is forwarded', async () => {
  for (const withFlag of [true, false]) {
    const flag = withFlag ? `-p TERM` : '';
    // The intermediate shell starts tsinit in the background, prints its pid,
    // and dies when its stdin closes. The test closes it once tsinit has
    // started its command, which it does only after setting --pdeathsig: a
    // fixed wait let the parent die before a loaded tsinit had even read its
    // ppid, and then no death could be noticed.
    const p = spawn('sh', ['-c', `"${NODE}" "${CLI}" ${flag} sleep 30 </dev/null >/dev/null 2>&1 & echo $!; read x`], { stdio: ['pipe', 'pipe', 'inherit'] });
    const out = lineWatcher(p.stdout);
    const tsinit = Number(await out.waitLine((l) => /^[0-9]+$/.test(l), 'tsinit pid', 10000));
    const closed = new Promise((r) => p.on('close', r));
    try {
      await waitFor('tsinit to start its command', () => childrenOf(tsinit).some((c) => {
        try {
          return procStat(c)[2] === 'sleep';
        } catch {
          return false;
        }
      }), 20000);
      p.stdin.end();
      await closed;
      if (withFlag) {
        await waitFor('tsinit to end after its parent died', () => !exists(tsinit) || fs.readFileSync(`/proc/${tsinit}/stat`, 'utf8').includes(') Z'), 10000);
      } else {
        await sleep(1000);
        assert.ok(exists(tsinit), 'without -p tsinit should outlive its parent');
      }
    } finally {
      p.stdin.end();
      for (const c of childrenOf(tsinit)) try { process.kill(c, 'SIGKILL'); } catch {}
      try { process.kill(tsinit, 'SIGKILL'); } catch {}
    }
  }
});

for (const services of [false, true]) test(`subreaper, through the launcher${services ? ', several services' : ''}: a parent that dies while node is still starting is noticed, and --pdeathsig sent`, async () => {
  // The parent (a shell that becomes sleep) is killed the moment the
  // launcher has exec'd node: the launcher read its parent before that, and
  // tsinit's first line comes tens of ms later. (Should the test be slower
  // than node, the kernel sends the signal instead: the same end.) Before
  // the launcher recorded its parent, tsinit ran on, re-parented.
  const node = fs.realpathSync(NODE);
  const dir = tmpdir();
  fs.writeFileSync(path.join(dir, 'c.toml'), '[service.a]\ncommand = ["sleep", "30"]\n');
  const args = services ? `--config "${path.join(dir, 'c.toml')}"` : 'sleep 30';
  const p = spawn('sh', ['-c', `"${LAUNCHER}" -p TERM ${args} </dev/null >/dev/null 2>&1 & echo $!; exec sleep 30`], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TSINIT_NODE: NODE },
  });
  const out = lineWatcher(p.stdout);
  const tsinit = Number(await out.waitLine((l) => /^[0-9]+$/.test(l), 'tsinit pid', 10000));
  try {
    await waitFor('the launcher to exec node', () => {
      try {
        return fs.readlinkSync(`/proc/${tsinit}/exe`) === node;
      } catch {
        return false;
      }
    }, 10000, 1);
    process.kill(p.pid, 'SIGKILL');
    await waitFor('tsinit to end after its parent died', () => !exists(tsinit) || fs.readFileSync(`/proc/${tsinit}/stat`, 'utf8').includes(') Z'), 20000);
  } finally {
    try { process.kill(p.pid, 'SIGKILL'); } catch {}
    for (const c of exists(tsinit) ? childrenOf(tsinit) : []) try { process.kill(c, 'SIGKILL'); } catch {}
    try { process.kill(tsinit, 'SIGKILL'); } catch {}
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('bad lifecycle options are usage errors', async () => {
  for (const [args, msg] of [
    [['--grace', 'soon', 'true'], "tsinit: --grace: 'soon' is not a duration (5s, 500ms, 2m)"],
    [['-r', 'TERM', 'true'], "tsinit: --rewrite: 'TERM' is not FROM:TO"],
    [['-r', 'NOPE:TERM', 'true'], "tsinit: --rewrite: unknown signal 'NOPE'"],
    [['-e', '300', 'true'], "tsinit: --remap-exit: '300' is not an exit status (0-255)"],
    [['-p', 'SIGWHAT', 'true'], "tsinit: --pdeathsig: unknown signal 'SIGWHAT'"],
    [['--log-format', 'xml', 'true'], "tsinit: --log-format: 'xml' is not text or json"],
    [['--grace'], "tsinit: option '--grace' needs a value (DURATION)"],
  ]) {
    const r = await runInit(args, { mode: 'subreaper' });
    assert.is(r.code, 2, args.join(' '));
    assert.ok(r.stderr.toString().startsWith(msg), r.stderr.toString());
  }
});

test.run();
