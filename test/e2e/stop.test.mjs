// Issue 12 §1: the orchestrator owns the command's deadline. A stop signal is
// forwarded and tsinit waits as long as the command takes, unless
// --kill-after asks for a timer; --grace is the time descendants get once the
// command is gone (0: SIGKILL at once; never); -r FROM:0 drops a signal and
// starts nothing; what was sent, not what was received, starts a deadline.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { MODES, startInit, runInit, fixture, strace } from '../helpers/tsinit.mjs';
import { descendantsOf, procStatIfAlive } from '../helpers/proc.mjs';
import { lineWatcher, waitFor, sleep } from '../helpers/wait.mjs';

const S = os.constants.signals;
const { USAGE } = createRequire(import.meta.url)('../../dist/cli/args.js');
const LOOP = 'echo ready; while :; do sleep 0.05; done';
/** Every system call that sends a signal. */
const SIGNAL_CALLS = 'kill,tkill,tgkill,pidfd_send_signal,rt_sigqueueinfo,rt_tgsigqueueinfo';

/** Starts tsinit on cmd, sends sig once the command is ready; resolves to the result and how long it took after the signal. */
async function stopWith(mode, args, sig, script, { waitMs = null } = {}) {
  const h = startInit([...args, 'sh', '-c', script], { mode, timeoutMs: 20000 });
  try {
    const out = lineWatcher(h.proc.stdout);
    await out.waitLine((l) => l === 'ready', 'the command');
    const pid = await h.initPid;
    const t0 = Date.now();
    process.kill(pid, sig);
    if (waitMs !== null) {
      // Still running after waitMs: nothing killed it. Then end it with SIGINT (sh dies of it: 130).
      await sleep(waitMs);
      const alive = h.proc.exitCode === null && h.proc.signalCode === null;
      process.kill(pid, S.SIGINT);
      const r = await h.result;
      return { alive, r, out };
    }
    const r = await h.result;
    return { r, took: Date.now() - t0, out };
  } finally {
    h.kill();
  }
}

for (const mode of MODES) {
  test(`${mode}: SIGTERM is forwarded and the command gets as long as it takes: --grace is not its deadline`, async () => {
    // "ready" comes from the background subshell once it ignores TERM (the
    // parent's trap is set before the fork): a SIGTERM sent on the parent's
    // own "ready" could reach the subshell before its trap, and kill it.
    const script = `trap 'sleep 1.5; exit 7' TERM; (trap '' TERM; echo ready; exec sleep 30) & while :; do sleep 0.05; done`;
    const { r, took } = await stopWith(mode, ['-v', '--grace', '1s'], S.SIGTERM, script);
    const err = r.stderr.toString();
    assert.is(r.code, 7, err);
    assert.ok(took >= 1400, `exited after ${took} ms`);
    assert.ok(err.includes('SIGTERM received: waiting for the command to exit (no --kill-after)'), err);
    // The descendant gets its own, full grace period, counted truly.
    assert.ok(err.includes('1 descendant(s) remain: sent SIGTERM and SIGCONT, SIGKILL in 1000 ms'), err);
    assert.ok(err.includes('--grace over: sent SIGKILL to 1 descendant(s)'), err);
  });

  test(`${mode}: with no --kill-after nothing is killed on tsinit's own timer`, async () => {
    const { alive, r } = await stopWith(mode, ['--grace', '0'], S.SIGTERM, `trap '' TERM; ${LOOP}`, { waitMs: 2000 });
    assert.ok(alive, `tsinit ended on its own: ${r.code} ${r.stderr}`);
    assert.is(r.code, 130, r.stderr.toString());
  });

  test(`${mode}: the signal sent decides: -r TERM:0 and -r TERM:USR1 start no deadline, -r HUP:TERM does`, async () => {
    for (const args of [['-r', 'TERM:0'], ['-r', 'TERM:USR1']]) {
      const { alive, r } = await stopWith(mode, ['--kill-after', '500ms', '--grace', '500ms', ...args], S.SIGTERM, `trap '' USR1; ${LOOP}`, { waitMs: 2000 });
      assert.ok(alive, `${args.join(' ')}: tsinit ended: ${r.code} ${r.stderr}`);
      assert.is(r.code, 130, `${args.join(' ')}: ${r.stderr}`);
    }
    const { r, took } = await stopWith(mode, ['--kill-after', '500ms', '-r', 'HUP:TERM'], S.SIGHUP, `trap '' TERM HUP; ${LOOP}`);
    assert.is(r.code, 128 + S.SIGKILL, r.stderr.toString());
    assert.ok(took >= 400 && took < 8000, `took ${took} ms`);
  });

  test(`${mode}: --kill-after 0 kills the command's group at once on a stop signal`, async () => {
    const { r, took } = await stopWith(mode, ['--kill-after', '0'], S.SIGINT, `trap '' INT; ${LOOP}`);
    assert.is(r.code, 128 + S.SIGKILL, r.stderr.toString());
    assert.ok(took < 5000, `took ${took} ms`);
  });

  test(`${mode}: --grace 0 sends descendants SIGKILL at once, never the stop signal`, async () => {
    // Two witnesses. The recorder (sigrec: "c N" for each signal it gets,
    // kept running by its stdin, a pipe from sleep) must get nothing before
    // SIGKILL; but a SIGTERM sent just before the SIGKILL can die unhandled
    // with it, so the recorder alone cannot catch a TERM-first stop. strace,
    // attached to tsinit (every thread) before the command exits, sees each
    // signal tsinit sends: only SIGKILL and pidfd liveness probes (signal 0).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsinit-grace0-'));
    const rec = path.join(dir, 'rec');
    const go = path.join(dir, 'go');
    // The command exits once the recorder is "ready" (its handlers set) and the test says go.
    const script = `(sleep 30 | ${fixture('sigrec')} > ${rec}) & until grep -q ready ${rec} 2>/dev/null; do sleep 0.01; done; until [ -e ${go} ]; do sleep 0.01; done; exit 3`;
    const h = startInit(['--grace', '0', 'sh', '-c', script], { mode, timeoutMs: 20000 });
    let tracer = null;
    try {
      const pid = await h.initPid;
      const trace = path.join(dir, 'trace');
      const straceBin = strace();
      if (straceBin === null) {
        console.log('  skip (strace part): no strace on this machine; only the recorder is checked');
      } else {
        tracer = spawn(straceBin, ['-f', '-e', `trace=${SIGNAL_CALLS}`, '-e', 'signal=none', '-o', trace, '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
        const err = lineWatcher(tracer.stderr);
        const gone = new Promise((resolve) => tracer.once('exit', () => resolve(null)));
        const attached = await Promise.race([err.waitLine((l) => /Process \d+ attached/.test(l), 'strace to attach to tsinit', 10000), gone]);
        if (attached === null) {
          // No ptrace here (a container without CAP_SYS_PTRACE, say): say so, keep the recorder.
          console.log(`  skip (strace part): strace could not attach: ${err.lines.join(' ')}`);
          tracer = null;
        }
      }
      await waitFor('the recorder', () => fs.existsSync(rec) && fs.readFileSync(rec, 'utf8').startsWith('ready'));
      fs.writeFileSync(go, '');
      const r = await h.result;
      assert.is(r.code, 3, r.stderr.toString());
      const lines = fs.readFileSync(rec, 'utf8').split('\n').filter(Boolean);
      assert.ok(lines[0].startsWith('ready'), lines.join('|'));
      assert.equal(lines.slice(1), [], 'a signal reached the recorder before SIGKILL');
      if (tracer !== null) {
        await new Promise((resolve) => (tracer.exitCode !== null ? resolve() : tracer.once('exit', resolve)));
        const calls = fs.readFileSync(trace, 'utf8').split('\n').filter((l) => /^\d+\s+\w+\(/.test(l));
        // The signal is the first SIG… or 0 after the call's first argument ("<unfinished ...>" may follow it).
        const sent = calls.map((l) => /\b(SIG[A-Z0-9+]+|0)\b(?=[,) ]|$)/.exec(l.replace(/^\d+\s+\w+\([^,]*,\s*/, '('))?.[1] ?? l);
        assert.ok(sent.includes('SIGKILL'), `tsinit sent no SIGKILL: ${calls.join(' | ')}`);
        assert.equal(sent.filter((s) => s !== 'SIGKILL' && s !== '0'), [], `tsinit sent more than SIGKILL: ${calls.join(' | ')}`);
      }
    } finally {
      h.kill();
      if (tracer !== null && tracer.exitCode === null) tracer.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${mode}: --grace never leaves descendants all the time they take`, async () => {
    // The command exits only once the descendant has said it ignores TERM (a
    // fixed sleep raced its trap under load): `read` waits for that line.
    const h = startInit(['--grace', 'never', 'sh', '-c', `{ sh -c 'trap "" TERM; echo armed; exec sleep 60 >/dev/null' & } | read x; exit 5`], { mode, timeoutMs: 20000 });
    try {
      const pid = await h.initPid;
      const stubborn = await waitFor('the stubborn sleep', () =>
        descendantsOf(pid).find((p) => {
          const st = procStatIfAlive(p);
          return st !== null && st[2] === 'sleep' && Number(st[4]) === pid;
        }),
      );
      await sleep(2000);
      assert.is(h.proc.exitCode, null, 'tsinit ended while a descendant was left');
      process.kill(stubborn, 'SIGKILL');
      const r = await h.result;
      assert.is(r.code, 5, r.stderr.toString());
    } finally {
      h.kill();
    }
  });
}

test('deadlines: 0, never, infinity and 2^31-1 ms are accepted; longer is a usage error, never a Node warning', async () => {
  for (const args of [['--grace', '0'], ['--grace', 'never'], ['--grace', 'infinity'], ['--grace', '2147483647ms'], ['--kill-after', 'never'], ['--kill-after', '2147483s']]) {
    const r = await runInit([...args, 'true'], { mode: 'subreaper' });
    assert.is(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.is(r.stderr.toString(), '', args.join(' '));
  }
  for (const [opt, value] of [['--grace', '2147483648ms'], ['--grace', '35791395m'], ['--kill-after', '2147484s']]) {
    const r = await runInit([opt, value, 'sh', '-c', 'exit 0'], { mode: 'subreaper' });
    assert.is(r.code, 2, `${opt} ${value}`);
    assert.is(r.stderr.toString(), `tsinit: ${opt}: '${value}' is longer than a timer can hold (at most 2147483647 ms, about 24 days; 'never' for no timer)\ntsinit: ${USAGE}\n`);
  }
  const r = await runInit(['--kill-after', 'soon', 'true'], { mode: 'subreaper' });
  assert.is(r.code, 2);
  assert.ok(r.stderr.toString().startsWith("tsinit: --kill-after: 'soon' is not a duration (5s, 500ms, 2m)\n"), r.stderr.toString());
});

test.run();
