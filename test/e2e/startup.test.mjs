// Start-up and idling: a signal sent as soon as tsinit's handlers are in is
// not lost; SIGUSR1 never opens Node's inspector; an idle tsinit uses no CPU;
// a plain run loads one bundle after its handlers and nothing it does not need;
// under valgrind, which keeps a signal for itself, tsinit still runs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { MODES, startInit, fixture, CLI, NODE, launcherFlags } from '../helpers/tsinit.mjs';
import { procStatus, procStat, maskHas, childrenOf, fdsOf } from '../helpers/proc.mjs';
import { lineWatcher, waitFor, sleep } from '../helpers/wait.mjs';

const S = os.constants.signals;
const require = createRequire(import.meta.url);
// The node under test, and its code cache as native.ts codeCacheFile() names it (null: none is made for it).
const { VERSION, CACHE } = JSON.parse(
  spawnSync(NODE, ['-p', `JSON.stringify({ VERSION: process.version, CACHE: require(${JSON.stringify(path.join(path.dirname(CLI), 'native.js'))}).codeCacheFile() })`], { encoding: 'utf8' }).stdout,
);

/** Waits until tsinit's own handler is installed: only tsinit's addon catches real-time signal 40. */
async function handlersInstalled(pid) {
  await waitFor('tsinit handlers', () => {
    try {
      return maskHas(procStatus(pid).get('SigCgt'), 40);
    } catch {
      return false;
    }
  }, 10000, 1);
}

for (const mode of MODES) {
  test(`${mode}: a SIGTERM sent the moment the handlers are in is not lost`, async () => {
    for (let i = 0; i < 5; i++) {
      // sleep would run 30 s if the signal were lost; the timeout is far shorter.
      const h = startInit(['sleep', '30'], { mode, timeoutMs: 15000 });
      try {
        const pid = await h.initPid;
        await handlersInstalled(pid);
        process.kill(pid, S.SIGTERM);
        const r = await h.result;
        assert.is(r.timedOut, false, 'the signal was lost');
        assert.is(r.code, 128 + S.SIGTERM, r.stderr.toString());
      } finally {
        h.kill();
      }
    }
  });

  test(`${mode}: SIGUSR1 is forwarded and opens no inspector in tsinit`, async () => {
    const h = startInit([fixture('sigrec')], { mode, timeoutMs: 20000 });
    try {
      const out = lineWatcher(h.proc.stdout);
      await out.waitLine((l) => l.startsWith('ready'), 'recorder ready');
      const pid = await h.initPid;
      const threadsBefore = fs.readdirSync(`/proc/${pid}/task`).length;
      process.kill(pid, S.SIGUSR1);
      await out.waitLine((l) => l === `c ${S.SIGUSR1}`, 'SIGUSR1 at the command');
      await sleep(300);
      // Node's inspector would listen on 127.0.0.1:9229 (port 0x2411) with a socket of tsinit's.
      // (0, 1 and 2 are the harness's socketpairs.)
      const sockets = Object.entries(fdsOf(pid)).filter(([fd, l]) => Number(fd) > 2 && l.startsWith('socket:'));
      assert.equal(sockets, [], 'tsinit holds a socket');
      const listening = fs
        .readFileSync(`/proc/${pid}/net/tcp`, 'utf8')
        .split('\n')
        .filter((l) => / [0-9A-F]{8}:2411 /.test(l) && / 0A /.test(l));
      assert.is(listening.length, 0, 'something listens on 9229 in tsinit\'s network namespace');
      assert.is(fs.readdirSync(`/proc/${pid}/task`).length, threadsBefore, 'a thread was started');
      h.proc.stdin.end();
      assert.is((await h.result).code, 0);
    } finally {
      h.kill();
    }
  });

  test(`${mode}: idle tsinit uses no CPU over 2 s`, async () => {
    const h = startInit(['sleep', '30'], { mode, timeoutMs: 20000 });
    try {
      const pid = await h.initPid;
      await waitFor('the command', () => childrenOf(pid).some((c) => procStat(c)[2] === 'sleep'));
      await sleep(500);
      const ticks = () => {
        const f = procStat(pid);
        return Number(f[14]) + Number(f[15]);
      };
      const switches = () =>
        fs.readdirSync(`/proc/${pid}/task`).reduce((sum, t) => {
          const s = fs.readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8');
          return sum + Number(/voluntary_ctxt_switches:\s*(\d+)/.exec(s)[1]);
        }, 0);
      const t0 = ticks();
      const w0 = switches();
      await sleep(2000);
      const used = ticks() - t0;
      const woke = switches() - w0;
      const hz = 100;
      assert.ok(used <= 2, `tsinit used ${used} ticks (${(used * 1000) / hz} ms) of CPU while idle`);
      // No timers: at most a stray wake-up from Node's platform threads.
      assert.ok(woke <= 4, `tsinit woke ${woke} times while idle`);
    } finally {
      h.kill();
    }
  });
}

test('a plain run requires the addon, two small modules, then one bundle; the privilege code and node:net only with a privilege option', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsinit-require-'));
  try {
    // Every require() tsinit makes, in order (tsinit ends in _exit, so append as it goes).
    const hook = path.join(dir, 'hook.cjs');
    fs.writeFileSync(
      hook,
      `const Module = require('node:module'); const fs = require('node:fs'); const orig = Module.prototype.require;
Module.prototype.require = function (id) { fs.appendFileSync(process.env.REQ_LOG, id + '\\n'); return orig.apply(this, arguments); };\n`,
    );
    const required = (args) => {
      const log = path.join(dir, `log-${args.length}`);
      const r = spawnSync(NODE, ['--require', hook, CLI, ...args], { env: { PATH: process.env.PATH, REQ_LOG: log }, encoding: 'utf8', timeout: 20000 });
      assert.is(r.status, 0, r.stderr);
      return fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
    };
    const plain = required(['--', 'true']);
    const local = [...new Set(plain.filter((id) => id.startsWith('.')))];
    // cli.js, native.js and core/signals.js (which asks the addon for the
    // real-time range) before the handlers; then dist/boot.js, the bundle,
    // which uses those two again rather than copies of its own. Where it has
    // a code cache (Node 22 on) it is compiled through vm.Script, not required.
    const viaVm = CACHE !== null && fs.existsSync(CACHE);
    assert.equal(local, ['./native', './core/signals', '../native', ...(viaVm ? [] : ['./boot']), './core/signals.js', './native.js']);
    assert.not.ok(plain.includes('node:net'), 'a plain run loaded node:net');
    // A privilege option loads privdrop from tsc's own file (not from the bundle), and listen.ts loads node:net.
    const priv = required(['--umask', '022', '--', 'true']);
    assert.ok(priv.includes('./privileges/privdrop.js'), '--umask did not load the privilege code');
    assert.ok(priv.includes('node:net'), 'listen.ts did not load node:net');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('signal handlers that cannot go in: one line with the errno in words, exit 125', () => {
  // The signal pipe is the first descriptor tsinit itself asks for: under a
  // descriptor limit just above what Node holds at start, it is what fails
  // (EMFILE). Which limit that is depends on Node's version, so look for it,
  // from low (Node itself cannot start) up to where tsinit runs normally.
  let found = null;
  for (let k = 8; k <= 64 && found === null; k++) {
    const r = spawnSync('bash', ['-c', `ulimit -n ${k} && exec "$0" "$@"`, NODE, CLI, '--', 'true'], { encoding: 'utf8', timeout: 20000 });
    if (r.stderr.includes('cannot install signal handlers')) found = r;
    else if (r.status === 0) break;
  }
  if (found === null) {
    console.log('  skip: no descriptor limit made the signal pipe fail on this Node (it starts and runs, or fails elsewhere first)');
    return;
  }
  assert.is(found.stderr, 'tsinit: cannot install signal handlers: too many open files\n');
  assert.is(found.status, 125);
});

// valgrind keeps the highest real-time signal for itself, so sigaction
// refuses it there. tsinit used to stop at that with "cannot install signal
// handlers" and exit 125, and the bench's instruction count had counted that
// short run. Now the one signal is left out, with a warning that names it.
const VALGRIND = ['/usr/bin/valgrind', '/bin/valgrind'].find((p) => fs.existsSync(p)) ?? null;
test('under valgrind, which refuses SIGRTMAX, tsinit runs the command and says which signal it cannot catch', () => {
  if (VALGRIND === null) {
    console.log('  skip: valgrind is not installed (apt-get install valgrind)');
    return;
  }
  const r = spawnSync(VALGRIND, ['-q', '--tool=none', NODE, ...launcherFlags(), CLI, '--', 'sh', '-c', 'exit 3'], { timeout: 120000, killSignal: 'SIGKILL' });
  const err = r.stderr.toString();
  assert.is(r.status, 3, err);
  const { constants } = require('../../dist/native.js');
  const { signalName } = require('../../dist/core/signals.js');
  const warnings = err.split('\n').filter((l) => l.startsWith('tsinit: warning: cannot catch'));
  assert.equal(warnings.length, 1, err);
  assert.ok(warnings[0].includes(`cannot catch ${signalName(constants.SIGRTMAX)} here`), warnings[0]);
});

// The bundle's code cache (scripts/compile-cache.js, src/cli.ts): made at
// build for Node 22 on, used where its source is byte for byte the bundle,
// refused by V8 under other flags, and never written by tsinit itself.

/** Every entry of dir with its size and mtime, to see that nothing was written there. */
function listing(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).sort().map((n) => {
    const st = fs.statSync(path.join(dir, n));
    return `${n} ${st.size} ${st.mtimeNs ?? st.mtimeMs}`;
  });
}

/** tsinit -vv from root (a package directory), with the launcher's flags (or flags), and its start-up line. */
function cacheRun(root, args, flags = launcherFlags()) {
  const r = spawnSync(NODE, [...flags, path.join(root, 'dist/cli.js'), '-vv', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH }, timeout: 30000 });
  return { ...r, startup: (r.stderr.match(/^tsinit: debug: start-up: (.*)$/m) ?? [])[1] ?? null };
}

test('the bundle runs from its code cache (Node 22 on; none is made for Node 20), and a run writes nothing there', () => {
  const root = path.dirname(path.dirname(CLI));
  const dir = path.join(root, '.compile-cache');
  const before = listing(dir);
  const r = cacheRun(root, ['--', 'sh', '-c', 'exit 3']);
  assert.is(r.status, 3, r.stderr);
  if (CACHE === null) {
    const made = listing(dir).filter((l) => l.startsWith(`boot-${VERSION}-`));
    assert.equal(made, [], `a code cache was made for ${VERSION}`);
    assert.is(r.startup, 'code cache: none for this node');
  } else {
    assert.ok(fs.existsSync(CACHE), `npm run build made no code cache for ${VERSION}`);
    assert.is(r.startup, 'code cache: used');
  }
  assert.equal(listing(dir), before, 'tsinit wrote in .compile-cache');
});

/** A copy of the package's dist/ and this node's cache, to change the bundle in. */
function packageCopy() {
  const root = path.dirname(path.dirname(CLI));
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'tsinit-cache-'));
  fs.cpSync(path.join(root, 'dist'), path.join(copy, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(root, 'package.json'), path.join(copy, 'package.json'));
  fs.symlinkSync(path.join(root, 'build'), path.join(copy, 'build'));
  fs.mkdirSync(path.join(copy, '.compile-cache'));
  fs.copyFileSync(CACHE, path.join(copy, '.compile-cache', path.basename(CACHE)));
  return copy;
}

test('a code cache made from another build is not used: a bundle changed in one byte, at the same length, runs its new code', () => {
  if (CACHE === null) {
    console.log(`  skip: no code cache is made for ${VERSION} (scripts/compile-cache.js says why)`);
    return;
  }
  const copy = packageCopy();
  try {
    // The usage error's text, one letter changed: V8 itself checks a cache
    // against its source by length only, so it would run the old text.
    const boot = path.join(copy, 'dist/boot.js');
    const text = fs.readFileSync(boot, 'utf8');
    const message = "`unknown option '${word}'`";
    assert.ok(text.includes(message), `the bundle has no ${message}`);
    fs.writeFileSync(boot, text.replace(message, message.replace('option', 'Option')));
    const bad = cacheRun(copy, ['--no-such-option', '--', 'true']);
    assert.is(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, 'unknown Option');
    assert.not.match(bad.stderr, 'unknown option');
    assert.is(cacheRun(copy, ['--', 'true']).startup, 'code cache: not used, made from another build of tsinit');
  } finally {
    fs.rmSync(copy, { recursive: true, force: true });
  }
});

test('where the code cache cannot be made, the maker says so in one line, exits 0 (an install goes on) and leaves no file', () => {
  const root = path.dirname(path.dirname(CLI));
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'tsinit-cache-'));
  try {
    fs.cpSync(path.join(root, 'dist'), path.join(copy, 'dist'), { recursive: true });
    fs.cpSync(path.join(root, 'scripts'), path.join(copy, 'scripts'), { recursive: true });
    fs.copyFileSync(path.join(root, 'package.json'), path.join(copy, 'package.json'));
    fs.symlinkSync(path.join(root, 'build'), path.join(copy, 'build'));
    // A file where its directory would go: mkdir fails, as in a read-only package directory.
    fs.writeFileSync(path.join(copy, '.compile-cache'), '');
    const r = spawnSync(NODE, [path.join(copy, 'scripts/compile-cache.js')], { encoding: 'utf8', env: { PATH: process.env.PATH }, timeout: 60000 });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stderr, '');
    const lines = r.stdout.split('\n').filter(Boolean);
    assert.is(lines.length, 1, r.stdout);
    assert.match(lines[0], /^tsinit: no code cache/);
    assert.is(fs.readFileSync(path.join(copy, '.compile-cache'), 'utf8'), '');
    assert.equal(fs.readdirSync(copy).sort(), ['.compile-cache', 'build', 'dist', 'package.json', 'scripts']);
  } finally {
    fs.rmSync(copy, { recursive: true, force: true });
  }
});

test('a code cache V8 refuses (made under other V8 flags) changes nothing but the time', () => {
  if (CACHE === null) {
    console.log(`  skip: no code cache is made for ${VERSION} (scripts/compile-cache.js says why)`);
    return;
  }
  const r = cacheRun(path.dirname(path.dirname(CLI)), ['--', 'sh', '-c', 'exit 3'], [...launcherFlags(), '--max-lazy']);
  assert.is(r.status, 3, r.stderr);
  assert.is(r.startup, 'code cache: refused by V8 (made by another V8, or under other V8 flags)');
});

test.run();
