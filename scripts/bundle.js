// Bundles what the CLI loads after its signal handlers are in (tsc's
// dist/boot.js and every module under it) into that one file: one file to
// read and compile at start-up instead of a dozen module look-ups.
// dist/cli.js, dist/native.js and dist/core/signals.js stay tsc's own small
// files: they load before the handlers go in, so the signal-blind window does
// not pay for parsing the bundle, and the bundle requires those very modules
// rather than copies, so the addon and the signal table exist once. The rest
// of tsc's dist/ stays as it is for the public API (dist/index.js and its
// .d.ts) and the unit tests. Run by `npm run prepare`, after tsc.
//
// The input is tsc's CommonJS, not the TypeScript: esbuild then wraps each
// module in a function that runs on its first require(), exactly as Node's
// loader would, and idle memory stays as low as without the bundle (5.5 MiB
// anonymous, against 5.9 MiB for a bundle made from the .ts sources; measured).
//
// What loads only on demand stays out of the bundle: privileges/* (and
// config/ and services/*, for --config) are required from tsc's files, so a
// plain run neither reads nor holds them (test/e2e/startup.test.mjs checks
// what a plain run requires). Such a module gets its own copy of any module
// it imports that is not in SHARED below: keep those stateless, or add them
// to SHARED. Packages loaded only for an option (smol-toml) and
// node-gyp-build (only when the addon is not where it usually is) stay
// external too.
'use strict';
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.join(__dirname, '..');
const dist = path.join(root, 'dist');
/** Files the bundle requires as they are, and their path from dist/boot.js:
 * those loaded before the handlers, and package.json (read for --version). */
const SHARED = new Map([
  [path.join(dist, 'native.js'), './native.js'],
  [path.join(dist, 'core/signals.js'), './core/signals.js'],
  [path.join(root, 'package.json'), '../package.json'],
]);
/** Folders whose modules load only for some options. */
const LAZY = ['privileges', 'config', 'services'].map((d) => path.join(dist, d) + path.sep);

const split = {
  name: 'split',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      let target = path.resolve(args.resolveDir, args.path);
      if (!/\.(js|json)$/.test(target)) target += '.js';
      const shared = SHARED.get(target);
      if (shared) return { path: shared, external: true };
      if (LAZY.some((d) => target.startsWith(d))) return { path: `./${path.relative(dist, target)}`, external: true };
      return undefined;
    });
  },
};

esbuild
  .build({
    absWorkingDir: root,
    entryPoints: ['dist/boot.js'],
    outfile: 'dist/boot.js',
    allowOverwrite: true,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['node-gyp-build', 'smol-toml'],
    plugins: [split],
    legalComments: 'none',
    logLevel: 'warning',
  })
  .catch(() => process.exit(1));
