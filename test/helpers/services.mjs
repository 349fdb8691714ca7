// Helpers of the services suites: a scratch directory per test for configs
// and the timestamps services write, tsinit started with --config and its
// JSON events watched as they arrive.
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startInit } from './tsinit.mjs';
import { lineWatcher } from './wait.mjs';

/** A scratch directory (world-writable, for services running as other users). */
export function scratch() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsinit-svc-'));
  fs.chmodSync(dir, 0o777);
  return {
    dir,
    path: (name) => path.join(dir, name),
    write(name, text) {
      const f = path.join(dir, name);
      fs.writeFileSync(f, text);
      return f;
    },
    /** The nanosecond timestamp a service wrote with `date +%s%N > FILE`, as a BigInt. */
    ts: (name) => BigInt(fs.readFileSync(path.join(dir, name), 'utf8').trim().split('\n')[0]),
    lines: (name) => (fs.existsSync(path.join(dir, name)) ? fs.readFileSync(path.join(dir, name), 'utf8').trim().split('\n').filter(Boolean) : []),
    exists: (name) => fs.existsSync(path.join(dir, name)),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** A shell command writing a nanosecond timestamp to FILE. */
export const stamp = (file) => `date +%s%N > ${file}`;

/** Starts tsinit -v --log-format json --config FILE [extra...]; adds events(): parsed events, waitEvent(). */
export function startServices(mode, config, { extra = [], before = [], timeoutMs = 30000, env = process.env, node } = {}) {
  const h = startInit([...before, '-v', '--log-format', 'json', '--config', config, ...extra], { mode, timeoutMs, env, ...(node ? { node } : {}) });
  const w = lineWatcher(h.proc.stderr);
  const parse = (l) => {
    try {
      return JSON.parse(l);
    } catch {
      return null;
    }
  };
  h.events = () => w.lines.map(parse).filter(Boolean);
  h.waitEvent = (event, pred = () => true, ms = 15000) =>
    w.waitLine((l) => {
      const j = parse(l);
      return j !== null && j.event === event && pred(j);
    }, `event ${event}`, ms).then(parse);
  h.proc.stdin.end();
  return h;
}

/** SIGTERM to tsinit, then its result; every process it started killed by pid. */
export async function finish(h) {
  try {
    process.kill(await h.initPid, 'SIGTERM');
  } catch {}
  const r = await h.result;
  h.kill();
  return r;
}

const sbin = (t) => ['/usr/sbin', '/sbin', '/usr/bin', '/bin'].map((d) => `${d}/${t}`).find((p) => fs.existsSync(p));

/**
 * Test users of a suite of its own (names u.tu, u.tu2, groups u.tg1, u.tg2),
 * not users.mjs's: the privilege-drop suite creates and removes those, and
 * suites of other checkouts may run at the same time. tu: its own group plus
 * tg1 and tg2; tu2: its own group. remove() removes them again.
 */
export function serviceTestIds(u) {
  const remove = () => {
    for (const n of [u.tu, u.tu2]) spawnSync(sbin('userdel'), [n], { stdio: 'ignore', timeout: 20000 });
    for (const g of [u.tg1, u.tg2, u.tu, u.tu2]) spawnSync(sbin('groupdel'), [g], { stdio: 'ignore', timeout: 20000 });
  };
  const create = () => {
    remove();
    const run = (t, args) => {
      const r = spawnSync(sbin(t), args, { encoding: 'utf8', timeout: 20000 });
      if (r.status !== 0) throw new Error(`${t} ${args.join(' ')}: ${r.stderr}`);
    };
    for (const g of [u.tg1, u.tg2, u.tu, u.tu2]) run('groupadd', [g]);
    run('useradd', ['-M', '-d', `/home/${u.tu}`, '-s', '/usr/sbin/nologin', '-g', u.tu, '-G', `${u.tg1},${u.tg2}`, u.tu]);
    run('useradd', ['-M', '-d', `/home/${u.tu2}`, '-s', '/usr/sbin/nologin', '-g', u.tu2, u.tu2]);
    const field = (file, name, i) => Number(fs.readFileSync(file, 'utf8').split('\n').find((l) => l.split(':')[0] === name).split(':')[i]);
    const user = (n) => ({ name: n, uid: field('/etc/passwd', n, 2), gid: field('/etc/passwd', n, 3), home: `/home/${n}` });
    const group = (n) => ({ name: n, gid: field('/etc/group', n, 2) });
    return { tu: user(u.tu), tu2: user(u.tu2), tg1: group(u.tg1), tg2: group(u.tg2) };
  };
  return { create, remove, sbin };
}

/** One request: connect, read until the server closes. */
export function ask(port) {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    let got = '';
    c.on('data', (d) => (got += d));
    c.on('end', () => resolve(got.trim()));
    c.on('error', reject);
    c.setTimeout(15000, () => reject(new Error('no answer')));
  });
}
