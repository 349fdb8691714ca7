// The configuration: every kind of mistake is one ConfigError naming the
// file, the line and the key; a good file becomes one resolved plan. Pure:
// files in a temporary directory, a user database given, nothing started.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { refusal } from '../../helpers/refused.mjs';

const require = createRequire(import.meta.url);
const { makePlan, parseEnvFile, httpTarget } = require('../../../dist/config/plan.js');
const { ConfigError } = require('../../../dist/config/load.js');
const { ConfigFileError } = require('../../../dist/config/dotenv.js');
const { UserError } = require('../../../dist/core/errno.js');
const { parseDurationMs } = require('../../../dist/config/schema.js');
const { describePlan } = require('../../../dist/config/describe.js');
const { indexToml, indexJson, lineOf } = require('../../../dist/config/locate.js');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsinit-config-'));
let n = 0;
const write = (text, ext = 'toml') => {
  const file = path.join(dir, `c${n++}.${ext}`);
  fs.writeFileSync(file, text);
  return file;
};
const db = {
  passwd: [
    { name: 'root', uid: 0, gid: 0, home: '/root' },
    { name: 'app', uid: 1000, gid: 1000, home: '/home/app' },
  ],
  group: [
    { name: 'root', gid: 0, members: [] },
    { name: 'app', gid: 1000, members: [] },
    { name: 'www', gid: 33, members: ['app'] },
  ],
};
const env = [Buffer.from('PATH=/usr/bin:/bin'), Buffer.from('LISTEN_FDS=9'), Buffer.from('NOTIFY_SOCKET=/x'), Buffer.from('KEEP=1')];
const plan = (text, ext, command = []) => makePlan({ file: write(text, ext), command, env, db });

/** Asserts the first mistake is reported at line and key, with a reason matching re. */
function fails(text, line, key, re, ext = 'toml') {
  let err;
  try {
    plan(text, ext);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
  assert.is(err.line, line, `line of: ${err.message}`);
  assert.is(err.key, key, `key of: ${err.message}`);
  assert.match(err.what, re);
  assert.ok(err.message.startsWith(`${err.file}:${line}: ${key}: `), err.message);
  assert.not.match(err.message, /\n/);
}

const OK = '[service.a]\ncommand = ["true"]\n';

test('unknown keys, at every level', () => {
  fails('[tsinit]\nstop_timeot = "1s"\n' + OK, 2, 'tsinit.stop_timeot', /unknown key/);
  fails(OK + 'comand = ["x"]\n', 3, 'service.a.comand', /unknown key \(known here: command,/);
  fails(OK + 'restart = { policy = "always", backof = "1s" }\n', 3, 'service.a.restart.backof', /unknown key/);
  fails('[other]\nx = 1\n', 1, 'other', /unknown key/);
  fails(OK + '[service.a.stop]\nsignal = "TERM"\ngrace = "1s"\n', 5, 'service.a.stop.grace', /unknown key/);
});

test('wrong types', () => {
  fails('[service.a]\ncommand = 5\n', 2, 'service.a.command', /array of strings .* or a string/);
  fails(OK + 'essential = "yes"\n', 3, 'service.a.essential', /true or false, not a string/);
  fails(OK + 'after = "b"\n', 3, 'service.a.after', /array of strings/);
  fails(OK + 'env = { A = 1 }\n', 3, 'service.a.env.A', /a string, not a number/);
  fails(OK + 'ready = { fd = 2 }\n', 3, 'service.a.ready.fd', /whole number 3-1023/);
  fails(OK + 'restart = { policy = "sometimes" }\n', 3, 'service.a.restart.policy', /not one of no, on-failure, always/);
  fails(OK + 'log = "loud"\n', 3, 'service.a.log', /not one of raw, prefix, json/);
  fails(OK + 'stop = { signal = "NOPE" }\n', 3, 'service.a.stop.signal', /unknown signal 'NOPE'/);
  fails(OK + 'umask = "999"\n', 3, 'service.a.umask', /octal/);
  fails(OK + 'ready = { tcp = "x:1", exec = ["y"] }\n', 3, 'service.a.ready', /exactly one of .*got tcp and exec/);
  fails('[service."a b"]\ncommand = ["x"]\n', 1, 'service.a b', /a service name/);
  fails('[service.a]\nuser = "app"\n', 1, 'service.a', /command is missing/);
});

test('malformed durations, listen specs and addresses', () => {
  fails(OK + 'restart = { backoff = "1 sec" }\n', 3, 'service.a.restart.backoff', /is not a duration/);
  fails('[tsinit]\nstop_timeout = "-1s"\n' + OK, 2, 'tsinit.stop_timeout', /is not a duration/);
  fails(OK + 'ready = { tcp = "localhost", timeout = "1s" }\n', 3, 'service.a.ready.tcp', /not HOST:PORT/);
  fails(OK + 'listen = ["tcp://0.0.0.0:80,name=web", "tcp://nowhere:80"]\n', 3, 'service.a.listen[1]', /tcp:\/\/nowhere:80: 'nowhere' is not an IPv4 address/);
  fails(OK + 'listen = ["tcp://127.0.0.1:80"]\nready = { fd = 3 }\n', 4, 'service.a.ready.fd', /taken by a listen socket/);
  fails(OK + 'restart = { backoff = "10s", backoff_max = "1s" }\n', 3, 'service.a.restart.backoff_max', /less than backoff/);
});

test('unknown users, groups and capabilities', () => {
  fails(OK + 'user = "nobody-here"\n', 3, 'service.a.user', /no user 'nobody-here' in \/etc\/passwd/);
  fails(OK + 'user = "app"\ngroups = ["www", "nope"]\n', 4, 'service.a.groups', /no group 'nope'/);
  fails(OK + 'user = "app:nogroup"\n', 3, 'service.a.user', /no group 'nogroup'/);
  fails(OK + 'user = "4242"\n', 3, 'service.a.user', /has no group: name one \(user = "4242:GID"\)/);
  fails(OK + 'groups = ["www"]\n', 3, 'service.a.groups', /needs user/);
  fails(OK + 'user = "app"\ncaps = ["FLY"]\n', 4, 'service.a.caps', /unknown capability 'FLY'/);
  fails(OK + 'caps = ["NET_BIND_SERVICE"]\n', 3, 'service.a.caps', /needs user/);
  fails(OK + 'user = "app"\ncaps = ["SETUID"]\n', 4, 'service.a.caps', /undo the drop/);
});

// The privilege resolvers throw "--user: ..." (core/errno.ts's OptionError);
// here the same reason names the key instead, word for word.
test('users, caps, listen specs and env_file: the reason under the key, exactly', () => {
  const what = (text) => {
    try {
      plan(text);
    } catch (e) {
      assert.instance(e, ConfigError);
      return e.what;
    }
    return assert.unreachable('accepted');
  };
  assert.is(what(OK + 'user = "nobody-here"\n'), "no user 'nobody-here' in /etc/passwd");
  assert.is(what(OK + 'user = "app"\ngroups = ["www", "nope"]\n'), "no group 'nope' in /etc/group");
  assert.is(what(OK + 'user = "4242"\n'), 'uid 4242 has no entry in /etc/passwd, so it has no group: name one (user = "4242:GID")');
  assert.is(what(OK + 'user = "app"\ncaps = ["SETUID"]\n'), 'CAP_SETUID would let the command undo the drop (setresuid/setresgid back to 0); it is refused');
  assert.is(what(OK + 'listen = ["unix:/a.sock,owner=ghost"]\n'), "unix:/a.sock,owner=ghost: owner: no user 'ghost' in /etc/passwd");
  const envFile = write('A=1\nnot a line\n', 'env');
  assert.is(what(OK + `env_file = "${envFile}"\n`), `${envFile}:2: 'not a line' is not KEY=VALUE`);
});

test('dependencies: unknown services and cycles', () => {
  fails(OK + 'after = ["b"]\n', 3, 'service.a.after[0]', /no service 'b' \(services: a\)/);
  fails(OK + 'after = ["a"]\n', 3, 'service.a.after[0]', /itself/);
  fails('[service.a]\ncommand = ["x"]\nafter = ["c"]\n[service.b]\ncommand = ["x"]\nafter = ["a"]\n[service.c]\ncommand = ["x"]\nafter = ["b"]\n', 3, 'service.a.after', /dependency cycle: a -> c -> b -> a/);
});

test('syntax errors carry the line; unreadable files and bad names say so', () => {
  let e;
  try {
    plan('[service.a]\ncommand = ["x"\nuser = = 1\n');
  } catch (err) {
    e = err;
  }
  assert.ok(e instanceof ConfigError);
  assert.ok(e.line >= 2 && e.line <= 3, e.message);
  assert.match(e.what, /^TOML syntax: /);
  try {
    plan('{\n  "service": {\n    "a": { "command": ["x"], }\n  }\n}\n', 'json');
  } catch (err) {
    e = err;
  }
  assert.match(e.what, /^JSON syntax: /);
  assert.is(e.line, 3, e.message);
  assert.throws(() => makePlan({ file: path.join(dir, 'missing.toml'), command: [], env, db }), (err) => err instanceof ConfigError && /cannot read: no such file/.test(err.message));
  assert.throws(() => makePlan({ file: write('x', 'yaml'), command: [], env, db }), (err) => /must end in .toml or .json/.test(err.message));
  assert.throws(() => plan('[tsinit]\n'), (err) => /no services/.test(err.message));
  // One convention (core/errno.ts): a ConfigError is a UserError, exit 2, so cli/main.ts's one catch reports it.
  assert.instance(e, UserError);
  assert.is(e.status, 2);
  assert.is(e.name, 'ConfigError');
});

test('JSON: the same schema, errors at the exact line', () => {
  const text = '{\n  "service": {\n    "a": {\n      "command": ["x"],\n      "restart": {\n        "policy": "never"\n      }\n    }\n  }\n}\n';
  fails(text, 6, 'service.a.restart.policy', /'never' is not one of/, 'json');
  const p = plan('{"tsinit": {"stop_timeout": 3}, "service": {"a": {"command": "echo hi"}}}', 'json');
  assert.equal(p.services[0].argv.map(String), ['/bin/sh', '-c', 'echo hi']);
  assert.is(p.global.stopTimeoutMs, 3000);
});

test('line index: tables, dotted keys, inline tables, multi-line arrays', () => {
  const t = indexToml('[tsinit]\nlog = "raw"\n\n[service.web]\ncommand = [\n  "x",\n  "y = 1",\n]\nready = { tcp = "a:1", timeout = "2s" }\nrestart.policy = "always"\n');
  assert.is(lineOf(t, ['tsinit', 'log']), 2);
  assert.is(lineOf(t, ['service', 'web', 'command', 1]), 5);
  assert.is(lineOf(t, ['service', 'web', 'ready', 'timeout']), 9);
  assert.is(lineOf(t, ['service', 'web', 'restart', 'policy']), 10);
  assert.is(lineOf(t, ['service', 'web', 'y']), 4, 'a key-looking line inside an array is not a key');
  const j = indexJson('{"a": {\n"b": [1,\n2]}}');
  assert.is(lineOf(j, ['a', 'b', 1]), 3);
});

test('durations and env files', () => {
  assert.is(parseDurationMs('25s'), 25000);
  assert.is(parseDurationMs('500ms'), 500);
  assert.is(parseDurationMs('1.5s'), 1500);
  assert.is(parseDurationMs('2m'), 120000);
  assert.is(parseDurationMs('1h'), 3600000);
  assert.is(parseDurationMs(2), 2000);
  assert.is(parseDurationMs('5'), null);
  assert.is(parseDurationMs('x'), null);
  assert.equal(parseEnvFile('# c\nA=1\nexport B="two\\nlines"\nC=\'$lit\'\nD=x # note\n'), [['A', '1'], ['B', 'two\nlines'], ['C', '$lit'], ['D', 'x']]);
  const e = refusal(() => parseEnvFile('A=1\nnot a line\n', 'app.env'));
  assert.instance(e, ConfigFileError);
  assert.is(e.line, 2);
  assert.is(e.message, "app.env:2: 'not a line' is not KEY=VALUE");
});

test('the plan: ids, env, order, defaults, main from --', () => {
  const envFile = write('FROM_FILE=1\nNODE_ENV=dev\n', 'env');
  const p = plan(
    `[tsinit]\nstop_timeout = "25s"\nready_file = "/run/r"\n\n[service.redis]\ncommand = ["redis-server"]\nready = { tcp = "127.0.0.1:6379", timeout = "10s" }\n\n` +
      `[service.web]\ncommand = ["node", "server.js"]\nuser = "app"\ngroups = ["www"]\nworkdir = "/app"\numask = "027"\n` +
      `env = { NODE_ENV = "production" }\nenv_file = "${envFile}"\nlisten = ["tcp://0.0.0.0:80,name=web"]\ncaps = ["NET_BIND_SERVICE"]\n` +
      `after = ["redis"]\nessential = true\nready = { notify = true, timeout = "30s" }\n` +
      `restart = { policy = "on-failure", success = [0], backoff = "1s", backoff_max = "30s", reset_after = "60s", limit = 5, limit_interval = "60s" }\n` +
      `stop = { signal = "TERM", timeout = "8s" }\nsignals = ["HUP", "USR1"]\nlog = "prefix"\n\n[service.cron]\ncommand = ["cron"]\n`,
    'toml',
    [Buffer.from('sleep'), Buffer.from('1')],
  );
  assert.equal(p.startOrder, [['redis', 'cron', 'main'], ['web']]);
  assert.equal(p.stopOrder, [['web'], ['redis', 'cron', 'main']]);
  const web = p.services.find((s) => s.name === 'web');
  assert.equal({ uid: web.identity.uid, gid: web.identity.gid, groups: web.identity.groups }, { uid: 1000, gid: 1000, groups: [33] });
  assert.equal(web.caps, [10]);
  assert.is(web.noNewPrivs, true);
  assert.is(web.umask, 0o27);
  const envOf = (s) => Object.fromEntries(s.env.map((e) => String(e).split(/=(.*)/s).slice(0, 2)));
  const we = envOf(web);
  assert.equal([we.HOME, we.USER, we.LOGNAME, we.NODE_ENV, we.FROM_FILE, we.KEEP], ['/home/app', 'app', 'app', 'production', '1', '1']);
  assert.is(we.LISTEN_FDS, undefined, "tsinit's own LISTEN_* are not passed on");
  assert.is(we.NOTIFY_SOCKET, undefined, "tsinit's own NOTIFY_SOCKET is not passed on");
  const cron = p.services.find((s) => s.name === 'cron');
  assert.equal(cron.restart, { policy: 'no', success: [0], backoffMs: 1000, backoffMaxMs: 30000, resetAfterMs: 60000, limit: 5, limitIntervalMs: 60000 });
  assert.is(cron.noNewPrivs, false);
  assert.equal(cron.signals, [1, 10, 12]);
  assert.is(cron.stop.timeoutMs, null, 'no stop timeout unless asked');
  const main = p.services.find((s) => s.name === 'main');
  assert.equal([main.essential, main.stdin, main.argv.map(String)], [true, 'inherit', ['sleep', '1']]);
  const d = describePlan(p);
  assert.is(d.stop_budget_ms, 25000);
  assert.equal(d.services.web.caps, ['CAP_NET_BIND_SERVICE']);
  assert.equal(d.services.web.fds[1], { fd: 3, name: 'web', socket: 'tcp', address: '0.0.0.0:80' });
  assert.is(d.services.web.env.LISTEN_FDNAMES, 'web');
  assert.is(d.services.web.ready.timeout_ms, 30000);
  assert.is(d.services.web.stop.signal, 'SIGTERM');
});

test('ready = { http = URL }: http://, a literal IP or localhost, no credentials; dry run shows it', () => {
  fails(OK + 'ready = { http = "127.0.0.1:8080/healthz" }\n', 3, 'service.a.ready.http', /^'127\.0\.0\.1:8080\/healthz' is not a URL/);
  fails(OK + 'ready = { http = "localhost:8080/healthz" }\n', 3, 'service.a.ready.http', /^'localhost:8080\/healthz' is not a URL/);
  fails(OK + 'ready = { http = "not a url" }\n', 3, 'service.a.ready.http', /^'not a url' is not a URL \(http:\/\/127\.0\.0\.1:8080\/healthz/);
  fails(OK + 'ready = { http = "https://127.0.0.1/" }\n', 3, 'service.a.ready.http', /^only http:\/\/ URLs \(plain HTTP to a local address\), not https:\/\/$/);
  fails(OK + 'ready = { http = "http://example.com/ready" }\n', 3, 'service.a.ready.http', /^'example\.com' is not an IP address or localhost \(no name is resolved/);
  fails(OK + 'ready = { http = "http://u:p@127.0.0.1/" }\n', 3, 'service.a.ready.http', /no user or password/);
  fails(OK + 'ready = { http = "http://127.0.0.1:99999/" }\n', 3, 'service.a.ready.http', /is not a URL/);
  fails(OK + 'ready = { http = 8080 }\n', 3, 'service.a.ready.http', /string/);
  fails(OK + 'ready = { http = "http://127.0.0.1/", interval = "soon" }\n', 3, 'service.a.ready.interval', /is not a duration/);
  fails(OK + 'ready = { notify = true, interval = "1s" }\n', 3, 'service.a.ready.interval', /applies to tcp, http and exec only/);
  const p = plan(OK + 'ready = { http = "http://[::1]:8080/healthz?x=1", timeout = "30s", interval = "1s" }\n\n[service.b]\ncommand = ["true"]\nready = { http = "http://localhost/" }\n');
  assert.equal(describePlan(p).services.a.ready, { kind: 'http', url: 'http://[::1]:8080/healthz?x=1', timeout_ms: 30000, interval_ms: 1000 });
  assert.equal(describePlan(p).services.b.ready, { kind: 'http', url: 'http://localhost/', timeout_ms: null, interval_ms: 500 });
  assert.equal(httpTarget('http://[::1]:8080/healthz?x=1'), { host: '::1', port: 8080, path: '/healthz?x=1' });
  assert.equal(httpTarget('http://localhost/'), { host: '127.0.0.1', port: 80, path: '/' });
});

test("'main' is taken when a command is given", () => {
  assert.throws(() => plan('[service.main]\ncommand = ["x"]\n', 'toml', [Buffer.from('y')]), (e) => e.line === 1 && e.key === 'service.main');
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));
test.run();
