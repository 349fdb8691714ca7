// The socket hand-off: --listen sockets bound before the drop and handed over
// as fds 3, 4, ... with LISTEN_*, checked by real traffic through them, an
// inherited activation handed on, stale LISTEN_* removed; bind failures exit
// 125 with every socket closed and every socket file removed. Root only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { MODES, NODE, CLI } from '../helpers/tsinit.mjs';
import { procStatus, leakedFds } from '../helpers/proc.mjs';
import { privSkipReason, freePort, portIsFree, holdPort, client, groupsOf, allFour, USERS, GROUPS } from '../helpers/users.mjs';
import { REPORT, ZERO, run, report, serving, assertRefused, privSetup } from '../helpers/privdrop.mjs';

const skip = privSkipReason();
if (skip) {
  process.stdout.write(`SKIP: --listen tests: ${skip}\n`);
} else {
  let ids;
  let tmp;
  privSetup(test, (c) => ({ ids, tmp } = c));
  const tuGroups = () => [ids.tu.gid, ids.tg1.gid, ids.tg2.gid].sort((a, b) => a - b);
  const unprivStart = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim());

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
  }
}

test.run();
