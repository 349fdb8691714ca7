// The privilege drop and socket hand-off, checked from inside the command
// (/proc/self/status and /proc/self/fd, via the privreport fixture) and by
// real traffic through the handed-over sockets; every bad input exits before
// anything starts, with every socket closed. Root only: users and groups are
// created in set-up and removed afterwards.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { MODES, startInit, fixture, NODE, CLI } from '../helpers/tsinit.mjs';
import { procStatus, leakedFds, exists, childrenOf } from '../helpers/proc.mjs';
import { lineWatcher, waitFor } from '../helpers/wait.mjs';
import {
  privSkipReason,
  createTestIds,
  removeTestIds,
  freePort,
  portIsFree,
  holdPort,
  client,
  parseReport,
  groupsOf,
  allFour,
  SERVE,
  USERS,
  GROUPS,
} from '../helpers/users.mjs';

const WRAP = fixture('wrap');
const REPORT = fixture('privreport');
const ZERO = '0000000000000000';
/** Prints true when this node holds an io_uring ring with a kernel SQPOLL thread. */
const SQPOLL_PROBE = `const fs = require('fs');
process.stdout.write(String(fs.readdirSync('/proc/self/fd').some((f) => {
  try { return fs.readlinkSync('/proc/self/fd/' + f) === 'anon_inode:[io_uring]' && /^SqThread:\\s*[0-9]/m.test(fs.readFileSync('/proc/self/fdinfo/' + f, 'utf8')); } catch { return false; }
})));`;
const NET_BIND_SERVICE = '0000000000000400';

/**
 * Starts tsinit with args; netns: in a fresh network namespace (lo up), so
 * port 80 is ours and nothing reaches the host; asUser: started by that user
 * ({uid, gid, groups}) instead of root.
 */
function start(mode, args, { netns = false, asUser = null, env = {}, timeoutMs = 30000 } = {}) {
  const e = { ...process.env, ...env };
  let node;
  if (netns || asUser) {
    node = WRAP;
    e.TSINIT_WRAP_NODE = NODE;
    if (netns) e.TSINIT_WRAP_NETNS = '1';
    if (asUser) e.TSINIT_WRAP_IDS = `${asUser.uid}:${asUser.gid}:${asUser.groups.join(',')}`;
  }
  return startInit(args, { mode, timeoutMs, env: e, ...(node ? { node } : {}) });
}

async function run(mode, args, opts = {}) {
  const h = start(mode, args, opts);
  h.proc.stdin.end();
  const r = await h.result;
  h.kill();
  return { ...r, out: r.stdout.toString(), err: r.stderr.toString() };
}

/** Runs tsinit with privreport as the command and returns the report. */
async function report(mode, args, opts = {}) {
  const r = await run(mode, [...args, '--', REPORT], opts);
  assert.is(r.code, 0, `exit ${r.code}: ${r.err}`);
  return { ...parseReport(r.out.split('\n')), err: r.err };
}

/** Starts a serving command (privreport, then privserve) and waits until it listens. */
async function serving(mode, args, kinds, opts = {}) {
  const h = start(mode, [...args, '--', REPORT, '--', NODE, SERVE, ...kinds], opts);
  const w = lineWatcher(h.proc.stdout);
  try {
    const readyLine = await w.waitLine((l) => l.startsWith('{'), 'privserve', 15000);
    const ready = JSON.parse(readyLine);
    assert.ok(ready.ready, `privserve: ${readyLine}; stderr: ${Buffer.concat(h.stderr).toString()}`);
    return { h, ready, rep: parseReport(w.lines), initPid: await h.initPid };
  } catch (err) {
    h.kill();
    await h.result;
    throw err;
  }
}

/** The one line tsinit printed, and that nothing started or stayed bound. */
async function assertRefused(r, status, line, freePorts = []) {
  assert.is(r.code, status, `exit status; stderr: ${r.err}`);
  assert.is(r.err, `tsinit: ${line}\n`);
  assert.is(r.out, '', 'the command must not have run');
  for (const p of freePorts) assert.ok(await portIsFree(p), `port ${p} is still bound`);
}

const skip = privSkipReason();
if (skip) {
  process.stdout.write(`SKIP: privilege-drop tests: ${skip}\n`);
} else {
  let ids;
  let tmp;
  const unprivStart = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim());

  test.before(() => {
    ids = createTestIds();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsinit-priv-'));
    fs.chmodSync(tmp, 0o755);
  });
  test.after(() => {
    removeTestIds();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const tuGroups = () => [ids.tu.gid, ids.tg1.gid, ids.tg2.gid].sort((a, b) => a - b);

  for (const mode of MODES) {
    test(`${mode}: --user and --listen: the command's ids, groups, capabilities, no_new_privs, fds, LISTEN_*; TCP on port 80, UDP and unix served`, async () => {
      const sock = path.join(tmp, `ctl-${mode}.sock`);
      const args = [
        '--user', USERS.tu,
        '--listen', 'tcp://127.0.0.1:80,name=web',
        '--listen', 'udp://127.0.0.1:53,name=dns',
        '--listen', `unix:${sock},mode=0660,owner=${USERS.tu}:${GROUPS.tg1},name=ctl`,
      ];
      const { h, ready, rep, initPid } = await serving(mode, args, ['tcp', 'udp4', 'unix', 'selfbind:80'], { netns: true });
      try {
        const st = rep.status;
        assert.is(st.get('Uid'), allFour(ids.tu.uid), 'Uid');
        assert.is(st.get('Gid'), allFour(ids.tu.gid), 'Gid');
        assert.equal(groupsOf(st.get('Groups')), tuGroups(), 'Groups: the user and its two groups');
        for (const f of ['CapInh', 'CapPrm', 'CapEff', 'CapAmb']) assert.is(st.get(f), ZERO, f);
        assert.is(st.get('NoNewPrivs'), '1');
        assert.is(rep.env.HOME, ids.tu.home);

        // fds 3, 4, 5 are the sockets, in the order given; nothing else leaked in.
        const expected = [...new Set([0, 1, 2, 3, 4, 5, ...leakedFds().filter((fd) => fd > 5)])].sort((a, b) => a - b);
        assert.equal(Object.keys(rep.fds).map(Number).sort((a, b) => a - b), expected);
        for (const fd of [3, 4, 5]) assert.match(rep.fds[fd], /^socket:\[\d+\]$/);
        assert.is(rep.env.LISTEN_PID, String(rep.pid), 'LISTEN_PID is the command\'s own pid');
        assert.is(rep.env.LISTEN_FDS, '3');
        assert.is(rep.env.LISTEN_FDNAMES, 'web:dns:ctl');
        // privserve is the same process after exec: it sees the same.
        assert.is(ready.listenPid, String(ready.pid));
        assert.is(ready.pid, rep.pid);
        // Without a capability, the service itself cannot bind port 80.
        assert.equal(ready.selfbind, { error: 'EACCES' });

        // Every thread of tsinit itself carries the target ids too.
        const tids = fs.readdirSync(`/proc/${initPid}/task`);
        assert.ok(tids.length > 1, 'tsinit runs several threads');
        for (const tid of tids) {
          const t = procStatus(`${initPid}/task/${tid}`);
          assert.is(t.get('Uid'), allFour(ids.tu.uid), `thread ${tid} Uid`);
          assert.is(t.get('Gid'), allFour(ids.tu.gid), `thread ${tid} Gid`);
          assert.equal(groupsOf(t.get('Groups')), tuGroups(), `thread ${tid} Groups`);
          for (const f of ['CapPrm', 'CapEff', 'CapAmb']) assert.is(t.get(f), ZERO, `thread ${tid} ${f}`);
        }
        assert.is(procStatus(initPid).get('NoNewPrivs'), '1');

        // Real traffic through the handed-over descriptors.
        assert.is(await client(['tcp', '127.0.0.1', '80'], initPid), `hello web from ${rep.pid}\n`);
        assert.is(await client(['udp4', '127.0.0.1', '53', 'ping'], initPid), 'echo dns ping\n');
        assert.is(await client(['unix', sock]), `hello ctl from ${rep.pid}\n`);
        const s = fs.statSync(sock);
        assert.ok(s.isSocket());
        assert.is(s.mode & 0o7777, 0o660, 'unix socket mode');
        assert.is(s.uid, ids.tu.uid, 'unix socket owner');
        assert.is(s.gid, ids.tg1.gid, 'unix socket group');
      } finally {
        h.kill();
        await h.result;
      }
    });

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

    test(`${mode}: a socket-activated tsinit hands its sockets on with LISTEN_PID rewritten, before its own`, async () => {
      // The outer tsinit socket-activates the inner one, which drops and adds a socket.
      const args = [
        '--listen', 'tcp://127.0.0.1:0,name=outer', '--',
        NODE, CLI, '--user', USERS.tu, '--listen', 'tcp://127.0.0.1:0,name=inner',
      ];
      const { h, ready, rep } = await serving(mode, args, ['tcp', 'tcp']);
      try {
        assert.is(rep.env.LISTEN_PID, String(rep.pid));
        assert.is(rep.env.LISTEN_FDS, '2');
        assert.is(rep.env.LISTEN_FDNAMES, 'outer:inner');
        assert.is(rep.status.get('Uid'), allFour(ids.tu.uid));
        assert.is(await client(['tcp', '127.0.0.1', String(ready.addresses[0].port)]), `hello outer from ${rep.pid}\n`);
        assert.is(await client(['tcp', '127.0.0.1', String(ready.addresses[1].port)]), `hello inner from ${rep.pid}\n`);
      } finally {
        h.kill();
        await h.result;
      }
    });

    test(`${mode}: stale LISTEN_* (another process's pid) are removed, or replaced by tsinit's own`, async () => {
      const env = { LISTEN_PID: '999999', LISTEN_FDS: '2', LISTEN_FDNAMES: 'a:b' };
      const plain = await report(mode, [], { env });
      assert.is(plain.env.LISTEN_PID, undefined);
      assert.is(plain.env.LISTEN_FDS, undefined);
      assert.is(plain.env.LISTEN_FDNAMES, undefined);
      assert.match(plain.err, /warning: removed stale LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES/);

      const port = await freePort();
      const own = await report(mode, ['--listen', `tcp://127.0.0.1:${port},name=mine`], { env });
      assert.is(own.env.LISTEN_PID, String(own.pid));
      assert.is(own.env.LISTEN_FDS, '1');
      assert.is(own.env.LISTEN_FDNAMES, 'mine');
      assert.ok(await portIsFree(port), 'tsinit and the command have exited: the port is free');
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

    test(`${mode}: malformed specs and values: 2`, async () => {
      const cases = [
        [['--listen', 'tcp://127.0.0.1'], '--listen tcp://127.0.0.1: expected tcp://HOST:PORT (an IPv4 address, or an IPv6 one in brackets: tcp://[::1]:8080)'],
        [['--listen', 'tcp://127.0.0.1:65536'], '--listen tcp://127.0.0.1:65536: port 65536 is not 0-65535'],
        [['--listen', 'tcp://localhost:80'], "--listen tcp://localhost:80: 'localhost' is not an IPv4 address (host names are not resolved; IPv6 goes in brackets)"],
        [['--listen', 'udp://[::1:53'], '--listen udp://[::1:53: expected udp://HOST:PORT (an IPv4 address, or an IPv6 one in brackets: udp://[::1]:8080)'],
        [['--listen', 'sctp://127.0.0.1:80'], '--listen sctp://127.0.0.1:80: expected tcp://HOST:PORT, udp://HOST:PORT or unix:/PATH'],
        [['--listen', 'unix:run/x.sock'], '--listen unix:run/x.sock: expected unix:/ABSOLUTE/PATH'],
        [['--listen', 'unix:/run/x.sock,mode=888'], "--listen unix:/run/x.sock,mode=888: mode '888' is not an octal mode such as 0660"],
        [['--listen', 'tcp://127.0.0.1:80,mode=0600'], '--listen tcp://127.0.0.1:80,mode=0600: mode= and owner= apply to unix sockets only'],
        [['--listen', 'tcp://127.0.0.1:80,name=a:b'], "--listen tcp://127.0.0.1:80,name=a:b: name 'a:b' must be 1-255 printable ASCII characters without ':' (LISTEN_FDNAMES)"],
        [['--user', 'a:b:c'], "--user: 'a:b:c' is not USER[:GROUP] (a name or a number on each side)"],
        [['--umask', '0999'], "--umask: '0999' is not an octal mode such as 0027"],
        [['--user', USERS.tu, '--cap', 'NET_BIND'], /^--cap: unknown capability 'NET_BIND' \(one of CHOWN, .*NET_BIND_SERVICE/],
        [['--user', USERS.tu, '--cap', 'SETUID'], '--cap: CAP_SETUID would let the command undo the drop (setresuid/setresgid back to 0); it is refused'],
        [['--cap', 'NET_BIND_SERVICE'], '--cap needs --user (without it tsinit does not drop, and the command keeps what tsinit has)'],
      ];
      for (const [args, line] of cases) {
        const r = await run(mode, [...args, '--', REPORT]);
        if (line instanceof RegExp) {
          assert.is(r.code, 2);
          assert.is(r.out, '');
          assert.is(r.err.split('\n').length, 2, r.err);
          assert.match(r.err.slice('tsinit: '.length), line);
        } else await assertRefused(r, 2, line);
      }
    });

    test(`${mode}: a port already in use: 125, and the sockets bound before it are closed again`, async () => {
      const busy = await holdPort();
      const port = await freePort();
      const sock = path.join(tmp, `before-${mode}.sock`);
      try {
        const r = await run(mode, ['--listen', `tcp://127.0.0.1:${port}`, '--listen', `unix:${sock}`, '--listen', `tcp://127.0.0.1:${busy.port}`, '--user', USERS.tu, '--', REPORT]);
        await assertRefused(r, 125, `cannot bind --listen tcp://127.0.0.1:${busy.port}: address already in use`, [port]);
        assert.not.ok(fs.existsSync(sock), 'the unix socket file it created is removed again');
      } finally {
        await busy.close();
      }
    });

    test(`${mode}: binding a low port while not root: 125`, async () => {
      if (unprivStart <= 80) {
        process.stdout.write(`SKIP: low-port test: net.ipv4.ip_unprivileged_port_start is ${unprivStart}, so port 80 is not privileged here\n`);
        return;
      }
      const port = await freePort();
      const asUser = { uid: ids.tu.uid, gid: ids.tu.gid, groups: tuGroups() };
      const r = await run(mode, ['--listen', `tcp://127.0.0.1:${port}`, '--listen', 'tcp://127.0.0.1:80', '--', REPORT], { asUser });
      await assertRefused(r, 125, `cannot bind --listen tcp://127.0.0.1:80: permission denied (ports below ${unprivStart} need root or CAP_NET_BIND_SERVICE)`, [port]);
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
