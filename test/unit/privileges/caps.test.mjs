// Capability names, masks and the --cap policy: pure.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { parseCap, resolveCaps, capName, capNames, maskOf, maskHex, maskWords, wordsMask, CAPABILITIES } = require('../../../dist/privileges/caps.js');

test('names in any spelling; numbers as in linux/capability.h', () => {
  for (const s of ['NET_BIND_SERVICE', 'CAP_NET_BIND_SERVICE', 'cap_net_bind_service', 'net_bind_service']) assert.is(parseCap(s), 10, s);
  assert.is(parseCap('CHOWN'), 0);
  assert.is(parseCap('SYS_ADMIN'), 21);
  assert.is(parseCap('CHECKPOINT_RESTORE'), 40);
  assert.is(CAPABILITIES.length, 41);
  assert.is(parseCap('NET_BIND'), null);
  assert.is(capName(10), 'CAP_NET_BIND_SERVICE');
});

test('masks: /proc hex, capset words, names back', () => {
  const m = maskOf([10, 40]);
  assert.is(maskHex(m), '0000010000000400');
  assert.equal(maskWords(m), [0x400, 0x100]);
  assert.is(wordsMask(0x400, 0x100), m);
  assert.is(wordsMask(0xffffffff, 0), 0xffffffffn);
  assert.equal(capNames(m), ['CAP_NET_BIND_SERVICE', 'CAP_CHECKPOINT_RESTORE']);
});

test('--cap: sorted, unique; unknown names list the valid ones; SETUID/SETGID refused; newer than the kernel refused', () => {
  assert.equal(resolveCaps(['net_raw', 'NET_BIND_SERVICE', 'CAP_NET_RAW'], 40), [10, 13]);
  assert.match(resolveCaps(['bogus'], 40), /^--cap: unknown capability 'bogus' \(one of CHOWN, DAC_OVERRIDE, .*CHECKPOINT_RESTORE\)$/);
  assert.match(resolveCaps(['SETUID'], 40), /CAP_SETUID would let the command undo the drop/);
  assert.match(resolveCaps(['setgid'], 40), /CAP_SETGID would let the command undo the drop/);
  assert.is(resolveCaps(['BPF'], 37), '--cap: CAP_BPF is not known to this kernel (its last is CAP_AUDIT_READ)');
});

test.run();
