// Wait statuses decode to the shell's exit-status convention.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { decodeStatus, exitStatusOf } = require('../../../dist/core/reaper.js');

test('exited: the code, for all 256', () => {
  for (let code = 0; code < 256; code++) {
    const e = decodeStatus(7, code << 8);
    assert.equal(e, { pid: 7, code, signal: null, core: false });
    assert.is(exitStatusOf(e), code);
  }
});

test('killed: 128+N, core dump noticed', () => {
  for (let n = 1; n <= 64; n++) assert.is(exitStatusOf(decodeStatus(1, n)), (128 + n) & 0xff);
  assert.equal(decodeStatus(3, 11 | 0x80), { pid: 3, code: null, signal: 11, core: true });
});

test.run();
