// The native `tsinit` executable: NODE_OPTIONS and other NODE_* variables
// meant for the application do not touch tsinit's own node, and reach the
// command unchanged; no shell is involved (it works without /bin/sh).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { MODES, startInit, runInit, fixture, LAUNCHER, NODE, ROOT, isRoot } from '../helpers/tsinit.mjs';
import { fdsOf } from '../helpers/proc.mjs';
import { lineWatcher } from '../helpers/wait.mjs';

const S = os.constants.signals;
// A preload that does not exist would stop any node that honoured it; --inspect would open a socket.
const HOSTILE = { NODE_OPTIONS: '--inspect=127.0.0.1:0 --require /nonexistent/preload.js', NODE_DEBUG: 'net', NODE_PATH: '/nonexistent' };

for (const mode of MODES) {
  test(`${mode}: NODE_* reach the command unchanged and do not change tsinit's runtime`, async () => {
    const env = { PATH: process.env.PATH, TSINIT_NODE: NODE, A: '1', ...HOSTILE, Z: '2' };
    const r = await runInit([fixture('dumpargs'), 'x'], { mode, launcher: true, env });
    assert.is(r.code, 0, r.stderr.toString());
    assert.is(r.stderr.length, 0, r.stderr.toString());
    const [args, rest] = r.stdout.toString('latin1').split('\0\0');
    assert.is(args, 'x');
    const got = rest.split('\0').filter((e) => e !== '');
    const want = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    assert.equal(got, want);
  });

  test(`${mode}: tsinit under NODE_OPTIONS=--inspect holds no socket and still forwards SIGUSR1`, async () => {
    const h = startInit([fixture('sigrec')], { mode, launcher: true, env: { PATH: process.env.PATH, TSINIT_NODE: NODE, NODE_OPTIONS: '--inspect=127.0.0.1:0' } });
    try {
      const out = lineWatcher(h.proc.stdout);
      await out.waitLine((l) => l.startsWith('ready'), 'recorder ready');
      const pid = await h.initPid;
      process.kill(pid, S.SIGUSR1);
      await out.waitLine((l) => l === `c ${S.SIGUSR1}`, 'SIGUSR1 at the command');
      const sockets = Object.entries(fdsOf(pid)).filter(([fd, l]) => Number(fd) > 2 && l.startsWith('socket:'));
      assert.equal(sockets, []);
      // The variable is there, renamed, in tsinit's own environment.
      assert.ok(fs.readFileSync(`/proc/${pid}/environ`, 'latin1').includes('\0TSINIT_ENV_NODE_OPTIONS=--inspect=127.0.0.1:0\0'));
      h.proc.stdin.end();
      assert.is((await h.result).code, 0);
    } finally {
      h.kill();
    }
  });
}

test('the launcher runs in a root with no /bin/sh and no /usr/bin/env (distroless-like)', async () => {
  if (!isRoot) {
    console.log('SKIP: distroless chroot test: needs root for chroot');
    return;
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsinit-distroless-'));
  try {
    const copy = (file) => {
      const dest = path.join(root, file);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.copyFileSync(fs.realpathSync(file), dest);
      fs.chmodSync(dest, fs.statSync(fs.realpathSync(file)).mode);
    };
    // node and every library it loads, as `ldd` lists them.
    const nodeBin = fs.realpathSync(NODE);
    const ldd = spawnSync('ldd', [nodeBin], { encoding: 'utf8' }).stdout;
    copy(nodeBin);
    for (const m of ldd.matchAll(/(\/[^\s]+)/g)) if (fs.existsSync(m[1])) copy(m[1]);
    // The package: compiled JS, addon, launcher, the node-gyp-build loader, a fixture.
    const pkg = '/opt/tsinit';
    fs.cpSync(path.join(ROOT, 'dist'), path.join(root, pkg, 'dist'), { recursive: true });
    fs.cpSync(path.join(ROOT, 'package.json'), path.join(root, pkg, 'package.json'));
    fs.mkdirSync(path.join(root, pkg, 'build/Release'), { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'build/Release/tsinit.node'), path.join(root, pkg, 'build/Release/tsinit.node'));
    fs.copyFileSync(LAUNCHER, path.join(root, pkg, 'build/Release/tsinit-launcher'));
    fs.chmodSync(path.join(root, pkg, 'build/Release/tsinit-launcher'), 0o755);
    fs.cpSync(path.join(ROOT, 'node_modules/node-gyp-build'), path.join(root, pkg, 'node_modules/node-gyp-build'), { recursive: true });
    fs.copyFileSync(fixture('dumpargs'), path.join(root, 'dumpargs'));
    fs.chmodSync(path.join(root, 'dumpargs'), 0o755);
    for (const d of ['proc', 'tmp', 'dev']) fs.mkdirSync(path.join(root, d), { recursive: true });
    assert.not.ok(fs.existsSync(path.join(root, 'bin/sh')));
    assert.not.ok(fs.existsSync(path.join(root, 'usr/bin/env')));
    const chroot = ['/usr/sbin/chroot', '/usr/bin/chroot', '/sbin/chroot'].find((p) => fs.existsSync(p));
    const r = spawnSync(chroot, [root, `${pkg}/build/Release/tsinit-launcher`, '--', '/dumpargs', 'ok'], {
      env: { TSINIT_NODE: nodeBin, NODE_OPTIONS: '--require /nonexistent.js', PATH: '/nowhere' },
      timeout: 20000,
    });
    assert.is(r.status, 0, `${r.stderr}`);
    assert.is(r.stdout.toString('latin1'), `ok\0\0TSINIT_NODE=${nodeBin}\0NODE_OPTIONS=--require /nonexistent.js\0PATH=/nowhere\0`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('the launcher adds --disable-sigusr1 for the Node 24 that installed it, and nothing for another node', () => {
  const node24 = path.join(ROOT, 'test/.node/24/bin/node');
  if (!fs.existsSync(node24)) {
    console.log('SKIP: --disable-sigusr1 test: no Node 24 in test/.node (see test/fixtures/nodes.sh)');
    return;
  }
  const pkg = fs.mkdtempSync(path.join(os.tmpdir(), 'tsinit-flags-'));
  try {
    for (const d of ['dist', 'node_modules/node-gyp-build']) fs.cpSync(path.join(ROOT, d), path.join(pkg, d), { recursive: true });
    for (const f of ['package.json', 'bin/tsinit.js', 'scripts/place-launcher.js', 'build/Release/tsinit.node', 'build/Release/tsinit-launcher']) {
      fs.mkdirSync(path.dirname(path.join(pkg, f)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, f), path.join(pkg, f));
    }
    fs.chmodSync(path.join(pkg, 'build/Release/tsinit-launcher'), 0o755);
    // Installed by Node 24: the flag is recorded for that node.
    const place = spawnSync(node24, [path.join(pkg, 'scripts/place-launcher.js')], { encoding: 'utf8' });
    assert.is(place.status, 0, place.stderr);
    const cmdlineOf = (node) => {
      const r = spawnSync(path.join(pkg, 'bin/tsinit'), ['sh', '-c', 'tr "\\0" " " </proc/$PPID/cmdline'], { env: { PATH: process.env.PATH, TSINIT_NODE: node }, encoding: 'utf8', timeout: 20000 });
      assert.is(r.status, 0, r.stderr);
      return r.stdout;
    };
    assert.match(cmdlineOf(node24), /--disable-sigusr1 /);
    // Another node may not know the flag: it must not get it.
    assert.not.match(cmdlineOf(process.execPath), /--disable-sigusr1/);
  } finally {
    fs.rmSync(pkg, { recursive: true, force: true });
  }
});

test.run();
