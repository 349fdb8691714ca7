// The launcher's environment undone (restoreEnv) and its descriptor record
// read (parseFdRecord): byte for byte, in order, and only when it is there.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { restoreEnv, launcherParent } = require('../../../dist/core/proc.js');
const { parseFdRecord } = require('../../../dist/core/fds.js');

const b = (s) => Buffer.from(s, 'latin1');
const strs = (env) => env.map((e) => e.toString('latin1'));

test('restoreEnv strips one TSINIT_ENV_ from each variable and drops the record, in order', () => {
  const launched = ['A=1', 'TSINIT_ENV_NODE_OPTIONS=--inspect', 'TSINIT_ENV_TSINIT_ENV_NODE_X=2', 'TSINIT_ENV_NODE_X=1', 'TSINIT_ENV_OPENSSL_CONF=/f', 'BAD=\xff\x80', 'TSINIT_ENV_TSINIT_INHERITED_FDS=mine', 'TSINIT_INHERITED_FDS=3,4'];
  assert.equal(strs(restoreEnv(launched.map(b))), ['A=1', 'NODE_OPTIONS=--inspect', 'TSINIT_ENV_NODE_X=2', 'NODE_X=1', 'OPENSSL_CONF=/f', 'BAD=\xff\x80', 'TSINIT_INHERITED_FDS=mine']);
});

test("restoreEnv drops the launcher's parent record too, and gives back an escaped one of the command's", () => {
  const launched = ['A=1', 'TSINIT_ENV_TSINIT_PARENT_PID=mine', 'TSINIT_PARENT_PID=77', 'TSINIT_INHERITED_FDS='];
  assert.equal(strs(restoreEnv(launched.map(b))), ['A=1', 'TSINIT_PARENT_PID=mine']);
});

test("launcherParent reads the launcher's parent only beside the descriptor record, and only a number", () => {
  assert.is(launcherParent({ TSINIT_PARENT_PID: '77', TSINIT_INHERITED_FDS: '3' }), 77);
  assert.is(launcherParent({ TSINIT_PARENT_PID: '0', TSINIT_INHERITED_FDS: '' }), 0);
  assert.is(launcherParent({ TSINIT_PARENT_PID: '77' }), undefined);
  for (const bad of ['', 'x', '-1', '1 ', '12345678901']) assert.is(launcherParent({ TSINIT_PARENT_PID: bad, TSINIT_INHERITED_FDS: '' }), undefined, bad);
});

test('without the record (node dist/cli.js) the environment is left exactly as it is', () => {
  const plain = ['TSINIT_ENV_NODE_FOO=bar', 'NODE_OPTIONS=x', 'TSINIT_ENV_=y'];
  assert.equal(strs(restoreEnv(plain.map(b))), plain);
});

test('parseFdRecord takes ascending descriptors from 3 up, and nothing else', () => {
  assert.equal(parseFdRecord(''), []);
  assert.equal(parseFdRecord('3'), [3]);
  assert.equal(parseFdRecord('3,4,17,1000'), [3, 4, 17, 1000]);
  for (const bad of ['2', '3,3', '4,3', '3,', ',3', '3;4', ' 3', 'x', '99999999999999999999']) assert.is(parseFdRecord(bad), null, bad);
});

test.run();
