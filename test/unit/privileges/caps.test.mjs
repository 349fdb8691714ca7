// Capability names, masks and the --cap policy: pure.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { refused } from '../../helpers/refused.mjs';

const require = createRequire(import.meta.url);
const { parseCap, resolveCaps, riskWarning, capName, capNames, maskOf, maskHex, maskWords, wordsMask, CAPABILITIES } = require('../../../dist/privileges/caps.js');

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
  assert.match(refused(() => resolveCaps(['bogus'], 40)), /^--cap: unknown capability 'bogus' \(one of CHOWN, DAC_OVERRIDE, .*CHECKPOINT_RESTORE\)$/);
  assert.match(refused(() => resolveCaps(['SETUID'], 40)), /CAP_SETUID would let the command undo the drop/);
  assert.match(refused(() => resolveCaps(['setgid'], 40)), /CAP_SETGID would let the command undo the drop/);
  assert.is(refused(() => resolveCaps(['BPF'], 37)), '--cap: CAP_BPF is not known to this kernel (its last is CAP_AUDIT_READ)');
});

// Issue 12 §6.
test('--cap: SETPCAP and SETFCAP refused too, each saying why', () => {
  assert.is(refused(() => resolveCaps(['SETPCAP'], 40)), '--cap: CAP_SETPCAP would let the command change its own capability bounds and securebits (what the drop verified); it is refused');
  assert.is(refused(() => resolveCaps(['net_bind_service', 'cap_setfcap'], 40)), '--cap: CAP_SETFCAP would let the command give a program file capabilities, which its exec then grants; it is refused');
});

test('--cap: one warning naming the risk of the root-equivalent ones, none for the rest', () => {
  assert.is(riskWarning([10, 13]), null);
  assert.is(riskWarning([]), null);
  assert.is(riskWarning([10, 21]), '--cap: this capability is root-equivalent (CAP_SYS_ADMIN: mount, namespaces and most of administration): the command can regain full root with it');
  const all = resolveCaps(['SYS_ADMIN', 'SYS_MODULE', 'SYS_PTRACE', 'SYS_RAWIO', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'CHOWN', 'FOWNER'], 40);
  const w = riskWarning(all);
  assert.ok(w.startsWith('--cap: these capabilities are root-equivalent (CAP_CHOWN: take ownership of any file; CAP_DAC_OVERRIDE: '), w);
  for (const n of ['CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_PTRACE', 'SYS_ADMIN']) assert.ok(w.includes(`CAP_${n}: `), n);
  assert.is(w.split('\n').length, 1, 'one line');
});

test.run();
