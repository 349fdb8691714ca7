// Services and signals: HUP, USR1 and USR2 reach the services whose
// `signals` list them; a stop timeout SIGKILLs a service's whole tree, and
// without one no timer kills anything; stop_timeout bounds the whole stop;
// processes that left their service's session are stopped at the end;
// READY=1 and STOPPING=1 reach tsinit's own NOTIFY_SOCKET; a command that
// cannot run is a failed start that the restart policy handles.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { MODES } from '../helpers/tsinit.mjs';
import { sleep, waitFor } from '../helpers/wait.mjs';
import { scratch, startServices } from '../helpers/services.mjs';

const sh = (script) => JSON.stringify(['/bin/sh', '-c', script]);
/** Appends each of HUP, USR1, USR2 it gets to FILE. */
const recorder = (file, up) => sh(`for s in HUP USR1 USR2; do trap "echo $s >> ${file}" $s; done; touch ${up}; while :; do sleep 0.05; done`);

async function stopWith(h, sig = 'SIGTERM') {
  try {
    process.kill(await h.initPid, sig);
  } catch {}
  const r = await h.result;
  h.kill();
  return r;
}

for (const mode of MODES) {
  test(`${mode}: forwarded signals reach the services whose signals list them`, async () => {
    const s = scratch();
    const cfg = s.write(
      'c.toml',
      `[service.all]\ncommand = ${recorder(s.path('all'), s.path('all.up'))}\n` +
        `[service.hup]\ncommand = ${recorder(s.path('hup'), s.path('hup.up'))}\nsignals = ["HUP"]\n` +
        `[service.none]\ncommand = ${recorder(s.path('none'), s.path('none.up'))}\nsignals = []\n`,
    );
    const h = startServices(mode, cfg);
    try {
      await waitFor('every trap', () => ['all', 'hup', 'none'].every((n) => s.exists(`${n}.up`)));
      const pid = await h.initPid;
      for (const sig of ['SIGHUP', 'SIGUSR1', 'SIGUSR2']) {
        process.kill(pid, sig);
        await waitFor(`${sig} at all`, () => s.lines('all').includes(sig.slice(3)));
      }
      // What must arrive is waited for; only what must not (and duplicates)
      // gets a bounded wait. A fixed 300 ms for hup's trap raced under load.
      await waitFor('HUP at hup', () => s.lines('hup').includes('HUP'));
      await sleep(300);
      assert.equal(s.lines('all'), ['HUP', 'USR1', 'USR2']);
      assert.equal(s.lines('hup'), ['HUP']);
      assert.equal(s.lines('none'), []);
      const r = await stopWith(h);
      assert.is(r.code, 0);
    } finally {
      h.kill();
      s.remove();
    }
  });

  test(`${mode}: a stop timeout SIGKILLs the service's tree; stop_timeout bounds the whole stop`, async () => {
    const s = scratch();
    // Ignores TERM, and so does its child.
    const stubborn = sh(`trap '' TERM; sleep 1000 & touch ${s.path('up')}; wait`);
    const cfg = s.write('c.toml', `[service.s]\ncommand = ${stubborn}\nstop = { timeout = "500ms" }\n`);
    const h = startServices(mode, cfg);
    try {
      await waitFor('up', () => s.exists('up'));
      const t0 = Date.now();
      const r = await stopWith(h);
      const took = Date.now() - t0;
      assert.is(r.code, 0, r.stderr.toString());
      assert.ok(took >= 450 && took < 8000, `stopped after ${took} ms`);
      assert.ok(h.events().some((e) => e.event === 'service-killed' && e.service === 's'));
    } finally {
      h.kill();
    }
    s.remove();
    const s2 = scratch();
    const cfg2 = s2.write('d.toml', `[tsinit]\nstop_timeout = "700ms"\n[service.s]\ncommand = ${sh(`trap '' TERM; sleep 1000 & touch ${s2.path('up')}; wait`)}\nstop = { timeout = "1h" }\n`);
    const h2 = startServices(mode, cfg2);
    try {
      await waitFor('up', () => s2.exists('up'));
      const t0 = Date.now();
      const r = await stopWith(h2);
      const took = Date.now() - t0;
      assert.ok(took >= 650 && took < 8000, `the 700 ms budget took ${took} ms`);
      assert.is(r.code, 0);
      // The budget's timer names the SIGKILL, of the service's tree
      // (service-killed) and of the rest (stop-budget-over): both name
      // stop_timeout, which the 1 h stop.timeout never would.
      const kills = h2.events().filter((e) => e.event === 'stop-budget-over' || e.event === 'service-killed');
      assert.ok(kills.length > 0 && kills.every((e) => e.msg.includes('stop_timeout')), JSON.stringify(kills));
    } finally {
      h2.kill();
      s2.remove();
    }
  });

  test(`${mode}: without any stop timeout, no timer kills a service that ignores its stop signal`, async () => {
    const s = scratch();
    const cfg = s.write('c.toml', `[service.s]\ncommand = ${sh(`trap '' TERM; sleep 1000 & touch ${s.path('up')}; wait`)}\n`);
    const h = startServices(mode, cfg);
    try {
      await waitFor('up', () => s.exists('up'));
      process.kill(await h.initPid, 'SIGTERM');
      await h.waitEvent('service-stopping');
      await sleep(2500);
      assert.not.ok(h.events().some((e) => e.event === 'service-killed' || e.event === 'exit'), 'something was killed on a timer nobody asked for');
      // The orchestrator owns the deadline: here the test plays it, killing the whole tree.
      h.kill();
      await h.result;
    } finally {
      h.kill();
      s.remove();
    }
  });
}

test('a process that left its service session is stopped at the end, and tsinit exits once it is gone', async () => {
  const s = scratch();
  // setsid moves the sleep out of the service's session and group.
  const cfg = s.write('c.toml', `[service.s]\ncommand = ${sh(`setsid sh -c 'trap "exit 0" TERM; sleep 1000 & touch ${s.path('esc')}; wait' & exec sleep 1000`)}\n`);
  const h = startServices('subreaper', cfg);
  try {
    await waitFor('escaped', () => s.exists('esc'));
    const r = await stopWith(h);
    assert.is(r.code, 0, r.stderr.toString());
    assert.ok(h.events().some((e) => e.event === 'draining'), 'the escapee was not looked for');
  } finally {
    h.kill();
    s.remove();
  }
});

test("READY=1 when every service is ready, STOPPING=1 at the stop, to tsinit's own NOTIFY_SOCKET", async () => {
  const s = scratch();
  const sock = s.path('upstream.sock');
  const listener = spawn('python3', ['-c', `import socket,sys\ns=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint('bound', flush=True)\nfor _ in range(2):\n  print(s.recv(4096).decode().replace('\\n', '|'), flush=True)\n`, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  listener.stdout.on('data', (d) => (out += d));
  try {
    await waitFor('listener', () => out.includes('bound'));
    const cfg = s.write('c.toml', `[service.a]\ncommand = ["sleep", "1000"]\nready = { exec = ["true"] }\n[service.b]\ncommand = ["sleep", "1000"]\n`);
    const h = startServices('subreaper', cfg, { env: { ...process.env, NOTIFY_SOCKET: sock } });
    await h.waitEvent('services-ready');
    await waitFor('READY=1', () => out.includes('READY=1'));
    const r = await stopWith(h);
    assert.is(r.code, 0);
    await waitFor('STOPPING=1', () => out.includes('STOPPING=1'));
    assert.match(out, /READY=1\|STATUS=2 service\(s\) ready\nSTOPPING=1/);
  } finally {
    listener.kill('SIGKILL');
    s.remove();
  }
});

test('a command that cannot run is a failed start: restarted per policy, then failed; essential: its 127 is the status', async () => {
  const s = scratch();
  const cfg = s.write('c.toml', `[service.gone]\ncommand = ["/nonexistent/daemon"]\nessential = true\nrestart = { policy = "on-failure", backoff = "50ms", limit = 3 }\n`);
  const h = startServices('subreaper', cfg);
  const r = await h.result;
  h.kill();
  assert.is(r.code, 127, r.stderr.toString());
  assert.is(h.events().filter((e) => e.event === 'service-start-failed').length, 3);
  assert.ok(h.events().some((e) => e.event === 'service-failed' && e.reason === 'start-limit'));
  s.remove();
});

test.run();
