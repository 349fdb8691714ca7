// --listen specs and the LISTEN_* environment: pure, no sockets.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { refused } from '../../helpers/refused.mjs';

const require = createRequire(import.meta.url);
const { parseListen, addressOf, listenEnv, inheritedActivation } = require('../../../dist/privileges/listen.js');
const { parsePasswd, parseGroup } = require('../../../dist/privileges/users.js');

const db = () => ({ passwd: parsePasswd('app:x:1000:1000::/:/bin/sh\n'), group: parseGroup('www:x:33:\n') });
const parse = (s) => parseListen(s, db);
const B = (...a) => a.map((s) => Buffer.from(s));
const S = (env) => env.map(String);

test('tcp and udp: IPv4 literals and [IPv6], ports 0-65535, an optional name', () => {
  assert.equal(parse('tcp://0.0.0.0:80'), { kind: 'tcp', family: 4, host: '0.0.0.0', port: 80, name: 'unknown', text: 'tcp://0.0.0.0:80' });
  assert.equal(parse('udp://[::1]:53,name=dns'), { kind: 'udp', family: 6, host: '::1', port: 53, name: 'dns', text: 'udp://[::1]:53,name=dns' });
  assert.is(parse('tcp://[::]:0').port, 0);
  assert.is(addressOf(parse('tcp://[fd00::1]:8080')), '[fd00::1]:8080');
  assert.is(addressOf(parse('udp://10.0.0.1:9')), '10.0.0.1:9');
});

test('unix: absolute path, mode (default 0666, as systemd) and owner; commas inside the path', () => {
  const u = parse('unix:/run/app.sock,mode=0660,owner=app:www,name=ctl');
  assert.equal(u, { kind: 'unix', path: '/run/app.sock', mode: 0o660, owner: { uid: 1000, gid: 33 }, ownerText: 'app:www', name: 'ctl', text: 'unix:/run/app.sock,mode=0660,owner=app:www,name=ctl' });
  assert.is(parse('unix:/run/a.sock').mode, 0o666);
  assert.is(parse('unix:/run/a.sock').owner, null);
  assert.is(parse('unix:/run/a,b.sock,mode=600').path, '/run/a,b.sock');
  assert.is(parse('unix:/run/a,b.sock').path, '/run/a,b.sock');
  assert.is(parse(`unix:/${'x'.repeat(106)}`).kind, 'unix');
});

test('malformed specs: one line naming the problem', () => {
  const bad = {
    'tcp://1.2.3.4': 'expected tcp://HOST:PORT',
    'tcp://1.2.3:80': "'1.2.3' is not an IPv4 address",
    'tcp://::1:80': 'expected tcp://HOST:PORT',
    'tcp://[::g]:80': "'::g' is not an IPv6 address",
    'tcp://[fe80::1%eth0]:80': 'zone ids are not supported',
    'udp://example.com:53': 'host names are not resolved',
    'tcp://:80': "'' is not an IPv4 address",
    'tcp://1.2.3.4:99999': 'port 99999 is not 0-65535',
    'tcp://1.2.3.4:80,owner=app': 'mode= and owner= apply to unix sockets only',
    'tcp://1.2.3.4:80,name=': "name '' must be",
    'tcp://1.2.3.4:80,name=x,name=y': 'name= given twice',
    'tcp://1.2.3.4:80,name=x,color=red': "unknown option 'color=red'",
    'unix:relative.sock': 'expected unix:/ABSOLUTE/PATH',
    [`unix:/${'x'.repeat(107)}`]: 'longer than the 107 bytes',
    'unix:/a.sock,mode=0800': "mode '0800' is not an octal mode",
    'unix:/a.sock,mode=12345': "mode '12345' is not an octal mode",
    'unix:/a.sock,owner=ghost': "owner: no user 'ghost' in /etc/passwd",
    'http://1.2.3.4:80': 'expected tcp://HOST:PORT, udp://HOST:PORT or unix:/PATH',
  };
  for (const [spec, why] of Object.entries(bad)) {
    const r = refused(() => parse(spec));
    assert.ok(r.startsWith(`--listen ${spec}: `), r);
    assert.ok(r.includes(why), `${spec}: ${r}`);
  }
});

test('LISTEN_* env: old entries removed, new ones appended, LISTEN_PID slot last', () => {
  const env = B('A=1', 'LISTEN_PID=77', 'B=2', 'LISTEN_FDS=1', 'LISTEN_FDNAMES=x');
  const r = listenEnv(env, ['web', 'unknown']);
  assert.equal(S(r.env), ['A=1', 'B=2', 'LISTEN_FDS=2', 'LISTEN_FDNAMES=web:unknown', 'LISTEN_PID=']);
  assert.is(r.listenPidIndex, 4);
  assert.equal(r.removed, ['LISTEN_PID', 'LISTEN_FDS', 'LISTEN_FDNAMES']);
  const none = listenEnv(env, []);
  assert.equal(S(none.env), ['A=1', 'B=2']);
  assert.is(none.listenPidIndex, undefined);
  // Names that merely start alike are not LISTEN_* variables.
  assert.equal(S(listenEnv(B('LISTEN_PIDS=1', 'XLISTEN_FDS=2'), []).env), ['LISTEN_PIDS=1', 'XLISTEN_FDS=2']);
});

test("inherited activation: only LISTEN_PID equal to tsinit's pid, with those fds open", () => {
  const env = (pid, fds, names) => B(`LISTEN_PID=${pid}`, `LISTEN_FDS=${fds}`, ...(names ? [`LISTEN_FDNAMES=${names}`] : []));
  assert.equal(inheritedActivation(env(42, 2, 'a:b'), 42, [3, 4, 9]), { activation: { fds: [3, 4], names: ['a', 'b'] }, warning: null });
  assert.equal(inheritedActivation(env(42, 2), 42, [3, 4]).activation.names, ['unknown', 'unknown']);
  assert.equal(inheritedActivation(env(42, 2, 'only-one'), 42, [3, 4]).activation.names, ['unknown', 'unknown']);
  assert.equal(inheritedActivation(env(41, 2), 42, [3, 4]), { activation: { fds: [], names: [] }, warning: null });
  assert.equal(inheritedActivation(B('LISTEN_FDS=2'), 42, [3, 4]).activation.fds, []);
  const missing = inheritedActivation(env(42, 2), 42, [3]);
  assert.equal(missing.activation.fds, []);
  assert.match(missing.warning, /fd 4 is not open/);
  assert.match(inheritedActivation(B('LISTEN_PID=42', 'LISTEN_FDS=x'), 42, [3]).warning, /is not a count/);
});

test.run();
