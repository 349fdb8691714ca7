// Puts the `tsinit` command at bin/tsinit, where package.json's bin points:
// the native launcher (native/launcher.c) when one was built here or ships
// as a prebuild for this platform, so NODE_* variables meant for the
// application never reach tsinit's own node; else the JavaScript entry
// bin/tsinit.js. Runs at install, after node-gyp-build, and before packing.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

// Flags only some Node versions accept: --disable-sigusr1 (22.14 and 23.7 on)
// keeps Node from listening for SIGUSR1 during its own start-up, before
// tsinit's handler replaces Node's. Exported for the tests, which run node
// as the launcher does (test/helpers/tsinit.mjs).
function versionFlags(version) {
  const [major, minor] = version.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 7) || (major === 22 && minor >= 14) ? ['--disable-sigusr1'] : [];
}
// The flags native/launcher.c gives every node it starts (its own copy, in
// C): one V8 worker thread, a 1 MiB young generation. For what runs node as
// the launcher does: the tests (test/helpers/tsinit.mjs) and the code cache
// (scripts/compile-cache.js), which V8 accepts only from the same V8 flags.
const LAUNCHER_FLAGS = ['--v8-pool-size=1', '--max-semi-space-size=1'];
module.exports = { versionFlags, LAUNCHER_FLAGS };

if (require.main === module) {
  const root = path.join(__dirname, '..');
  const dest = path.join(root, 'bin', 'tsinit');
  const jsOnly = process.argv.includes('--js');
  const candidates = jsOnly
    ? []
    : [path.join(root, 'build', 'Release', 'tsinit-launcher'), path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'tsinit-launcher')];
  const launcher = candidates.find((p) => fs.existsSync(p));
  const source = launcher ?? path.join(root, 'bin', 'tsinit.js');

  // Write beside, then rename over: a symlink npm made to bin/tsinit stays valid.
  const tmp = `${dest}.${process.pid}`;
  fs.copyFileSync(source, tmp);
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, dest);

  // An unknown flag would stop node, so the launcher adds these only when the
  // node it finds is this very file (same device, inode, size and mtime) that
  // was checked here.
  const flagsFile = path.join(root, 'bin', 'tsinit.node-flags');
  const flags = versionFlags(process.versions.node);
  if (launcher && flags.length > 0) {
    const st = fs.statSync(fs.realpathSync(process.execPath));
    fs.writeFileSync(flagsFile, `${st.dev} ${st.ino} ${st.size} ${Math.floor(st.mtimeMs / 1000)}\n${flags.join('\n')}\n`);
  } else {
    fs.rmSync(flagsFile, { force: true });
  }

  if (process.env.npm_config_loglevel !== 'silent') {
    console.log(`tsinit: bin/tsinit is ${launcher ? `the native launcher (${path.relative(root, launcher)})` : 'the JavaScript entry'}`);
  }
}
