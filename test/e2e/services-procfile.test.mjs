// tsinit --procfile, as PID 1 and as a subreaper: Foreman's semantics. Each
// entry runs through /bin/sh -c in the Procfile's directory with the .env
// beside it and its PORT (5000, 5100, ...) and PS; output arrives prefixed
// with the process's name; the first exit stops the rest and is tsinit's
// status. A malformed Procfile is one line naming file and line, exit 2,
// nothing started; --config with --procfile is a usage error; --dry-run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MODES, startInit, runInit } from '../helpers/tsinit.mjs';
import { scratch } from '../helpers/services.mjs';

/** tsinit's environment without a PORT of the test runner's (the base would move). */
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'PORT'));
const envOf = (s, name) => Object.fromEntries(s.lines(name).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

for (const mode of MODES) {
  test(`${mode}: two processes with PORT, PS and the .env, prefixed output, one exit 3 stops all and is the status`, async () => {
    const s = scratch();
    // Relative paths: the commands run in the Procfile's directory.
    const procfile = s.write(
      'Procfile',
      '# as Foreman\'s README writes one\n' +
        'web: env > web.env; echo "web on $PORT"; echo "web err" >&2; exec sleep 60\n' +
        '\n' +
        'worker: env > worker.env; echo "worker on $PORT"; i=0; while [ ! -s web.env ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; sleep 0.5; exit 3\n',
    );
    s.write('.env', "# the app's settings\nGREETING='hello world'\nexport MODE=test\n");
    const h = startInit(['--procfile', procfile], { mode, timeoutMs: 30000, env });
    h.proc.stdin.end();
    try {
      const r = await h.result;
      assert.is(r.code, 3, r.stderr.toString().slice(-2000));
      const web = envOf(s, 'web.env');
      const worker = envOf(s, 'worker.env');
      assert.is(web.PORT, '5000');
      assert.is(worker.PORT, '5100');
      assert.is(web.PS, 'web.1');
      assert.is(worker.PS, 'worker.1');
      for (const e of [web, worker]) {
        assert.is(e.GREETING, 'hello world');
        assert.is(e.MODE, 'test');
        assert.is(e.PWD, s.dir, 'runs in the Procfile directory');
        assert.is(e.HOME, env.HOME, "tsinit's environment passes through");
      }
      const out = r.stdout.toString().split('\n').filter(Boolean);
      assert.ok(out.some((l) => /^web\s*\| web on 5000$/.test(l)), out.join('\n'));
      assert.ok(out.some((l) => /^worker\s*\| worker on 5100$/.test(l)), out.join('\n'));
      assert.match(r.stderr.toString(), /web\s*\| web err/);
    } finally {
      h.kill();
      s.remove();
    }
  });

  test(`${mode}: a malformed Procfile is one line naming file and line, exit 2, nothing started`, async () => {
    const s = scratch();
    const procfile = s.write('Procfile', 'web: touch started\n  worker: sleep 1\n');
    try {
      const r = await runInit(['--procfile', procfile], { mode, timeoutMs: 15000, env });
      assert.is(r.code, 2);
      const err = r.stderr.toString().trim().split('\n');
      assert.is(err.length, 1, err.join('\n'));
      assert.ok(err[0].includes(`${procfile}:2:`), err[0]);
      assert.not.ok(s.exists('started'), 'nothing started');
    } finally {
      s.remove();
    }
  });

  test(`${mode}: a bad .env is one line naming it and its line, exit 2`, async () => {
    const s = scratch();
    const procfile = s.write('Procfile', 'web: touch started\n');
    s.write('.env', 'A=1\nnot an assignment\n');
    try {
      const r = await runInit(['--procfile', procfile], { mode, timeoutMs: 15000, env });
      assert.is(r.code, 2);
      const err = r.stderr.toString().trim().split('\n');
      assert.is(err.length, 1, err.join('\n'));
      assert.ok(err[0].includes(`${s.dir}/.env:2:`), err[0]);
      assert.not.ok(s.exists('started'), 'nothing started');
    } finally {
      s.remove();
    }
  });
}

test('--config with --procfile is a usage error: exit 2, one line', async () => {
  const s = scratch();
  const procfile = s.write('Procfile', 'web: touch started\n');
  const cfg = s.write('c.toml', '[service.a]\ncommand = ["true"]\n');
  try {
    for (const [args, e] of [
      [['--config', cfg, '--procfile', procfile], env],
      [['--procfile', procfile], { ...env, TSINIT_CONFIG: cfg }],
    ]) {
      const r = await runInit(args, { mode: 'subreaper', timeoutMs: 15000, env: e });
      assert.is(r.code, 2);
      const err = r.stderr.toString().trim().split('\n');
      assert.is(err.length, 1, err.join('\n'));
      assert.match(err[0], /--config and --procfile/);
    }
    assert.not.ok(s.exists('started'));
  } finally {
    s.remove();
  }
});

test('--dry-run prints the Procfile plan: sh -c, PORT, PS, .env, cwd, essential, no restart, prefix, all in parallel', async () => {
  const s = scratch();
  const procfile = s.write('Procfile', 'web: touch started\nworker: touch started\n');
  s.write('.env', 'PORT=7000\nGREETING=hi\n');
  try {
    const r = await runInit(['--dry-run', '--procfile', procfile, '--', 'sleep', '1'], { mode: 'subreaper', timeoutMs: 15000, env: { ...env, PORT: '9000' } });
    assert.is(r.code, 0, r.stderr.toString());
    const plan = JSON.parse(r.stdout.toString());
    assert.equal(Object.keys(plan.services), ['web', 'worker', 'main']);
    const { web, worker, main } = plan.services;
    assert.equal(web.argv, ['/bin/sh', '-c', 'touch started']);
    // The .env's PORT is the base, over tsinit's.
    assert.equal(web.env, { GREETING: 'hi', PORT: '7000', PS: 'web.1' });
    assert.equal(worker.env, { GREETING: 'hi', PORT: '7100', PS: 'worker.1' });
    for (const p of [web, worker]) {
      assert.is(p.cwd, s.dir);
      assert.is(p.essential, true);
      assert.is(p.restart.policy, 'no');
      assert.equal(p.ready, { kind: 'none' });
      assert.equal(p.stop, { signal: 'SIGTERM', timeout_ms: null });
      assert.is(p.log, 'prefix');
    }
    assert.equal(main.argv, ['sleep', '1']);
    assert.is(main.essential, true);
    assert.equal(plan.start_order, [['web', 'worker', 'main']]);
    assert.equal(plan.stop_order, [['web', 'worker', 'main']]);
    assert.is(plan.stop_budget_ms, null);
    assert.not.ok(s.exists('started'), 'nothing ran');
  } finally {
    s.remove();
  }
});

test.run();
