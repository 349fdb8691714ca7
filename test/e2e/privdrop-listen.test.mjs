// The socket hand-off: --listen sockets bound before the drop and handed over
// as fds 3, 4, ... with LISTEN_*, checked by real traffic through them, an
// inherited activation handed on, stale LISTEN_* removed; bind failures exit
// 125 with every socket closed and every socket file removed. Root only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { MODES, NODE, CLI, fixture } from '../helpers/tsinit.mjs';
import { procStatus, leakedFds } from '../helpers/proc.mjs';
import { lineWatcher, waitFor } from '../helpers/wait.mjs';
import { privSkipReason, freePort, portIsFree, holdPort, client, groupsOf, allFour, USERS, GROUPS } from '../helpers/users.mjs';
import { REPORT, WRAP, ZERO, run, report, serving, assertRefused, assertUsageErrors, privSetup } from '../helpers/privdrop.mjs';

const skip = privSkipReason();
if (skip) {
  process.stdout.write(`SKIP: --listen tests: ${skip}\n`);
} else {
  let ids;
  let tmp;
  privSetup(test, (c) => ({ ids, tmp } = c));
  const tuGroups = () => [ids.tu.gid, ids.tg1.gid, ids.tg2.gid].sort((a, b) => a - b);
  const unprivStart = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim());

  // Issue 12 §6: whoever can write the socket's grandparent directory swaps
  // the parent for a symlink the moment the socket file appears; root must
  // not then chown (or unlink) the file the symlink leads to.
  test('subreaper: a unix socket directory swapped for a symlink right after bind: 0 of 100 races reach the target', async () => {
    const base = path.join(tmp, 'race');
    const dir = path.join(base, 'd');
    const link = path.join(base, 'd.link');
    const target = path.join(tmp, 'race-target');
    fs.mkdirSync(base, { mode: 0o755 });
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.mkdirSync(target, { mode: 0o755 });
    fs.writeFileSync(path.join(target, 's'), 'secret\n', { mode: 0o600 });
    fs.symlinkSync(target, link);
    for (const p of [base, dir]) fs.chownSync(p, ids.tu2.uid, ids.tu2.gid);
    fs.lchownSync(link, ids.tu2.uid, ids.tu2.gid);
    const racer = spawn(WRAP, [fixture('swapdir'), dir, link, 's'], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, TSINIT_WRAP_IDS: `${ids.tu2.uid}:${ids.tu2.gid}:${ids.tu2.gid}` },
    });
    const lines = lineWatcher(racer.stdout);
    const count = (word) => lines.lines.filter((l) => l === word).length;
    const TRIES = 100;
    let reached = 0;
    let swapped = 0;
    try {
      for (let i = 0; i < TRIES; i++) {
        await waitFor('the racer to watch', () => count('ready') === i + 1, 10000, 2);
        const r = await run('subreaper', ['--listen', `unix:${dir}/s,owner=${USERS.tu}`, '--', 'true']);
        assert.ok(r.code === 0 || r.code === 125, `exit ${r.code}: ${r.err}`);
        // The racer saw the socket appear and swapped (before or after tsinit used the path).
        await waitFor('the racer to swap', () => count('swapped') === i + 1, 10000, 2);
        const t = fs.lstatSync(path.join(target, 's'), { throwIfNoEntry: false });
        if (!t || t.uid !== 0 || !t.isFile()) reached++;
        if (!t) fs.writeFileSync(path.join(target, 's'), 'secret\n', { mode: 0o600 });
        else if (t.uid !== 0) fs.chownSync(path.join(target, 's'), 0, 0);
        swapped = count('swapped');
        racer.stdin.write('reset\n');
      }
    } finally {
      racer.kill('SIGKILL');
    }
    process.stdout.write(`race: the racer swapped in ${swapped} of ${TRIES} runs; the target was reached ${reached} times\n`);
    assert.ok(swapped > TRIES / 2, `the racer must actually race (swapped ${swapped} times)`);
    assert.is(reached, 0, `root chowned or removed the symlink's target in ${reached} of ${TRIES} runs`);
    const st = fs.statSync(path.join(target, 's'));
    assert.is(st.uid, 0);
  });

  test('subreaper: a symlink from one user\'s directory into root\'s is refused (CHASE_SAFE): 125, the target untouched; root\'s own symlink is followed', async () => {
    const base = path.join(tmp, 'planted');
    const target = path.join(tmp, 'planted-target');
    fs.mkdirSync(base, { mode: 0o755 });
    fs.mkdirSync(target, { mode: 0o755 });
    fs.writeFileSync(path.join(target, 's'), 'secret\n', { mode: 0o600 });
    fs.chownSync(base, ids.tu2.uid, ids.tu2.gid);
    fs.symlinkSync(target, path.join(base, 'd'));
    fs.lchownSync(path.join(base, 'd'), ids.tu2.uid, ids.tu2.gid);
    const spec = `unix:${base}/d/s,owner=${USERS.tu}`;
    const r = await run('subreaper', ['--listen', spec, '--', REPORT]);
    await assertRefused(r, 125, `cannot open the directory of --listen ${spec}: a symlink or directory on the way belongs to one unprivileged user and leads to another user's file (refused, as systemd's CHASE_SAFE does)`);
    const st = fs.statSync(path.join(target, 's'));
    assert.ok(st.isFile() && st.uid === 0, 'the target keeps its owner');

    // A symlink root made (as /var/run -> /run is) leads where it says.
    const rootLink = path.join(tmp, 'root-link');
    fs.symlinkSync(target, rootLink);
    fs.rmSync(path.join(target, 's'));
    const ok = await run('subreaper', ['--listen', `unix:${rootLink}/s,owner=${USERS.tu}`, '--', 'true']);
    assert.is(ok.code, 0, ok.err);
    const sock = fs.lstatSync(path.join(target, 's'));
    assert.ok(sock.isSocket());
    assert.is(sock.uid, ids.tu.uid);
  });

  // Issue 12 §6: after the drop tsinit (now the target user) cannot write a
  // root-owned directory, yet the socket files it made there must go when
  // the start fails.
  for (const mode of MODES) {
    test(`${mode}: a failure after the drop (the exec, --workdir) still removes the socket files tsinit created`, async () => {
      const sock = path.join(tmp, `after-drop-${mode}.sock`);
      const missing = path.join(tmp, 'no-such-command');
      const r = await run(mode, ['--user', USERS.tu, '--listen', `unix:${sock},owner=${USERS.tu}`, '--', missing]);
      assert.is(r.code, 127, r.err);
      assert.is(r.err, `tsinit: cannot run '${missing}': no such file or directory\n`);
      assert.not.ok(fs.existsSync(sock), 'the socket file is removed after a failed exec');

      const noDir = path.join(tmp, 'no-such-dir');
      const w = await run(mode, ['--user', USERS.tu, '--listen', `unix:${sock}`, '--workdir', noDir, '--', REPORT]);
      await assertRefused(w, 125, `--workdir ${noDir}: no such file or directory (as uid ${ids.tu.uid})`);
      assert.not.ok(fs.existsSync(sock), 'the socket file is removed after a refused --workdir');

      // And a started command keeps it.
      const k = await run(mode, ['--user', USERS.tu, '--listen', `unix:${sock}`, '--', 'true']);
      assert.is(k.code, 0, k.err);
      assert.ok(fs.lstatSync(sock).isSocket(), 'the socket file stays once the command has started');
      fs.rmSync(sock);
    });
  }

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

    test(`${mode}: malformed --listen specs: 2`, async () => {
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
      ];
      await assertUsageErrors(mode, cases);
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
  }
}

test.run();
