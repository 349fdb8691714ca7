// Test users and groups for the privilege-drop tests (created with useradd and
// groupadd, named after this process, removed again afterwards, leftovers of
// interrupted runs first), plus ports, the privserve/privreport fixtures and
// a client in a namespace.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { isRoot, ROOT, NODE } from './tsinit.mjs';

const TOOLS = ['useradd', 'userdel', 'groupadd', 'groupdel'];
const SBIN = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];
const tool = (name) => SBIN.map((d) => path.join(d, name)).find((p) => fs.existsSync(p));
const NSENTER = ['/usr/bin/nsenter', '/bin/nsenter'].find((p) => fs.existsSync(p));

/** Why the root-only tests cannot run here, or null. */
export function privSkipReason() {
  if (!isRoot) return 'not root (the privilege drop needs root to drop from)';
  const missing = TOOLS.filter((t) => !tool(t));
  if (missing.length) return `no ${missing.join(', ')} to create test users`;
  if (!NSENTER) return 'no nsenter to reach a network namespace';
  return null;
}

// The names carry this process's pid: the users are machine-wide
// (/etc/passwd), and two suites at once (two worktrees on one machine) with
// shared names deleted each other's users mid-run.
export const USERS = { tu: `tsinit-tu-${process.pid}`, tu2: `tsinit-tu2-${process.pid}` };
export const GROUPS = { tg1: `tsinit-tg1-${process.pid}`, tg2: `tsinit-tg2-${process.pid}` };
const OURS = /^tsinit-(?:tu|tu2|tg1|tg2)-([0-9]+)$/;

function run(name, args, okCodes = [0]) {
  const r = spawnSync(tool(name), args, { encoding: 'utf8', timeout: 20000 });
  if (!okCodes.includes(r.status)) throw new Error(`${name} ${args.join(' ')}: ${r.stderr || r.status}`);
  return r;
}

function idOf(file, name, field) {
  const line = fs.readFileSync(file, 'utf8').split('\n').find((l) => l.split(':')[0] === name);
  if (!line) throw new Error(`${name} is not in ${file}`);
  return Number(line.split(':')[field]);
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** Users and groups an interrupted run left behind (their pid is gone). */
function removeLeftovers() {
  const names = (file) => fs.readFileSync(file, 'utf8').split('\n').map((l) => l.split(':')[0]);
  const stale = (n) => OURS.test(n) && !alive(Number(OURS.exec(n)[1]));
  for (const u of names('/etc/passwd').filter(stale)) spawnSync(tool('userdel'), [u], { stdio: 'ignore', timeout: 20000 });
  for (const g of names('/etc/group').filter(stale)) spawnSync(tool('groupdel'), [g], { stdio: 'ignore', timeout: 20000 });
}

/** Removes the test users and groups; quiet when they do not exist. */
export function removeTestIds() {
  // userdel removes each user's own group too (USERGROUPS_ENAB).
  for (const u of Object.values(USERS)) spawnSync(tool('userdel'), [u], { stdio: 'ignore', timeout: 20000 });
  for (const g of [...Object.values(GROUPS), ...Object.values(USERS)]) spawnSync(tool('groupdel'), [g], { stdio: 'ignore', timeout: 20000 });
}

/**
 * tsinit-tu-PID: own group of that name, member of tsinit-tg1-PID and
 * tsinit-tg2-PID, home /home/tsinit-tu-PID (not created). tsinit-tu2-PID: own
 * group only. Returns their ids.
 */
export function createTestIds() {
  removeLeftovers();
  removeTestIds();
  for (const g of Object.values(GROUPS)) run('groupadd', [g]);
  run('groupadd', [USERS.tu]);
  run('groupadd', [USERS.tu2]);
  run('useradd', ['-M', '-d', `/home/${USERS.tu}`, '-s', '/usr/sbin/nologin', '-g', USERS.tu, '-G', `${GROUPS.tg1},${GROUPS.tg2}`, USERS.tu]);
  run('useradd', ['-M', '-d', `/home/${USERS.tu2}`, '-s', '/usr/sbin/nologin', '-g', USERS.tu2, USERS.tu2]);
  const user = (n) => ({ name: n, uid: idOf('/etc/passwd', n, 2), gid: idOf('/etc/passwd', n, 3), home: `/home/${n}` });
  const group = (n) => ({ name: n, gid: idOf('/etc/group', n, 2) });
  return { tu: user(USERS.tu), tu2: user(USERS.tu2), tg1: group(GROUPS.tg1), tg2: group(GROUPS.tg2) };
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Whether 127.0.0.1:port (TCP) can be bound right now: nothing holds it. */
export function portIsFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.on('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** Holds 127.0.0.1:port (an ephemeral one) until close(). */
export function holdPort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => resolve({ port: s.address().port, close: () => new Promise((r) => s.close(r)) }));
  });
}

export const SERVE = path.join(ROOT, 'test/fixtures/privserve.cjs');
const CLIENT = path.join(ROOT, 'test/fixtures/privclient.cjs');

/** Runs privclient.cjs, inside the network namespace of pid if given; resolves its stdout. */
export function client(args, netnsPid = null) {
  const cmd = netnsPid ? NSENTER : NODE;
  const argv = netnsPid ? [`--net=/proc/${netnsPid}/ns/net`, '--', NODE, CLIENT, ...args] : [CLIENT, ...args];
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10000, killSignal: 'SIGKILL' });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`client ${args.join(' ')}: exit ${code}: ${err}`))));
  });
}

/** privreport's lines → { pid, status: Map, fds: {fd: target}, env: {}, cwd, regain, uidsAfter }. */
export function parseReport(lines) {
  const r = { status: new Map(), fds: {}, env: {} };
  for (const line of lines) {
    if (line === 'end') break;
    const tab = line.indexOf('\t');
    const key = tab < 0 ? line : line.slice(0, tab);
    const value = tab < 0 ? '' : line.slice(tab + 1);
    if (key === 'pid') r.pid = Number(value);
    else if (key === 'cwd') r.cwd = value;
    else if (key === 'regain') r.regain = value;
    else if (key === 'uids after') r.uidsAfter = value;
    else if (key.startsWith('fd ')) r.fds[Number(key.slice(3))] = value;
    else if (key.startsWith('env ')) r.env[key.slice(4)] = value === '(unset)' ? undefined : value;
    else r.status.set(key, value);
  }
  return r;
}

/** "1000 27 1001" → [27, 1000, 1001]. */
export const groupsOf = (text) => text.trim().split(/\s+/).filter(Boolean).map(Number).sort((a, b) => a - b);
/** All four ids of a Uid:/Gid: line equal to id. */
export const allFour = (id) => `${id}\t${id}\t${id}\t${id}`;
