// tsinit's own credentials in services mode: when every service runs as one
// non-root user with the same groups and no capabilities, tsinit drops to it
// (Uid, Gid, Groups and capability sets of /proc/<tsinit>/status) and the
// services still start, restart, get their low-port listen socket, notify
// readiness and exec checks, ready_file, and stop; with two users or a
// service without a user (root), tsinit stays uid 0; --dry-run says which.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { MODES, fixture, NODE, ROOT, CLI } from '../helpers/tsinit.mjs';
import { privSkipReason, portIsFree, groupsOf, allFour } from '../helpers/users.mjs';
import { procStatus, exists, descendantsOf } from '../helpers/proc.mjs';
import { lineWatcher, waitFor } from '../helpers/wait.mjs';
import { SQPOLL_PROBE } from '../helpers/privdrop.mjs';
import { scratch, startServices, finish, serviceTestIds, ask } from '../helpers/services.mjs';

const SDNOTIFY = fixture('sdnotify');
const ACCEPT = `${ROOT}/test/fixtures/acceptonce.cjs`;
const sh = (script) => JSON.stringify(['/bin/sh', '-c', script]);
const ZERO = '0000000000000000';
const { create, remove } = serviceTestIds({ tu: 'tsinit-sd1', tu2: 'tsinit-sd2', tg1: 'tsinit-sdg1', tg2: 'tsinit-sdg2' });

/** A free TCP port below 1024 on 127.0.0.1 (only root can bind it). */
async function lowPort() {
  for (let i = 0; i < 50; i++) {
    const port = 600 + Math.floor(Math.random() * 400);
    if (await portIsFree(port)) return port;
  }
  throw new Error('no free port below 1024');
}

const dryRun = (cfg) => {
  const r = spawnSync(NODE, [CLI, '--config', cfg, '--dry-run'], { encoding: 'utf8', timeout: 20000 });
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout).tsinit;
};

/** Runs cfg until every service is ready: tsinit said why it stays root (check gets that event), is uid 0, and stops with 0. */
async function staysRoot(mode, cfg, check, env = process.env) {
  const h = startServices(mode, cfg, { env });
  try {
    check(await h.waitEvent('tsinit-stays-root'));
    await h.waitEvent('services-ready');
    assert.is(procStatus(await h.initPid).get('Uid'), allFour(0));
    const r = await finish(h);
    assert.is(r.code, 0, r.stderr.toString());
  } finally {
    h.kill();
  }
}

const skip = privSkipReason();
if (skip) {
  test('tsinit drops its own credentials', () => {
    console.log(`SKIP: tsinit drops its own credentials: ${skip}`);
  });
} else {
  let ids;
  test.before(() => {
    ids = create();
  });
  test.after(() => remove());

  for (const mode of MODES) {
    test(`${mode}: every service as one user: tsinit drops to it; low port, restart, notify, exec check, ready_file and stop still work`, async () => {
      const s = scratch();
      const port = await lowPort();
      const u = ids.tu.name;
      const cfg = s.write(
        'c.toml',
        `[tsinit]\nready_file = "${s.path('sub/ready')}"\n\n` +
          `[service.n]\ncommand = ${sh(`echo $NOTIFY_SOCKET > ${s.path('n.sock')}; exec ${SDNOTIFY} READY=1 -- sleep 1000`)}\nuser = "${u}"\nready = { notify = true, timeout = "20s" }\n\n` +
          `[service.c]\ncommand = ["sleep", "1000"]\nuser = "${u}"\nready = { exec = ${sh(`[ "$(id -u)" = ${ids.tu.uid} ]`)}, interval = "100ms", timeout = "20s" }\n\n` +
          `[service.web]\ncommand = ["${NODE}", "${ACCEPT}"]\nuser = "${u}"\nafter = ["n", "c"]\nlisten = ["tcp://127.0.0.1:${port},name=web"]\n` +
          `restart = { policy = "always", backoff = "200ms", limit = 0 }\n\n` +
          // A unix socket in a directory only root can write: bound before the drop.
          `[service.u]\ncommand = ["sleep", "1000"]\nuser = "${u}"\nlisten = ["unix:${s.path('ro/u.sock')},name=u"]\n`,
      );
      fs.mkdirSync(s.path('ro'), { mode: 0o755 });
      assert.equal(dryRun(cfg), { drops_to: { user: u, uid: ids.tu.uid, gid: ids.tu.gid, groups: [ids.tu.gid, ids.tg1.gid, ids.tg2.gid].sort((a, b) => a - b), no_new_privs: true } });
      const h = startServices(mode, cfg);
      try {
        await h.waitEvent('tsinit-dropped');
        await h.waitEvent('services-ready');
        const st = procStatus(await h.initPid);
        assert.is(st.get('Uid'), allFour(ids.tu.uid));
        assert.is(st.get('Gid'), allFour(ids.tu.gid));
        assert.equal(groupsOf(st.get('Groups')), [ids.tu.gid, ids.tg1.gid, ids.tg2.gid].sort((a, b) => a - b));
        for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapAmb']) assert.is(st.get(set), ZERO, `tsinit's ${set}`);
        assert.is(st.get('NoNewPrivs'), '1');
        assert.ok(s.exists('sub/ready'), 'ready_file made by the dropped tsinit');
        // Served, then the instance exits 1 and the next one (spawned by the non-root tsinit) serves.
        const [pid1] = (await ask(port)).split(' ');
        const [pid2] = (await ask(port)).split(' ');
        assert.is.not(pid2, pid1, 'a second instance served');
        assert.ok(fs.statSync(s.path('ro/u.sock')).isSocket(), 'the unix listen socket, bound as root');
        const sock = s.lines('n.sock')[0];
        assert.ok(fs.existsSync(sock), 'notify socket present while running');
        const r = await finish(h);
        assert.is(r.code, 0, r.stderr.toString());
        assert.not.ok(s.exists('sub/ready'), 'ready_file removed at the stop');
        assert.not.ok(fs.existsSync(sock.replace(/\/[0-9]+\/notify$/, '')), 'the notify directory is removed at the end');
      } finally {
        h.kill();
        s.remove();
        // The base ($TMPDIR/tsinit-UID) stays, as /run/tsinit does: the test's user is gone, so its base goes.
        try {
          fs.rmdirSync(path.join(os.tmpdir(), `tsinit-${ids.tu.uid}`));
        } catch {}
      }
    });

    test(`${mode}: two users: tsinit stays root, and says why`, async () => {
      const s = scratch();
      const cfg = s.write('c.toml', `[service.a]\ncommand = ["sleep", "1000"]\nuser = "${ids.tu.name}"\n\n[service.b]\ncommand = ["sleep", "1000"]\nuser = "${ids.tu2.name}"\n`);
      const d = dryRun(cfg);
      assert.match(d.stays_root, /^services a and b run as different users or groups \(tsinit-sd1 \(uid [0-9]+ gid [0-9]+ groups [0-9,]+\), tsinit-sd2 .*\): each start needs root$/);
      try {
        await staysRoot(mode, cfg, (e) => assert.is(e.msg, `tsinit stays root: ${d.stays_root}`));
      } finally {
        s.remove();
      }
    });
  }

  test('subreaper: a service without a user (root), capabilities, -- CMD, other groups, an unwritable ready_file: tsinit stays root', async () => {
    const s = scratch();
    const one = (extra) => `[service.a]\ncommand = ["sleep", "1000"]\nuser = "${ids.tu.name}"\n${extra}`;
    const cases = [
      [one('[service.r]\ncommand = ["sleep", "1000"]\n'), [], 'service r has no user, so it runs as root'],
      [one('[service.r]\ncommand = ["sleep", "1000"]\nuser = "root"\n'), [], 'service r runs as root'],
      [one('caps = ["NET_BIND_SERVICE"]\n'), [], 'service a gets capabilities, which only root can hand on'],
      [one(''), ['--', 'sleep', '1'], 'service main has no user, so it runs as root'],
      [`[tsinit]\nready_file = "${s.path('ro/ready')}"\n${one('')}`, [], `ready_file ${s.path('ro/ready')}: ${s.path('ro')} is not writable by uid ${ids.tu.uid}`],
    ];
    fs.mkdirSync(s.path('ro'), { mode: 0o755 });
    try {
      for (const [text, extra, why] of cases) {
        const cfg = s.write('c.toml', text);
        const r = spawnSync(NODE, [CLI, '--config', cfg, '--dry-run', ...extra], { encoding: 'utf8', timeout: 20000 });
        assert.is(r.status, 0, r.stderr);
        assert.equal(JSON.parse(r.stdout).tsinit, { stays_root: why });
      }
      const groups = one(`[service.b]\ncommand = ["true"]\nuser = "${ids.tu.name}"\ngroups = ["${ids.tg1.name}"]\n`);
      assert.match(dryRun(s.write('c.toml', groups)).stays_root, /^services a and b run as different users or groups/);
      // Running: the root service keeps tsinit at uid 0.
      await staysRoot('subreaper', s.write('c.toml', cases[0][0]), (e) => assert.is(e.msg, `tsinit stays root: ${cases[0][2]}`));
    } finally {
      s.remove();
    }
  });

  test('subreaper: --pdeathsig still works after tsinit dropped (the kernel clears it when the ids change)', async () => {
    const s = scratch();
    const cfg = s.write('c.toml', `[service.a]\ncommand = ["sleep", "1000"]\nuser = "${ids.tu.name}"\n`);
    // The intermediate shell starts tsinit in the background, prints its pid, waits for the drop, then dies.
    const p = spawn('sh', ['-c', `"${NODE}" "${CLI}" -v -p TERM --config ${cfg} >/dev/null 2>${s.path('log')} & echo $!; sleep 2`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const out = lineWatcher(p.stdout);
    const tsinit = Number(await out.waitLine((l) => /^[0-9]+$/.test(l), 'tsinit pid'));
    await new Promise((r) => p.on('close', r));
    try {
      await waitFor('tsinit to end after its parent died', () => !exists(tsinit) || fs.readFileSync(`/proc/${tsinit}/stat`, 'utf8').includes(') Z'), 10000);
      assert.match(fs.readFileSync(s.path('log'), 'utf8'), /tsinit dropped to it/);
    } finally {
      for (const c of descendantsOf(tsinit)) try { process.kill(c, 'SIGKILL'); } catch {}
      try { process.kill(tsinit, 'SIGKILL'); } catch {}
      s.remove();
    }
  });

  test('subreaper: an io_uring SQPOLL ring made as root (UV_USE_IO_URING=1): tsinit stays root, with a warning; the services run', async () => {
    const env = { ...process.env, UV_USE_IO_URING: '1' };
    const probe = spawnSync(NODE, ['-e', SQPOLL_PROBE], { env, encoding: 'utf8', timeout: 10000 });
    if (probe.stdout !== 'true') {
      process.stdout.write('SKIP: io_uring test: this Node and kernel make no SQPOLL ring even with UV_USE_IO_URING=1 (nothing to refuse)\n');
      return;
    }
    const s = scratch();
    const cfg = s.write('c.toml', `[service.a]\ncommand = ["sleep", "1000"]\nuser = "${ids.tu.name}"\n`);
    try {
      await staysRoot('subreaper', cfg, (e) => assert.match(e.msg, /CVE-2024-22017/), env);
    } finally {
      s.remove();
    }
  });
}

test.run();
