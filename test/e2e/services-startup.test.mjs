// Services mode costs single-command mode nothing: without --config none of
// src/config, src/services or smol-toml is loaded. And the non-root
// placement: services run as tsinit's own user (notify sockets under
// TMPDIR), while a service as any other user is an error before anything
// starts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { NODE, CLI, ROOT, fixture, isRoot } from '../helpers/tsinit.mjs';
import { scratch, startServices } from '../helpers/services.mjs';

const LOADLOG = `${ROOT}/test/fixtures/loadlog.cjs`;

function loaded(args) {
  const s = scratch();
  const log = s.path('loaded');
  const r = spawnSync(NODE, ['-r', LOADLOG, CLI, ...args], { encoding: 'utf8', env: { ...process.env, TSINIT_LOADLOG: log }, timeout: 20000 });
  const files = s.lines('loaded');
  s.remove();
  return { r, files };
}

test('single-command mode loads nothing of the services code or of smol-toml', () => {
  const { r, files } = loaded(['true']);
  assert.is(r.status, 0, r.stderr);
  // main.js is bundled into dist/boot.js (scripts/bundle.js), which is
  // compiled through vm.Script where it has a code cache: native.js always loads.
  assert.ok(files.some((f) => f.endsWith('/dist/native.js')), 'the load log works');
  const extra = files.filter((f) => /\/dist\/(config|services)\/|smol-toml/.test(f));
  assert.equal(extra, []);
});

test('--config loads them (the check above can fail)', () => {
  const s = scratch();
  const cfg = s.write('c.toml', '[service.a]\ncommand = ["true"]\n');
  const { r, files } = loaded(['--config', cfg, '--dry-run']);
  assert.is(r.status, 0, r.stderr);
  assert.ok(files.some((f) => /smol-toml/.test(f)));
  assert.ok(files.some((f) => f.endsWith('/dist/services/run.js')));
  s.remove();
});

if (!isRoot) {
  test('not root: the non-root placement', () => console.log('SKIP: the non-root placement: the test needs root to start tsinit as another user'));
} else {
  const nobody = fs.readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':')).find((f) => f[0] === 'nobody');
  test('as a non-root user: services run as tsinit itself; another user is an error at start (exit 2)', async () => {
    const s = scratch();
    const ids = `${nobody[2]}:${nobody[3]}:${nobody[3]}`;
    const env = { ...process.env, TSINIT_WRAP_NODE: NODE, TSINIT_WRAP_IDS: ids, TMPDIR: s.dir };
    const bad = s.write('bad.toml', '[service.a]\ncommand = ["true"]\nuser = "root"\n');
    const r = spawnSync(fixture('wrap'), [CLI, '--config', bad], { encoding: 'utf8', env, timeout: 20000 });
    assert.is(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`bad\\.toml:3: service\\.a\\.user: tsinit runs as uid ${nobody[2]}, not root`));
    const good = s.write('good.toml', `[service.n]\ncommand = ["${fixture('sdnotify')}", "READY=1", "--", "sleep", "1000"]\nready = { notify = true, timeout = "20s" }\n`);
    const h = startServices('subreaper', good, { env, node: fixture('wrap') });
    try {
      await h.waitEvent('services-ready');
      process.kill(h.proc.pid, 'SIGTERM');
      const res = await h.result;
      assert.is(res.code, 0, res.stderr.toString());
      assert.equal(fs.readdirSync(s.dir).filter((f) => f.startsWith('tsinit-')).flatMap((d) => fs.readdirSync(`${s.dir}/${d}`)), [], 'the notify directory is removed');
    } finally {
      h.kill();
      s.remove();
    }
  });
}

test.run();
