// The supervision section of the benchmark (issue 10): tsinit --config,
// supervisord, s6-svscan and pm2-runtime, each as PID 1 of a fresh PID
// namespace (bench/nsbench.c, mode hold) supervising 20 services written in
// its own configuration format, with the same service commands for all.
// Called by bench/run.mjs (after the single-command section, or alone with
// --only-services); see bench/README.md for the method.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { configs } from './svcconf.mjs';
import { report } from './svcreport.mjs';

const N = 20;
export const PM2_VERSION = '7.0.4';
const RESTARTS = 8; // restart latency: median over this many restarts
const FLAP_MS = 1200; // a flapping instance's life: over pm2's min_uptime (1 s), so not a crash loop to pm2
const CLEANUP_MS = 1000; // what each service needs to stop

/**
 * ctx: { root, tsinitDir, node, install, log, sh, which, exists, failures, helper(name) → path of a
 * compiled bench helper }. Returns { lines (Markdown), json }.
 */
export async function runServices(ctx) {
  const { log, failures } = ctx;
  const work = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : '/tmp', 'tsinit-svcbench-'));
  process.on('exit', () => fs.rmSync(work, { recursive: true, force: true }));
  const nsbench = ctx.helper('nsbench');
  const svc = fs.realpathSync(ctx.helper('svc')); // as /proc/PID/exe shows it
  const subjects = findSubjects(ctx, work);
  log(`services: ${subjects.map((s) => s.name).join(', ')}; ${N} services each`);

  const raw = { idle: {}, restart: {}, stop: {}, supervisor_processes: {}, loadavg_start: loadavg() };
  const sleepCmd = ['/bin/sleep', '86400'];
  const sleepExe = fs.realpathSync(sleepCmd[0]); // /usr/bin/sleep where /bin is a link
  for (const s of subjects) {
    log(`services: ${s.name}, idle memory, CPU and wakeups over 5 s`);
    const r = await session(ctx, nsbench, s, work, 'idle', Array.from({ length: N }, () => sleepCmd), async (h) => {
      await h.waitServices(sleepExe, N);
      await sleep(2000); // past every supervisor's start-up work (pm2: its first metrics)
      const procs = h.supervisors(sleepExe);
      const before = procs.map(counters);
      const mem = procs.map(memory);
      await sleep(5000);
      const after = procs.map(counters);
      raw.supervisor_processes[s.name] = procs.map((p, i) => ({ pid: p, comm: mem[i].comm, rss_kb: mem[i].rss, anon_kb: mem[i].anon, pss_kb: mem[i].pss, pss_anon_kb: mem[i].pss_anon }));
      return {
        processes: procs.length,
        rss_kb: sum(mem.map((m) => m.rss)),
        anon_kb: sum(mem.map((m) => m.anon)),
        pss_kb: sum(mem.map((m) => m.pss)),
        pss_anon_kb: sum(mem.map((m) => m.pss_anon)),
        wakeups: sum(after.map((a, i) => a.ctxsw - before[i].ctxsw)),
        ticks: sum(after.map((a, i) => a.ticks - before[i].ticks)),
        gone: after.filter((a) => a.gone).length,
      };
    });
    if (r) raw.idle[s.name] = r;
  }
  for (const s of subjects) {
    log(`services: ${s.name}, restart latency over ${RESTARTS} restarts of a service that lives ${FLAP_MS} ms`);
    const flog = path.join(work, `flap-${s.name}.log`);
    const cmds = [[svc, 'flap', flog, String(FLAP_MS)], ...Array.from({ length: N - 1 }, () => sleepCmd)];
    const r = await session(ctx, nsbench, s, work, 'restart', cmds, async (h) => {
      const deadline = Date.now() + (RESTARTS + 3) * (FLAP_MS + 3000) + 20_000;
      while (Date.now() < deadline && events(flog, 'S').length < RESTARTS + 2) await sleep(200);
      return latencies(flog);
    });
    if (r) raw.restart[s.name] = r;
    if (r && r.lat_ms.length < RESTARTS) failures.push(`services restart ${s.name}: only ${r.lat_ms.length} restarts`);
  }
  for (const s of subjects) {
    log(`services: ${s.name}, stop of ${N} services that each need ${CLEANUP_MS} ms`);
    const tlog = path.join(work, `term-${s.name}.log`);
    const cmds = Array.from({ length: N }, () => [svc, 'term', tlog, String(CLEANUP_MS)]);
    const r = await session(ctx, nsbench, s, work, 'stop', cmds, async (h) => {
      await h.waitServices(svc, N, (pid) => caught(pid, 15));
      await sleep(500);
      return 'term';
    });
    if (r?.term) {
      const T = events(tlog, 'T');
      const X = events(tlog, 'X');
      raw.stop[s.name] = {
        stop_ms: (r.term.end - r.term.term) / 1e6,
        status: r.term.status,
        signalled: T.length,
        cleaned_up: X.length,
        last_signalled_ms: T.length ? (Math.max(...T) - r.term.term) / 1e6 : null,
      };
      if (X.length < N || r.term.status !== 0) failures.push(`services stop ${s.name}: ${X.length} of ${N} cleaned up, PID 1 status ${r.term.status}`);
    }
  }
  raw.loadavg_end = loadavg();
  return report(ctx, subjects, raw, { N, RESTARTS, FLAP_MS, CLEANUP_MS, PM2_VERSION });
}
const loadavg = () => fs.readFileSync('/proc/loadavg', 'utf8').trim();

// ---------------------------------------------------------------- subjects
function findSubjects(ctx, work) {
  const { log, exists, which, sh, root, tsinitDir, node } = ctx;
  const subjects = [];
  // Each interpreter runs from a copy of its binary that nothing outside its supervision layer
  // maps: otherwise the bench's own node (and any node or python elsewhere on the machine) would
  // share its text and lower its PSS by an amount that depends on what else runs.
  const own = (bin, tag) => privateCopy(root, bin, tag);
  const launcher = path.join(tsinitDir, 'bin/tsinit');
  const tsNode = own(node, 'tsinit');
  const tsArgv = exists(launcher) ? [launcher] : [tsNode, path.join(tsinitDir, 'dist/cli.js')];
  subjects.push({ name: 'tsinit', argv: (conf) => [...tsArgv, '--config', conf], format: 'tsinit', env: { TSINIT_NODE: tsNode } });

  const apt = [];
  if (!which('supervisord')) apt.push('supervisor');
  if (!which('s6-svscan')) apt.push('s6');
  if (apt.length && ctx.install) ctx.aptInstall(apt);
  const supervisord = which('supervisord');
  const python = supervisord && /^#!\s*(\S+)/.exec(fs.readFileSync(supervisord, 'utf8').slice(0, 200))?.[1];
  if (supervisord && python) {
    // A python run from elsewhere finds its standard library through PYTHONHOME.
    const py = own(python, 'supervisord');
    const env = { PYTHONHOME: path.dirname(path.dirname(fs.realpathSync(python))) };
    subjects.push({ name: 'supervisord', argv: (conf) => [py, supervisord, '-n', '-c', conf], format: 'supervisord', env, bin: supervisord, deb: 'supervisor' });
  }
  else log('services: supervisord not installed, left out');
  const svscan = which('s6-svscan');
  if (svscan) subjects.push({ name: 's6', argv: (dir) => [svscan, dir], format: 's6', bin: svscan, deb: 's6' });
  else log('services: s6-svscan not installed, left out');

  const pm2dir = path.join(root, 'build/bench/pm2');
  const pm2bin = path.join(pm2dir, 'node_modules/pm2/bin/pm2-runtime');
  const pm2pkg = path.join(pm2dir, 'node_modules/pm2/package.json');
  const pm2ok = () => fs.existsSync(pm2pkg) && JSON.parse(fs.readFileSync(pm2pkg, 'utf8')).version === PM2_VERSION;
  if (!pm2ok() && ctx.install) {
    log(`services: npm install --prefix build/bench/pm2 pm2@${PM2_VERSION}`);
    const r = sh('npm', ['install', '--prefix', pm2dir, `pm2@${PM2_VERSION}`, '--no-audit', '--no-fund', '--no-save', '--loglevel=error'], 300_000);
    if (!r.ok) log(`services: npm install pm2 failed: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
  }
  if (pm2ok()) {
    const home = path.join(work, 'pm2-home');
    const pm2node = own(node, 'pm2');
    subjects.push({ name: 'pm2', argv: (conf) => [pm2node, pm2bin, conf], format: 'pm2', env: { PM2_HOME: home, PM2_DISCRETE_MODE: 'true' }, version: PM2_VERSION });
  } else log('services: pm2 not installed, left out');
  return subjects;
}

/** build/bench/own/BASENAME-TAG: a copy of bin (made again when bin changed). */
function privateCopy(root, bin, tag) {
  const src = fs.realpathSync(bin);
  const dst = path.join(root, 'build/bench/own', `${path.basename(src)}-${tag}`);
  const st = fs.statSync(src);
  const have = fs.existsSync(dst) && fs.statSync(dst);
  if (!have || have.size !== st.size || have.mtimeMs < st.mtimeMs) {
    fs.mkdirSync(path.dirname(dst), { recursive: true });
    fs.copyFileSync(src, `${dst}.tmp`);
    fs.chmodSync(`${dst}.tmp`, 0o755);
    fs.renameSync(`${dst}.tmp`, dst);
  }
  return dst;
}

// ---------------------------------------------------------------- one supervisor in its namespace
/**
 * Writes the supervisor's configuration for `cmds` (one argv per service), starts it as PID 1
 * under `nsbench hold`, runs `body(h)`, then stops it: with SIGTERM, timed, when body returns
 * 'term'; otherwise SIGKILL to PID 1 (the namespace goes with it). Returns body's result, or
 * { term } for 'term'; null on failure (recorded).
 */
async function session(ctx, nsbench, s, work, what, cmds, body) {
  const dir = path.join(work, `${s.name}-${what}`);
  fs.mkdirSync(dir, { recursive: true });
  const conf = configs[s.format](dir, cmds);
  const child = spawn(nsbench, ['hold', 'timeout=180', '--', ...s.argv(conf)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...(s.env ?? {}) },
    cwd: dir,
  });
  let out = '';
  let err = '';
  const lines = [];
  let wake = null;
  child.stdout.on('data', (d) => {
    out += d;
    let i;
    while ((i = out.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(out.slice(0, i)));
      out = out.slice(i + 1);
      wake?.();
    }
  });
  child.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
  const exited = new Promise((resolve) => child.on('close', resolve));
  const next = async (ms) => {
    const t = Date.now() + ms;
    while (!lines.length && Date.now() < t) await new Promise((r) => ((wake = r), setTimeout(r, 200)));
    return lines.shift() ?? null;
  };
  const fail = (msg) => ctx.failures.push(`services ${what} ${s.name}: ${msg}${err ? ` (stderr: ${err.trim().split('\n').slice(-2).join(' | ')})` : ''}`);
  try {
    const first = await next(10_000);
    if (!first?.pid) return fail('no PID 1'), null;
    const h = helpers(first.pid);
    let res;
    try {
      res = await body(h);
    } catch (e) {
      return fail(e.message), null;
    }
    if (res === 'term') {
      child.stdin.write('t');
      const term = await next(60_000);
      if (!term?.term) return fail('no stop result'), null;
      return { term };
    }
    return res;
  } finally {
    child.stdin.end();
    await Promise.race([exited, sleep(20_000)]);
    if (child.exitCode === null) child.kill('SIGKILL'); // nsbench has PDEATHSIG on the init
  }
}

/** What a session's body can look at: the namespace's processes, from the host's /proc. */
function helpers(init) {
  const tree = () => {
    const all = [init];
    for (let i = 0; i < all.length; i++) all.push(...childrenOf(all[i]));
    return all;
  };
  const exe = (pid) => {
    try {
      return fs.readlinkSync(`/proc/${pid}/exe`);
    } catch {
      return null;
    }
  };
  return {
    /** Waits until `n` processes run `bin` (and pass `ok`), 60 s at most. */
    async waitServices(bin, n, ok = () => true) {
      const t = Date.now() + 60_000;
      for (;;) {
        const got = tree().filter((p) => exe(p) === bin && ok(p)).length;
        if (got >= n) return;
        if (Date.now() > t) throw new Error(`${got} of ${n} services came up within 60 s`);
        await sleep(100);
      }
    },
    /** Every process of the namespace that is not a service (a zombie counts as nothing). */
    supervisors: (serviceBin) => tree().filter((p) => exe(p) !== serviceBin && exe(p) !== null),
  };
}

function childrenOf(pid) {
  let tids = [];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const kids = [];
  for (const t of tids) {
    try {
      kids.push(...fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {}
  }
  return kids;
}

const read = (p) => {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return null;
  }
};
const field = (text, key) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text ?? '')?.[1] ?? NaN);
function memory(pid) {
  const st = read(`/proc/${pid}/status`);
  const roll = read(`/proc/${pid}/smaps_rollup`);
  return { comm: (read(`/proc/${pid}/comm`) ?? '?').trim(), rss: field(st, 'VmRSS'), anon: field(st, 'RssAnon'), pss: field(roll, 'Pss'), pss_anon: field(roll, 'Pss_Anon') };
}
/** Context switches over all threads, and utime+stime in ticks. */
function counters(pid) {
  let ctxsw = 0;
  let gone = false;
  try {
    for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
      const st = read(`/proc/${pid}/task/${t}/status`);
      ctxsw += (field(st, 'voluntary_ctxt_switches') || 0) + (field(st, 'nonvoluntary_ctxt_switches') || 0);
    }
  } catch {
    gone = true;
  }
  const stat = read(`/proc/${pid}/stat`);
  const f = stat ? stat.slice(stat.lastIndexOf(')') + 2).split(' ') : [];
  return { ctxsw, ticks: stat ? Number(f[11]) + Number(f[12]) : 0, gone: gone || !stat };
}
/** Whether signal `sig` is caught (SigCgt) by pid: the service is past its set-up. */
function caught(pid, sig) {
  const m = /^SigCgt:\s+([0-9a-f]+)/m.exec(read(`/proc/${pid}/status`) ?? '');
  return m ? (BigInt(`0x${m[1]}`) >> BigInt(sig - 1)) & 1n : false;
}

function events(file, kind) {
  return (read(file) ?? '')
    .split('\n')
    .filter((l) => l.startsWith(`${kind} `))
    .map((l) => Number(l.split(' ')[1]));
}
/** Each instance's "S" minus the previous instance's "E". */
function latencies(file) {
  const ev = (read(file) ?? '').split('\n').filter(Boolean).map((l) => l.split(' '));
  const lat = [];
  for (let i = 1; i < ev.length; i++) if (ev[i][0] === 'S' && ev[i - 1][0] === 'E') lat.push((Number(ev[i][1]) - Number(ev[i - 1][1])) / 1e6);
  return { starts: ev.filter((e) => e[0] === 'S').length, lat_ms: lat.slice(0, RESTARTS) };
}

const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

