// The option table and the TSINIT_* environment: pure, no processes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import os from 'node:os';

const require = createRequire(import.meta.url);
const { parseArgs } = require('../../../dist/cli/args.js');
const { OPTIONS, GROUPS, MAX_TIMER_MS, defaults, supervisorSettings, privilegedOptionGiven, uncatchable } = require('../../../dist/cli/options.js');
const { helpText } = require('../../../dist/cli/help.js');
const HELP = helpText();
const S = os.constants.signals;
const B = (...a) => a.map((s) => Buffer.from(s, 'latin1'));
const run = (args, env = {}) => parseArgs(B(...args), env);
const opts = (args, env) => {
  const p = run([...args, 'cmd'], env);
  assert.is(p.kind, 'run', JSON.stringify(p));
  return p.options;
};
const usage = (args, env) => {
  const p = run([...args, 'cmd'], env);
  assert.is(p.kind, 'usage-error', `${args.join(' ')} ${JSON.stringify(env)}: ${JSON.stringify(p)}`);
  return p.message;
};

test('the table: unique names and variables, a known group, a help line, and every option in --help', () => {
  const longs = OPTIONS.filter((e) => e.long).map((e) => e.long);
  const shorts = OPTIONS.filter((e) => e.short).map((e) => e.short);
  const envs = OPTIONS.filter((e) => e.env).map((e) => e.env.name);
  assert.is(new Set(longs).size, longs.length);
  assert.is(new Set(shorts).size, shorts.length);
  assert.is(new Set(envs).size, envs.length);
  for (const e of OPTIONS) {
    assert.ok(GROUPS.includes(e.group), e.long);
    assert.ok(e.help.length > 0 && e.doc.length > 0, e.long ?? e.short);
    if (e.long) assert.ok(HELP.includes(`--${e.long}`), `--${e.long} is missing from --help`);
    else assert.ok(HELP.includes(`  -${e.short} `), `-${e.short} is missing from --help`);
    if (e.env) {
      assert.ok(/^TSINIT_[A-Z_]+$/.test(e.env.name), e.env.name);
      assert.ok(HELP.includes(`  ${e.env.name} `), `${e.env.name} is missing from --help`);
    }
    for (const line of HELP.split('\n')) assert.ok(line.length <= 130, line);
  }
});

test('defaults come from the table, one per field', () => {
  const d = defaults();
  assert.equal(
    { ...d, rewrite: [...d.rewrite], remapExit: [...d.remapExit] },
    {
      command: [], verbosity: 0, singleChild: false, subreaper: true, graceMs: 5000, killAfterMs: null, stopSignal: 15,
      rewrite: [], remapExit: [], pdeathsig: 0, logFormat: 'text', user: undefined, groups: undefined, listen: [], caps: [],
      workdir: undefined, umask: undefined, dryRun: false, noNewPrivs: true, config: undefined, procfile: undefined,
    },
  );
  // Fresh lists each time: one run's --listen never leaks into the next.
  assert.is.not(defaults().listen, defaults().listen);
});

test('the supervisor gets exactly the fields the table flags, and privileged options are flagged', () => {
  const o = opts(['-c', '--grace', '2s', '--kill-after', '9s', '-r', 'HUP:USR1', '-e', '143', '--stop-signal', 'INT', '-p', 'KILL']);
  const s = supervisorSettings(o);
  assert.equal(Object.keys(s).sort(), ['graceMs', 'killAfterMs', 'remapExit', 'rewrite', 'singleChild', 'stopSignal']);
  assert.equal([s.singleChild, s.graceMs, s.killAfterMs, s.stopSignal], [true, 2000, 9000, S.SIGINT]);
  assert.equal([...s.rewrite], [[S.SIGHUP, S.SIGUSR1]]);
  assert.not.ok(privilegedOptionGiven(opts([])));
  assert.not.ok(privilegedOptionGiven(opts(['-v', '--allow-new-privs', '-p', 'TERM'])));
  for (const args of [['-u', 'app'], ['--groups', ''], ['--listen', 'tcp://0.0.0.0:80'], ['--cap', 'chown'], ['--workdir', '/'], ['--umask', '027'], ['--dry-run']]) {
    assert.ok(privilegedOptionGiven(opts(args)), args.join(' '));
  }
});

test('--grace and --kill-after: durations, 0 at once, never/infinity no timer, nothing a timer cannot hold', () => {
  assert.is(opts(['--grace', '0']).graceMs, 0);
  assert.is(opts(['--grace=1.5s']).graceMs, 1500);
  assert.is(opts(['--grace', 'never']).graceMs, null);
  assert.is(opts(['--grace', 'infinity']).graceMs, null);
  assert.is(opts(['--grace', `${MAX_TIMER_MS}ms`]).graceMs, MAX_TIMER_MS);
  assert.is(usage(['--grace', `${MAX_TIMER_MS + 1}ms`]), `--grace: '${MAX_TIMER_MS + 1}ms' is longer than a timer can hold (at most 2147483647 ms, about 24 days; 'never' for no timer)`);
  assert.is(usage(['--grace', '1e9']), "--grace: '1e9' is not a duration (5s, 500ms, 2m)");
  assert.is(opts([]).killAfterMs, null);
  assert.is(opts(['--kill-after', '20s']).killAfterMs, 20000);
  assert.is(opts(['--kill-after', '0']).killAfterMs, 0);
  assert.is(opts(['--kill-after', 'never'], { TSINIT_KILL_AFTER: '3s' }).killAfterMs, null);
  assert.is(usage(['--kill-after', '99999999m']), "--kill-after: '99999999m' is longer than a timer can hold (at most 2147483647 ms, about 24 days; 'never' for no timer)");
  assert.is(usage(['--kill-after', 'soon']), "--kill-after: 'soon' is not a duration (5s, 500ms, 2m)");
});

test('every variable sets its option; the command line wins', () => {
  const env = {
    TSINIT_VERBOSITY: '1', TSINIT_GRACE: '20s', TSINIT_KILL_AFTER: '30s', TSINIT_SINGLE_CHILD: 'true', TSINIT_SUBREAPER: 'no',
    TSINIT_STOP_SIGNAL: 'SIGQUIT', TSINIT_PDEATHSIG: 'KILL', TSINIT_LOG_FORMAT: 'json',
  };
  const o = opts([], env);
  assert.equal(
    [o.verbosity, o.graceMs, o.killAfterMs, o.singleChild, o.subreaper, o.stopSignal, o.pdeathsig, o.logFormat],
    [1, 20000, 30000, true, false, S.SIGQUIT, S.SIGKILL, 'json'],
  );
  const c = opts(['-v', '--grace', '1s', '--kill-after=never', '-g', '-s', '--stop-signal', 'INT', '-p', 'TERM', '--log-format', 'text'], env);
  assert.equal(
    [c.verbosity, c.graceMs, c.killAfterMs, c.singleChild, c.subreaper, c.stopSignal, c.pdeathsig, c.logFormat],
    [2, 1000, null, false, true, S.SIGINT, S.SIGTERM, 'text'],
  );
});

test('booleans: 1/0, true/false, yes/no, on/off in any case; empty is unset; anything else names the variable', () => {
  for (const t of ['1', 'true', 'YES', 'On']) assert.is(opts([], { TSINIT_SINGLE_CHILD: t }).singleChild, true, t);
  for (const f of ['0', 'false', 'No', 'OFF']) assert.is(opts([], { TSINIT_SUBREAPER: f }).subreaper, false, f);
  assert.is(opts([], { TSINIT_SUBREAPER: '' }).subreaper, true);
  assert.is(opts([], { TSINIT_GRACE: '' }).graceMs, 5000);
  assert.is(usage([], { TSINIT_SINGLE_CHILD: 'maybe' }), "TSINIT_SINGLE_CHILD: 'maybe' is not a boolean (1, true, yes, on or 0, false, no, off)");
});

test('a bad variable is a usage error naming it, with the option\'s own check', () => {
  assert.is(usage([], { TSINIT_GRACE: '20 s' }), "TSINIT_GRACE: '20 s' is not a duration (5s, 500ms, 2m)");
  assert.is(usage([], { TSINIT_KILL_AFTER: '30d' }), "TSINIT_KILL_AFTER: '30d' is not a duration (5s, 500ms, 2m)");
  assert.ok(usage([], { TSINIT_STOP_SIGNAL: 'SIGNOPE' }).startsWith("TSINIT_STOP_SIGNAL: unknown signal 'SIGNOPE' (use a number or one of "));
  assert.ok(usage([], { TSINIT_PDEATHSIG: '0' }).startsWith("TSINIT_PDEATHSIG: unknown signal '0'"));
  assert.is(usage([], { TSINIT_LOG_FORMAT: 'xml' }), "TSINIT_LOG_FORMAT: 'xml' is not text or json");
  // Even when the command line would have replaced it: a typo must not pass unseen.
  assert.is(usage(['--grace', '1s'], { TSINIT_GRACE: 'x' }), "TSINIT_GRACE: 'x' is not a duration (5s, 500ms, 2m)");
  // --help and --version still work whatever the environment says.
  assert.is(run(['--help'], { TSINIT_GRACE: 'x' }).kind, 'help');
});

test('variables tsinit does not define are left alone', () => {
  const o = opts([], { TSINIT_USER: 'root', TSINIT_REWRITE: 'TERM:0', TSINIT_NODE: '/x', TSINIT_LISTEN: 'tcp://0.0.0.0:1' });
  assert.is(o.user, undefined);
  assert.is(o.rewrite.size, 0);
  assert.equal(o.listen, []);
});

test('-r refuses a FROM tsinit never catches, naming why', () => {
  for (const sig of ['KILL', 'STOP', 'CHLD', 'SEGV', 'BUS', 'FPE', 'ILL', 'ABRT', 'TRAP', 'SYS', '32', '33', 'SIGIOT']) {
    const m = usage(['-r', `${sig}:HUP`]);
    assert.ok(m.startsWith(`--rewrite: '${sig}:HUP': `) && m.endsWith(', so it cannot be rewritten'), m);
  }
  assert.is(usage(['-r', 'SYS:HUP']), "--rewrite: 'SYS:HUP': SIGSYS is left at the kernel's default (a fault belongs to the process that faulted), so it cannot be rewritten");
  assert.is(usage(['-r', 'KILL:0']), "--rewrite: 'KILL:0': SIGKILL cannot be caught, so it cannot be rewritten");
  assert.is(usage(['-r', '32:HUP']), "--rewrite: '32:HUP': signal 32 is reserved by the C library's threads (below SIGRTMIN) and never caught, so it cannot be rewritten");
  // Every signal tsinit does catch and forward may be rewritten, to anything (KILL included).
  for (let sig = 1; sig <= 64; sig++) {
    if (uncatchable(sig) !== null) continue;
    assert.equal([...opts(['-r', `${sig}:KILL`]).rewrite], [[sig, S.SIGKILL]], `signal ${sig}`);
  }
  assert.equal([...opts(['-r', 'TERM:0', '-rHUP:USR1']).rewrite], [[S.SIGTERM, 0], [S.SIGHUP, S.SIGUSR1]]);
});

test.run();
