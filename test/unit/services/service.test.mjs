// The service state machine, transition by transition, against a fake host:
// no process is started; exits are delivered by hand. Pids are far above
// any pid_max (2^22), so the group signals the machine sends reach nobody.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Service } = require('../../../dist/services/service.js');

const FAKE = 90000000;

function plan(over = {}) {
  return {
    name: 'svc',
    argv: [Buffer.from('x')],
    env: [],
    envSet: [],
    identity: null,
    caps: [],
    noNewPrivs: false,
    umask: null,
    cwd: null,
    listen: [],
    ready: { kind: 'none' },
    restart: { policy: 'on-failure', success: [0], backoffMs: 0, backoffMaxMs: 0, resetAfterMs: 60000, limit: 3, limitIntervalMs: 60000 },
    stop: { signal: 15, timeoutMs: null },
    signals: [1],
    essential: false,
    after: [],
    log: 'raw',
    stdin: 'null',
    ...over,
  };
}

function host({ stopping = false, spawnFails = null } = {}) {
  const events = [];
  let next = FAKE;
  const h = {
    events,
    exits: new Map(),
    stopping: () => stopping,
    setStopping: (v) => (stopping = v),
    log: { event: (level, name, text, fields) => events.push({ name, to: fields?.to, ...fields }), warning() {}, enabled: () => true },
    budgetLeft: () => null,
    degraded() {},
    spawnService: () => {
      if (spawnFails) throw Object.assign(new Error('spawn x ENOENT'), { step: 'execvp', code: 'ENOENT' });
      return next++;
    },
    spawnCheck: () => next++,
    watchPid: (pid, fn) => h.exits.set(pid, fn),
    notifyChannel: () => null,
    changed: () => {},
    /** Delivers the exit of pid. */
    exit: (pid, code, signal = null) => h.exits.get(pid)({ pid, code, signal, core: false }),
  };
  return h;
}

const states = (h) => h.events.filter((e) => e.to !== undefined).map((e) => `${e.name.replace('service-', '')}:${e.to}`);
const tick = () => new Promise((r) => setTimeout(r, 5));

test('none: started → ready; a clean exit with policy on-failure ends it for good', () => {
  const h = host();
  const s = new Service(plan(), h);
  s.start();
  assert.is(s.state, 'ready');
  h.exit(FAKE, 0);
  assert.equal(states(h), ['started:starting', 'ready:ready', 'ended:exited']);
  assert.is(s.status, 0);
});

test('a failure is restarted after its backoff; the start limit fails it', async () => {
  const h = host();
  const s = new Service(plan(), h);
  s.start();
  h.exit(FAKE, 1);
  assert.is(s.state, 'backoff');
  await tick();
  assert.is(s.state, 'ready');
  h.exit(FAKE + 1, 1);
  await tick();
  h.exit(FAKE + 2, 2);
  assert.is(s.state, 'failed');
  assert.is(s.status, 2);
  const failed = h.events.find((e) => e.name === 'service-failed');
  assert.is(failed.reason, 'start-limit');
  assert.equal(states(h).filter((x) => x.startsWith('started')).length, 3);
});

test('exponential backoff from backoff to backoff_max', async () => {
  const h = host();
  const s = new Service(plan({ restart: { policy: 'always', success: [0], backoffMs: 1, backoffMaxMs: 4, resetAfterMs: 60000, limit: 0, limitIntervalMs: 60000 } }), h);
  s.start();
  for (let i = 0; i < 5; i++) {
    h.exit(FAKE + i, 0);
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(h.events.filter((e) => e.name === 'service-backoff').map((e) => e.delayMs), [1, 2, 4, 4, 4]);
  s.stop();
});

test('a spawn failure is a failed start with 127; policy no ends it as failed', () => {
  const h = host({ spawnFails: true });
  const s = new Service(plan({ restart: { ...plan().restart, policy: 'no' } }), h);
  s.start();
  assert.equal(states(h), ['failed:failed']);
  assert.is(s.status, 127);
  assert.ok(h.events.some((e) => e.name === 'service-start-failed'));
});

test('exit before readiness is a failure even with status 0', () => {
  const h = host();
  const s = new Service(plan({ ready: { kind: 'notify', timeoutMs: null }, restart: { ...plan().restart, policy: 'no' } }), h);
  s.start();
  assert.is(s.state, 'starting');
  h.exit(FAKE, 0);
  assert.is(s.state, 'failed');
  assert.not.ok(s.everUp);
});

test('notify: READY=1 makes it ready; STATUS= is logged', () => {
  const h = host();
  const s = new Service(plan({ ready: { kind: 'notify', timeoutMs: null } }), h);
  s.start();
  s.notified({ ready: false, stopping: false, status: 'warming' });
  assert.is(s.state, 'starting');
  s.notified({ ready: true, stopping: false, status: null });
  assert.is(s.state, 'ready');
  assert.ok(h.events.some((e) => e.name === 'service-status' && e.status === 'warming'));
});

test('a readiness timeout: stopping as a failed start, then the policy restarts it', async () => {
  const h = host();
  const s = new Service(plan({ ready: { kind: 'notify', timeoutMs: 1 } }), h);
  s.start();
  await tick();
  assert.is(s.state, 'stopping');
  h.exit(FAKE, null, 15);
  assert.is(s.state, 'backoff');
  s.stop();
  assert.is(s.state, 'exited');
});

test('stop: ready → stopping → (leader gone, session empty) → exited; never restarted', () => {
  const h = host();
  const s = new Service(plan({ restart: { ...plan().restart, policy: 'always' } }), h);
  s.start();
  h.setStopping(true);
  s.stop();
  assert.is(s.state, 'stopping');
  h.exit(FAKE, null, 15);
  assert.ok(s.draining, 'waits for the rest of its session');
  s.sessionEmpty();
  assert.is(s.state, 'exited');
  assert.is(s.status, 143);
  assert.equal(states(h), ['started:starting', 'ready:ready', 'stopping:stopping', 'stopped:exited']);
});

test('a service that never started: stopped → exited at the stop; a failed dependency fails it', () => {
  const h = host();
  const a = new Service(plan(), h);
  a.stop();
  assert.is(a.state, 'exited');
  const dep = new Service(plan({ name: 'dep' }), h);
  dep.status = 3;
  const b = new Service(plan({ name: 'b' }), h);
  b.dependencyFailed(dep);
  assert.equal([b.state, b.status], ['failed', 3]);
});

test.run();
