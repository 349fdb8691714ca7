// The native `tsinit` executable: NODE_*, OPENSSL_*, UV_* and the other
// variables meant for the application do not touch tsinit's own node, and
// reach the command unchanged; it finds node only as a regular executable in
// an absolute PATH entry; bad input gives one line; no shell is involved (it
// works without /bin/sh).
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
// What else the launcher hides, and names that look like its own escaping or
// its descriptor record: each must reach the command as it was, once.
const RUNTIME = {
  OPENSSL_CONF: '/nonexistent/openssl.cnf',
  OPENSSL_MODULES: '/nonexistent/ossl-modules',
  OPENSSL_ENGINES: '/nonexistent/engines',
  UV_THREADPOOL_SIZE: '3',
  UV_USE_IO_URING: '0',
  SSL_CERT_FILE: '/nonexistent/ca.pem',
  // Already loaded by every dynamic program, so the preload itself changes nothing.
  LD_PRELOAD: 'libc.so.6',
  TSINIT_ENV_NODE_FOO: 'bar',
  NODE_X: '1',
  TSINIT_ENV_NODE_X: '2',
  TSINIT_ENV_: 'empty name',
  TSINIT_INHERITED_FDS: 'not the launcher\'s',
};
// A FIPS set-up that this node cannot satisfy: node aborts at start-up (134)
// when it reads it. It is the application's business, not tsinit's.
const FIPS_CONF = [
  'nodejs_conf = nodejs_init',
  '[nodejs_init]',
  'providers = provider_sect',
  'alg_section = algorithm_sect',
  '[provider_sect]',
  'fips = fips_sect',
  'base = base_sect',
  '[base_sect]',
  'activate = 1',
  '[fips_sect]',
  'activate = 1',
  'module = /nonexistent/fips.so',
  '[algorithm_sect]',
  'default_properties = fips=yes',
  '',
].join('\n');

/** Runs the launcher directly (no PID namespace), to completion. */
function launch(args, { env, cwd, argv0 } = {}) {
  return spawnSync(argv0 ?? LAUNCHER, args, { env, cwd, encoding: 'latin1', timeout: 20000, killSignal: 'SIGKILL' });
}

for (const mode of MODES) {
  test(`${mode}: NODE_* reach the command unchanged and do not change tsinit's runtime`, async () => {
    const env = { PATH: process.env.PATH, TSINIT_NODE: NODE, A: '1', ...HOSTILE, ...RUNTIME, Z: '2' };
    const r = await runInit([fixture('dumpargs'), 'x'], { mode, launcher: true, env });
    assert.is(r.code, 0, r.stderr.toString());
    assert.is(r.stderr.length, 0, r.stderr.toString());
    const [args, rest] = r.stdout.toString('latin1').split('\0\0');
    assert.is(args, 'x');
    const got = rest.split('\0').filter((e) => e !== '');
    const want = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    assert.equal(got, want);
  });

  test(`${mode}: an OPENSSL_CONF that aborts node (FIPS, nodejs_conf) reaches the command and leaves tsinit alone`, async () => {
    const conf = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tsinit-fips-')), 'openssl.cnf');
    fs.writeFileSync(conf, FIPS_CONF);
    try {
      // And the test means something: this node does abort with it.
      const bare = spawnSync(NODE, ['-e', ''], { env: { OPENSSL_CONF: conf }, timeout: 20000 });
      assert.is(bare.status, null, 'a bare node started with this OPENSSL_CONF');
      const r = await runInit([fixture('dumpargs')], { mode, launcher: true, env: { PATH: process.env.PATH, TSINIT_NODE: NODE, OPENSSL_CONF: conf } });
      assert.is(r.code, 0, r.stderr.toString());
      assert.is(r.stderr.length, 0, r.stderr.toString());
      assert.ok(r.stdout.toString('latin1').includes(`\0OPENSSL_CONF=${conf}\0`));
    } finally {
      fs.rmSync(path.dirname(conf), { recursive: true, force: true });
    }
  });

  test(`${mode}: tsinit under NODE_OPTIONS=--inspect holds no socket and still forwards SIGUSR1`, async () => {
    const h = startInit([fixture('sigrec')], { mode, launcher: true, env: { PATH: process.env.PATH, TSINIT_NODE: NODE, NODE_OPTIONS: '--inspect=127.0.0.1:0', ...RUNTIME } });
    try {
      const out = lineWatcher(h.proc.stdout);
      await out.waitLine((l) => l.startsWith('ready'), 'recorder ready');
      const pid = await h.initPid;
      process.kill(pid, S.SIGUSR1);
      await out.waitLine((l) => l === `c ${S.SIGUSR1}`, 'SIGUSR1 at the command');
      const sockets = Object.entries(fdsOf(pid)).filter(([fd, l]) => Number(fd) > 2 && l.startsWith('socket:'));
      assert.equal(sockets, []);
      // The variable is there, renamed, in tsinit's own environment.
      const own = fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
      assert.ok(own.includes('TSINIT_ENV_NODE_OPTIONS=--inspect=127.0.0.1:0'));
      // Everything else it hides, hidden the same way; the reserved names escaped once more.
      for (const [k, v] of Object.entries(RUNTIME)) {
        assert.ok(own.includes(`TSINIT_ENV_${k}=${v}`), `${k} is not hidden`);
        assert.not.ok(own.includes(`${k}=${v}`), `${k} reached tsinit's node`);
      }
      // The one variable the launcher adds, last.
      assert.match(own.filter(Boolean).at(-1), /^TSINIT_INHERITED_FDS=([0-9]+(,[0-9]+)*)?$/);
      h.proc.stdin.end();
      assert.is((await h.result).code, 0);
    } finally {
      h.kill();
    }
  });
}

test('finding node: a directory named node, empty and relative PATH entries are passed over, and the search goes on', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsinit-path-'));
  try {
    // A `node` that must never run: in the working directory and in a relative entry.
    const wrong = '#!/bin/sh\necho "the wrong node ran" >&2\nexit 99\n';
    for (const d of ['.', 'rel']) {
      fs.mkdirSync(path.join(tmp, d), { recursive: true });
      fs.writeFileSync(path.join(tmp, d, 'node'), wrong, { mode: 0o755 });
    }
    fs.mkdirSync(path.join(tmp, 'dir/node'), { recursive: true });
    const real = fs.mkdtempSync(path.join(tmp, 'real-'));
    fs.symlinkSync(NODE, path.join(real, 'node'));
    const PATH = `${path.join(tmp, 'dir')}::rel:.:${real}:/usr/bin:/bin`;
    const r = launch(['--', fixture('dumpargs'), 'ok'], { cwd: tmp, env: { PATH } });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stderr, '');
    assert.is(r.stdout, `ok\0\0PATH=${PATH}\0`);
    // The node it ran is the one in the first absolute entry that has a regular file.
    const cmd = launch(['--', '/bin/sh', '-c', 'readlink /proc/$PPID/exe'], { cwd: tmp, env: { PATH } });
    assert.is(cmd.stdout, `${fs.realpathSync(NODE)}\n`, cmd.stderr);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('bad input to the launcher gives one line and 125: TSINIT_NODE too long or not a file, a NODE_* too long to hide', () => {
  const one = (r, re) => {
    assert.is(r.status, 125, `${r.status} ${r.signal} ${r.stderr}`);
    assert.is(r.stdout, '');
    assert.is(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
    assert.match(r.stderr, re);
  };
  one(launch(['--', 'true'], { env: { PATH: process.env.PATH, TSINIT_NODE: `/${'x'.repeat(5000)}` } }), /^tsinit: TSINIT_NODE is too long \(5001 bytes; a path holds at most 4095\)\n$/);
  one(launch(['--', 'true'], { env: { PATH: process.env.PATH, TSINIT_NODE: os.tmpdir() } }), /^tsinit: TSINIT_NODE=.* is not an executable file\n$/);
  // 131072 bytes with its NUL is the most one variable may hold (MAX_ARG_STRLEN
  // with 4 KiB pages): this one fits for the command, not with the prefix.
  const big = `NODE_BIG=${'x'.repeat(131071 - 'NODE_BIG='.length)}`;
  assert.is(spawnSync('/bin/true', [], { env: { NODE_BIG: big.slice(9) } }).status, 0, 'the variable itself does not fit');
  one(launch(['--', 'true'], { env: { PATH: process.env.PATH, TSINIT_NODE: NODE, NODE_BIG: big.slice(9) } }), /^tsinit: NODE_BIG is too long to hide from tsinit's own node: 131071 bytes/);
});

test('an environment that fits the launcher but not node once renamed: one line and 125, not E2BIG', () => {
  const env = { PATH: process.env.PATH, TSINIT_NODE: NODE };
  for (let i = 0; i < 20; i++) env[`NODE_V${i}`] = 'x'.repeat(100000);
  // The largest padding with which the kernel still starts the launcher itself.
  const fits = (n) => launch(['--', 'true'], { env: { ...env, PAD: 'y'.repeat(n) } }).error?.code !== 'E2BIG';
  let lo = 0;
  let hi = 131000;
  assert.ok(fits(lo), 'the test environment alone is too large');
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  const r = launch(['--', 'true'], { env: { ...env, PAD: 'y'.repeat(lo) } });
  assert.is(r.status, 125, `${r.status} ${r.stderr}`);
  assert.match(r.stderr, /^tsinit: cannot run .*: the arguments and environment are too large \(with the TSINIT_ENV_ prefixes and the descriptor record tsinit adds\)\n$/);
});

// Linux 5.18 and later put an empty argv[0] in place of a missing one (the
// pkexec fix), so there these two cannot fail even with the old launcher;
// on older kernels the launcher sees argc == 0 and argv[0] == NULL.
test('the launcher started with no argv at all (argv[0] == NULL) runs tsinit', () => {
  const r = launch(['-0', '--', LAUNCHER], { argv0: fixture('fdsetup'), env: { PATH: process.env.PATH, TSINIT_NODE: NODE } });
  // tsinit ran and found no command: its own usage error, not a crash.
  assert.is(r.status, 2, `${r.status} ${r.signal} ${r.stderr}`);
  assert.match(r.stderr, /^tsinit: no command given\n/);
});

/** A root holding node with its libraries, the package and two fixtures:
 * no /bin/sh, no /usr/bin/env, and no /proc mounted. */
function distrolessRoot() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsinit-distroless-'));
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
  // The package: compiled JS, addon, launcher, the node-gyp-build loader, fixtures.
  const pkg = '/opt/tsinit';
  fs.cpSync(path.join(ROOT, 'dist'), path.join(root, pkg, 'dist'), { recursive: true });
  fs.cpSync(path.join(ROOT, 'package.json'), path.join(root, pkg, 'package.json'));
  fs.mkdirSync(path.join(root, pkg, 'build/Release'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'build/Release/tsinit.node'), path.join(root, pkg, 'build/Release/tsinit.node'));
  fs.copyFileSync(LAUNCHER, path.join(root, pkg, 'build/Release/tsinit-launcher'));
  fs.chmodSync(path.join(root, pkg, 'build/Release/tsinit-launcher'), 0o755);
  fs.cpSync(path.join(ROOT, 'node_modules/node-gyp-build'), path.join(root, pkg, 'node_modules/node-gyp-build'), { recursive: true });
  for (const f of ['dumpargs', 'fdsetup']) {
    fs.copyFileSync(fixture(f), path.join(root, f));
    fs.chmodSync(path.join(root, f), 0o755);
  }
  for (const d of ['proc', 'tmp', 'dev']) fs.mkdirSync(path.join(root, d), { recursive: true });
  assert.not.ok(fs.existsSync(path.join(root, 'bin/sh')));
  assert.not.ok(fs.existsSync(path.join(root, 'usr/bin/env')));
  const chroot = ['/usr/sbin/chroot', '/usr/bin/chroot', '/sbin/chroot'].find((p) => fs.existsSync(p));
  return { root, pkg, nodeBin, chroot };
}

test('without /proc and with argv[0] == NULL the launcher says it cannot find dist/cli.js, and does not crash', () => {
  if (!isRoot) {
    console.log('SKIP: argv[0] == NULL without /proc: needs root for chroot');
    return;
  }
  const { root, pkg, nodeBin, chroot } = distrolessRoot();
  try {
    const r = spawnSync(chroot, [root, '/fdsetup', '-0', '--', `${pkg}/build/Release/tsinit-launcher`], { env: { TSINIT_NODE: nodeBin }, encoding: 'latin1', timeout: 20000 });
    assert.is(r.status, 125, `${r.status} ${r.signal} ${r.stderr}`);
    assert.is(r.stderr, 'tsinit: cannot find dist/cli.js next to this executable\n');
    // With argv[0], the same root finds everything (the next test does it in full).
    const ok = spawnSync(chroot, [root, '/fdsetup', '--', `${pkg}/build/Release/tsinit-launcher`, '--', '/dumpargs'], { env: { TSINIT_NODE: nodeBin }, encoding: 'latin1', timeout: 20000 });
    assert.is(ok.status, 0, ok.stderr);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('the launcher runs in a root with no /bin/sh and no /usr/bin/env (distroless-like)', async () => {
  if (!isRoot) {
    console.log('SKIP: distroless chroot test: needs root for chroot');
    return;
  }
  const { root, pkg, nodeBin, chroot } = distrolessRoot();
  try {
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
