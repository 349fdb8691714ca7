// The supervision bench's table (bench/services.mjs measures): per metric the
// four supervisors, tsinit's ratio to the named peer, the goal and PASS/MISS,
// then notes on how each peer was set up and the versions.
import os from 'node:os';

const median = (xs) => {
  if (!xs?.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (v) => (v == null || Number.isNaN(v) ? '—' : Number.isInteger(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

export function report(ctx, subjects, raw, settings) {
  const { N, RESTARTS, FLAP_MS, CLEANUP_MS, PM2_VERSION } = settings;
  const cols = subjects.map((s) => s.name);
  const rows = [];
  const row = (label, unit, values, goal) => rows.push({ label, unit, values, ...goal });
  const per = (f) => Object.fromEntries(cols.map((c) => [c, f(c)]));
  const I = raw.idle;
  row('Supervision-layer PSS (20 services)', 'MiB', per((c) => (I[c] ? I[c].pss_kb / 1024 : null)), { peer: ['supervisord', 'pm2'], max: 1, text: '< supervisord and pm2', strict: true });
  row('Supervision-layer PSS, anonymous part', 'MiB', per((c) => (I[c] ? I[c].pss_anon_kb / 1024 : null)), {});
  row('Supervision-layer RSS (20 services)', 'MiB', per((c) => (I[c] ? I[c].rss_kb / 1024 : null)), {});
  row('Supervisor processes', '', per((c) => I[c]?.processes ?? null), {});
  row('Idle wakeups over 5 s (ctxt switches)', '', per((c) => I[c]?.wakeups ?? null), { abs: 0, text: '0' });
  row('Idle CPU over 5 s (utime+stime)', 'ticks', per((c) => I[c]?.ticks ?? null), { abs: 0, text: '0' });
  const R = raw.restart;
  row('Restart latency (exit → next instance runs), median', 'ms', per((c) => median(R[c]?.lat_ms)), { peer: ['s6'], also: ['pm2'], max: 1.5, text: '≤ 1.5× s6' });
  row('Restart latency, max', 'ms', per((c) => (R[c]?.lat_ms.length ? Math.max(...R[c].lat_ms) : null)), {});
  const S = raw.stop;
  row(`Stop ${N} services that need ${CLEANUP_MS / 1000} s each (SIGTERM → PID 1 gone)`, 's', per((c) => (S[c] ? S[c].stop_ms / 1000 : null)), { abs: 1.5, text: 'about 1 s (≤ 1.5 s)' });
  row('Stop: SIGTERM → last service signalled', 's', per((c) => (S[c]?.last_signalled_ms != null ? S[c].last_signalled_ms / 1000 : null)), {});
  for (const r of rows) judge(r);

  const lines = [];
  const p = (s = '') => lines.push(s);
  p(`## Supervision: ${N} services under each supervisor (one run each; restart latency: median of ${RESTARTS})`);
  p();
  p(`| Metric | unit | ${cols.join(' | ')} | tsinit ÷ peer | Goal | Result |`);
  p(`|---|---|${cols.map(() => '---:').join('|')}|---:|---|---|`);
  for (const r of rows) p(`| ${r.label} | ${r.unit} | ${cols.map((c) => fmt(r.values[c])).join(' | ')} | ${r.ratio_text} | ${r.text ?? '—'} | ${r.verdict} |`);
  p();
  p('Notes');
  for (const c of cols) {
    const procs = raw.supervisor_processes[c] ?? [];
    const names = [...new Set(procs.map((x) => x.comm))].map((n) => `${procs.filter((x) => x.comm === n).length}× ${n}`);
    p(`- ${c}: supervision layer = ${names.join(', ') || '?'}; stop: ${S[c] ? `status ${S[c].status}, ${S[c].signalled} signalled, ${S[c].cleaned_up} cleaned up` : 'n/a'}; restarts seen ${R[c]?.starts ?? 0}${I[c]?.gone ? `; ${I[c].gone} supervisor process(es) gone during the idle window` : ''}.`);
  }
  p(`- Restarts with the least delay each supervisor allows: tsinit backoff 0, limit 0; supervisord autorestart, startsecs 0 (it reaps an exit at once but starts the next instance after its next 1 s poll timeout); s6: no setting for it found (s6-supervise pauses about 1 s after each death of ./run, whatever the instance's lifetime); pm2 restart_delay 0. The flapping service lives ${FLAP_MS} ms, past pm2's min_uptime (1 s), so no supervisor counts it as crashing; s6's ./run is a symlink to the service binary, so no shell is timed. The ratio to pm2 is shown, not judged.`);
  p('- Stop: each supervisor\'s default stop; supervisord stops its programs one group at a time (each [program:x] is its own group; a [group:x] of them would stop together).');
  p('- PSS: tsinit, supervisord and pm2 each run their interpreter from a private copy of its binary (build/bench/own/), so that its text is shared with nothing outside their supervision layer (not with the bench\'s own node, nor other work on the machine): their PSS is what they cost in a container where nothing else maps that binary. A Node application started from the same node binary would share node\'s text with tsinit.');
  const env = [];
  for (const s of subjects) {
    if (s.deb) {
      const r = ctx.sh('dpkg-query', ['-W', '-f', '${Version}', s.deb], 10_000);
      env.push(`${s.name}: Debian ${s.deb} ${r.ok ? r.stdout : '?'} at ${s.bin}`);
    } else if (s.version) env.push(`${s.name}: pm2 ${s.version} (npm) on node ${process.version}`);
  }
  const git = ctx.sh('git', ['-C', ctx.tsinitDir, 'describe', '--always', '--dirty'], 10_000);
  env.unshift(`tsinit ${git.ok ? git.stdout.trim() : '?'} (${subjects[0].argv('FILE').join(' ')})`);
  p(`- Versions: ${env.join('; ')}.`);
  p(`- Machine: Linux ${os.release()}, ${os.cpus()[0]?.model ?? '?'} × ${os.cpus().length}; load average at start ${raw.loadavg_start}, at end ${raw.loadavg_end}.`);
  return { lines, json: { rows, raw, settings: { services: N, restarts: RESTARTS, flap_ms: FLAP_MS, cleanup_ms: CLEANUP_MS, pm2: PM2_VERSION }, versions: env } };
}

function judge(r) {
  const ts = r.values.tsinit;
  r.verdict = '—';
  r.ratio_text = '—';
  if (r.peer) {
    const ratio = (c) => [c, ts / r.values[c]];
    const ratios = r.peer.filter((c) => r.values[c] != null && ts != null).map(ratio);
    const info = (r.also ?? []).filter((c) => r.values[c] != null && ts != null).map(ratio); // shown, not judged
    r.ratio_text = [...ratios, ...info].map(([c, x]) => `${x >= 0.1 ? x.toFixed(2) : x.toPrecision(1)}× ${c}`).join(', ') || '—';
    if (!ratios.length) r.verdict = 'n/a';
    else r.verdict = ratios.every(([, x]) => (r.strict ? x < r.max : x <= r.max)) ? 'PASS' : 'MISS';
  } else if (r.abs != null) r.verdict = ts == null ? 'n/a' : ts <= r.abs ? 'PASS' : 'MISS';
}
