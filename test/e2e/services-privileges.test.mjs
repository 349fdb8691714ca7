// Services and privileges: listen sockets bound once and handed to every
// instance (a client that connects while the service is down is served by
// the next one), and per-service credentials read from /proc/self/status
// inside two services running as different users; each service's notify
// socket is out of the other user's reach. Users are created for the
// credential tests (root only) and removed afterwards.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import { MODES, fixture, NODE, ROOT } from '../helpers/tsinit.mjs';
import { spawnSync } from 'node:child_process';
import { privSkipReason, freePort, parseReport, groupsOf, allFour } from '../helpers/users.mjs';
import { scratch, startServices, finish, serviceTestIds, ask } from '../helpers/services.mjs';

const REPORT = fixture('privreport');
const SDNOTIFY = fixture('sdnotify');
const ACCEPT = `${ROOT}/test/fixtures/acceptonce.cjs`;
const sh = (script) => JSON.stringify(['/bin/sh', '-c', script]);
const NET_BIND_SERVICE = '0000000000000400';
const ZERO = '0000000000000000';

const { create: createTestIds, remove: removeTestIds, sbin } = serviceTestIds({ tu: 'tsinit-sv1', tu2: 'tsinit-sv2', tg1: 'tsinit-svg1', tg2: 'tsinit-svg2' });

for (const mode of MODES) {
  test(`${mode}: a listen socket outlives restarts: a client that connects while the service is down is served by the next instance`, async () => {
    const s = scratch();
    const port = await freePort();
    const cfg = s.write(
      'c.toml',
      `[service.web]\ncommand = ["${NODE}", "${ACCEPT}"]\nlisten = ["tcp://127.0.0.1:${port},name=web"]\n` +
        `restart = { policy = "always", backoff = "1s", limit = 0 }\n`,
    );
    const h = startServices(mode, cfg);
    try {
      await h.waitEvent('service-ready');
      const [pid1, names1] = (await ask(port)).split(' ');
      assert.is(names1, 'web');
      // The instance answered and exits 1; the next starts after a 1 s backoff.
      await h.waitEvent('service-backoff');
      const startedBefore = h.events().filter((e) => e.event === 'service-started').length;
      const answer = ask(port);
      const [pid2] = (await answer).split(' ');
      assert.is(startedBefore, 1, 'the client connected while no instance ran');
      assert.is.not(pid2, pid1, 'the same instance answered twice');
      const second = h.events().filter((e) => e.event === 'service-started')[1];
      assert.ok(second, 'a second instance started');
      const r = await finish(h);
      assert.is(r.code, 0, r.stderr.toString());
    } finally {
      h.kill();
      s.remove();
    }
  });
}

const skip = privSkipReason();
if (skip) {
  test('per-service credentials', () => {
    console.log(`SKIP: per-service credentials: ${skip}`);
  });
} else {
  let ids;
  test.before(() => {
    ids = createTestIds();
  });
  test.after(() => removeTestIds());

  test('a user removed while its service is in backoff: the next start is a failed one, and says why', async () => {
    const s = scratch();
    const name = 'tsinit-sv3';
    spawnSync(sbin('userdel'), [name], { stdio: 'ignore' });
    spawnSync(sbin('groupdel'), [name], { stdio: 'ignore' });
    assert.is(spawnSync(sbin('useradd'), ['-M', '-U', '-s', '/usr/sbin/nologin', name]).status, 0);
    // A second service, as root, keeps tsinit root: alone, v would make tsinit drop to its user, and
    // userdel refuses to remove a user a process (tsinit) runs as.
    const cfg = s.write('c.toml', `[service.v]\ncommand = ${sh('exit 1')}\nuser = "${name}"\nrestart = { policy = "on-failure", backoff = "1s", limit = 0 }\n\n[service.root]\ncommand = ["sleep", "1000"]\n`);
    const h = startServices('subreaper', cfg);
    try {
      await h.waitEvent('service-backoff');
      spawnSync(sbin('userdel'), [name], { stdio: 'ignore' });
      const failed = await h.waitEvent('service-start-failed');
      assert.match(failed.msg, /user tsinit-sv3 is no longer in \/etc\/passwd/);
      const r = await finish(h);
      assert.is(r.code, 0, r.stderr.toString());
    } finally {
      h.kill();
      spawnSync(sbin('userdel'), [name], { stdio: 'ignore' });
      spawnSync(sbin('groupdel'), [name], { stdio: 'ignore' });
      s.remove();
    }
  });

  for (const mode of MODES) {
    test(`${mode}: two services as two users: ids, groups, caps, no_new_privs, HOME/USER/LOGNAME, umask and workdir from inside`, async () => {
      const s = scratch();
      const report = (name) => sh(`echo "$HOME $USER $LOGNAME" > ${s.path(`${name}.env`)}; exec ${REPORT} > ${s.path(`${name}.report`)}`);
      const cfg = s.write(
        'c.toml',
        `[service.one]\ncommand = ${report('one')}\nuser = "${ids.tu.name}"\ncaps = ["NET_BIND_SERVICE"]\numask = "027"\nworkdir = "${s.dir}"\n\n` +
          `[service.two]\ncommand = ${report('two')}\nuser = "${ids.tu2.name}"\ngroups = ["${ids.tg2.name}"]\n\n` +
          `[service.three]\ncommand = ${report('three')}\nuser = "${ids.tu2.name}"\nno_new_privs = false\n`,
      );
      const h = startServices(mode, cfg);
      try {
        const r = await h.result;
        assert.is(r.code, 0, r.stderr.toString());
        const one = parseReport(s.lines('one.report'));
        assert.is(one.status.get('Uid'), allFour(ids.tu.uid));
        assert.is(one.status.get('Gid'), allFour(ids.tu.gid));
        assert.equal(groupsOf(one.status.get('Groups')), [ids.tu.gid, ids.tg1.gid, ids.tg2.gid].sort((a, b) => a - b));
        assert.is(one.status.get('CapEff'), NET_BIND_SERVICE);
        assert.is(one.status.get('CapAmb'), NET_BIND_SERVICE);
        assert.is(one.status.get('CapPrm'), NET_BIND_SERVICE);
        assert.is(one.status.get('NoNewPrivs'), '1');
        assert.is(one.status.get('Umask'), '0027');
        assert.is(one.cwd, s.dir);
        assert.is(s.lines('one.env')[0], `${ids.tu.home} ${ids.tu.name} ${ids.tu.name}`);
        const two = parseReport(s.lines('two.report'));
        assert.is(two.status.get('Uid'), allFour(ids.tu2.uid));
        assert.is(two.status.get('Gid'), allFour(ids.tu2.gid));
        assert.equal(groupsOf(two.status.get('Groups')), [ids.tg2.gid], 'groups = [...] is exactly that list');
        for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapAmb']) assert.is(two.status.get(set), ZERO, `${set} of two`);
        assert.is(two.status.get('NoNewPrivs'), '1', 'no_new_privs defaults to true with a user');
        assert.is(s.lines('two.env')[0], `${ids.tu2.home} ${ids.tu2.name} ${ids.tu2.name}`);
        const three = parseReport(s.lines('three.report'));
        assert.is(three.status.get('NoNewPrivs'), '0');
        assert.equal(groupsOf(three.status.get('Groups')), [ids.tu2.gid], "the user's own groups (initgroups) by default");
      } finally {
        h.kill();
        s.remove();
      }
    });

    test(`${mode}: each notify socket sits in a 0700 directory of its service's user; another user cannot send to it`, async () => {
      const s = scratch();
      const cfg = s.write(
        'c.toml',
        `[service.n1]\ncommand = ${sh(`echo $NOTIFY_SOCKET > ${s.path('n1.sock')}; exec ${SDNOTIFY} READY=1 -- sleep 1000`)}\nuser = "${ids.tu.name}"\nready = { notify = true, timeout = "20s" }\n\n` +
          `[service.n2]\ncommand = ${sh(`NOTIFY_SOCKET=$(cat ${s.path('n1.sock')}) ${SDNOTIFY} READY=1 2>/dev/null; echo $? > ${s.path('n2.rc')}; exec sleep 1000`)}\nuser = "${ids.tu2.name}"\nafter = ["n1"]\n`,
      );
      const h = startServices(mode, cfg);
      try {
        await h.waitEvent('services-ready');
        const sock = s.lines('n1.sock')[0];
        const st = fs.statSync(sock.replace(/\/notify$/, ''));
        assert.is(st.uid, ids.tu.uid);
        assert.is(st.mode & 0o777, 0o700);
        for (let i = 0; i < 200 && !s.exists('n2.rc'); i++) await new Promise((r) => setTimeout(r, 25));
        assert.is(s.lines('n2.rc')[0], '1', "tu2 could send to tu's notify socket");
        const r = await finish(h);
        assert.is(r.code, 0, r.stderr.toString());
        assert.not.ok(fs.existsSync(sock), 'the notify socket is removed at the end');
      } finally {
        h.kill();
        s.remove();
      }
    });
  }
}

test.run();
