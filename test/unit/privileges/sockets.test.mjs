// The directory walk and the handle-relative calls unix sockets are made
// with (native/privdrop.c): symlinks followed by hand, systemd's CHASE_SAFE
// refusal, '..' in a symlink's target, loops; bind through the handle;
// removal only of the pinned inode. Handles and files in a scratch directory.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { native } = require('../../../dist/native.js');
const { bindListen, closeAll } = require('../../../dist/privileges/sockets.js');
const E = os.constants.errno;
const B = (s) => Buffer.from(s);
const isRoot = process.getuid() === 0;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsinit-sockets-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The handle's target, as the kernel names it. */
function open(p) {
  const fd = native.openDirSafe(B(p));
  if (fd < 0) return fd;
  const where = fs.readlinkSync(`/proc/self/fd/${fd}`);
  native.close(fd);
  return where;
}

test('openDirSafe: plain directories, relative and absolute symlinks, "..", "." and repeated slashes', () => {
  fs.mkdirSync(path.join(tmp, 'a/b'), { recursive: true });
  fs.symlinkSync('a/b', path.join(tmp, 'rel'));
  fs.symlinkSync(path.join(tmp, 'a'), path.join(tmp, 'abs'));
  fs.symlinkSync('..', path.join(tmp, 'a/b/up'));
  assert.is(open(`${tmp}/a/b`), `${tmp}/a/b`);
  assert.is(open(`${tmp}/rel`), `${tmp}/a/b`);
  assert.is(open(`${tmp}//abs/./b/`), `${tmp}/a/b`);
  assert.is(open(`${tmp}/rel/up/b`), `${tmp}/a/b`, "a symlink to '..' (as /var/run -> ../run) leads to the real parent");
  assert.is(open(`${tmp}/a/b/../b`), `${tmp}/a/b`);
  assert.is(open('/'), '/');
});

test('openDirSafe: errors', () => {
  fs.writeFileSync(path.join(tmp, 'file'), '');
  fs.symlinkSync('loop2', path.join(tmp, 'loop1'));
  fs.symlinkSync('loop1', path.join(tmp, 'loop2'));
  assert.is(open(`${tmp}/file`), -E.ENOTDIR);
  assert.is(open(`${tmp}/missing`), -E.ENOENT);
  assert.is(open('relative'), -E.EINVAL);
  assert.is(open(`${tmp}/loop1`), -E.ELOOP);
});

test('openDirSafe: a step from one unprivileged user to another (or to root) is refused: ENOLINK', () => {
  if (!isRoot) {
    process.stdout.write('SKIP: CHASE_SAFE case: not root (needs files owned by other users)\n');
    return;
  }
  const mine = path.join(tmp, 'user1');
  fs.mkdirSync(mine);
  fs.chownSync(mine, 4201, 4201);
  fs.mkdirSync(path.join(mine, 'own'));
  fs.chownSync(path.join(mine, 'own'), 4201, 4201);
  fs.mkdirSync(path.join(mine, 'other'));
  fs.chownSync(path.join(mine, 'other'), 4202, 4202);
  fs.symlinkSync('/etc', path.join(mine, 'to-root'));
  fs.lchownSync(path.join(mine, 'to-root'), 4201, 4201);
  fs.symlinkSync('own', path.join(mine, 'to-own'));
  fs.lchownSync(path.join(mine, 'to-own'), 4201, 4201);
  assert.is(open(`${mine}/own`), `${mine}/own`, 'the same user all the way');
  assert.is(open(`${mine}/to-own`), `${mine}/own`);
  assert.is(open(`${mine}/other`), -E.ENOLINK);
  assert.is(open(`${mine}/to-root`), -E.ENOLINK);
  assert.is(open(`${mine}/own/..`), mine, "'..' within the same user");
  assert.is(open(`${mine}/..`), -E.ENOLINK, "'..' from a user's directory up into root's");
});

test('bindUnixAt: through the handle; a name too long for /proc/self/fd/N/NAME is ENAMETOOLONG', () => {
  const dir = native.openDirSafe(B(`${tmp}/a`));
  const fd = native.socket(1, 1);
  try {
    assert.is(native.bindUnixAt(fd, dir, B('s'), 0o600), 0);
    const st = fs.lstatSync(`${tmp}/a/s`);
    assert.ok(st.isSocket());
    assert.is(st.mode & 0o777, 0o600);
    assert.is(native.bindUnixAt(native.socket(1, 1), dir, B('x'.repeat(100)), 0o600), -E.ENAMETOOLONG);
    assert.is(native.bindUnixAt(fd, dir, B('a/b'), 0o600), -E.EINVAL);
  } finally {
    native.close(fd);
    native.close(dir);
  }
});

test('unlinkatSame: removes only the pinned inode', () => {
  const dir = native.openDirSafe(B(tmp));
  fs.writeFileSync(path.join(tmp, 'pinned'), '');
  const pin = native.openatPath(dir, B('pinned'));
  fs.renameSync(path.join(tmp, 'pinned'), path.join(tmp, 'moved'));
  fs.writeFileSync(path.join(tmp, 'pinned'), 'someone else');
  assert.is(native.unlinkatSame(dir, B('pinned'), pin), -E.ESTALE);
  assert.ok(fs.existsSync(path.join(tmp, 'pinned')));
  fs.rmSync(path.join(tmp, 'pinned'));
  fs.renameSync(path.join(tmp, 'moved'), path.join(tmp, 'pinned'));
  assert.is(native.unlinkatSame(dir, B('pinned'), pin), 0);
  assert.not.ok(fs.existsSync(path.join(tmp, 'pinned')));
  native.close(pin);
  native.close(dir);
});

test('bindListen and closeAll: the file is made, pinned, and removed again; a stale socket is replaced', () => {
  const spec = { kind: 'unix', path: `${tmp}/l.sock`, mode: 0o660, owner: null, ownerText: null, name: 'x', text: `unix:${tmp}/l.sock` };
  const b = bindListen(spec);
  assert.ok(b.fd >= 0 && b.file, JSON.stringify(b));
  assert.equal(closeAll([b], false), []);
  assert.ok(fs.lstatSync(spec.path).isSocket(), 'kept');
  const again = bindListen(spec);
  assert.ok(again.fd >= 0, 'the stale socket is replaced');
  assert.equal(closeAll([again], true), []);
  assert.not.ok(fs.existsSync(spec.path), 'removed');
  fs.writeFileSync(spec.path, 'not a socket');
  assert.equal(bindListen(spec), { step: 'bind', errno: -E.EADDRINUSE });
  assert.is(fs.readFileSync(spec.path, 'utf8'), 'not a socket');
});

test.run();
