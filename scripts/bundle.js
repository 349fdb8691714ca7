// Bundles what the CLI loads after its signal handlers are in (src/boot.ts
// and everything under it) into one file, dist/boot.js, over tsc's: one file
// to read and compile instead of a dozen module look-ups at start-up.
// dist/cli.js, dist/native.js and dist/core/signals.js stay tsc's own small
// files: they load before the handlers go in, so the signal-blind window is
// not lengthened by parsing the bundle, and the bundle uses those very
// modules (external) rather than copies, so the addon and the signal table
// exist once. The rest of tsc's dist/ stays for the public API
// (dist/index.js and its .d.ts) and the unit tests.
//
// What loads only on demand stays on demand: esbuild turns each module into
// an init function that runs on its first require(), so privileges/* (and
// node:net, which listen.ts needs) run only with a privilege option, as
// with tsc's output (test/e2e/startup.test.mjs checks what a plain run
// requires). Packages loaded only for an option (smol-toml, for --config)
// and node-gyp-build (only when the addon is not where it usually is) stay
// external.
'use strict';
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.join(__dirname, '..');
const src = path.join(root, 'src');
/** Files the bundle requires as they are, and their path from dist/boot.js:
 * those loaded before the handlers, and package.json (read for --version). */
const SHARED = new Map([
  [path.join(src, 'native.ts'), './native.js'],
  [path.join(src, 'core/signals.ts'), './core/signals.js'],
  [path.join(root, 'package.json'), '../package.json'],
]);

const shared = {
  name: 'shared',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      const target = path.resolve(args.resolveDir, args.path);
      for (const [file, out] of SHARED) if (target === file || `${target}.ts` === file) return { path: out, external: true };
      return undefined;
    });
  },
};

esbuild
  .build({
    absWorkingDir: root,
    entryPoints: ['src/boot.ts'],
    outfile: 'dist/boot.js',
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['node-gyp-build', 'smol-toml'],
    plugins: [shared],
    legalComments: 'none',
    logLevel: 'warning',
  })
  .catch(() => process.exit(1));
