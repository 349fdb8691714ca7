// Whether tsinit drops its own credentials in services mode, decided from the
// plan alone: every case of selfdrop.ts's decision, with a user database
// given and directories made here (the drop itself: e2e/services-selfdrop).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { makePlan } = require('../../../dist/config/plan.js');
const { decideSelfDrop, describeSelfDrop } = require('../../../dist/services/selfdrop.js');

const root = process.geteuid() === 0;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsinit-selfdrop-'));
// A directory uid 1000 can write (0777) and one it cannot (0755, ours).
const open = path.join(dir, 'open');
const closed = path.join(dir, 'closed');
fs.mkdirSync(open);
fs.chmodSync(open, 0o777);
fs.mkdirSync(closed, { mode: 0o755 });
let n = 0;
const db = {
  passwd: [
    { name: 'root', uid: 0, gid: 0, home: '/root' },
    { name: 'app', uid: 1000, gid: 1000, home: '/home/app' },
    { name: 'other', uid: 1001, gid: 1001, home: '/home/other' },
  ],
  group: [
    { name: 'root', gid: 0, members: [] },
    { name: 'app', gid: 1000, members: [] },
    { name: 'other', gid: 1001, members: [] },
    { name: 'www', gid: 33, members: ['app'] },
  ],
};
const decide = (text, { command = [], upstream = null } = {}) => {
  const file = path.join(dir, `c${n++}.toml`);
  fs.writeFileSync(file, text);
  return describeSelfDrop(decideSelfDrop(makePlan({ file, command: command.map((a) => Buffer.from(a)), env: [Buffer.from('PATH=/bin')], db }), upstream));
};
const svc = (name, extra = '') => `[service.${name}]\ncommand = ["true"]\nuser = "app"\n${extra}\n`;

if (!root) {
  test('not root: nothing to drop', () => {
    assert.match(decide('[service.a]\ncommand = ["true"]\n').not_root, /^tsinit runs as uid [0-9]+: nothing to drop/);
  });
} else {
  test('every service as app: drops to app with its groups; no_new_privs only if every service has it', () => {
    assert.equal(decide(svc('a') + svc('b')), { drops_to: { user: 'app', uid: 1000, gid: 1000, groups: [33, 1000], no_new_privs: true } });
    assert.is(decide(svc('a') + svc('b', 'no_new_privs = false')).drops_to.no_new_privs, false);
  });

  test('stays root: a service as root or without a user, -- CMD, caps, another user, other groups', () => {
    assert.equal(decide(svc('a') + '[service.b]\ncommand = ["true"]\n'), { stays_root: 'service b has no user, so it runs as root' });
    assert.equal(decide(svc('a') + '[service.b]\ncommand = ["true"]\nuser = "root"\n'), { stays_root: 'service b runs as root' });
    assert.equal(decide(svc('a'), { command: ['sleep', '1'] }), { stays_root: 'service main has no user, so it runs as root' });
    assert.equal(decide(svc('a', 'caps = ["NET_BIND_SERVICE"]')), { stays_root: 'service a gets capabilities, which only root can hand on' });
    assert.match(decide(svc('a') + svc('b').replace('"app"', '"other"')).stays_root, /^services a and b run as different users or groups \(app \(uid 1000 gid 1000 groups 33,1000\), other \(uid 1001 gid 1001 groups 1001\)\)/);
    assert.match(decide(svc('a') + svc('b', 'groups = ["www"]')).stays_root, /^services a and b run as different users or groups/);
  });

  test('ready_file, runtime_dir (with notify) and NOTIFY_SOCKET must be reachable by the user', () => {
    assert.ok(decide(`[tsinit]\nready_file = "${open}/x/y/ready"\n${svc('a')}`).drops_to, 'missing directories the user can make');
    assert.equal(decide(`[tsinit]\nready_file = "${closed}/ready"\n${svc('a')}`), { stays_root: `ready_file ${closed}/ready: ${closed} is not writable by uid 1000` });
    const notify = svc('a', 'ready = { notify = true }');
    assert.ok(decide(`[tsinit]\nruntime_dir = "${open}/rt"\n${notify}`).drops_to);
    assert.equal(decide(`[tsinit]\nruntime_dir = "${closed}/rt"\n${notify}`), { stays_root: `the notify sockets' directory ${closed}/rt: ${closed} is not writable by uid 1000` });
    assert.ok(decide(`[tsinit]\nruntime_dir = "${closed}/rt"\n${svc('a')}`).drops_to, 'no notify service: runtime_dir unused');
    const sock = path.join(closed, 'up.sock');
    fs.writeFileSync(sock, '');
    fs.chmodSync(sock, 0o755);
    assert.equal(decide(svc('a'), { upstream: sock }), { stays_root: `NOTIFY_SOCKET ${sock} is not writable by uid 1000` });
    assert.ok(decide(svc('a'), { upstream: '@abstract' }).drops_to, 'an abstract socket is anyone\'s');
  });
}

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));
test.run();
