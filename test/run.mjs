// Runs the suite with uvu: everything on the Node that runs npm, then the
// process-level suites again with tsinit running on Node 22 and 24 (fetched
// by test/fixtures/nodes.sh). Passes uvu's output through and ends with the
// plain "N passed, N failed" line CI reads.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const uvu = path.join(root, 'node_modules/uvu/bin.js');
const only = process.argv[2];
// The 256-exit-code sweep is the host run's; other majors run the rest.
const OTHER_MAJORS_PATTERN = '(e2e/(signals|sigthread|startup|child|reap|lifecycle|stop|pinning|tty|privdrop(-listen)?|launcher|services(-[a-z]+)?)|unit/services/relay)\.test\.mjs$';

function runUvu(pattern, env) {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [uvu, 'test', pattern], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env });
    let out = '';
    p.stdout.on('data', (d) => {
      process.stdout.write(d);
      out += d.toString();
    });
    p.on('close', (code) => {
      // eslint-disable-next-line no-control-regex
      const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
      const num = (label) => {
        const m = new RegExp(`${label}:\\s+(\\d+)`).exec(plain);
        return m ? Number(m[1]) : null;
      };
      const total = num('Total');
      const passed = num('Passed');
      if (total === null || passed === null) {
        console.log(`uvu ended without a summary (exit ${code})`);
        resolve({ passed: 0, failed: 1, skipped: 0 });
        return;
      }
      const skipped = num('Skipped') ?? 0;
      const failed = Math.max(total - passed - skipped, code === 0 ? 0 : 1);
      resolve({ passed, failed, skipped });
    });
  });
}

const runs = [{ label: `Node ${process.versions.node}`, pattern: only ?? '\\.test\\.mjs$', env: process.env }];
if (!only) {
  for (const major of ['22', '24']) {
    const bin = path.join(root, 'test/.node', major, 'bin/node');
    const skip = path.join(root, 'test/.node', `${major}.skip`);
    if (fs.existsSync(bin)) runs.push({ label: `Node ${major} (tsinit's runtime)`, pattern: OTHER_MAJORS_PATTERN, env: { ...process.env, TSINIT_TEST_NODE: bin } });
    else console.log(`SKIP: the suite on Node ${major}: ${fs.existsSync(skip) ? fs.readFileSync(skip, 'utf8').trim() : 'not fetched (run npm run build)'}`);
  }
}

const sum = { passed: 0, failed: 0, skipped: 0 };
for (const run of runs) {
  console.log(`\n=== tests on ${run.label} ===`);
  const r = await runUvu(run.pattern, run.env);
  sum.passed += r.passed;
  sum.failed += r.failed;
  sum.skipped += r.skipped;
}
console.log(`${sum.passed} passed, ${sum.failed} failed${sum.skipped ? `, ${sum.skipped} skipped` : ''}`);
process.exit(sum.failed === 0 ? 0 : 1);
