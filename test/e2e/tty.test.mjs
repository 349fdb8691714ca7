// A real pseudo-terminal session: Ctrl-C interrupts the foreground job,
// Ctrl-Z suspends it, fg resumes it, and tsinit neither steals the terminal
// nor gets stopped. As session leader of the terminal (subreaper run: tsinit
// hands the terminal over) and sharing a session (PID-1 run under unshare).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { MODES, CLI, NODE, ROOT, isRoot } from '../helpers/tsinit.mjs';

const DRIVER = path.join(ROOT, 'test/fixtures/ptydrive.py');
const python = spawnSync('python3', ['-c', 'import pty'], { stdio: 'ignore' }).status === 0 ? 'python3' : null;
const bash = spawnSync('bash', ['--version'], { stdio: 'ignore' }).status === 0;
if (!python || !bash) console.log(`SKIP: terminal tests: need python3 with pty (${!!python}) and bash (${bash})`);

const P = 'PROMPT> ';
const steps = [
  { expect: '[#$] $' },
  // Set here: an interactive bash does not take PS1 from the environment.
  { send: "PS1='PR''OMPT> '\r" },
  { expect: P },
  { send: 'sleep 100\r' },
  { sleep: 0.5 },
  { send: '\x03' },
  { expect: P },
  { send: 'echo rc=$?\r' },
  { expect: 'rc=130' },
  { expect: P },
  { send: 'sleep 101\r' },
  { sleep: 0.5 },
  { send: '\x1a' },
  { expect: 'Stopped' },
  { expect: P },
  { send: 'jobs\r' },
  { expect: 'Stopped\\s+sleep 101' },
  { expect: P },
  { send: 'fg\r' },
  { expect: 'sleep 101' },
  { sleep: 0.5 },
  { send: '\x03' },
  { expect: P },
  { send: 'echo rc=$?\r' },
  { expect: 'rc=130' },
  { expect: P },
  { send: 'exit 7\r' },
];

for (const mode of python && bash ? MODES : []) {
  test(`${mode}: job control on a real terminal: Ctrl-C, Ctrl-Z, fg`, () => {
    const tsinit = [NODE, CLI, '--', 'bash', '--norc', '--noprofile', '-i'];
    const cmd = mode === 'pid1' ? ['unshare', ...(isRoot ? [] : ['--user', '--map-root-user']), '--pid', '--fork', '--mount-proc', ...tsinit] : tsinit;
    const r = spawnSync(python, [DRIVER, JSON.stringify(steps), '--', ...cmd], {
      env: { ...process.env, TERM: 'dumb' },
      timeout: 60000,
      encoding: 'utf8',
    });
    const transcript = `${r.stdout}\n${r.stderr}`;
    assert.is(r.status, 7, transcript);
    assert.not.match(transcript, /no job control|cannot set terminal process group/, transcript);
  });
}

// tsinit in a background job of a terminal with `stty tostop`: its log
// writes raise SIGTTOU; with a handler and SA_RESTART that was a write retried
// forever at full CPU. It must ignore SIGTTIN/SIGTTOU and finish (issue 12 §3).
for (const mode of python && bash ? MODES : []) {
  test(`${mode}: -v in a background job on a tostop terminal neither spins nor stops`, () => {
    const tsinit = `"${NODE}" "${CLI}" -v -- sleep 1 </dev/null`;
    const ns = mode === 'pid1' ? `unshare ${isRoot ? '' : '--user --map-root-user '}--pid --fork --mount-proc ` : '';
    const script = `set -m; stty tostop; ${ns}${tsinit} & wait $!; echo "rc=$?"; stty -tostop`;
    const r = spawnSync(python, [DRIVER, JSON.stringify([{ expect: 'rc=[0-9]+', timeout: 30 }]), '--', 'bash', '--norc', '--noprofile', '-c', script], {
      env: { ...process.env, TERM: 'dumb' },
      timeout: 60000,
      encoding: 'utf8',
    });
    const transcript = `${r.stdout}\n${r.stderr}`;
    assert.match(transcript, /rc=0/, transcript);
    assert.match(transcript, /started command/, 'the log line was written');
    assert.is(r.status, 0, transcript);
  });
}

test.run();
