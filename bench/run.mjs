#!/usr/bin/env node
// tsinit benchmark (issue 6): tsinit, tini, dumb-init and catatonit side by
// side, each as PID 1 of a fresh PID namespace, timed with the children's own
// CLOCK_MONOTONIC. See bench/README.md for the method.
//
//   node bench/run.mjs [--json FILE] [--soak] [--runs N] [--tsinit DIR]
//                      [--only tsinit,tini,...] [--no-install]
//                      [--soak-orphans N] [--soak-signals N]
//                      [--no-services | --only-services] [--no-instructions]
//
// Needs root (PID and mount namespaces) and cc. Every process it starts is
// bounded: each measurement runs under a timeout here and an alarm() in
// nsbench, and the init is the child of nsbench with PDEATHSIG=SIGKILL, so
// killing either takes the whole namespace down.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { countStartup } from './instructions.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '..');
const OUT = path.join(ROOT, 'build/bench');
const T_START = Date.now();

// ---------------------------------------------------------------- options
function parseOptions(argv) {
  const o = { json: null, soak: false, runs: 20, tsinit: ROOT, only: null, install: true, services: true, onlyServices: false, soakOrphans: 1_000_000, soakSignals: 100_000, instructions: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--json') o.json = val();
    else if (a === '--soak') o.soak = true;
    else if (a === '--runs') o.runs = Math.max(5, Number(val()) | 0);
    else if (a === '--tsinit') o.tsinit = path.resolve(val());
    else if (a === '--only') o.only = val().split(',');
    else if (a === '--no-install') o.install = false;
    else if (a === '--no-services') o.services = false;
    else if (a === '--only-services') o.onlyServices = true;
    else if (a === '--no-instructions') o.instructions = false;
    else if (a === '--soak-orphans') o.soakOrphans = Number(val());
    else if (a === '--soak-signals') o.soakSignals = Number(val());
    else if (a === '-h' || a === '--help') usage(null);
    else usage(`unknown option ${a}`);
  }
  return o;
}
function usage(err) {
  const text = 'usage: node bench/run.mjs [--json FILE] [--soak] [--runs N] [--tsinit DIR] [--only NAMES] [--no-install] [--soak-orphans N] [--soak-signals N] [--no-services | --only-services] [--no-instructions]';
  (err ? console.error : console.log)(err ? `bench: ${err}\n${text}` : text);
  process.exit(err ? 2 : 0);
}
const opt = parseOptions(process.argv.slice(2));

// Every init and the node reference run with the same environment, without
// NODE_* variables: tsinit's launcher hides them from its own node anyway, and
// one like NODE_EXTRA_CA_CERTS (set on some machines) adds tens of ms to a
// bare node's start-up, which would flatter tsinit against the reference.
const droppedNodeVars = Object.keys(process.env).filter((k) => k.startsWith('NODE_'));
for (const k of droppedNodeVars) delete process.env[k];
// tsinit's launcher runs the bench's own node, as the node references do,
// whichever node is first on PATH: `node24 bench/run.mjs` benches Node 24 for
// all (after `node24 scripts/place-launcher.js`, so that the launcher gives it
// --disable-sigusr1 as an install by that node would).
if (!process.env.TSINIT_NODE) process.env.TSINIT_NODE = process.execPath;

const log = (msg) => process.stderr.write(`[${((Date.now() - T_START) / 1000).toFixed(1).padStart(5)}s] ${msg}\n`);
function fail(msg) {
  console.error(`bench: ${msg}`);
  process.exit(1);
}

/** The flags place-launcher.js recorded for the launcher to add, or "none". */
function launcherFlags() {
  try {
    const lines = fs.readFileSync(path.join(opt.tsinit, 'bin/tsinit.node-flags'), 'utf8').trim().split('\n');
    return lines.slice(1).join(' ') || 'none';
  } catch {
    return 'none';
  }
}

// ---------------------------------------------------------------- setup
if (process.platform !== 'linux') fail('Linux only');
if (process.getuid() !== 0) fail('needs root: every init runs as PID 1 of a new PID namespace');

function sh(cmd, args, timeoutMs = 30_000, extra = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 256 << 20, ...extra });
  return { ok: r.status === 0, status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}
const exists = (p) => {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
};
const which = (name) => (process.env.PATH ?? '').split(':').map((d) => path.join(d, name)).find(exists) ?? null;

const PEERS = {
  tini: { pkg: 'tini', paths: ['/usr/bin/tini', '/usr/local/bin/tini', '/sbin/tini'], prefix: ['--'] },
  'dumb-init': { pkg: 'dumb-init', paths: ['/usr/bin/dumb-init', '/usr/local/bin/dumb-init'], prefix: [] },
  catatonit: {
    pkg: 'catatonit',
    paths: ['/usr/bin/catatonit', '/usr/libexec/podman/catatonit', '/usr/libexec/catatonit/catatonit', '/usr/local/bin/catatonit'],
    prefix: ['--'],
  },
};
const findPeer = (name) => PEERS[name].paths.find(exists) ?? which(name);

function installPeers() {
  const missing = Object.keys(PEERS).filter((n) => !findPeer(n));
  if (missing.length === 0 || !opt.install) return;
  if (!which('apt-get')) {
    log(`missing ${missing.join(', ')} and no apt-get: carrying on without`);
    return;
  }
  aptInstall(missing.map((n) => PEERS[n].pkg));
}
function aptInstall(pkgs) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const args = ['-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '-qq', ...pkgs];
  log(`installing ${pkgs.join(' ')} from Debian`);
  let r = sh('apt-get', args, 900_000, { env });
  if (!r.ok) {
    log('apt-get install failed; running apt-get update first');
    sh('apt-get', ['update', '-qq'], 300_000, { env });
    r = sh('apt-get', args, 900_000, { env });
  }
  if (!r.ok) log(`apt-get install failed:\n${r.stderr.trim().split('\n').slice(-3).join('\n')}`);
}

const HELPERS = [
  { name: 'nsbench', src: 'nsbench.c', flags: [] },
  { name: 'child', src: 'child.c', flags: ['-static'] }, // same exec cost under every init
  { name: 'svc', src: 'svc.c', flags: ['-static'] }, // the supervision section's service
];
/** Compiles the C helpers into build/bench (again if `npm run build` wiped build/ meanwhile). */
function ensureHelpers() {
  fs.mkdirSync(OUT, { recursive: true });
  for (const h of HELPERS) {
    const src = path.join(here, h.src);
    const bin = path.join(OUT, h.name);
    const deps = [src, path.join(here, 'shm.h')];
    if (exists(bin) && deps.every((d) => fs.statSync(d).mtimeMs <= fs.statSync(bin).mtimeMs)) continue;
    let r = sh('cc', ['-O2', '-Wall', '-Wextra', ...h.flags, '-o', bin, src], 60_000);
    if (!r.ok && h.flags.includes('-static')) r = sh('cc', ['-O2', '-Wall', '-Wextra', '-o', bin, src], 60_000);
    if (!r.ok) fail(`cc ${h.src} failed:\n${r.stderr}${r.error ?? ''}`);
  }
}
const NSBENCH = path.join(OUT, 'nsbench');
const CHILD = path.join(OUT, 'child');

// ---------------------------------------------------------------- supervision section
const NODE = process.execPath;
const CLI = path.join(opt.tsinit, 'dist/cli.js');
if (!fs.existsSync(CLI)) fail(`${CLI} is missing: build tsinit first (npm run build)`);
/** bench/services.mjs: tsinit --config against supervisord, s6 and pm2-runtime. Returns its failures. */
async function servicesSection(json) {
  const { runServices } = await import('./services.mjs');
  const ctx = { root: ROOT, tsinitDir: opt.tsinit, node: NODE, install: opt.install, log, sh, which, exists, aptInstall, failures: [] };
  ctx.helper = (name) => (ensureHelpers(), path.join(OUT, name));
  const r = await runServices(ctx);
  console.log(`\n${r.lines.join('\n')}`);
  if (ctx.failures.length) console.log(`\nFailures\n${ctx.failures.map((f) => `- ${f}`).join('\n')}`);
  json.services = r.json;
  return ctx.failures;
}
if (opt.onlyServices) {
  const json = { options: opt };
  const f = await servicesSection(json);
  if (opt.json) fs.writeFileSync(opt.json, JSON.stringify(json, null, 1));
  process.exit(f.length ? 1 : 0);
}

// ---------------------------------------------------------------- subjects
installPeers();
ensureHelpers();
{
  // The addon must load: a quick run outside any namespace.
  const r = sh(NODE, [CLI, '--', '/bin/sh', '-c', 'exit 7'], 20_000);
  if (r.status !== 7) fail(`tsinit does not run (${CLI}): status ${r.status}\n${r.stderr}`);
}

// tsinit as users run it: the `tsinit` command (bin/tsinit, the native
// launcher where it was built), else node on dist/cli.js.
const LAUNCHER = path.join(opt.tsinit, 'bin/tsinit');
const TSINIT_ARGV = fs.existsSync(LAUNCHER) ? [LAUNCHER, '--'] : [NODE, CLI, '--'];
const INITS = [{ name: 'tsinit', argv: TSINIT_ARGV }];
for (const name of Object.keys(PEERS)) {
  const bin = findPeer(name);
  if (bin) INITS.push({ name, argv: [bin, ...PEERS[name].prefix], bin });
  else log(`${name}: not installed, left out`);
}
const SUBJECTS = INITS.filter((s) => !opt.only || opt.only.includes(s.name));
if (!SUBJECTS.some((s) => s.name === 'tsinit')) fail('--only must include tsinit');
const C_PEERS = SUBJECTS.filter((s) => s.name !== 'tsinit').map((s) => s.name);
const COLS = [...SUBJECTS.map((s) => s.name), 'node'];

const TMP = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'tsinit-bench-'));
const SHM = path.join(TMP, 'shm');
const CMD = path.join(TMP, 'cmd');
const OUTF = path.join(TMP, 'out');
const cleanup = () => fs.rmSync(TMP, { recursive: true, force: true });
process.on('exit', cleanup);
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => process.exit(130));
const SIGUSR1 = os.constants.signals.SIGUSR1;
const work = () => [CHILD, 'work', SHM, CMD, OUTF, String(SIGUSR1)];
const IO = [`shm=${SHM}`, `cmd=${CMD}`, `out=${OUTF}`];

const failures = [];
/** Runs nsbench; returns its JSON, or null (and records why). */
function nsbench(mode, kv, argv, what, timeoutS = 120) {
  ensureHelpers();
  const r = sh(NSBENCH, [mode, `timeout=${timeoutS}`, ...kv, '--', ...argv], (timeoutS + 10) * 1000);
  if (!r.ok) {
    failures.push(`${what}: nsbench ${mode} exited ${r.status ?? r.error}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
    return null;
  }
  try {
    return JSON.parse(r.stdout);
  } catch (e) {
    failures.push(`${what}: bad nsbench output (${e.message})`);
    return null;
  }
}

// ---------------------------------------------------------------- stats
const median = (xs) => {
  if (!xs || xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const procField = (text, key) => {
  const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text ?? '');
  return m ? Number(m[1]) : null;
};

// ---------------------------------------------------------------- phases
const raw = {};
const RUNS = opt.runs;
const BLOCK = 1; // runs per nsbench call: subjects take turns run by run, so drift hits all alike
const rounds = Math.ceil(RUNS / BLOCK);

/** Round-robin over subjects, BLOCK runs at a time, after one warm-up run each. */
function roundRobin(subjects, mode, kvOf, argvOf, collect, what) {
  for (const s of subjects) nsbench(mode, [...kvOf(s), 'reps=1'], argvOf(s), `${what} warm-up ${s.name}`);
  for (let r = 0; r < rounds; r++)
    for (const s of subjects) {
      const j = nsbench(mode, [...kvOf(s), `reps=${BLOCK}`], argvOf(s), `${what} ${s.name}`);
      if (j) for (const run of j.runs) collect(s, run);
    }
}
const push = (obj, key, v) => (obj[key] ??= []).push(v);

// The reference subjects: the bare command as PID 1, and bare node.
const BARE = { name: 'bare', argv: [] };
const NODE_REF = { name: 'node', argv: [] };
// Node references that run a script file, as tsinit does (`node -e` takes a slower path).
const NODE_FIRST = path.join(TMP, 'node-first.js');
fs.writeFileSync(
  NODE_FIRST,
  "const t = process.hrtime.bigint(); // CLOCK_MONOTONIC\nconst fs = require('fs');\nconst b = Buffer.alloc(8);\nb.writeBigInt64LE(t);\nfs.writeSync(fs.openSync(process.argv[2], 'r+'), b, 0, 8, 0);\n",
);
// Exit propagation's reference (issue 11): a node that only spawns the command and waits for it.
const NODE_EXIT = path.join(TMP, 'node-exit.js');
fs.writeFileSync(
  NODE_EXIT,
  "const r = require('child_process').spawnSync(process.argv[2], process.argv.slice(3), { stdio: 'inherit' });\nprocess.exit(r.status ?? 1);\n",
);
const NODE_BLIND = path.join(TMP, 'node-blind.js');
fs.writeFileSync(NODE_BLIND, "process.on('SIGUSR2', () => {});\nsetTimeout(() => {}, 20000);\n");

function phaseStartup() {
  log(`start-up: INIT /bin/true, ${RUNS} runs each`);
  const wall = {};
  const bad = {};
  roundRobin(
    [BARE, NODE_REF, ...SUBJECTS],
    'run',
    () => [],
    (s) => (s === NODE_REF ? [NODE, '-e', ''] : [...s.argv, '/bin/true']),
    (s, run) => {
      if (run.status !== 0) push(bad, s.name, run.status);
      push(wall, s.name, run.end - run.start);
    },
    'start-up',
  );
  raw.startup = { wall_ns: wall, bad_status: bad };

  log(`start-up: launch → child's first instruction, ${RUNS} runs each`);
  const first = {};
  roundRobin(
    [BARE, NODE_REF, ...SUBJECTS],
    'run',
    () => [`shm=${SHM}`],
    (s) => (s === NODE_REF ? [NODE, NODE_FIRST, SHM] : [...s.argv, CHILD, 'first', SHM]),
    (s, run) => {
      if (run.status !== 0 || !run.stamp) push(bad, `${s.name} first`, run.status);
      else push(first, s.name, run.stamp - run.exec);
    },
    'first instruction',
  );
  raw.first = { first_ns: first };
}

/** Start-up in instructions (bench/instructions.mjs): 3 runs each of tsinit /bin/true and node -e ''. */
function phaseInstructions() {
  if (!opt.instructions) return void (raw.instructions = { skipped: '--no-instructions' });
  if (!which('valgrind') && opt.install && which('apt-get')) aptInstall(['valgrind']);
  log("start-up in instructions: callgrind, INIT /bin/true and node -e '', 3 runs each");
  const tsinit = SUBJECTS.find((s) => s.name === 'tsinit');
  raw.instructions = countStartup({ sh, which, nsbench: NSBENCH, tmp: TMP, runs: 3, failures }, [
    { name: 'tsinit', argv: [...tsinit.argv, '/bin/true'] },
    { name: 'node', argv: [NODE, '-e', ''] },
  ]);
  if (raw.instructions.skipped) log(`start-up in instructions skipped: ${raw.instructions.skipped}`);
}

function phaseBlind() {
  log(`signal-blind window: exec → SIGTERM, SIGRTMIN+6, SIGRTMAX caught or blocked, ${RUNS} runs each`);
  const win = {};
  const how = {};
  const missed = {};
  roundRobin(
    [NODE_REF, ...SUBJECTS],
    'blind',
    (s) => [s === NODE_REF ? 'mask=12' : 'mask=15,40,64'],
    (s) => (s === NODE_REF ? [NODE, NODE_BLIND] : [...s.argv, CHILD, 'pause']),
    (s, run) => {
      if (!run.handled) push(missed, s.name, 1);
      else {
        push(win, s.name, run.handled - run.exec);
        push(how, s.name, run.how);
      }
    },
    'blind',
  );
  raw.blind = { window_ns: win, how, missed };
}

function phaseExit() {
  log(`exit propagation: child _exit(7) → init exited with 7, ${RUNS} runs each`);
  const prop = {};
  const bad = {};
  roundRobin(
    [NODE_REF, ...SUBJECTS],
    'run',
    () => [`shm=${SHM}`],
    (s) => [...(s === NODE_REF ? [NODE, NODE_EXIT] : s.argv), CHILD, 'exit', SHM, '100', '7'],
    (s, run) => {
      if (run.status !== 7 || !run.stamp) push(bad, s.name, run.status);
      else push(prop, s.name, run.end - run.stamp);
    },
    'exit',
  );
  raw.exit = { prop_ns: prop, bad_status: bad };
}

function parseSmaps(text) {
  const by = new Map();
  let name = null;
  for (const line of (text ?? '').split('\n')) {
    const h = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (h) {
      name = h[1] || '[anon]';
      continue;
    }
    const m = /^(Rss|Anonymous|Pss):\s+(\d+) kB/.exec(line);
    if (m && name) {
      const e = by.get(name) ?? { name, rss: 0, anon: 0, pss: 0 };
      e[m[1] === 'Rss' ? 'rss' : m[1] === 'Pss' ? 'pss' : 'anon'] += Number(m[2]);
      by.set(name, e);
    }
  }
  return [...by.values()].sort((a, b) => b.rss - a.rss);
}

function phaseIdle() {
  log('idle: memory with a sleeping child, then CPU and wakeups over 5 s');
  const idle = {};
  const NODE_IDLE = { name: 'node', argv: [NODE, '-e', 'setTimeout(()=>{},1e7)'] };
  for (const s of [...SUBJECTS, NODE_IDLE]) {
    const isNode = s === NODE_IDLE;
    const j = nsbench(
      'idle',
      [...IO, 'settle=1000', 'window=5000', `ready=${isNode ? 0 : 1}`],
      isNode ? s.argv : [...s.argv, ...work()],
      `idle ${s.name}`,
    );
    if (!j) continue;
    const st = j.memory.status;
    const roll = j.memory.smaps_rollup;
    idle[s.name] = {
      rss_kb: procField(st, 'VmRSS'),
      anon_kb: procField(st, 'RssAnon'),
      file_kb: procField(st, 'RssFile'),
      shmem_kb: procField(st, 'RssShmem'),
      pss_kb: procField(roll, 'Pss'),
      pss_anon_kb: procField(roll, 'Pss_Anon'),
      pss_file_kb: procField(roll, 'Pss_File'),
      threads: procField(st, 'Threads'),
      thread_list: j.threads.map((t) => ({
        tid: t.tid,
        comm: t.comm.trim(),
        wchan: t.wchan.trim(),
        ctxsw: (procField(t.status, 'voluntary_ctxt_switches') ?? 0) + (procField(t.status, 'nonvoluntary_ctxt_switches') ?? 0),
      })),
      top_mappings: parseSmaps(j.memory.smaps).slice(0, 8),
      window_s: j.window_ns / 1e9,
      cpu_ms: j.cpu_ns / 1e6,
      cpu_ticks: j.ticks,
      ticks_per_s: j.ticks_per_s,
      wakeups: j.ctxsw,
    };
  }
  raw.idle = idle;
}

function orphanBurst(n) {
  // One leader makes up to `burst` zombies then exits. 10,000 fit at once;
  // 50,000 do not on a kernel with the default pid_max of 32768, so they
  // come as several bursts back to back.
  let pidMax = 32768;
  try {
    pidMax = Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
  } catch {}
  const tasks = Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[3].split('/')[1]);
  return Math.max(100, Math.min(n, 10_000, Math.floor((pidMax - tasks - 2000) / 2)));
}

function phaseOrphans() {
  const plan = [
    { n: 10_000, reps: 5 },
    { n: 50_000, reps: 2 },
  ];
  raw.orphans = {};
  // Making orphans is bounded by how fast the machine forks, which other load
  // slows down a lot: repetitions after the first stop when the phase has
  // used its share of the five minutes.
  const t0 = Date.now();
  const budgetMs = 100_000;
  for (const { n, reps } of plan) {
    const burst = orphanBurst(n);
    log(`reaping: ${n} orphans in bursts of ${burst}, ${reps} run(s) each`);
    const res = {};
    for (let r = 0; r < reps; r++) {
      if (r > 0 && Date.now() - t0 > (n === plan[0].n ? budgetMs / 2 : budgetMs)) {
        log(`reaping: time budget used, ${r} run(s) of ${n}`);
        break;
      }
      for (const s of SUBJECTS) {
        const j = nsbench('orphans', [...IO, 'settle=500', `n=${n}`, `burst=${burst}`, 'sample=200'], [...s.argv, ...work()], `orphans ${n} ${s.name}`);
        if (!j) continue;
        const o = j.orphans;
        if (o.made !== n) failures.push(`orphans ${n} ${s.name}: made ${o.made}`);
        push(res, s.name, {
          per_s: o.made / ((o.done - o.start) / 1e9),
          busy_per_s: o.made / (o.busy / 1e9),
          busy_ms: o.busy / 1e6,
          drain_ms: (o.done - o.gen_end) / 1e6,
          total_ms: (o.done - o.start) / 1e6,
          peak: o.peak,
          cpu_us_per: o.cpu_ns / o.made / 1e3,
          cpu_ticks: o.ticks,
          retries: o.retries,
          samples: o.samples,
        });
      }
    }
    raw.orphans[n] = { burst, runs: res };
  }
}

function phaseSignals() {
  const n = 1000;
  log(`signal forwarding: ${n} × SIGUSR1, one at a time, 0.5 ms apart`);
  const sig = {};
  for (const s of SUBJECTS) {
    const j = nsbench('signals', [...IO, 'settle=500', `n=${n}`, 'gap=500', `sig=${SIGUSR1}`], [...s.argv, ...work()], `signals ${s.name}`);
    if (!j) continue;
    sig[s.name] = { n, p50_ns: pct(j.lat, 50), p90_ns: pct(j.lat, 90), p99_ns: pct(j.lat, 99), max_ns: Math.max(...j.lat), cpu_us_per: j.cpu_ns / n / 1e3, lat_ns: j.lat };
  }
  raw.signals = sig;
}

function phaseSoak() {
  log(`soak: ${opt.soakOrphans} orphans then ${opt.soakSignals} signals per init`);
  const soak = {};
  for (const s of SUBJECTS) {
    const j = nsbench(
      'soak',
      [...IO, 'settle=1000', `orphans=${opt.soakOrphans}`, `burst=${orphanBurst(opt.soakOrphans)}`, `signals=${opt.soakSignals}`, `sig=${SIGUSR1}`],
      [...s.argv, ...work()],
      `soak ${s.name}`,
      3600,
    );
    if (!j) continue;
    const mem = (m) => ({ rss_kb: procField(m.status, 'VmRSS'), anon_kb: procField(m.status, 'RssAnon'), pss_kb: procField(m.smaps_rollup, 'Pss') });
    soak[s.name] = {
      wall_s: j.wall_ns / 1e9,
      start: mem(j.mem_start),
      after_orphans: mem(j.mem_mid),
      end: mem(j.mem_end),
      orphans: j.orphans.n,
      orphan_peak: j.orphans.peak,
      orphans_per_s_reaping: j.orphans.n / (j.orphans.reap_ns / 1e9),
      cpu_us_per_orphan: j.orphans.cpu_ns / j.orphans.n / 1e3,
      signals: j.signals.n,
      sig_p50_us: j.signals.p50 / 1e3,
      sig_p99_us: j.signals.p99 / 1e3,
      cpu_us_per_signal: j.signals.cpu_ns / j.signals.n / 1e3,
    };
    log(`soak ${s.name}: ${soak[s.name].wall_s.toFixed(0)} s, RSS ${soak[s.name].start.rss_kb} → ${soak[s.name].end.rss_kb} kB`);
  }
  raw.soak = soak;
}

// ---------------------------------------------------------------- environment
function environment() {
  const cpu = /model name\s*:\s*(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? '?';
  const dpkg = (pkg) => {
    const r = sh('dpkg-query', ['-W', '-f', '${Version}', pkg], 10_000);
    return r.ok && r.stdout ? r.stdout : null;
  };
  const peers = {};
  for (const s of SUBJECTS.filter((x) => x.bin)) {
    const r = sh(s.bin, ['--version'], 10_000);
    peers[s.name] = { path: s.bin, version: (r.stdout + r.stderr).trim().split('\n')[0], deb: dpkg(PEERS[s.name].pkg) };
  }
  let tsv = '?';
  try {
    tsv = JSON.parse(fs.readFileSync(path.join(opt.tsinit, 'package.json'), 'utf8')).version;
  } catch {}
  const git = sh('git', ['-C', opt.tsinit, 'describe', '--always', '--dirty'], 10_000);
  return {
    kernel: `${os.type()} ${os.release()} ${os.version()}`,
    cpu: `${cpu} × ${os.cpus().length}`,
    memory_gib: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: `${process.version} (${NODE})`,
    tsinit: `${tsv}${git.ok ? ` (${git.stdout.trim()})` : ''} at ${CLI}`,
    peers,
    pid_max: Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8')),
    loadavg_start: fs.readFileSync('/proc/loadavg', 'utf8').trim(),
  };
}

/** The real thing once per init: `unshare --pid --fork --mount-proc INIT sh -c 'exit 7'`. */
function unshareCheck() {
  const unshare = which('unshare');
  if (!unshare) return 'unshare not found';
  return SUBJECTS.map((s) => {
    const r = sh(unshare, ['--pid', '--fork', '--mount-proc', ...s.argv, '/bin/sh', '-c', 'exit 7'], 30_000);
    return `${s.name} ${r.status === 7 ? 'ok' : `FAILED (status ${r.status})`}`;
  }).join(', ');
}

// ---------------------------------------------------------------- run
const env = environment();
if (Number(env.loadavg_start.split(' ')[0]) > 0.5) log(`warning: load average ${env.loadavg_start.split(' ')[0]}: other work on this machine will add noise`);
env.unshare_check = unshareCheck();
log(`unshare --pid --fork --mount-proc check: ${env.unshare_check}`);

phaseStartup();
phaseBlind();
phaseExit();
phaseIdle();
phaseOrphans();
phaseSignals();
phaseInstructions();
if (opt.soak) phaseSoak();
env.loadavg_end = fs.readFileSync('/proc/loadavg', 'utf8').trim();
env.duration_s = +((Date.now() - T_START) / 1000).toFixed(1);

// ---------------------------------------------------------------- rows
const ms = (ns) => (ns == null ? null : ns / 1e6);
const us = (ns) => (ns == null ? null : ns / 1e3);
const rows = [];
function row(label, unit, better, values, target) {
  rows.push({ label, unit, better, values, target });
}
const per = (f) => Object.fromEntries(COLS.map((c) => [c, f(c)]));
const med = (obj, c) => median(obj?.[c]);

// 1. start-up
const w = raw.startup.wall_ns;
const bareWall = median(w.bare);
const overhead = per((c) => (med(w, c) == null || bareWall == null ? null : ms(med(w, c) - bareWall)));
row('Start-up overhead (INIT /bin/true − /bin/true)', 'ms', 'lower', overhead, { kind: 'node', factor: 1.05, ref: overhead.node, what: "bare `node -e ''`" });
// The same target counted in instructions, which load does not move (net of V8's random hash-seed set-up).
const insn = (c) => {
  const runs = raw.instructions.counts?.[c];
  return runs ? median(runs.map((x) => x.net)) / 1e6 : null;
};
const insnNode = insn('node');
row("Start-up, instructions (callgrind, net of V8's hash seed)", 'M', 'lower', per((c) => (c === 'tsinit' || c === 'node' ? insn(c) : null)), {
  kind: 'node',
  factor: 1.05,
  ref: insnNode,
  what: "bare `node -e ''`",
});
row("Launch → child's first instruction", 'ms', 'lower', per((c) => ms(med(raw.first.first_ns, c))), null);
// 2. blind window
row('Signal-blind window (exec → handlers in place)', 'ms', 'lower', per((c) => ms(med(raw.blind.window_ns, c))), {
  kind: 'node',
  factor: 1.1,
  ref: overhead.node,
  what: "bare `node -e ''` start",
});
// 3. exit propagation
const exitProp = per((c) => us(med(raw.exit.prop_ns, c)));
row('Exit propagation (child _exit → init exited)', 'µs', 'lower', exitProp, { kind: 'node', factor: 1.0, ref: exitProp.node, what: 'a node that spawns and waits' });
// 4. memory
const I = raw.idle;
const kb2mib = (kb) => (kb == null ? null : kb / 1024);
row('Idle RSS', 'MiB', 'lower', per((c) => kb2mib(I[c]?.rss_kb)), { kind: 'node', factor: 1.0, ref: kb2mib(I.node?.rss_kb), what: 'bare idle node' });
row('Idle PSS', 'MiB', 'lower', per((c) => kb2mib(I[c]?.pss_kb)), null);
row('Idle anonymous (RssAnon)', 'MiB', 'lower', per((c) => kb2mib(I[c]?.anon_kb)), { kind: 'abs', max: 6, text: '≤ 6 MiB' });
row('Threads', '', 'lower', per((c) => I[c]?.threads ?? null), { kind: 'abs', max: 4, text: '≤ 4' });
// 5. idle CPU
row('Idle CPU over 5 s (utime+stime)', 'ms', 'lower', per((c) => (I[c] ? (I[c].cpu_ticks * 1000) / I[c].ticks_per_s : null)), { kind: 'abs', max: 0, text: '0' });
row('Idle CPU over 5 s (CPU clock)', 'µs', 'lower', per((c) => (I[c] ? I[c].cpu_ms * 1000 : null)), null);
row('Idle wakeups over 5 s (ctxt switches)', '', 'lower', per((c) => I[c]?.wakeups ?? null), { kind: 'abs', max: 0, text: '0' });
// 6. reaping
for (const n of Object.keys(raw.orphans)) {
  const R = raw.orphans[n].runs;
  const m = (c, k) => (c === 'node' || !R[c] ? null : median(R[c].map((x) => x[k])));
  const tag = `${Number(n).toLocaleString('en')} orphans`;
  row(`${tag}: orphans/s (made and reaped)`, '/s', 'higher', per((c) => m(c, 'per_s')), { kind: 'peer', min: 0.95 });
  row(`${tag}: reaped per second of backlog`, '/s', 'higher', per((c) => m(c, 'busy_per_s')), null);
  row(`${tag}: drain after the last one was made`, 'ms', 'lower', per((c) => m(c, 'drain_ms')), null);
  row(`${tag}: peak unreaped (sampled)`, '', 'lower', per((c) => m(c, 'peak')), { kind: 'peer', max: 1.2 });
  row(`${tag}: init CPU per orphan`, 'µs', 'lower', per((c) => m(c, 'cpu_us_per')), { kind: 'peer', max: 1.1 });
}
// 7. signals
const S = raw.signals;
row('Signal forwarding p50', 'µs', 'lower', per((c) => us(S[c]?.p50_ns)), { kind: 'peer', max: 1.0 });
row('Signal forwarding p99', 'µs', 'lower', per((c) => us(S[c]?.p99_ns)), { kind: 'peer', max: 1.0 });
row('Init CPU per signal', 'µs', 'lower', per((c) => S[c]?.cpu_us_per ?? null), { kind: 'peer', max: 1.0 });

function judge(r) {
  const ts = r.values.tsinit;
  const peers = C_PEERS.map((c) => r.values[c]).filter((v) => v != null);
  const best = peers.length ? (r.better === 'higher' ? Math.max(...peers) : Math.min(...peers)) : null;
  r.best_c = best;
  r.ratio = ts != null && best != null && best > 0 ? ts / best : null;
  const t = r.target;
  if (!t) return (r.verdict = '—'), (r.target_text = '—');
  if (ts == null) return (r.verdict = 'n/a'), (r.target_text = '?');
  if (t.kind === 'peer') {
    const x = (v) => (Number.isInteger(v) ? v.toFixed(1) : String(v));
    r.target_text = t.min != null ? `≥ ${x(t.min)}× best C` : `≤ ${x(t.max)}× best C`;
    if (best == null) return (r.verdict = 'n/a');
    const limit = t.min != null ? t.min * best : t.max * best;
    r.verdict = (t.min != null ? ts >= limit : ts <= limit) ? 'PASS' : 'MISS';
  } else if (t.kind === 'node') {
    r.target_text = `≤ ${t.factor === 1 ? '' : `${t.factor}× `}${t.what}${t.ref != null ? ` (${fmt(t.ref * t.factor)})` : ''}`;
    r.verdict = t.ref == null ? 'n/a' : ts <= t.ref * t.factor ? 'PASS' : 'MISS';
  } else {
    r.target_text = t.text;
    r.verdict = ts <= t.max ? 'PASS' : 'MISS';
  }
}
function fmt(v) {
  if (v == null || Number.isNaN(v)) return '—';
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (Number.isInteger(v) && a < 10000) return String(v);
  if (a >= 10000) return Math.round(v).toLocaleString('en');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toFixed(3);
}
rows.forEach(judge);

// ---------------------------------------------------------------- print
const out = [];
const p = (s = '') => out.push(s);
p(`## tsinit benchmark — medians, ${RUNS} runs for start-up, blind window and exit; ${raw.orphans[10000]?.runs?.tsinit?.length ?? 0} for 10k orphans`);
p();
p(`| Metric | unit | ${COLS.map((c) => (c === 'node' ? 'node (ref)' : c)).join(' | ')} | tsinit ÷ best C | Target | Result |`);
p(`|---|---|${COLS.map(() => '---:').join('|')}|---:|---|---|`);
for (const r of rows)
  p(`| ${r.label} | ${r.unit} | ${COLS.map((c) => fmt(r.values[c])).join(' | ')} | ${r.ratio == null ? '—' : `${r.ratio.toFixed(2)}×`} | ${r.target_text} | ${r.verdict} |`);
p();
const hit = rows.filter((r) => r.verdict === 'PASS').length;
const miss = rows.filter((r) => r.verdict === 'MISS');
p(`Targets met: ${hit}/${hit + miss.length}${miss.length ? ` — missed: ${miss.map((r) => r.label).join('; ')}` : ''}`);
p();
p('Notes');
p(`- Environment for every run: NODE_* variables removed${droppedNodeVars.length ? ` (${droppedNodeVars.join(', ')})` : ' (none were set)'}; tsinit started as ${TSINIT_ARGV.map((a) => path.relative(ROOT, a) || a).join(' ')} on TSINIT_NODE=${process.env.TSINIT_NODE}; node flags recorded at install (bin/tsinit.node-flags, used only for the node it names): ${launcherFlags()}.`);
p(`- node (ref): start-up = \`node -e ''\`; first instruction = first statement of a script file (process.hrtime); blind window = a script whose first statement is \`process.on('SIGUSR2', …)\`, until SIGUSR2 is caught; exit propagation = a script that only runs the child with \`spawnSync\` and exits with its status; memory, CPU and wakeups = idle \`node -e 'setTimeout(…)'\`. All as PID 1 too.`);
if (raw.instructions.skipped) p(`- Start-up in instructions: not counted (${raw.instructions.skipped}).`);
else {
  const c = raw.instructions.counts ?? {};
  const list = (n) => (c[n] ?? []).map((x) => `${fmt(x.total / 1e6)}−${fmt(x.hashSeed / 1e6)}`).join(', ');
  p(`- Start-up in instructions (M, total − V8's hash-seed set-up, each run): tsinit ${list('tsinit')}; node ${list('node')}. User space only: fork, exec and page faults are the kernel's, in the wall-time row.`);
}
p(`- Bare command as PID 1: /bin/true ${fmt(ms(bareWall))} ms wall; static child's first instruction ${fmt(ms(median(raw.first.first_ns.bare)))} ms after exec.`);
p(`- Blind window: until SIGTERM, SIGRTMIN+6 and SIGRTMAX are all caught (SigCgt), blocked (SigBlk) or waited for in rt_sigtimedwait (tini, dumb-init: read from the init's memory). How it ended: ${SUBJECTS.map((s) => `${s.name} ${[...new Set(raw.blind.how[s.name] ?? [])].join('/')}`).join(', ')}.`);
for (const n of Object.keys(raw.orphans))
  p(`- ${Number(n).toLocaleString('en')} orphans: bursts of ${raw.orphans[n].burst} (pid_max ${env.pid_max}); orphans/s counts from the first fork to the last reap; fork retries (out of pids): ${SUBJECTS.map((s) => `${s.name} ${(raw.orphans[n].runs[s.name] ?? []).reduce((a, x) => a + x.retries, 0)}`).join(', ')}.`);
const ti = I.tsinit;
if (ti) {
  p(`- tsinit threads (comm/wchan/ctxt switches): ${ti.thread_list.map((t) => `${t.comm}/${t.wchan}/${t.ctxsw}`).join(', ')}.`);
  p(`- tsinit RSS ${ti.rss_kb} kB = anon ${ti.anon_kb} + file ${ti.file_kb} + shmem ${ti.shmem_kb}; PSS ${ti.pss_kb} kB (anon ${ti.pss_anon_kb}, file ${ti.pss_file_kb}; node's text is shared with the bench's own node process). Largest mappings (RSS kB / anon kB): ${ti.top_mappings.slice(0, 5).map((m) => `${path.basename(m.name)} ${m.rss}/${m.anon}`).join(', ')}.`);
}
if (raw.soak) {
  p();
  p(`### Soak: ${opt.soakOrphans.toLocaleString('en')} orphans then ${opt.soakSignals.toLocaleString('en')} signals per init`);
  p();
  p('| init | wall s | RSS start → end kB | anon start → end kB | reaped per s of backlog | peak unreaped | CPU/orphan µs | signal p50 / p99 µs | CPU/signal µs |');
  p('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [name, s] of Object.entries(raw.soak))
    p(`| ${name} | ${fmt(s.wall_s)} | ${s.start.rss_kb} → ${s.end.rss_kb} | ${s.start.anon_kb} → ${s.end.anon_kb} | ${fmt(s.orphans_per_s_reaping)} | ${s.orphan_peak} | ${fmt(s.cpu_us_per_orphan)} | ${fmt(s.sig_p50_us)} / ${fmt(s.sig_p99_us)} | ${fmt(s.cpu_us_per_signal)} |`);
}
p();
p('Environment');
p(`- kernel: ${env.kernel}`);
p(`- CPU: ${env.cpu}; memory ${env.memory_gib} GiB; pid_max ${env.pid_max}`);
p(`- node: ${env.node}`);
p(`- tsinit: ${env.tsinit}`);
for (const [name, pv] of Object.entries(env.peers)) p(`- ${name}: ${pv.version}${pv.deb ? ` (Debian ${pv.deb})` : ''} at ${pv.path}`);
p(`- unshare --pid --fork --mount-proc INIT sh -c 'exit 7': ${env.unshare_check}`);
p(`- load average at start: ${env.loadavg_start}; at end: ${env.loadavg_end}; run took ${env.duration_s} s`);
if (failures.length) {
  p();
  p('Failures');
  for (const f of failures) p(`- ${f}`);
}
for (const [phase, key] of [
  ['start-up', raw.startup.bad_status],
  ['exit', raw.exit.bad_status],
]) {
  const bad = Object.entries(key).filter(([, v]) => v.length);
  if (bad.length) p(`- ${phase}: unexpected statuses: ${bad.map(([k, v]) => `${k}: ${v.join(',')}`).join('; ')}`);
}
console.log(out.join('\n'));

const json = { env, options: opt, rows, raw };
if (opt.services) failures.push(...(await servicesSection(json)));
if (opt.json) {
  fs.writeFileSync(opt.json, JSON.stringify(json, null, 1));
  log(`raw results written to ${opt.json}`);
}
process.exitCode = failures.length ? 1 : 0;
