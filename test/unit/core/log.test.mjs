// core/log.ts's JSON form: the names every event has (ts, level, event, msg,
// pid) keep one meaning each. `pid` is tsinit's own pid: an event's fields
// cannot reuse the name (a type error) and do not override it at run time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { createLogger } = require('../../../dist/core/log.js');
const ROOT = path.join(path.dirname(new URL(import.meta.url).pathname), '../../..');

test('json: pid is tsinit\'s in every event, after the fields, in its place', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsinit-log-'));
  try {
    const file = path.join(dir, 'log');
    const fd = fs.openSync(file, 'w');
    const log = createLogger(1, 'json', fd);
    log.event('info', 'service-started', 'service a: started (pid 7)', { service: 'a', child: 7, pid: 7, msg: 'other' });
    log.info('plain');
    fs.closeSync(fd);
    const [a, b] = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(Object.keys(a), ['ts', 'level', 'event', 'msg', 'pid', 'service', 'child']);
    assert.is(a.pid, process.pid);
    assert.is(a.msg, 'service a: started (pid 7)');
    assert.is(a.child, 7);
    assert.equal(Object.keys(b), ['ts', 'level', 'event', 'msg', 'pid']);
    assert.is(b.pid, process.pid);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a field named pid (or ts, level, event, msg) is a type error; child is not', () => {
  const ts = require(path.join(ROOT, 'node_modules/typescript'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsinit-logcheck-'));
  try {
    const file = path.join(dir, 'check.ts');
    fs.writeFileSync(file, `import { createLogger } from ${JSON.stringify(path.join(ROOT, 'src/core/log'))};
const log = createLogger(0);
const fields = { pid: 4, code: 1 };
log.event('info', 'a', 'x', { service: 'a', ...fields });
log.event('info', 'b', 'x', { pid: 4 });
log.event('info', 'c', 'x', { msg: 'm' });
log.event('info', 'd', 'x', { child: 4, service: 'a' });
`);
    const program = ts.createProgram([file], { strict: true, noEmit: true, typeRoots: [path.join(ROOT, 'node_modules/@types')], types: ['node'], target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS });
    const lines = ts.getPreEmitDiagnostics(program).map((d) => d.file.getLineAndCharacterOfPosition(d.start).line + 1);
    assert.equal([...new Set(lines)].sort(), [4, 5, 6]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
