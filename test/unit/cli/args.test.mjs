// Option parsing: pure, no processes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { parseArgs, verbosityFromEnv } = require('../../../dist/cli/args.js');
const B = (...a) => a.map((s) => Buffer.from(s, 'latin1'));
const run = (args, env = {}) => parseArgs(B(...args), env);

test('options end at the first word that is not an option', () => {
  const p = run(['-v', 'ls', '-l', '--', 'x']);
  assert.is(p.kind, 'run');
  assert.is(p.options.verbosity, 1);
  assert.equal(p.options.command.map(String), ['ls', '-l', '--', 'x']);
});

test('-- ends options, and what follows may look like an option', () => {
  const p = run(['--', '-v', 'x']);
  assert.equal(p.options.command.map(String), ['-v', 'x']);
  assert.is(p.options.verbosity, 0);
});

test('defaults: group forwarding, subreaper on, quiet', () => {
  const p = run(['true']);
  assert.is(p.options.verbosity, 0);
  assert.is(p.options.singleChild, false);
  assert.is(p.options.subreaper, true);
  assert.is(p.options.graceMs, 5000);
  assert.is(p.options.stopSignal, 15);
  assert.is(p.options.noNewPrivs, true);
});

test('clusters and repeats: -vvv, -v -v, --verbose', () => {
  assert.is(run(['-vvv', 'x']).options.verbosity, 3);
  assert.is(run(['-v', '--verbose', '-v', 'x']).options.verbosity, 3);
});

test('tini and dumb-init flags with matching meaning are accepted', () => {
  assert.is(run(['-c', 'x']).options.singleChild, true);
  assert.is(run(['--single-child', 'x']).options.singleChild, true);
  assert.is(run(['-s', '-g', 'x']).kind, 'run');
  assert.is(run(['-gs', 'x']).options.singleChild, false);
  assert.is(run(['--no-subreaper', 'x']).options.subreaper, false);
});

test('help and version win over the command', () => {
  assert.is(run(['-h']).kind, 'help');
  assert.is(run(['--help', 'x']).kind, 'help');
  assert.is(run(['-V']).kind, 'version');
  assert.is(run(['--version']).kind, 'version');
});

test('usage errors name what was wrong', () => {
  assert.equal(run([]), { kind: 'usage-error', message: 'no command given' });
  assert.equal(run(['-v']), { kind: 'usage-error', message: 'no command given' });
  assert.equal(run(['--nope', 'x']), { kind: 'usage-error', message: "unknown option '--nope'" });
  assert.equal(run(['-vq', 'x']), { kind: 'usage-error', message: "unknown option '-q'" });
  assert.equal(run(['--verbose=2', 'x']), { kind: 'usage-error', message: "option '--verbose' takes no value" });
});

test('a lone dash is a command, not an option', () => {
  assert.equal(run(['-']).options.command.map(String), ['-']);
});

test('TSINIT_VERBOSITY sets the starting verbosity; -v adds to it', () => {
  assert.is(run(['x'], { TSINIT_VERBOSITY: '2' }).options.verbosity, 2);
  assert.is(run(['-v', 'x'], { TSINIT_VERBOSITY: '2' }).options.verbosity, 3);
  assert.is(verbosityFromEnv(''), 0);
  assert.is(verbosityFromEnv(undefined), 0);
  assert.equal(run(['x'], { TSINIT_VERBOSITY: '-1' }), { kind: 'usage-error', message: "TSINIT_VERBOSITY must be a whole number, not '-1'" });
});

test('the command keeps its bytes', () => {
  const raw = Buffer.from([0xff, 0xfe, 0x00 + 0x41]);
  const p = parseArgs([Buffer.from('--'), raw], {});
  assert.ok(p.options.command[0].equals(raw));
});

test.run();
