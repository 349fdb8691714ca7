// Orphans re-parented to tsinit are reaped while the command still runs, as
// PID 1 and as a subreaper; a storm of 5,000 leaves no zombie behind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MODES, startInit, fixture } from '../helpers/tsinit.mjs';
import { zombiesOf, childrenOf, procStat, procStatIfAlive } from '../helpers/proc.mjs';
import { lineWatcher, waitFor } from '../helpers/wait.mjs';

// The command: make N orphans (their pids, as tsinit's pid namespace sees
// them, go to stdout), say "made", then wait for stdin to close.
function orphanScript(n) {
  return ['sh', '-c', `${fixture('orphans')} ${n}; echo made; exec cat >/dev/null`];
}

for (const mode of MODES) {
  for (const n of [50, 5000]) {
    test(`${mode}: ${n} orphans are all reaped while the command runs`, async () => {
      const h = startInit(['-vv', '--log-format', 'json', ...orphanScript(n)], { mode, timeoutMs: 60000 });
      try {
        const out = lineWatcher(h.proc.stdout);
        await out.waitLine((l) => l === 'made', 'the orphans to be made', 30000);
        const pid = await h.initPid;
        const made = out.lines.filter((l) => /^[0-9]+$/.test(l)).map(Number);
        assert.is(made.length, n);
        // Every orphan has exited and been reaped (under load some are still
        // running when the command says "made"): only the command is left.
        await waitFor('only the command left below tsinit', () => zombiesOf(pid).length === 0 && childrenOf(pid).length === 1, 20000);
        const kids = childrenOf(pid);
        assert.is(kids.length, 1, `tsinit's children: ${kids}`);
        assert.is.not(procStat(kids[0])[3], 'Z');
        // Every orphan went through tsinit's waitpid: one "reaped" event each
        // (the orphans helper itself is reaped by its shell, not by tsinit).
        h.proc.stdin.end();
        const r = await h.result;
        assert.is(r.code, 0, r.stderr.toString().slice(-500));
        const events = r.stderr.toString().trim().split('\n').map((l) => JSON.parse(l));
        const reaped = events.filter((e) => e.event === 'reaped');
        assert.is(reaped.length, n);
        assert.ok(reaped.every((e) => e.code === 0 && e.signal === null));
        if (mode === 'subreaper') for (const p of made.slice(0, 200)) assert.not.ok(procStatIfAlive(p)?.[3] === 'Z', `pid ${p} is a zombie`);
      } finally {
        h.kill();
      }
    });
  }

  test(`${mode}: --no-subreaper is honoured only where it means something`, async () => {
    const h = startInit(['--no-subreaper', ...orphanScript(3)], { mode, timeoutMs: 20000 });
    try {
      const out = lineWatcher(h.proc.stdout);
      await out.waitLine((l) => l === 'made', 'orphans made', 10000);
      const pid = await h.initPid;
      if (mode === 'pid1') {
        // PID 1 reaps its namespace's orphans whatever the flag says.
        await waitFor('orphans reaped by PID 1', () => zombiesOf(pid).length === 0, 10000);
      } else {
        // Not a subreaper: the orphans went to the test's own subreaper chain, not to tsinit.
        assert.is(childrenOf(pid).length, 1);
      }
      h.proc.stdin.end();
      assert.is((await h.result).code, 0);
    } finally {
      h.kill();
    }
  });
}

test.run();
