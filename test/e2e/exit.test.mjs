// Exit status is a contract: the command's code, 128+N for a signal death,
// 127 not found, 126 not executable, 2 usage; as PID 1 and as a subreaper.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MODES, runInit, fixture } from '../helpers/tsinit.mjs';
import { pool } from '../helpers/wait.mjs';

const S = os.constants.signals;

for (const mode of MODES) {
  test(`${mode}: all 256 exit codes propagate`, async () => {
    const codes = Array.from({ length: 256 }, (_, i) => i);
    const results = await pool(codes, 6, (n) => runInit(['sh', '-c', `exit ${n}`], { mode, timeoutMs: 20000 }));
    for (const n of codes) {
      const r = results[n];
      assert.is(r.timedOut, false, `exit ${n} timed out`);
      assert.is(r.code, n, `exit ${n}: got ${r.code}; stderr ${r.stderr}`);
      assert.is(r.stderr.length, 0, `exit ${n}: unexpected stderr ${r.stderr}`);
    }
  });

  test(`${mode}: a command killed by signal N gives 128+N`, async () => {
    const sigs = [S.SIGTERM, S.SIGKILL, S.SIGINT, S.SIGSEGV, S.SIGHUP, S.SIGABRT, 34, 40, 64];
    const results = await pool(sigs, 4, (sig) => runInit([fixture('killself'), String(sig)], { mode }));
    sigs.forEach((sig, i) => assert.is(results[i].code, 128 + sig, `signal ${sig}: stderr ${results[i].stderr}`));
  });

  test(`${mode}: 127 with one line when the command is not found`, async () => {
    const r = await runInit(['no-such-command-tsinit'], { mode });
    assert.is(r.code, 127);
    assert.is(r.stderr.toString(), "tsinit: cannot run 'no-such-command-tsinit': no such file or directory\n");
    assert.is(r.stdout.length, 0);
    const abs = await runInit(['/nonexistent/dir/cmd'], { mode });
    assert.is(abs.code, 127);
    assert.is(abs.stderr.toString(), "tsinit: cannot run '/nonexistent/dir/cmd': no such file or directory\n");
  });

  test(`${mode}: 126 with one line when the command cannot be executed`, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsinit-126-'));
    try {
      const noexec = path.join(dir, 'noexec');
      fs.writeFileSync(noexec, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
      const r = await runInit([noexec], { mode });
      assert.is(r.code, 126);
      assert.is(r.stderr.toString(), `tsinit: cannot run '${noexec}': permission denied\n`);
      // A directory is found on PATH but cannot be run: 126 as well, like a shell.
      fs.mkdirSync(path.join(dir, 'adir'));
      const d = await runInit(['adir'], { mode, env: { ...process.env, PATH: dir } });
      assert.is(d.code, 126);
      assert.is(d.stderr.toString(), "tsinit: cannot run 'adir': permission denied\n");
      // Not an executable format, no #! line.
      const garbage = path.join(dir, 'garbage');
      fs.writeFileSync(garbage, Buffer.from([0, 1, 2, 3, 4, 5, 6, 7]), { mode: 0o755 });
      const g = await runInit([garbage], { mode });
      assert.is(g.code, 126);
      assert.is(g.stderr.toString(), `tsinit: cannot run '${garbage}': exec format error\n`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('usage errors exit 2 with one line and the usage, starting nothing', async () => {
  for (const args of [[], ['--no-such-option', 'true'], ['-x', 'true'], ['--help=yes']]) {
    const r = await runInit(args, { mode: 'subreaper' });
    assert.is(r.code, 2, `${args}: ${r.stderr}`);
    const lines = r.stderr.toString().split('\n');
    assert.ok(/^tsinit: (no command given|unknown option '.*'|option '--help' takes no value)$/.test(lines[0]), lines[0]);
    assert.ok(lines[1].startsWith('tsinit: usage: tsinit '), lines[1]);
    assert.is(lines.length, 3);
  }
  const bad = await runInit(['true'], { mode: 'subreaper', env: { ...process.env, TSINIT_VERBOSITY: 'loud' } });
  assert.is(bad.code, 2);
  assert.ok(bad.stderr.toString().startsWith("tsinit: TSINIT_VERBOSITY must be a whole number, not 'loud'\n"));
});

test('--help and --version print to stdout and exit 0', async () => {
  const h = await runInit(['--help'], { mode: 'subreaper' });
  assert.is(h.code, 0);
  assert.ok(h.stdout.toString().startsWith('usage: tsinit'));
  const v = await runInit(['-V'], { mode: 'subreaper' });
  assert.is(v.code, 0);
  const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url)));
  assert.is(v.stdout.toString(), `tsinit ${pkg.version}\n`);
});

test.run();
