// The plan --user/--listen/--cap resolve to, before anything is bound or
// dropped: descriptor numbers, what inherited descriptors keep, LISTEN_* and
// HOME. Pure apart from reading /etc/passwd for root.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { refused } from '../../helpers/refused.mjs';

const require = createRequire(import.meta.url);
const { makePlan } = require('../../../dist/privileges/plan.js');
const { describePlan } = require('../../../dist/privileges/describe.js');
const { parseArgs } = require('../../../dist/cli/args.js');

const B = (...a) => a.map((s) => Buffer.from(s));
const opts = (...args) => parseArgs(B(...args, '--', 'cmd'), {}).options;
const plan = (args, env = [], inherited = [], pid = 4242) => makePlan(opts(...args), { env: B(...env), inherited }, pid);

test('no options: the environment passes unchanged, inherited descriptors all kept', () => {
  const p = plan([], ['A=1', 'HOME=/x'], [3, 7]);
  assert.equal(p.env.map(String), ['A=1', 'HOME=/x']);
  assert.equal(p.keep, [3, 7]);
  assert.is(p.listenPidIndex, undefined);
  assert.is(p.identity, null);
  assert.is(p.noNewPrivs, false, 'no_new_privs belongs to the drop');
  assert.equal(p.warnings, []);
});

test('--listen sockets take 3, 4, ...; an inherited descriptor on those numbers is not passed on, with a warning', () => {
  const p = plan(['--listen', 'tcp://127.0.0.1:80,name=web', '--listen', 'udp://127.0.0.1:53'], ['A=1'], [4, 20]);
  assert.equal(p.keep, [20]);
  assert.equal(p.warnings, ['inherited fd 4 is not passed on: --listen udp://127.0.0.1:53 takes its number']);
  assert.equal(p.env.map(String), ['A=1', 'LISTEN_FDS=2', 'LISTEN_FDNAMES=web:unknown', 'LISTEN_PID=']);
  assert.is(p.listenPidIndex, 3);
});

test('socket-activated tsinit: its sockets first, with their names, then --listen ones', () => {
  const env = ['LISTEN_PID=4242', 'LISTEN_FDS=2', 'LISTEN_FDNAMES=a:b', 'X=1'];
  const p = plan(['--listen', 'tcp://127.0.0.1:80,name=web'], env, [3, 4, 5]);
  assert.equal(p.activation, { fds: [3, 4], names: ['a', 'b'] });
  assert.equal(p.keep, [3, 4], 'fd 5 is where the --listen socket goes');
  assert.equal(p.env.map(String), ['X=1', 'LISTEN_FDS=3', 'LISTEN_FDNAMES=a:b:web', 'LISTEN_PID=']);
  const d = describePlan(p);
  assert.equal(d.fds.map((f) => [f.fd, f.name, f.socket]), [[3, 'a', 'inherited'], [4, 'b', 'inherited'], [5, 'web', 'tcp']]);
});

test('stale LISTEN_* are removed, with a warning', () => {
  const p = plan([], ['LISTEN_PID=1', 'LISTEN_FDS=1', 'Y=2'], [3]);
  assert.equal(p.env.map(String), ['Y=2']);
  assert.equal(p.keep, [3]);
  assert.equal(p.warnings, ["removed stale LISTEN_PID, LISTEN_FDS (LISTEN_PID is not tsinit's pid 4242)"]);
});

test('--user root: HOME replaced in place; no_new_privs on unless --allow-new-privs', () => {
  const p = plan(['--user', 'root'], ['HOME=/elsewhere', 'A=1']);
  assert.equal(p.identity.uid, 0);
  assert.equal(p.env.map(String), ['HOME=/root', 'A=1']);
  assert.is(p.noNewPrivs, true);
  assert.is(plan(['--user', '0:0', '--allow-new-privs']).noNewPrivs, false);
});

test('options that need --user, and --cap for a root command', () => {
  assert.is(refused(() => plan(['--groups', 'a'])), '--groups needs --user');
  assert.match(refused(() => plan(['--cap', 'NET_RAW'])), /^--cap needs --user/);
  assert.is(refused(() => plan(['--user', 'root', '--cap', 'NET_RAW'])), '--cap: the command runs as root and keeps every capability anyway');
  assert.is(refused(() => plan(['--umask', '1777'])), "--umask: '1777' is not an octal mode such as 0027");
  assert.is(plan(['--umask', '7']).umask, 7);
  assert.is(refused(() => plan(['--workdir', ''])), '--workdir: empty path');
});

test('--cap with a root-equivalent capability: planned, with one warning', () => {
  const p = plan(['--user', 'nobody', '--cap', 'SYS_PTRACE,net_raw']);
  assert.equal(p.caps, [13, 19]);
  assert.equal(p.warnings, ['--cap: this capability is root-equivalent (CAP_SYS_PTRACE: trace and modify any process, root ones included): the command can regain full root with it']);
  assert.match(refused(() => plan(['--user', 'nobody', '--cap', 'SETPCAP'])), /^--cap: CAP_SETPCAP .* it is refused$/);
});

test.run();
