// Signals that found the addon's pipe full: each lost real-time signal is
// forwarded, a standard one once, one the handler already sent not again
// (issue 12 §7). Driven in a fixture process, against a real recorder.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createRequire } from 'node:module';
import { ROOT, NODE } from '../../helpers/tsinit.mjs';

/** Runs the fixture with a stdin kept open (the recorder exits at its EOF). */
function run() {
  return new Promise((resolve) => {
    const p = spawn(NODE, [path.join(ROOT, 'test/fixtures/lostsig.cjs')], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => p.kill('SIGKILL'), 30000);
    p.on('close', (status) => {
      clearTimeout(t);
      p.stdin.destroy();
      resolve({ status, stdout, stderr });
    });
  });
}

test('lost signals: real-time ones forwarded as many times as they came, standard ones once', async () => {
  const r = await run();
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('c '));
  const { constants } = createRequire(import.meta.url)(path.join(ROOT, 'dist/native.js'));
  const rt = constants.SIGRTMIN + 6;
  assert.is(lines.filter((l) => l === `c ${rt}`).length, 3, r.stdout);
  assert.is(lines.filter((l) => l === 'c 10').length, 1, r.stdout);
  assert.is(lines.filter((l) => l === `c ${rt + 1}`).length, 0, 'sent by the handler already');
  assert.match(r.stderr, /3 × SIGRTMIN\+6 arrived while tsinit was busy; forwarding each/);
  assert.match(r.stderr, /2 × SIGUSR1 arrived while tsinit was busy; handling it once/);
});

test.run();
