// Helpers of the services suites: a scratch directory per test for configs
// and the timestamps services write, tsinit started with --config and its
// JSON events watched as they arrive.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
