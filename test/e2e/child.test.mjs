// What the command starts with: default signal state, its own session, only
// stdio plus what tsinit inherited, argv and environment byte for byte, and
// stdio passed straight through.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { MODES, startInit, runInit, fixture, CLI, NODE, LAUNCHER, isRoot, launcherFlags, strace } from '../helpers/tsinit.mjs';
import { childrenOf, descendantsOf, procStatus, procStat, fdsOf, leakedFds, sleepingSleep } from '../helpers/proc.mjs';
import { waitFor } from '../helpers/wait.mjs';

const O_NONBLOCK = 0o4000;

async function withSleepingChild(mode, args, opts, fn) {
  const h = startInit(['-vv', ...args, 'sleep', '30'], { mode, timeoutMs: 30000, ...opts });
  try {
    const pid = await h.initPid;
    const child = await waitFor('the command', () => {
      const c = childrenOf(pid)[0];
      // Past exec (sleep, not the forked copy of tsinit) and past sleep's own
      // start-up, whose locale files would show as descriptors of its own.
      return c && sleepingSleep(c) ? c : 0;
    });
    await fn({ h, pid, child });
  } finally {
    h.kill();
    await h.result;
  }
}

for (const mode of MODES) {
  test(`${mode}: the command starts with default signals, an empty mask, its own session`, async () => {
    await withSleepingChild(mode, [], {}, async ({ pid, child }) => {
      const st = procStatus(child);
      assert.is(st.get('SigIgn'), '0000000000000000', 'SigIgn');
      assert.is(st.get('SigBlk'), '0000000000000000', 'SigBlk');
      assert.is(st.get('SigCgt'), '0000000000000000', 'SigCgt');
      // And the test means something: tsinit itself catches plenty and ignores SIGPIPE.
      assert.is.not(procStatus(pid).get('SigCgt'), '0000000000000000');
      const stat = procStat(child);
      assert.is(Number(stat[6]), child, 'session id');
      assert.is(Number(stat[5]), child, 'process group');
    });
  });

  test(`${mode}: the command holds only 0, 1, 2 and what tsinit inherited`, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsinit-fd-'));
    const f5 = path.join(dir, 'five');
    const f20 = path.join(dir, 'twenty');
    fs.writeFileSync(f5, '');
    fs.writeFileSync(f20, '');
    const fd5 = fs.openSync(f5, 'r');
    const fd20 = fs.openSync(f20, 'r');
    const stdio = ['pipe', 'pipe', 'pipe'];
    for (let i = 3; i < 21; i++) stdio.push('ignore');
    stdio[5] = fd5;
    stdio[20] = fd20;
    try {
      await withSleepingChild(mode, [], { stdio }, async ({ pid, child }) => {
        const fds = fdsOf(child);
        const expected = [...new Set([0, 1, 2, 5, 20, ...leakedFds()])].sort((a, b) => a - b);
        assert.equal(Object.keys(fds).map(Number).sort((a, b) => a - b), expected);
        assert.is(fds[5], f5);
        assert.is(fds[20], f20);
        // tsinit holds more (its event loop, its signal pipe): none of it leaked.
        assert.ok(Object.keys(fdsOf(pid)).length > 5);
        // tsinit logged at -vv to a pipe; the shared stdout/stderr stay blocking.
        for (const fd of [1, 2]) {
          const flags = parseInt(/flags:\s*([0-7]+)/.exec(fs.readFileSync(`/proc/${child}/fdinfo/${fd}`, 'utf8'))[1], 8);
          assert.is(flags & O_NONBLOCK, 0, `fd ${fd} is non-blocking`);
        }
      });
    } finally {
      fs.closeSync(fd5);
      fs.closeSync(fd20);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${mode}: through the launcher, exactly the inherited descriptors reach the command: 3>&1 4>&1, a pipe pair, eventfd, timerfd, signalfd, pidfd`, async () => {
    // fdsetup leaves them open (no close-on-exec) and execs the launcher, as a
    // shell's `3>&1 4>&1` or make's jobserver would; Node marks 0..16
    // close-on-exec as it starts, so only the launcher's record can tell.
    const specs = ['dup=3:1', 'dup=4:1', 'pipe=5,6', 'eventfd=7', 'timerfd=8', 'signalfd=9', 'pidfd=12', 'eventfd=16', 'pipe=17,18'];
    const argv = [fixture('fdsetup'), ...specs, '--', LAUNCHER, 'sleep', '30'];
    const ns = isRoot ? ['--pid', '--fork', '--mount-proc'] : ['--user', '--map-root-user', '--pid', '--fork', '--mount-proc'];
    const [cmd, ...args] = mode === 'pid1' ? ['unshare', ...ns, ...argv] : argv;
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, TSINIT_NODE: NODE } });
    const errs = [];
    p.stderr.on('data', (d) => errs.push(d));
    const killAll = () => {
      for (const d of descendantsOf(p.pid).reverse()) {
        try {
          process.kill(d, 'SIGKILL');
        } catch {}
      }
      p.kill('SIGKILL');
    };
    const timer = setTimeout(killAll, 20000);
    try {
      const pid = mode === 'pid1' ? await waitFor('tsinit under unshare', () => childrenOf(p.pid)[0]) : p.pid;
      const child = await waitFor(`the command (${Buffer.concat(errs)})`, () => {
        const c = childrenOf(pid)[0];
        return c && sleepingSleep(c) ? c : 0;
      });
      const fds = fdsOf(child);
      const mine = [3, 4, 5, 6, 7, 8, 9, 12, 16, 17, 18];
      const leaked = leakedFds();
      const expected = [...new Set([0, 1, 2, ...mine, ...leaked])].sort((a, b) => a - b);
      // What each descriptor is, should this ever fail again (it did once, under load, unexplained).
      assert.equal(Object.keys(fds).map(Number).sort((a, b) => a - b), expected, JSON.stringify({ fds, leaked, stderr: Buffer.concat(errs).toString() }));
      assert.is(fds[3], fds[1], '3>&1');
      assert.is(fds[4], fds[1], '4>&1');
      assert.match(fds[5], /^pipe:/);
      assert.is(fds[6], fds[5], 'both ends of one pipe');
      assert.is(fds[7], 'anon_inode:[eventfd]');
      assert.is(fds[8], 'anon_inode:[timerfd]');
      assert.is(fds[9], 'anon_inode:[signalfd]');
      assert.is(fds[12], 'anon_inode:[pidfd]');
      assert.is(fds[16], 'anon_inode:[eventfd]');
      assert.is(fds[18], fds[17]);
      // The record is tsinit's, not the command's.
      assert.not.ok(fs.readFileSync(`/proc/${child}/environ`, 'latin1').includes('TSINIT_INHERITED_FDS'));
      assert.ok(fs.readFileSync(`/proc/${pid}/environ`, 'latin1').includes('\0TSINIT_INHERITED_FDS='));
    } finally {
      clearTimeout(timer);
      killAll();
    }
  });

  test(`${mode}: argv and environment arrive byte for byte, non-UTF-8 included`, async () => {
    // Node's child_process cannot pass bytes that are not UTF-8, so bash's $'…' does.
    const script =
      `exec env -i 'PATH=/usr/bin:/bin' $'BAD=\\xff\\xfe\\x80' 'EMPTY=' 'SPACES= a  b ' $'NL=x\\ny' ` +
      `"${NODE}" "${CLI}" "${fixture('dumpargs')}" $'\\xff\\xfe' '' ' two  spaces ' -x --verbose -- $'caf\\xc3\\xa9' $'\\x01\\x7f'`;
    const wrap = mode === 'pid1' ? ['unshare', ...(isRoot ? [] : ['--user', '--map-root-user']), '--pid', '--fork', '--mount-proc', 'bash', '-c', script] : ['bash', '-c', script];
    const out = await new Promise((resolve, reject) => {
      const p = spawn(wrap[0], wrap.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
      const chunks = [];
      p.stdout.on('data', (d) => chunks.push(d));
      const t = setTimeout(() => p.kill('SIGKILL'), 20000);
      p.on('close', (code) => {
        clearTimeout(t);
        code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`exit ${code}`));
      });
    });
    const b = (s) => Buffer.from(s, 'latin1');
    const expectArgs = [b('\xff\xfe'), b(''), b(' two  spaces '), b('-x'), b('--verbose'), b('--'), b('caf\xc3\xa9'), b('\x01\x7f')];
    const expectEnv = [b('PATH=/usr/bin:/bin'), b('BAD=\xff\xfe\x80'), b('EMPTY='), b('SPACES= a  b '), b('NL=x\ny')];
    const expected = Buffer.concat([...expectArgs, b(''), ...expectEnv].map((x) => Buffer.concat([x, b('\0')])));
    assert.is(out.toString('hex'), expected.toString('hex'));
  });

  test(`${mode}: tens of thousands of arguments pass unchanged`, async () => {
    const args = Array.from({ length: 30000 }, (_, i) => (i % 7 === 0 ? '' : `arg-${i}`));
    const r = await runInit([fixture('dumpargs'), ...args], { mode, env: { ONLY: 'this' }, timeoutMs: 30000 });
    assert.is(r.code, 0, r.stderr.toString());
    const parts = r.stdout.toString('latin1').split('\0');
    assert.equal(parts.slice(0, args.length), args);
    assert.is(parts[args.length], '');
    assert.equal(parts.slice(args.length + 1, -1), ['ONLY=this']);
  });

  test(`${mode}: 10 MB through stdin to stdout, byte for byte`, async () => {
    const data = crypto.randomBytes(10 * 1024 * 1024);
    const r = await runInit(['cat'], { mode, input: data, timeoutMs: 60000 });
    assert.is(r.code, 0, r.stderr.toString());
    assert.is(r.stdout.length, data.length);
    assert.ok(r.stdout.equals(data), 'bytes differ');
  });
}

// The command is made with clone(CLONE_VM | CLONE_VFORK), as posix_spawn
// does, not with fork: no copy of tsinit's page tables, which cost 1.2-1.5 ms
// of blocked event loop per spawn from a 40 MiB Node (native/spawn.c). Seen
// in the system calls themselves: every process (not thread) tsinit creates
// for the command shares its memory and suspends it until the exec.
test('the command is made with clone(CLONE_VM | CLONE_VFORK), not a fork of tsinit', () => {
  const straceBin = strace();
  if (straceBin === null) {
    console.log('  skip: no strace on this machine (apt-get install strace)');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsinit-clone-'));
  try {
    const trace = path.join(dir, 'trace');
    const r = spawnSync(
      straceBin,
      ['-f', '-qq', '-e', 'trace=clone,clone3,fork,vfork,execve', '-e', 'signal=none', '-o', trace, NODE, ...launcherFlags(), CLI, '--', '/bin/true'],
      { timeout: 30000, killSignal: 'SIGKILL', stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const lines = fs.existsSync(trace) ? fs.readFileSync(trace, 'utf8').split('\n').filter(Boolean) : [];
    if (r.status !== 0 && lines.length === 0) {
      console.log(`  skip: strace could not trace here: ${r.stderr.toString().trim()}`);
      return;
    }
    assert.is(r.status, 0, r.stderr.toString());
    const tsinit = Number(lines[0].split(/\s+/)[0]);
    // Each call as strace starts to print it (the flags are in that part).
    const made = lines.map((l, i) => [l, i]).filter(([l]) => new RegExp(`^${tsinit}\\s+(clone3?|v?fork)\\(`).test(l));
    const processes = made.filter(([l]) => !l.includes('CLONE_THREAD'));
    assert.is(processes.length, 1, `tsinit created one process, the command:\n${made.map(([l]) => l).join('\n')}`);
    const [call, at] = processes[0];
    assert.match(call, /flags=[A-Z_|]*CLONE_VM\b/);
    assert.match(call, /flags=[A-Z_|]*CLONE_VFORK\b/);
    // And that process is the one that ran /bin/true: the call's result is
    // on its line, or (suspended until the exec) on tsinit's next "resumed".
    const end = / = (\d+)$/.test(call) ? call : lines.slice(at + 1).find((l) => l.startsWith(`${tsinit} `) && l.includes(' resumed>'));
    const execs = lines.filter((l) => /^\d+\s+execve\("\/bin\/true"/.test(l)).map((l) => Number(l.split(/\s+/)[0]));
    assert.equal(execs, [Number(/ = (\d+)$/.exec(end ?? '')?.[1])], 'the clone made the process that ran /bin/true');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
