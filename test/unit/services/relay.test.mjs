// The log relay (src/services/relay.ts), driven by a harness process
// (fixtures/relayharness.cjs) that spawns writer services through the native
// spawn, exactly as the services runtime does, and exits with _exit after
// drain(). The harness's stdout is a real pipe (or a socket, or a file) that
// this process reads; nothing risky runs in the test process itself. The
// harness runs on tsinit's runtime (TSINIT_TEST_NODE: Node 22 and 24 too).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep, waitFor } from '../../helpers/wait.mjs';
import { NODE } from '../../helpers/tsinit.mjs';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const { native } = require(path.join(root, 'dist/native.js'));
const { utf8Cut, MAX_LINE } = require(path.join(root, 'dist/services/relay.js'));
const HARNESS = path.join(root, 'test/fixtures/relayharness.cjs');
const WRITER = path.join(root, 'test/fixtures/relaywriter.cjs');
const O_NONBLOCK = 0o4000;
/** For tests that count exact lines: on a loaded machine a writer can stall
 * mid-line for longer than the 150 ms idle flush, which would (rightly) cut
 * the line in two. Only the idle tests use the real default. */
const NO_IDLE = 60000;

const writer = (name, ...args) => ({ name, argv: [process.execPath, WRITER, ...args] });

/** The line numbered n of writer id, as relaywriter.cjs writes it. */
const payload = (n) => 'x'.repeat((n * 7919) % 200);
function expectedCount(id, bytes) {
  let n = 0;
  for (let size = 0; size < bytes; n++) size += `${id} ${n} ${payload(n)}\n`.length;
  return n;
}

/**
 * Runs the harness. stdout: 'pipe' (a real pipe from pipe2, as Docker gives),
 * 'socket' (child_process's socketpair, as journald gives) or a file path.
 * Returns the live process and promises for its output, reports and exit.
 */
function startHarness(cfg, { stdout = 'pipe', stdin = 'ignore', stderr = 'pipe', readLater = false, timeoutMs = 60000, uid } = {}) {
  let out1;
  let readEnd = null;
  if (stdout === 'pipe') {
    const [r, w] = native.pipe2();
    readEnd = r;
    out1 = w;
  } else if (stdout === 'socket') out1 = 'pipe';
  else out1 = fs.openSync(stdout, 'w');
  const p = spawn(NODE, [HARNESS, JSON.stringify(cfg)], { stdio: [stdin, out1, stderr, 'pipe'], ...(uid === undefined ? {} : { uid, gid: uid }) });
  if (typeof out1 === 'number') native.close(out1);
  const kill = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
  const reports = [];
  let rbuf = '';
  p.stdio[3].on('data', (d) => {
    rbuf += d;
    let i;
    while ((i = rbuf.indexOf('\n')) >= 0) {
      reports.push(JSON.parse(rbuf.slice(0, i)));
      rbuf = rbuf.slice(i + 1);
    }
  });
  const chunks = { stdout: [], stderr: [] };
  const collect = (stream, name) => {
    stream.on('data', (d) => chunks[name].push(d));
    return new Promise((resolve) => stream.on('close', resolve));
  };
  const closed = [];
  const closeReadEnd = () => {
    native.close(readEnd);
    readEnd = null;
  };
  const startReading = () => {
    if (readEnd !== null) closed.push(collect(new net.Socket({ fd: readEnd, readable: true, writable: false }), 'stdout'));
  };
  if (p.stdout) closed.push(collect(p.stdout, 'stdout'));
  if (p.stderr) closed.push(collect(p.stderr, 'stderr'));
  if (!readLater) startReading();
  const exited = new Promise((resolve) => p.on('exit', (code, signal) => resolve({ code, signal })));
  const done = exited.then(async (st) => {
    clearTimeout(kill);
    if (readLater && readEnd !== null && closed.length === (p.stderr ? 1 : 0)) startReading();
    await Promise.all(closed);
    return { ...st, stdout: Buffer.concat(chunks.stdout), stderr: Buffer.concat(chunks.stderr), reports };
  });
  return { p, reports, chunks, startReading, closeReadEnd, done };
}

const linesOf = (buf) => {
  const s = buf.toString('utf8');
  assert.ok(s === '' || s.endsWith('\n'), 'the output ends with a whole line');
  return s === '' ? [] : s.slice(0, -1).split('\n');
};
const drainedReport = (reports) => reports.find((r) => r.drained);

// A pipe that tsinit may reopen; a socket; a pipe it may not reopen (owned by
// root, mode 0600, tsinit running as nobody): the last two take pwritev2(RWF_NOWAIT).
const OUTPUTS = [
  { stdout: 'pipe', kind: 'pipe', label: 'a pipe' },
  { stdout: 'socket', kind: 'nowait', label: 'a socket' },
  { stdout: 'pipe', kind: 'nowait', label: 'a pipe tsinit cannot reopen', uid: 65534 },
];
const skipNonRoot = (o) => o.uid !== undefined && process.getuid() !== 0;

for (const o of OUTPUTS) {
  if (skipNonRoot(o)) {
    console.log(`SKIP: output ${o.label}: needs root to run the harness as uid ${o.uid}`);
    continue;
  }
  test(`prefix, output ${o.label}: four writers write 1 MiB each at once; every line intact, prefixed, in order, nothing lost`, async () => {
    const kind = o.kind;
    const ids = [1, 2, 3, 4];
    const note = `tsinit: info: ${'a line of tsinit\'s own '.repeat(400)}`;
    const cfg = { format: 'prefix', idleMs: NO_IDLE, note, names: ['w1', 'w2', 'w3', 'w4'], writers: ids.map((i) => writer(`w${i}`, 'lines', String(i), String(1 << 20))) };
    const r = await startHarness(cfg, { stdout: o.stdout, uid: o.uid }).done;
    assert.is(r.code, 0, r.stderr.toString());
    assert.is(r.reports[0].kinds.stdout, kind);
    const next = new Map(ids.map((i) => [`w${i}`, 0]));
    const out = linesOf(r.stdout);
    assert.is(out.filter((l) => l === note).length, 1, "tsinit's own line (writeLine) whole, among the relayed ones");
    for (const l of out.filter((x) => x !== note)) {
      const m = /^(w[1-4]) \| ([1-4]) (\d+) (x*)$/.exec(l);
      assert.ok(m, `a whole, prefixed line: ${JSON.stringify(l.slice(0, 80))}`);
      assert.is(m[2], m[1].slice(1), 'the prefix names the writer of the line');
      const n = Number(m[3]);
      assert.is(n, next.get(m[1]), `${m[1]}: lines in order, none missing`);
      assert.is(m[4], payload(n), `${m[1]} line ${n} intact`);
      next.set(m[1], n + 1);
    }
    for (const i of ids) assert.is(next.get(`w${i}`), expectedCount(String(i), 1 << 20), `every line of w${i}`);
    const d = drainedReport(r.reports);
    assert.equal(d.statuses, [0, 0, 0, 0]);
    for (const fd of [0, 1]) {
      assert.is(Number.parseInt(d.after[fd], 8) & O_NONBLOCK, 0, `tsinit's own fd ${fd + 1} description stays blocking`);
      assert.is(d.after[fd], d.before[fd], `fd ${fd + 1}: flags unchanged (no libuv stream was opened on it)`);
    }
  });
}

test('prefix, output a file: lines whole; stderr lines go to stderr', async () => {
  const file = path.join(os.tmpdir(), `tsinit-relay-${process.pid}.out`);
  try {
    const cfg = { format: 'prefix', idleMs: NO_IDLE, writers: [writer('a', 'lines', '1', '20000'), writer('bb', 'lines', '2', '20000', 'stderr')] };
    const r = await startHarness(cfg, { stdout: file }).done;
    assert.is(r.code, 0);
    assert.is(r.reports[0].kinds.stdout, 'file');
    const out = linesOf(fs.readFileSync(file));
    assert.is(out.length, expectedCount('1', 20000));
    assert.ok(out.every((l, n) => l === `a  | 1 ${n} ${payload(n)}`), 'stdout: a\'s lines, aligned to the longer name');
    const err = linesOf(r.stderr);
    assert.is(err.length, expectedCount('2', 20000));
    assert.ok(err.every((l, n) => l === `bb | 2 ${n} ${payload(n)}`));
  } finally {
    fs.rmSync(file, { force: true });
  }
});

for (const maxLine of [undefined, 1001]) {
  test(`an over-long line is cut at ${maxLine ?? MAX_LINE} bytes on a UTF-8 boundary; the pieces after the first are marked "+"`, async () => {
    const bytes = 40000;
    const cfg = { format: 'prefix', idleMs: NO_IDLE, writers: [writer('s', 'long', String(bytes))], ...(maxLine ? { maxLine } : {}) };
    const r = await startHarness(cfg).done;
    assert.is(r.code, 0);
    const lines = linesOf(r.stdout);
    assert.is(lines[0], 's | before');
    assert.is(lines[lines.length - 1], 's | after');
    const pieces = lines.slice(1, -1);
    const limit = maxLine ?? MAX_LINE;
    assert.is(pieces.length, Math.ceil(bytes / (limit - (limit % 2))), 'as many pieces as the limit makes');
    assert.ok(pieces[0].startsWith('s | '));
    assert.ok(pieces.slice(1).every((l) => l.startsWith('s + ')), 'continuations marked');
    const body = pieces.map((l) => l.slice(4));
    assert.ok(body.every((b) => Buffer.byteLength(b) <= limit && !b.includes('\ufffd')), 'each piece within the limit, no character split');
    assert.is(body.join(''), 'é'.repeat(bytes / 2), 'nothing lost or added');
  });
}

test('output a terminal: the terminal is reopened (never made non-blocking), names are coloured, lines whole', async () => {
  const DRIVER = path.join(root, 'test/fixtures/ptydrive.py');
  const cfg = { format: 'prefix', idleMs: NO_IDLE, writers: [writer('web', 'lines', '1', '100000'), writer('db', 'lines', '2', '100000', 'stderr')] };
  const p = spawn('python3', [DRIVER, '[]', '--', NODE, HARNESS, JSON.stringify(cfg)], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  const kill = setTimeout(() => p.kill('SIGKILL'), 60000);
  const out = [];
  const rep = [];
  p.stdout.on('data', (d) => out.push(d));
  p.stdio[3].on('data', (d) => rep.push(d));
  const code = await new Promise((resolve) => p.on('exit', resolve));
  clearTimeout(kill);
  assert.is(code, 0);
  const reports = Buffer.concat(rep).toString().trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(reports[0].kinds, { stdout: 'tty', stderr: 'tty' });
  const d = drainedReport(reports);
  assert.equal(d.after, d.before, 'fds 1 and 2: the same open file descriptions, flags unchanged');
  const next = { web: 0, db: 0 };
  // The terminal turns \n into \r\n.
  for (const l of Buffer.concat(out).toString().split('\r\n').filter((x) => x !== '')) {
    // eslint-disable-next-line no-control-regex
    const m = /^\x1b\[\d+m(web|db ) \|\x1b\[0m ([12]) (\d+) (x*)$/.exec(l);
    assert.ok(m, JSON.stringify(l.slice(0, 60)));
    const name = m[1].trim();
    assert.is(Number(m[3]), next[name]);
    assert.is(m[4], payload(next[name]));
    next[name]++;
  }
  assert.equal(next, { web: expectedCount('1', 100000), db: expectedCount('2', 100000) });
});

test('utf8Cut never splits a character and always makes progress', () => {
  const b = Buffer.from('aé€😀');
  // a(0) é(1,2) €(3,4,5) 😀(6..9)
  assert.is(utf8Cut(b, 0, 2), 1);
  assert.is(utf8Cut(b, 0, 5), 3);
  assert.is(utf8Cut(b, 0, 8), 6);
  assert.is(utf8Cut(b, 0, 6), 6);
  assert.is(utf8Cut(b, 0, 99), b.length);
  assert.is(utf8Cut(b, 7, 8), 8, 'not before start: a broken sequence is cut where it is');
});

test('a partial line is flushed after a short idle (less a split UTF-8 character), and its continuation is marked', async () => {
  const h = startHarness({ format: 'prefix', writers: [writer('p', 'partial')] }, { stdin: 'pipe' });
  // No timing assertion: the writer waits for us, so the first piece can only
  // have come out by the idle flush.
  await waitFor('the flushed partial line', () => Buffer.concat(h.chunks.stdout).toString().includes('\n'), 10000);
  assert.is(Buffer.concat(h.chunks.stdout).toString(), 'p | prompt> \n');
  h.p.stdin.end('go');
  const r = await h.done;
  assert.is(r.code, 0);
  assert.is(r.stdout.toString(), 'p | prompt> \np + érest\n');
});

test('idle costs nothing: after a partial line is flushed, no timer and no wake-up while services are quiet', async () => {
  const cfg = {
    format: 'prefix',
    writers: [
      { name: 'quiet', argv: ['/bin/sh', '-c', 'echo ready; printf waiting; exec sleep 30'] },
      { name: 'idle', argv: ['/bin/sh', '-c', 'exec sleep 30'] },
    ],
  };
  const h = startHarness(cfg);
  try {
    await waitFor('the flushed partial line', () => Buffer.concat(h.chunks.stdout).toString().includes('waiting\n'), 10000);
    await sleep(300);
    const pid = h.p.pid;
    const switches = () =>
      fs.readdirSync(`/proc/${pid}/task`).reduce((sum, t) => {
        const st = fs.readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8');
        return sum + Number(/voluntary_ctxt_switches:\s*(\d+)/.exec(st)[1]);
      }, 0);
    const w0 = switches();
    await sleep(2000);
    const woke = switches() - w0;
    // No timers: at most a stray wake-up from Node's platform threads.
    assert.ok(woke <= 4, `the relay woke ${woke} times in 2 s while idle`);
  } finally {
    for (const r of h.reports) {
      try {
        if (r.started) process.kill(r.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  const r = await h.done;
  assert.is(r.code, 0);
  assert.is(r.stdout.toString(), 'quiet | ready\nquiet | waiting\n');
});

test('json: one object per line with time, service, stream and line; partial pieces say so', async () => {
  const cfg = {
    format: 'json',
    idleMs: NO_IDLE,
    writers: [
      writer('out', 'lines', '1', '5000'),
      writer('err', 'lines', '2', '5000', 'stderr'),
      { name: 'sh', argv: ['/bin/sh', '-c', `printf '%s\\n' 'quote " back\\slash é'; printf 'no newline'`] },
    ],
  };
  const t0 = Date.now();
  const r = await startHarness(cfg).done;
  assert.is(r.code, 0);
  const objs = linesOf(r.stdout).map((l) => JSON.parse(l));
  for (const o of objs) {
    const t = Date.parse(o.time);
    assert.ok(t >= t0 - 1000 && t <= Date.now() + 1000, `time is an ISO timestamp: ${o.time}`);
    assert.equal(Object.keys(o).filter((k) => k !== 'partial'), ['time', 'service', 'stream', 'line']);
    assert.is(o.stream, 'stdout');
  }
  const out = objs.filter((o) => o.service === 'out');
  assert.is(out.length, expectedCount('1', 5000));
  assert.ok(out.every((o, n) => o.line === `1 ${n} ${payload(n)}` && o.partial === undefined));
  const sh = objs.filter((o) => o.service === 'sh').map(({ time, ...rest }) => rest);
  assert.equal(sh, [
    { service: 'sh', stream: 'stdout', line: 'quote " back\\slash é' },
    { service: 'sh', stream: 'stdout', line: 'no newline', partial: true },
  ]);
  const err = linesOf(r.stderr).map((l) => JSON.parse(l));
  assert.is(err.length, expectedCount('2', 5000));
  assert.ok(err.every((o) => o.service === 'err' && o.stream === 'stderr'));
});

test('colour: a stable colour per service, the same on every line and in every run', async () => {
  const cfg = { format: 'prefix', idleMs: NO_IDLE, color: true, writers: [writer('web', 'lines', '1', '3000'), writer('db', 'lines', '2', '3000')] };
  const colours = [];
  for (let run = 0; run < 2; run++) {
    const r = await startHarness(cfg).done;
    const seen = {};
    for (const l of linesOf(r.stdout)) {
      // eslint-disable-next-line no-control-regex
      const m = /^\x1b\[(\d+)m(web|db ) \|\x1b\[0m [12] \d+ x*$/.exec(l);
      assert.ok(m, JSON.stringify(l.slice(0, 40)));
      const name = m[2].trim();
      seen[name] ??= m[1];
      assert.is(m[1], seen[name]);
    }
    colours.push(seen);
  }
  assert.equal(colours[0], colours[1]);
  assert.is(Object.keys(colours[0]).length, 2);
});

for (const o of [OUTPUTS[0], OUTPUTS[2]]) {
  if (skipNonRoot(o)) continue;
  test(`backpressure, output ${o.label}: 100 MiB into an output nobody reads: the writer blocks, the relay's memory stays bounded; then all of it arrives`, async () => {
    const total = 100 << 20;
    const h = startHarness({ format: 'prefix', idleMs: NO_IDLE, writers: [writer('flood', 'flood', String(total))] }, { readLater: true, timeoutMs: 120000, uid: o.uid });
    const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
    const started = await waitFor('the writer', () => h.reports.find((r) => r.started), 20000);
    const base = rss(h.p.pid);
    const wchar = () => Number(/wchar: (\d+)/.exec(fs.readFileSync(`/proc/${started.pid}/io`, 'utf8'))[1]);
    const state = () => fs.readFileSync(`/proc/${started.pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
    // Wait until the writer stops making progress (it blocks in write(2)).
    let last = -1;
    await waitFor('the writer to block', async () => {
      const now = wchar();
      const still = now === last && state() === 'S';
      last = now;
      await sleep(300);
      return still;
    }, 30000, 0);
    const blockedRss = rss(h.p.pid);
    assert.ok(wchar() < 8 << 20, `the writer is blocked after ${wchar()} bytes, not 100 MiB`);
    assert.ok(blockedRss - base < 40 << 20, `relay RSS ${blockedRss >> 20} MiB, from ${base >> 20} MiB`);
    let maxRss = blockedRss;
    const sampler = setInterval(() => {
      try {
        maxRss = Math.max(maxRss, rss(h.p.pid));
      } catch {
        // exited
      }
    }, 50);
    h.startReading();
    const r = await h.done;
    clearInterval(sampler);
    assert.is(r.code, 0);
    assert.ok(maxRss - base < 40 << 20, `relay RSS at most ${maxRss >> 20} MiB while 100 MiB flowed, from ${base >> 20} MiB`);
    // Count lines and check the last without splitting 100 MiB into strings.
    let lines = 0;
    for (let i = -1; (i = r.stdout.indexOf(10, i + 1)) >= 0; ) lines++;
    const tail = r.stdout.subarray(r.stdout.lastIndexOf(10, r.stdout.length - 2) + 1).toString();
    const m = /^flood \| f (\d+) (x*)\n$/.exec(tail);
    assert.ok(m, tail.slice(0, 60));
    assert.is(lines, Number(m[1]) + 1, 'every line arrived');
    let bytes = 0;
    for (let n = 0; n < lines; n++) bytes += `f ${n} ${payload(n)}\n`.length;
    assert.ok(bytes >= total, 'the writer wrote its 100 MiB');
    assert.is(r.stdout.length - lines * 'flood | '.length, bytes, 'every byte arrived');
    assert.is(r.reports[0].kinds.stdout, o.kind);
  });
}

test('the output\'s reader goes away: one warning, the output is dropped, services never block', async () => {
  const h = startHarness({ format: 'prefix', idleMs: NO_IDLE, writers: [writer('w', 'flood', String(8 << 20))] }, { readLater: true });
  // Close our read end: tsinit's stdout now has no reader (EPIPE).
  await waitFor('the writer', () => h.reports.find((r) => r.started), 20000);
  h.closeReadEnd();
  const r = await h.done;
  assert.is(r.code, 0);
  const warnings = r.reports.filter((x) => x.warning);
  assert.is(warnings.length, 1, JSON.stringify(warnings));
  assert.match(warnings[0].warning, /^log relay: cannot write pipe output \(EPIPE\): service output is discarded from now on$/);
  assert.equal(drainedReport(r.reports).statuses, [0], 'the writer wrote all 8 MiB and exited');
});

test('drain on exit: a descendant that writes after the service exited, and a last line without a newline, are not lost', async () => {
  const cfg = {
    format: 'prefix',
    idleMs: NO_IDLE,
    writers: [
      { name: 'd', argv: ['/bin/sh', '-c', '(sleep 0.5; echo late from the orphan; printf "no newline") & echo early'] },
      writer('big', 'lines', '1', String(1 << 20)),
    ],
  };
  const r = await startHarness(cfg).done;
  assert.is(r.code, 0);
  const lines = linesOf(r.stdout);
  const d = lines.filter((l) => l.startsWith('d   '));
  assert.equal(d, ['d   | early', 'd   | late from the orphan', 'd   | no newline']);
  assert.is(lines.filter((l) => l.startsWith('big')).length, expectedCount('1', 1 << 20));
});

test.run();
