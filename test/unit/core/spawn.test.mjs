// PATH lookup as execvp does it, done before fork.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);
const { resolveCommand } = require('../../../dist/core/spawn.js');
const E = os.constants.errno;

test('PATH lookup: first executable match wins; EACCES beats ENOENT; slashes skip the search', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsinit-path-'));
  try {
    for (const d of ['a', 'b', 'c']) fs.mkdirSync(path.join(dir, d));
    fs.writeFileSync(path.join(dir, 'a/tool'), '', { mode: 0o644 });
    fs.writeFileSync(path.join(dir, 'b/tool'), '', { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'c/tool'), '', { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'a/only'), '', { mode: 0o644 });
    const P = Buffer.from(['a', 'b', 'c'].map((d) => path.join(dir, d)).join(':'));
    const r = resolveCommand(Buffer.from('tool'), P);
    assert.is(r.toString(), path.join(dir, 'b/tool'));
    // Root may "access" a 0644 file for X_OK? No: X_OK needs an x bit even for root.
    assert.is(resolveCommand(Buffer.from('only'), P), -E.EACCES);
    assert.is(resolveCommand(Buffer.from('missing'), P), -E.ENOENT);
    assert.is(resolveCommand(Buffer.from(''), P), -E.ENOENT);
    assert.is(resolveCommand(Buffer.from('./x/y'), P).toString(), './x/y');
    assert.ok(resolveCommand(Buffer.from('sh'), undefined).toString().endsWith('/sh'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
