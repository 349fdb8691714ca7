// -errno becomes a Node-shaped error; spawn failures map to exit statuses.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import os from 'node:os';

const require = createRequire(import.meta.url);
const { check, sysError, errnoCode, errnoMessage, UserError, OptionError } = require('../../../dist/core/errno.js');
const EXIT_CORE = require('../../../dist/core/exit.js').EXIT;
const { spawnFailure, EXIT } = require('../../../dist/cli/main.js');
const E = os.constants.errno;

test('check passes values >= 0 through', () => {
  assert.is(check(0, 'kill'), 0);
  assert.is(check(42, 'setsid'), 42);
});

test('check throws the shape Node uses for its own errors', () => {
  try {
    check(-E.ESRCH, 'kill');
    assert.unreachable();
  } catch (err) {
    assert.instance(err, Error);
    assert.is(err.message, 'kill ESRCH');
    assert.is(err.code, 'ESRCH');
    assert.is(err.errno, -E.ESRCH);
    assert.is(err.syscall, 'kill');
  }
});

test('codes and messages, including errnos libuv does not name', () => {
  assert.is(errnoCode(-E.ENOENT), 'ENOENT');
  assert.is(errnoCode(E.EPERM), 'EPERM');
  assert.is(errnoMessage(-E.ENOENT), 'no such file or directory');
  assert.is(errnoMessage(-E.EACCES), 'permission denied');
  assert.is(errnoCode(-E.ENOEXEC), 'ENOEXEC');
  assert.is(errnoMessage(-E.ENOEXEC), 'exec format error');
  assert.is(sysError(E.EINVAL, 'prctl', { step: 'x' }).step, 'x');
});

test('spawn failures: 127 not found, 126 not executable, 125 set-up failed', () => {
  const cmd = Buffer.from('foo');
  const f = (errno, step) => spawnFailure(Object.assign(sysError(errno, 'spawn foo'), { step }), cmd);
  assert.equal(f(-E.ENOENT, 'execvp'), { status: EXIT.notFound, message: "cannot run 'foo': no such file or directory" });
  assert.equal(f(-E.ENOTDIR, 'execve'), { status: 127, message: "cannot run 'foo': not a directory" });
  assert.equal(f(-E.EACCES, 'execvp'), { status: 126, message: "cannot run 'foo': permission denied" });
  assert.equal(f(-E.ENOEXEC, 'execve'), { status: 126, message: "cannot run 'foo': exec format error" });
  assert.equal(f(-E.EPERM, 'setsid'), { status: 125, message: "cannot start 'foo': setsid: operation not permitted" });
  assert.equal(f(-E.ENOENT, 'chdir'), { status: 125, message: "cannot start 'foo': chdir: no such file or directory" });
});

test('control characters in a command name are escaped in messages', () => {
  const r = spawnFailure(Object.assign(sysError(-E.ENOENT, 'spawn'), { step: 'execvp' }), Buffer.from('a\nb'));
  assert.is(r.message, "cannot run 'a\\x0ab': no such file or directory");
});

test('UserError carries one line and an exit status from EXIT (usage by default)', () => {
  const u = new UserError("--grace: 'x' is not a duration");
  assert.instance(u, Error);
  assert.is(u.message, "--grace: 'x' is not a duration");
  assert.is(u.status, EXIT_CORE.usage);
  assert.is(new UserError('bind', EXIT_CORE.startFailed).status, 125);
});

test('OptionError: a UserError "OPTION: reason", its parts kept', () => {
  const o = new OptionError('--user', "no user 'x' in /etc/passwd");
  assert.instance(o, UserError);
  assert.is(o.message, "--user: no user 'x' in /etc/passwd");
  assert.is(o.option, '--user');
  assert.is(o.reason, "no user 'x' in /etc/passwd");
  assert.is(o.status, EXIT_CORE.usage);
});

// The bundle has its own copy of core/errno (scripts/bundle.js): cli/main.ts
// must still recognise a UserError thrown by config/ or privileges/.
test('a UserError made by another copy of the module is instanceof UserError; subclasses stay exact', () => {
  const file = require.resolve('../../../dist/core/errno.js');
  delete require.cache[file];
  const other = require(file);
  assert.ok(other.UserError !== UserError, 'two copies of the class');
  assert.ok(new other.UserError('x') instanceof UserError);
  assert.ok(new other.OptionError('--user', 'x') instanceof UserError);
  assert.ok(new UserError('x') instanceof other.UserError);
  assert.ok(new OptionError('--cap', 'x') instanceof OptionError);
  assert.not.ok(new UserError('x') instanceof OptionError);
  assert.not.ok(new Error('x') instanceof UserError);
  assert.not.ok(Object.assign(new Error('x'), { status: 2 }) instanceof UserError);
});

test('one EXIT: core/exit.ts, re-exported by cli/main', () => {
  assert.is(EXIT, EXIT_CORE);
  assert.equal(EXIT_CORE, { usage: 2, startFailed: 125, cannotExecute: 126, notFound: 127 });
});

test.run();
