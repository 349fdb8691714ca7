// The privilege drop, checked from inside the command (/proc/self/status via
// the privreport fixture) and from tsinit's own threads: ids, groups,
// capabilities, no_new_privs, HOME, --workdir, --umask, --dry-run; every bad
// input exits before anything starts. Root only: users and groups are created
// in set-up and removed afterwards. The --listen half: privdrop-listen.test.mjs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { MODES, NODE, CLI } from '../helpers/tsinit.mjs';
import { procStatus, exists, childrenOf } from '../helpers/proc.mjs';
import { lineWatcher, waitFor } from '../helpers/wait.mjs';
import { privSkipReason, freePort, portIsFree, client, parseReport, groupsOf, allFour, USERS, GROUPS } from '../helpers/users.mjs';
import { REPORT, ZERO, SQPOLL_PROBE, NET_BIND_SERVICE, run, report, serving, assertRefused, assertUsageErrors, privSetup } from '../helpers/privdrop.mjs';

const skip = privSkipReason();
if (skip) {
  process.stdout.write(`SKIP: privilege-drop tests: ${skip}\n`);
} else {
  let ids;
  let tmp;
  privSetup(test, (c) => ({ ids, tmp } = c));
  const tuGroups = () => [ids.tu.gid, ids.tg1.gid, ids.tg2.gid].sort((a, b) => a - b);

  for (const mode of MODES) {
    test(`${mode}: --cap NET_BIND_SERVICE: only that bit, as an ambient capability; tsinit keeps none`, async () => {
      const args = ['--user', USERS.tu, '--cap', 'NET_BIND_SERVICE'];
      const { h, ready, rep, initPid } = await serving(mode, args, ['selfbind:80'], { netns: true });
      try {
        for (const f of ['CapInh', 'CapPrm', 'CapEff', 'CapAmb']) assert.is(rep.status.get(f), NET_BIND_SERVICE, f);
        assert.is(rep.status.get('Uid'), allFour(ids.tu.uid));
        assert.is(rep.status.get('NoNewPrivs'), '1');
        assert.is(ready.selfbind.port, 80, `the service binds port 80 itself: ${JSON.stringify(ready.selfbind)}`);
        assert.is(await client(['tcp', '127.0.0.1', '80'], initPid), 'self\n');
        for (const tid of fs.readdirSync(`/proc/${initPid}/task`)) {
          const t = procStatus(`${initPid}/task/${tid}`);
          for (const f of ['CapInh', 'CapPrm', 'CapEff', 'CapAmb']) assert.is(t.get(f), ZERO, `tsinit thread ${tid} ${f}`);
        }
      } finally {
        h.kill();
        await h.result;
      }
    });

    test(`${mode}: a setuid-root copy of a program cannot regain root (no_new_privs); --allow-new-privs shows the test can tell`, async () => {
      const copy = path.join(tmp, `suid-report-${mode}`);
      fs.copyFileSync(REPORT, copy);
      fs.chownSync(copy, 0, 0);
      fs.chmodSync(copy, 0o4755);
      try {
        const locked = await run(mode, ['--user', USERS.tu, '--', copy, '--regain']);
        assert.is(locked.code, 0, locked.err);
        const a = parseReport(locked.out.split('\n'));
        assert.is(a.status.get('Uid'), allFour(ids.tu.uid), 'the setuid bit gave nothing');
        assert.is(a.regain, 'EPERM');
        assert.is(a.uidsAfter, `${ids.tu.uid} ${ids.tu.uid} ${ids.tu.uid}`);

        const open = await run(mode, ['--user', USERS.tu, '--allow-new-privs', '--', copy, '--regain']);
        const b = parseReport(open.out.split('\n'));
        assert.is(b.status.get('NoNewPrivs'), '0');
        assert.is(b.status.get('Uid'), `${ids.tu.uid}\t0\t0\t0`, 'without no_new_privs the setuid bit works');
        assert.is(b.regain, 'ok');
      } finally {
        fs.rmSync(copy, { force: true });
      }
    });

    test(`${mode}: --workdir is entered as the target user; --umask is applied`, async () => {
      const dir = path.join(tmp, `work-${mode}`);
      fs.mkdirSync(dir, { mode: 0o700 });
      fs.chownSync(dir, ids.tu.uid, ids.tu.gid);
      try {
        const r = await report(mode, ['--user', USERS.tu, '--workdir', dir, '--umask', '0027']);
        assert.is(r.cwd, dir);
        assert.is(r.status.get('Umask'), '0027');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    test(`${mode}: started by the target user itself (not root), --user is accepted`, async () => {
      const asUser = { uid: ids.tu.uid, gid: ids.tu.gid, groups: tuGroups() };
      const r = await report(mode, ['--user', USERS.tu], { asUser });
      assert.is(r.status.get('Uid'), allFour(ids.tu.uid));
      assert.equal(groupsOf(r.status.get('Groups')), tuGroups());
      assert.is(r.status.get('NoNewPrivs'), '1');
    });

    // --- bad input and faults: one line, a documented status, nothing started, nothing bound
    test(`${mode}: unknown user or group: 2`, async () => {
      const port = await freePort();
      const listen = ['--listen', `tcp://127.0.0.1:${port}`];
      const cases = [
        [['--user', 'tsinit-nosuch'], "--user: no user 'tsinit-nosuch' in /etc/passwd"],
        [['--user', `${USERS.tu}:tsinit-nosuch`], "--user: no group 'tsinit-nosuch' in /etc/group"],
        [['--user', USERS.tu, '--groups', `${GROUPS.tg1},tsinit-nosuch`], "--groups: no group 'tsinit-nosuch' in /etc/group"],
        [['--user', '4000000000'], '--user: uid 4000000000 has no entry in /etc/passwd, so it has no group: name one (--user 4000000000:GID)'],
        [['--listen', `unix:${tmp}/x.sock,owner=tsinit-nosuch`], `--listen unix:${tmp}/x.sock,owner=tsinit-nosuch: owner: no user 'tsinit-nosuch' in /etc/passwd`],
      ];
      for (const [args, line] of cases) await assertRefused(await run(mode, [...args, ...listen, '--', REPORT]), 2, line, [port]);
    });

    test(`${mode}: malformed values: 2`, async () => {
      const cases = [
        [['--user', 'a:b:c'], "--user: 'a:b:c' is not USER[:GROUP] (a name or a number on each side)"],
        [['--umask', '0999'], "--umask: '0999' is not an octal mode such as 0027"],
        [['--user', USERS.tu, '--cap', 'NET_BIND'], /^--cap: unknown capability 'NET_BIND' \(one of CHOWN, .*NET_BIND_SERVICE/],
        [['--user', USERS.tu, '--cap', 'SETUID'], '--cap: CAP_SETUID would let the command undo the drop (setresuid/setresgid back to 0); it is refused'],
        [['--cap', 'NET_BIND_SERVICE'], '--cap needs --user (without it tsinit does not drop, and the command keeps what tsinit has)'],
        [['--user', USERS.tu, '--cap', 'SETPCAP'], '--cap: CAP_SETPCAP would let the command change its own capability bounds and securebits (what the drop verified); it is refused'],
        [['--user', USERS.tu, '--cap', 'NET_RAW,SETFCAP'], '--cap: CAP_SETFCAP would let the command give a program file capabilities, which its exec then grants; it is refused'],
      ];
      await assertUsageErrors(mode, cases);
    });

    test(`${mode}: --user while not root (and not already that user): 125, before binding`, async () => {
      const port = await freePort();
      const asUser = { uid: ids.tu.uid, gid: ids.tu.gid, groups: tuGroups() };
      const r = await run(mode, ['--user', USERS.tu2, '--listen', `tcp://127.0.0.1:${port}`, '--', REPORT], { asUser });
      await assertRefused(r, 125, `--user ${USERS.tu2}: tsinit runs as uid ${ids.tu.uid} gid ${ids.tu.gid}, not as root, and cannot switch to uid ${ids.tu2.uid} gid ${ids.tu2.gid}`, [port]);
    });

    test(`${mode}: a missing or forbidden --workdir: 125, sockets closed`, async () => {
      const port = await freePort();
      const missing = path.join(tmp, 'no-such-dir');
      const r = await run(mode, ['--user', USERS.tu, '--listen', `tcp://127.0.0.1:${port}`, '--workdir', missing, '--', REPORT]);
      await assertRefused(r, 125, `--workdir ${missing}: no such file or directory (as uid ${ids.tu.uid})`, [port]);

      // Root could enter it; the target user cannot: it is checked as the target.
      const closed = path.join(tmp, `root-only-${mode}`);
      fs.mkdirSync(closed, { mode: 0o700 });
      try {
        const r2 = await run(mode, ['--user', USERS.tu, '--listen', `tcp://127.0.0.1:${port}`, '--workdir', closed, '--', REPORT]);
        await assertRefused(r2, 125, `--workdir ${closed}: permission denied (as uid ${ids.tu.uid})`, [port]);
      } finally {
        fs.rmSync(closed, { recursive: true, force: true });
      }
    });
  }

  // Issue 12 §6: the child searches PATH after its chdir(--workdir), so a
  // relative PATH entry must be checked there, not in tsinit's directory.
  test('subreaper: --workdir with a relative PATH entry finds the command as execvp after the chdir would', async () => {
    const wd = path.join(tmp, 'wd-path');
    fs.mkdirSync(path.join(wd, 'rel'), { recursive: true, mode: 0o755 });
    fs.writeFileSync(path.join(wd, 'rel', 'tsinit-hello'), '#!/bin/sh\necho "hello from $(pwd)"\n', { mode: 0o755 });
    try {
      const env = { PATH: `rel:${process.env.PATH}` };
      const r = await run('subreaper', ['--workdir', wd, '--', 'tsinit-hello'], { env });
      assert.is(r.code, 0, r.err);
      assert.is(r.out, `hello from ${wd}\n`);
      const u = await run('subreaper', ['--user', USERS.tu, '--workdir', wd, '--', 'tsinit-hello'], { env });
      assert.is(u.code, 0, u.err);
      assert.is(u.out, `hello from ${wd}\n`);
      // Not in the working directory: not found, whatever tsinit's own directory holds.
      const n = await run('subreaper', ['--workdir', tmp, '--', 'tsinit-hello'], { env });
      assert.is(n.code, 127);
      assert.is(n.err, "tsinit: cannot run 'tsinit-hello': no such file or directory\n");
    } finally {
      fs.rmSync(wd, { recursive: true, force: true });
    }
  });

  test('subreaper: --cap with root-equivalent capabilities: granted, with one warning naming the risk', async () => {
    const r = await run('subreaper', ['--user', USERS.tu, '--cap', 'DAC_OVERRIDE,net_bind_service', '--', REPORT]);
    assert.is(r.code, 0, r.err);
    assert.is(r.err, 'tsinit: warning: --cap: this capability is root-equivalent (CAP_DAC_OVERRIDE: read, write and execute any file): the command can regain full root with it\n');
    assert.is(parseReport(r.out.split('\n')).status.get('CapAmb'), '0000000000000402');
  });

  test('groups: initgroups by default; --groups exactly; an explicit :GROUP alone; numeric ids', async () => {
    const cases = [
      [['--user', USERS.tu], () => [ids.tu.uid, ids.tu.gid, tuGroups(), ids.tu.home]],
      [['--user', USERS.tu2], () => [ids.tu2.uid, ids.tu2.gid, [ids.tu2.gid], ids.tu2.home]],
      [['--user', USERS.tu, '--groups', ''], () => [ids.tu.uid, ids.tu.gid, [], ids.tu.home]],
      [['--user', `${USERS.tu}:${GROUPS.tg1}`], () => [ids.tu.uid, ids.tg1.gid, [ids.tg1.gid], ids.tu.home]],
      [['--user', USERS.tu, '--groups', `${GROUPS.tg2},4242`], () => [ids.tu.uid, ids.tu.gid, [ids.tg2.gid, 4242].sort((a, b) => a - b), ids.tu.home]],
      [['--user', `${ids.tu.uid}:${ids.tg2.gid}`], () => [ids.tu.uid, ids.tg2.gid, [ids.tg2.gid], ids.tu.home]],
      [['--user', '4243:4244'], () => [4243, 4244, [4244], '/']],
    ];
    for (const [args, want] of cases) {
      const [uid, gid, groups, home] = want();
      const r = await report('subreaper', args);
      const what = args.join(' ');
      assert.is(r.status.get('Uid'), allFour(uid), `${what}: Uid`);
      assert.is(r.status.get('Gid'), allFour(gid), `${what}: Gid`);
      assert.equal(groupsOf(r.status.get('Groups')), groups, `${what}: Groups`);
      assert.is(r.env.HOME, home, `${what}: HOME`);
      for (const f of ['CapInh', 'CapPrm', 'CapEff', 'CapAmb']) assert.is(r.status.get(f), ZERO, `${what}: ${f}`);
    }
  });

  test('subreaper: --pdeathsig still works after the drop (the kernel clears it when the ids change)', async () => {
    // The intermediate shell starts tsinit in the background, prints its pid, then dies.
    const p = spawn('sh', ['-c', `"${NODE}" "${CLI}" -p TERM --user ${USERS.tu} sleep 30 >/dev/null 2>&1 & echo $!; sleep 0.5`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const out = lineWatcher(p.stdout);
    const tsinit = Number(await out.waitLine((l) => /^[0-9]+$/.test(l), 'tsinit pid'));
    await new Promise((r) => p.on('close', r));
    try {
      await waitFor('tsinit to end after its parent died', () => !exists(tsinit) || fs.readFileSync(`/proc/${tsinit}/stat`, 'utf8').includes(') Z'), 10000);
    } finally {
      for (const c of childrenOf(tsinit)) try { process.kill(c, 'SIGKILL'); } catch {}
      try { process.kill(tsinit, 'SIGKILL'); } catch {}
    }
  });

  test('subreaper: an io_uring SQPOLL ring made as root (UV_USE_IO_URING=1) refuses the drop (CVE-2024-22017): 125', async () => {
    const env = { UV_USE_IO_URING: '1' };
    const probe = spawnSync(NODE, ['-e', SQPOLL_PROBE], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 10000 });
    if (probe.stdout !== 'true') {
      process.stdout.write('SKIP: io_uring test: this Node and kernel make no SQPOLL ring even with UV_USE_IO_URING=1 (nothing to refuse)\n');
      return;
    }
    const port = await freePort();
    const r = await run('subreaper', ['--user', USERS.tu, '--listen', `tcp://127.0.0.1:${port}`, '--', REPORT], { env });
    await assertRefused(r, 125, `--user ${USERS.tu}: libuv's io_uring polls with a kernel thread created as root (UV_USE_IO_URING=1?), whose requests would keep root's credentials after the drop (CVE-2024-22017); unset UV_USE_IO_URING`, [port]);
  });

  test('--dry-run prints the plan as JSON and binds, creates and runs nothing', async () => {
    const port = await freePort();
    const sock = path.join(tmp, 'dry.sock');
    const r = await run('subreaper', [
      '--dry-run', '--user', USERS.tu, '--groups', GROUPS.tg1, '--cap', 'net_bind_service',
      '--listen', `tcp://127.0.0.1:${port},name=web`, '--listen', 'udp://[::1]:53',
      '--listen', `unix:${sock},mode=0600,owner=${USERS.tu}`, '--umask', '027', '--workdir', '/srv',
      '--', REPORT, 'arg',
    ], { env: { LISTEN_PID: '999999', LISTEN_FDS: '1' } });
    assert.is(r.code, 0, r.err);
    assert.equal(JSON.parse(r.out), {
      user: USERS.tu,
      uid: ids.tu.uid,
      gid: ids.tu.gid,
      groups: [ids.tg1.gid],
      capabilities: ['CAP_NET_BIND_SERVICE'],
      no_new_privs: true,
      umask: '0027',
      cwd: '/srv',
      fds: [
        { fd: 3, name: 'web', socket: 'tcp', address: `127.0.0.1:${port}` },
        { fd: 4, name: 'unknown', socket: 'udp', address: '[::1]:53' },
        { fd: 5, name: 'unknown', socket: 'unix', address: sock, mode: '0600', owner: { uid: ids.tu.uid, gid: null } },
      ],
      env: {
        HOME: ids.tu.home,
        LISTEN_FDS: '3',
        LISTEN_FDNAMES: 'web:unknown:unknown',
        LISTEN_PID: "(the command's own pid, written between fork and exec)",
      },
      env_removed: [],
      argv: [REPORT, 'arg'],
    });
    assert.ok(await portIsFree(port), 'nothing was bound');
    assert.not.ok(fs.existsSync(sock), 'no socket file was created');
  });
}

test.run();
