// makeProcfilePlan (src/config/procplan.ts): a Procfile becomes the same Plan as
// a --config file, with Foreman's semantics.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { withApp } from '../../helpers/procfile.mjs';

const require = createRequire(import.meta.url);
const { makeProcfilePlan } = require('../../../dist/config/procplan.js');
const { ConfigFileError } = require('../../../dist/config/procfile.js');


const raw = (...kv) => kv.map((e) => Buffer.from(e));
const strs = (env) => env.map((b) => b.toString());

test('each entry: sh -c, the Procfile directory, .env then PORT and PS over the raw environment, essential, no restart, prefix', () => {
  withApp('web: echo $PORT\nworker: run it\n', 'A=from-env-file\nB=2\n', (file, dir) => {
    const env = raw('PATH=/bin', 'A=tsinit', 'PORT=6000', 'LISTEN_FDS=1', 'NOTIFY_SOCKET=/x');
    const p = makeProcfilePlan({ file, command: [], env });
    assert.equal(p.services.map((s) => s.name), ['web', 'worker']);
    const [web, worker] = p.services;
    assert.equal(strs(web.argv), ['/bin/sh', '-c', 'echo $PORT']);
    // tsinit's PORT is the base; the .env's A overrides tsinit's in place; LISTEN_* and NOTIFY_SOCKET never pass.
    assert.equal(strs(web.env), ['PATH=/bin', 'A=from-env-file', 'PORT=6000', 'B=2', 'PS=web.1']);
    assert.equal(strs(worker.env), ['PATH=/bin', 'A=from-env-file', 'PORT=6100', 'B=2', 'PS=worker.1']);
    assert.equal(web.envSet, [['A', 'from-env-file'], ['B', '2'], ['PORT', '6000'], ['PS', 'web.1']]);
    for (const s of p.services) {
      assert.is(s.cwd, dir);
      assert.is(s.essential, true);
      assert.is(s.restart.policy, 'no');
      assert.equal(s.ready, { kind: 'none' });
      assert.equal(s.stop, { signal: 15, timeoutMs: null });
      assert.is(s.log, 'prefix');
      assert.is(s.identity, null);
      assert.is(s.stdin, 'null');
    }
    assert.equal(p.startOrder, [['web', 'worker']]);
    assert.equal(p.stopOrder, [['web', 'worker']]);
    assert.is(p.global.stopTimeoutMs, null);
    assert.is(p.file, file);
  });
});

test('-- CMD is the essential service main with tsinit stdin; a Procfile entry named main is refused at its line', () => {
  withApp('web: a\n', null, (file) => {
    const p = makeProcfilePlan({ file, command: raw('sleep', '1'), env: raw('PATH=/bin') });
    const main = p.services.find((s) => s.name === 'main');
    assert.equal(strs(main.argv), ['sleep', '1']);
    assert.is(main.stdin, 'inherit');
    assert.is(main.essential, true);
    assert.is(main.cwd, null);
    assert.equal(strs(main.env), ['PATH=/bin']);
    assert.equal(p.startOrder, [['web', 'main']]);
  });
  withApp('web: a\nmain: b\n', null, (file) => {
    assert.throws(() => makeProcfilePlan({ file, command: raw('x'), env: [] }), (e) => e instanceof ConfigFileError && e.message === `${file}:2: main: the name 'main' is taken by the command after --`);
    // Without -- CMD, main is an ordinary process name.
    assert.equal(makeProcfilePlan({ file, command: [], env: [] }).services.map((s) => s.name), ['web', 'main']);
  });
});

test('mistakes are ConfigFileError, one line', () => {
  withApp('web a\n', null, (file) => {
    assert.throws(() => makeProcfilePlan({ file, command: [], env: [] }), (e) => e instanceof ConfigFileError && e.message === `${file}:1: expected NAME: COMMAND`);
  });
  assert.throws(() => makeProcfilePlan({ file: '/nonexistent/Procfile', command: [], env: [] }), (e) => e instanceof ConfigFileError && !e.message.includes('\n'));
});

test.run();
