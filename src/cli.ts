#!/usr/bin/env node
// Entry: side effects only. Signal handlers go in first, before anything else
// loads, so the window in which a signal meets Node's defaults is as short as
// Node allows; runMain does the rest and its status becomes tsinit's.
import { codeCacheFile, native, type EventHandler } from './native';
import { catchableSignals, catchForTerminal } from './core/signals';

// Signals that arrive before the command exists wait in the addon's pipe and
// are handled, in order, right after the spawn (the spawn is synchronous, so
// the event loop cannot read them earlier).
let handler: EventHandler = () => {};
const installed = native.signalsStart(catchForTerminal(catchableSignals()), (events) => handler(events));

// Everything else loads after the handlers are in place, from one module
// (the build bundles it into one file). The launcher's record of the
// inherited descriptors is read first thing, before tsinit opens anything.
import * as fs from 'node:fs';
import * as path from 'node:path';
type Boot = typeof import('./boot');

/**
 * Set by scripts/compile-cache.js, which preloads itself into a run of
 * tsinit to make the bundle's code cache: the bundle is then compiled
 * through vm.Script even without a cache, and the script is left here for it.
 */
const MAKE_CACHE = Symbol.for('tsinit.compileCache');

/**
 * The bundle, compiled from V8's code cache where one was made for this
 * node (scripts/compile-cache.js, at install; Node 22 on): the bytecode of
 * every function a run of tsinit compiled, so this run compiles next to
 * nothing (without a cache, plain require as before). The cache
 * file holds the very source it was made from, and is used only where that is
 * byte for byte the bundle read now; V8 itself refuses data made by another V8
 * or under other flags. Nothing is written here. Returns the bundle's exports
 * and what became of the cache, for -vv.
 */
function loadBoot(): { boot: Boot; codeCache: string } {
  const file = path.join(__dirname, 'boot.js');
  const making = (globalThis as Record<symbol, { script?: import('node:vm').Script; source?: Buffer } | undefined>)[MAKE_CACHE];
  const cacheFile = codeCacheFile();
  let cached: Buffer | undefined;
  let source: Buffer | undefined;
  if (!making) {
    try {
      cached = cacheFile !== null && fs.existsSync(cacheFile) ? fs.readFileSync(cacheFile) : undefined;
    } catch {
      // Unreadable: as if there were none.
    }
    if (!cached) return { boot: require('./boot') as Boot, codeCache: 'code cache: none for this node' };
    source = fs.readFileSync(file);
    const n = cached.length >= 4 ? cached.readUInt32LE(0) : -1;
    if (n !== source.length || cached.length <= 4 + n || !cached.subarray(4, 4 + n).equals(source)) {
      return { boot: require('./boot') as Boot, codeCache: 'code cache: not used, made from another build of tsinit' };
    }
  }
  source ??= fs.readFileSync(file);
  const vm = require('node:vm') as typeof import('node:vm');
  // The wrapper Node's own CommonJS loader puts around a module (the bundle uses exports and require only).
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) { ${source.toString('utf8')}\n});`, {
    filename: file,
    cachedData: cached?.subarray(4 + source.length),
  });
  if (making) Object.assign(making, { script, source });
  const module = { exports: {} as Boot };
  (script.runInThisContext() as (...a: unknown[]) => void)(module.exports, require('node:module').createRequire(file), module, file, __dirname);
  const codeCache = making ? 'code cache: being made' : script.cachedDataRejected ? 'code cache: refused by V8 (made by another V8, or under other V8 flags)' : 'code cache: used';
  return { boot: module.exports, codeCache };
}

const { boot, codeCache } = loadBoot();
const { errnoMessage, inheritedFds, launcherParent, rawArgs, rawEnv, runMain } = boot;
const inherited = inheritedFds();

function exit(status: number): never {
  return native._exit(status);
}

if (installed < 0) {
  fs.writeSync(2, `tsinit: cannot install signal handlers: ${errnoMessage(installed)}\n`);
  exit(125);
}

runMain({
  args: rawArgs(),
  env: rawEnv(),
  inherited,
  parentPid: launcherParent(),
  codeCache,
  setSignalHandler: (h) => {
    handler = h;
  },
}).then(exit, (err: unknown) => {
  fs.writeSync(2, `tsinit: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
  exit(125);
});
