// Start-up counted in instructions, for issue 11's start-up target in a unit
// that the machine's load does not move: `valgrind --tool=callgrind` counts
// the user-space instructions of `tsinit /bin/true` and of a bare
// `node -e ''`, each as PID 1 of a fresh PID namespace (nsbench run, so
// tsinit takes the PID 1 paths it takes in the wall-time row).
//
// One part of node's own start-up is random: V8 looks for primes from a
// random seed to set up its string hashing (HashSeed::InitializeRoots, in
// Node 20.20 and 24), which took 4 to 15 M instructions from run to run on
// one machine. It is counted apart and taken out: what is left repeats to
// within 0.3 M for a bare node and for tsinit on Node 20, and to within a few
// M for tsinit on Node 24, whose V8 worker thread does more or less of the
// background work from run to run.
//
// The kernel's work (fork, exec, page faults) is not counted: the wall-time
// row has it. The launcher execs node in the same process, so the count for
// tsinit is the launcher's node; /bin/true, exec'd by tsinit's child, is not
// traced (--trace-children-skip).
import fs from 'node:fs';
import path from 'node:path';

const HASH_SEED = 'v8::internal::HashSeed::InitializeRoots';

/** Total instructions in one callgrind output file ("summary:" line). */
function total(text) {
  const m = /^summary:\s+(\d+)/m.exec(text) ?? /^totals:\s+(\d+)/m.exec(text);
  return m ? Number(m[1]) : null;
}

/** The exit status nsbench's run mode reports for its one run, or null. */
function runStatus(stdout) {
  try {
    return JSON.parse(stdout).runs[0].status;
  } catch {
    return null;
  }
}

/** Inclusive instructions of fn, from callgrind_annotate (0 where node has no such function). */
function inclusive(sh, annotate, file, fn) {
  const r = sh(annotate, ['--inclusive=yes', '--threshold=100', file], 120_000);
  if (!r.ok) return null;
  for (const line of r.stdout.split('\n')) {
    if (!line.includes(fn)) continue;
    const m = /^\s*([\d,]+)/.exec(line);
    if (m) return Number(m[1].replace(/,/g, ''));
  }
  return 0;
}

/**
 * ctx: { sh, which, nsbench (path), tmp, runs, failures }; subjects: [{ name, argv }].
 * Returns { counts: { name: [{ total, hashSeed, net }] } } or { skipped: reason }.
 */
export function countStartup(ctx, subjects) {
  const valgrind = ctx.which('valgrind');
  const annotate = ctx.which('callgrind_annotate');
  if (!valgrind || !annotate) return { skipped: 'valgrind (with callgrind_annotate) is not installed' };
  const counts = {};
  for (let i = 0; i < ctx.runs; i++) {
    for (const s of subjects) {
      const dir = fs.mkdtempSync(path.join(ctx.tmp, `cg-${s.name}-`));
      const out = path.join(dir, 'cg.%p');
      const argv = [valgrind, '--tool=callgrind', `--callgrind-out-file=${out}`, '--trace-children=yes', '--trace-children-skip=*/true', ...s.argv];
      const r = ctx.sh(ctx.nsbench, ['run', 'timeout=300', 'reps=1', '--', ...argv], 310_000);
      // PID 1 of the namespace writes cg.1; anything else (the fork before /bin/true's exec) is not start-up.
      const file = path.join(dir, 'cg.1');
      const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
      const t = total(text);
      // What was counted must be the whole run: both subjects exit 0. (Under
      // valgrind, tsinit used to stop at its signal handlers, exit 125, and be
      // counted all the same.)
      const status = runStatus(r.stdout);
      if (!r.ok || t === null || status !== 0) {
        ctx.failures.push(`start-up instructions ${s.name}: nsbench run exited ${r.status ?? r.error}, ${s.name} exited ${status}, ${t === null ? 'no callgrind count' : 'count read'}`);
      } else {
        const hashSeed = inclusive(ctx.sh, annotate, file, HASH_SEED);
        if (hashSeed === null) ctx.failures.push(`start-up instructions ${s.name}: callgrind_annotate failed`);
        else (counts[s.name] ??= []).push({ total: t, hashSeed, net: t - hashSeed });
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return { counts };
}
