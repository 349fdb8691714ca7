// Makes V8's code cache for tsinit's bundle (dist/boot.js), so that at
// start-up tsinit's node reads the bytecode of the functions a run uses
// instead of parsing and compiling them again (README "Performance": about
// 16 M of the 37 M instructions tsinit's start-up adds to node's own).
//
// Runs at install (package.json "install"), after each build (`npm run
// prepare`) and for each node the tests use (test/fixtures/nodes.sh), with
// the node that runs it: it runs `tsinit -- <that node> --version` once, with
// the launcher's flags and this file preloaded, and at tsinit's exit writes
// .compile-cache/boot-<node version>-<arch>.bin: the bundle's source as it
// was compiled, then V8's cache (vm.Script#createCachedData, made after the
// run, so it holds every function the run compiled, not only the top level).
//
// src/cli.ts uses the file only where the source in it is byte for byte the
// bundle it reads, so a rebuilt bundle never runs stale code; V8 refuses it
// when made by another V8 or under other V8 flags, and tsinit then compiles
// as it would without it. (Not the CPU: on Node 22 V8's cached-data tag
// changes with the CPU's features, but a cache made on this machine was still
// accepted under valgrind's CPU.) tsinit writes
// nothing at run time. Best effort: where it cannot be made (a read-only
// package directory), tsinit runs as before.
//
// Made for Node 22 on, not for Node 20: the deserialized code and the cache's
// buffers add 0.27-0.29 MiB of anonymous memory to an idle tsinit (measured
// on Node 20 and 24), which would take Node 20's 5.8 MiB past issue 11's
// 6 MiB target; Node 20 reached its end of life in April 2026.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const MAKE_CACHE = Symbol.for('tsinit.compileCache');

/** Preloaded into tsinit: ask cli.ts for the script, and write its cache just before tsinit's _exit. */
function preload() {
  const state = {};
  globalThis[MAKE_CACHE] = state;
  const { native, codeCacheFile } = require(path.join(root, 'dist', 'native.js'));
  const exit = native._exit;
  native._exit = (status) => {
    if (status === 0 && state.script && state.source) {
      // The source exactly as cli.ts compiled it, then V8's cache of everything compiled since.
      const head = Buffer.alloc(4);
      head.writeUInt32LE(state.source.length, 0);
      const out = codeCacheFile();
      fs.writeFileSync(`${out}.tmp`, Buffer.concat([head, state.source, state.script.createCachedData()]), { mode: 0o644 });
      fs.renameSync(`${out}.tmp`, out);
    }
    return exit(status);
  };
}

function main() {
  const say = (msg) => {
    if (process.env.npm_config_loglevel !== 'silent') console.log(`tsinit: ${msg}`);
  };
  if (!fs.existsSync(path.join(root, 'dist', 'boot.js'))) return say('no code cache yet: dist/ is not built');
  const { LAUNCHER_FLAGS, versionFlags } = require('./place-launcher.js');
  const { spawnSync } = require('node:child_process');
  // The addon loads here as in tsinit: where it cannot, tsinit cannot run either.
  let out;
  try {
    out = require(path.join(root, 'dist', 'native.js')).codeCacheFile();
    if (out === null) return say(`no code cache for node ${process.version}: made for Node 22 on (on Node 20 the memory it takes would bring an idle tsinit past 6 MiB)`);
    fs.rmSync(out, { force: true });
    fs.mkdirSync(path.dirname(out), { recursive: true });
  } catch (err) {
    return say(`no code cache: ${err.message}`);
  }
  // NODE_* of the environment (NODE_OPTIONS...) would change what is made,
  // as the launcher keeps them from tsinit's node.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NODE_')));
  env.TSINIT_CACHE_MAKE = '1';
  const args = [...LAUNCHER_FLAGS, ...versionFlags(process.versions.node), '--require', __filename, path.join(root, 'dist', 'cli.js'), '--', process.execPath, '--version'];
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0 || !fs.existsSync(out)) {
    fs.rmSync(out, { force: true });
    return say(`no code cache: the run that makes it ${r.error ? `failed: ${r.error.message}` : `exited ${r.status ?? r.signal}: ${(r.stderr || '').trim().split('\n')[0]}`}`);
  }
  say(`code cache for node ${process.version}: ${path.relative(root, out)}`);
}

if (require.main === module) main();
else if (globalThis[MAKE_CACHE] === undefined && process.env.TSINIT_CACHE_MAKE === '1') preload();
