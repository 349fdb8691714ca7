// A service's stop (issue 10): its tree is its process group while the leader
// is unreaped and every process of its session, each pinned before it is
// signalled. A member whose pid went to an unrelated process is not
// signalled; what a leader leaves in its session is SIGKILLed after
// stop.timeout (and tsinit exits once it is gone), and waited for without
// one; a member that keeps forking does not outlive the repeated SIGKILL walk.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { MODES, canUnshare, fixture, isRoot, NODE, ROOT } from '../helpers/tsinit.mjs';
import { exists } from '../helpers/proc.mjs';
import { lineWatcher, sleep, waitFor } from '../helpers/wait.mjs';
import { scratch, startServices } from '../helpers/services.mjs';

const sh = (script) => JSON.stringify(['/bin/sh', '-c', script]);
/** A leader that leaves two members behind: they ignore SIGTERM, it does not; their pids go to FILE. */
const leaves = (file, up) => sh(`trap '' TERM; sleep 1000 & echo $! > ${file}; sleep 1000 & echo $! >> ${file}; trap - TERM; touch ${up}; wait`);
/** SIGKILL to each pid the test started that still names a process called comm. */
const killAll = (pids, comm) =>
  pids.forEach((p) => {
    try {
      if (fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim() === comm) process.kill(p, 'SIGKILL');
    } catch {}
  });
const reapedBy = (h, sig) => h.events().filter((e) => e.event === 'orphan-reaped' && e.service === 's' && e.signal === sig);

if (!canUnshare) {
  console.log('SKIP: the session pid-reuse test: unshare --pid failed here (needs root or unprivileged user namespaces)');
} else {
  test("a session member whose pid was reused by an unrelated process is not signalled by the service's stop", () => {
    // As PID 1 of a fresh namespace the fixture sets ns_last_pid, so a new
    // process really gets the member's old pid (fixtures/sessionreuse.cjs).
    const ns = isRoot ? ['--pid', '--fork', '--mount-proc'] : ['--user', '--map-root-user', '--pid', '--fork', '--mount-proc'];
    const r = spawnSync('unshare', [...ns, NODE, path.join(ROOT, 'test/fixtures/sessionreuse.cjs'), path.join(ROOT, 'dist')], { encoding: 'utf8', timeout: 20000, killSignal: 'SIGKILL' });
    assert.is(r.status, 0, r.stderr);
    const o = JSON.parse(r.stdout.trim());
    if (!o.reused) {
      console.log('SKIP: part of the session pid-reuse test: ns_last_pid did not give the old pid back here');
      return;
    }
    assert.equal(o, { listedInSession: true, reused: true, otherSession: true, stale: 0, sameTick: 0, bAlive: true, live: 1, leaderSignal: 'SIGKILL' });
  });
}

for (const mode of MODES) {
  test(`${mode}: stop.timeout SIGKILLs what the leader left in its session; tsinit exits once it is gone`, async () => {
    const s = scratch();
    const cfg = s.write('c.toml', `[service.s]\ncommand = ${leaves(s.path('m'), s.path('up'))}\nstop = { timeout = "500ms" }\n`);
    const h = startServices(mode, cfg);
    try {
      await waitFor('up', () => s.exists('up') && s.lines('m').length === 2);
      const members = s.lines('m').map(Number);
      process.kill(await h.initPid, 'SIGTERM');
      const exited = await h.waitEvent('service-exited', (e) => e.service === 's');
      assert.is(exited.signal, 15);
      const t0 = Date.now();
      const r = await h.result;
      const took = Date.now() - t0;
      assert.is(r.code, 0, r.stderr.toString());
      assert.ok(took >= 300 && took < 8000, `ended ${took} ms after its leader`);
      const killed = h.events().find((e) => e.event === 'service-killed' && e.service === 's');
      assert.ok(killed, r.stderr.toString());
      assert.is(killed.remaining, 2);
      assert.is(reapedBy(h, 9).length, 2, r.stderr.toString());
      assert.ok(h.events().some((e) => e.event === 'service-stopped' && e.service === 's'));
      if (mode === 'subreaper') assert.equal(members.filter(exists), []);
    } finally {
      h.kill();
      s.remove();
    }
  });

  test(`${mode}: without a stop timeout, what the leader left is waited for, never SIGKILLed by tsinit`, async () => {
    const s = scratch();
    const cfg = s.write('c.toml', `[service.s]\ncommand = ${leaves(s.path('m'), s.path('up'))}\n`);
    const h = startServices(mode, cfg);
    try {
      await waitFor('up', () => s.exists('up') && s.lines('m').length === 2);
      process.kill(await h.initPid, 'SIGTERM');
      await h.waitEvent('service-exited', (e) => e.service === 's');
      await sleep(2000);
      assert.not.ok(h.events().some((e) => e.event === 'service-killed' || e.event === 'exit'), 'killed on a timer nobody asked for');
      assert.is(reapedBy(h, 9).length, 0);
      if (mode === 'subreaper') {
        // They leave (here the test ends them): tsinit is done at once.
        const members = s.lines('m').map(Number);
        assert.equal(members.filter(exists), members, 'a member is gone');
        killAll(members, 'sleep');
        const r = await Promise.race([h.result, sleep(5000).then(() => null)]);
        assert.ok(r, 'tsinit did not exit once the session was empty');
        assert.is(r.code, 0, r.stderr.toString());
        assert.ok(h.events().some((e) => e.event === 'service-stopped' && e.service === 's'));
      } else {
        // The orchestrator's SIGKILL ends the namespace.
        h.kill();
        const r = await h.result;
        assert.is.not(r.code, 0);
      }
    } finally {
      h.kill();
      s.remove();
    }
  });

  test(`${mode}: a session member forking while SIGKILL is under way does not outlive the stop`, async () => {
    // The leader hands SIGTERM to forker (own group, same session) and exits,
    // so only the session walk reaches it. A child forked as its parent was
    // being killed prints "s <pid>" and waits forever (fixtures/forker.c).
    const s = scratch();
    const own = `python3 -c 'import os, sys; os.setpgid(0, 0); os.execv(sys.argv[1], sys.argv[1:])' ${fixture('forker')}`;
    const cfg = s.write('c.toml', `[service.s]\ncommand = ${sh(`${own} & F=$!; trap 'kill -TERM $F; exit 0' TERM; wait`)}\nstop = { timeout = "300ms" }\n`);
    const h = startServices(mode, cfg);
    const out = lineWatcher(h.proc.stdout);
    const survivors = () => (mode === 'subreaper' ? out.lines.filter((l) => l.startsWith('s ')).map((l) => Number(l.slice(2))) : []);
    try {
      await out.waitLine((l) => l === 'ready', 'the forker', 10000);
      process.kill(await h.initPid, 'SIGTERM');
      const code = await new Promise((r) => h.proc.on('exit', (c) => r(c)));
      assert.is(code, 0, Buffer.concat(h.stderr).toString());
      // Every process of the tree holds stdout: EOF means none is left.
      const ended = await Promise.race([h.result.then(() => true), sleep(3000).then(() => false)]);
      const left = survivors().filter(exists);
      assert.ok(ended, `processes outlived tsinit: ${left.join(', ') || '(in the namespace)'}`);
      assert.ok(h.events().some((e) => e.event === 'service-killed' && e.service === 's'));
    } finally {
      killAll(survivors(), 'forker');
      h.kill();
      s.remove();
    }
  });
}

test.run();
