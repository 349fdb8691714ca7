// The stop sequence's transitions against a fake tree: what is sent when,
// and that no timer is left once the tree is empty.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import os from 'node:os';

const require = createRequire(import.meta.url);
const { Stop, withCont, KILL_REPEAT_MS, MAX_DEADLINE_MS } = require('../../../dist/supervise/stop.js');
const { createLogger } = require('../../../dist/core/log.js');

const S = os.constants.signals;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A tree whose live count falls by one per walk after SIGKILL. */
function fakeTree(live) {
  const sent = [];
  return {
    sent,
    signal(sigs) {
      sent.push([...sigs]);
      if (sigs.includes(S.SIGKILL)) return Math.max(0, live--);
      return live;
    },
    describe: (n) => `${n} fake(s)`,
  };
}

function stopOf(target, onGiveUp) {
  const log = createLogger(0, 'text', 2);
  log.event = () => {}; // quiet: the transitions are what is tested
  return new Stop({ target, log, option: '--grace', onGiveUp });
}

test('the stop signal and SIGCONT first; SIGCONT not twice, not after SIGKILL', () => {
  assert.equal(withCont(S.SIGTERM), [S.SIGTERM, S.SIGCONT]);
  assert.equal(withCont(S.SIGCONT), [S.SIGCONT]);
  assert.equal(withCont(S.SIGKILL), [S.SIGKILL]);
});

test('no deadline: the first signals, then nothing however long it takes', async () => {
  const t = fakeTree(2);
  const s = stopOf(t);
  assert.is(s.start(withCont(S.SIGTERM), null), 2);
  await sleep(150);
  assert.equal(t.sent, [[S.SIGTERM, S.SIGCONT]]);
  assert.is(s.phase, 'stopping');
  s.done();
});

test('a deadline: SIGKILL when it passes, walked again until nothing live is left', async () => {
  const t = fakeTree(3);
  const s = stopOf(t);
  s.start(withCont(S.SIGTERM), 30);
  for (let i = 0; i < 100 && t.sent.length < 5; i++) await sleep(KILL_REPEAT_MS);
  await sleep(3 * KILL_REPEAT_MS);
  assert.is(s.phase, 'killing');
  // First walk (3 live), then 2, 1, 0: four SIGKILL walks, then only waiting for the reaping.
  assert.equal(t.sent, [[S.SIGTERM, S.SIGCONT], [S.SIGKILL], [S.SIGKILL], [S.SIGKILL], [S.SIGKILL]]);
  s.done();
});

test('0: SIGKILL at once, the stop signal never sent; exits walk again, once per turn', async () => {
  const t = fakeTree(5);
  const s = stopOf(t);
  assert.is(s.start(withCont(S.SIGTERM), 0), null);
  assert.equal(t.sent, [[S.SIGKILL]]);
  s.onChildExit();
  s.onChildExit();
  s.onChildExit();
  await new Promise((r) => setImmediate(r));
  assert.equal(t.sent, [[S.SIGKILL], [S.SIGKILL]]);
  s.done();
  s.onChildExit();
  await new Promise((r) => setImmediate(r));
  assert.is(t.sent.length, 2);
});

test('done() clears the deadline: nothing is sent after', async () => {
  const t = fakeTree(1);
  const s = stopOf(t);
  s.start([S.SIGTERM], 30);
  s.done();
  await sleep(80);
  assert.equal(t.sent, [[S.SIGTERM]]);
});

test('a tree that cannot be counted is walked until it gives up', async () => {
  const sent = [];
  let gaveUp = 0;
  const s = stopOf({ signal: (sigs) => (sent.push(sigs), null), describe: () => 'x' }, () => gaveUp++);
  s.start([], 0);
  await sleep(3 * KILL_REPEAT_MS);
  assert.ok(sent.length >= 2, `${sent.length} walks`);
  s.done();
  assert.is(gaveUp, 0);
});

test("kill(): SIGKILL now on its owner's deadline, from idle or stopping, logged as the owner names it; never after done()", async () => {
  const t = fakeTree(1);
  const events = [];
  const log = createLogger(0, 'text', 2);
  log.event = (level, name, text, fields) => events.push({ name, text, ...fields });
  const s = new Stop({ target: t, log, option: 'service a: stop.timeout', event: 'service-killed', fields: { service: 'a' } });
  s.start([], null);
  assert.equal(t.sent, []);
  s.kill('stop_timeout over');
  assert.is(s.phase, 'killing');
  assert.equal(t.sent, [[S.SIGKILL]]);
  assert.equal(events, [{ name: 'service-killed', text: 'stop_timeout over: sent SIGKILL to 1 fake(s)', service: 'a', signal: S.SIGKILL, remaining: 1 }]);
  s.done();
  s.kill('again');
  assert.is(s.phase, 'done');
  const idle = stopOf(fakeTree(0));
  idle.kill('stop_timeout over');
  assert.is(idle.phase, 'killing');
  idle.done();
  await sleep(KILL_REPEAT_MS * 2);
  assert.equal(t.sent, [[S.SIGKILL]]);
});

test('a deadline beyond what a timer holds is refused, not turned into SIGKILL at once', () => {
  const t = fakeTree(1);
  assert.throws(() => stopOf(t).start([S.SIGTERM], MAX_DEADLINE_MS + 1), /not a deadline/);
  assert.equal(t.sent, []);
});

test.run();
