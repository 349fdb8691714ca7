// Several services from --config, as PID 1 and as a subreaper: start order
// gated by each readiness mechanism (proven by the timestamps services
// write), reverse stop order, restarts with backoff, the start limit, the
// essential service's exit status, adopted orphans, the dry run, config
// errors, and no wake-ups while idle.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import net from 'node:net';
import { MODES, fixture, NODE, CLI } from '../helpers/tsinit.mjs';
import { procStat, childrenOf } from '../helpers/proc.mjs';
import { sleep, waitFor } from '../helpers/wait.mjs';
import { freePort } from '../helpers/users.mjs';
import { scratch, stamp, startServices, finish } from '../helpers/services.mjs';
import { spawnSync } from 'node:child_process';

const SDNOTIFY = fixture('sdnotify');
const sh = (script) => JSON.stringify(['/bin/sh', '-c', script]);
/** Listens on 127.0.0.1:port after delayMs, stamping FILE just before. */
const lateListener = (port, delayMs, file) =>
  sh(`sleep ${delayMs / 1000}; ${stamp(file)}; exec ${NODE} -e "require('net').createServer(() => {}).listen(${port}, '127.0.0.1')"`);

for (const mode of MODES) {
  test(`${mode}: each readiness mechanism gates its dependent (timestamps)`, async () => {
    const s = scratch();
    const port = await freePort();
    const cfg = s.write(
      'c.toml',
      `[service.tcp]\ncommand = ${lateListener(port, 300, s.path('tcp'))}\nready = { tcp = "127.0.0.1:${port}", timeout = "20s" }\n\n` +
        `[service.after_tcp]\ncommand = ${sh(`${stamp(s.path('after_tcp'))}; exec sleep 1000`)}\nafter = ["tcp"]\n\n` +
        `[service.exec]\ncommand = ${sh(`sleep 0.3; ${stamp(s.path('exec'))}; exec sleep 1000`)}\nready = { exec = ["test", "-s", "${s.path('exec')}"], interval = "50ms" }\n\n` +
        `[service.after_exec]\ncommand = ${sh(`${stamp(s.path('after_exec'))}; exec sleep 1000`)}\nafter = ["exec"]\n\n` +
        `[service.fd]\ncommand = ${sh(`sleep 0.3; ${stamp(s.path('fd'))}; echo >&5; exec sleep 1000`)}\nready = { fd = 5 }\n\n` +
        `[service.after_fd]\ncommand = ${sh(`${stamp(s.path('after_fd'))}; exec sleep 1000`)}\nafter = ["fd"]\n\n` +
        `[service.notify]\ncommand = ${sh(`sleep 0.3; ${stamp(s.path('notify'))}; exec ${SDNOTIFY} STATUS=warming READY=1 -- sleep 1000`)}\nready = { notify = true, timeout = "20s" }\n\n` +
        `[service.after_notify]\ncommand = ${sh(`${stamp(s.path('after_notify'))}; exec sleep 1000`)}\nafter = ["notify"]\n\n` +
        `[service.last]\ncommand = ${sh(`${stamp(s.path('last'))}; exec sleep 1000`)}\nafter = ["after_tcp", "after_exec", "after_fd", "after_notify"]\n`,
    );
    const h = startServices(mode, cfg);
    try {
      await h.waitEvent('services-ready');
      // Ready when started (no readiness) is not "has written its stamp": wait for the files.
      const names = ['tcp', 'exec', 'fd', 'notify'].flatMap((k) => [k, `after_${k}`]).concat('last');
      await waitFor('every stamp', () => names.every((n) => s.lines(n).length > 0));
      for (const k of ['tcp', 'exec', 'fd', 'notify']) {
        assert.ok(s.ts(`after_${k}`) > s.ts(k), `after_${k} started before ${k} was ready`);
        // after_* are ready once started, which says nothing of when their stamps land: last is only after the four.
        assert.ok(s.ts('last') > s.ts(k), `last started before ${k} was ready`);
      }
      const ev = h.events();
      const ready = (name) => ev.find((e) => e.event === 'service-ready' && e.service === name);
      assert.match(ready('tcp').msg, /tcp 127\.0\.0\.1:\d+ accepts/);
      assert.match(ready('exec').msg, /check exited 0/);
      assert.match(ready('fd').msg, /newline on fd 5/);
      assert.match(ready('notify').msg, /READY=1/);
      assert.ok(ev.some((e) => e.event === 'service-status' && e.service === 'notify' && e.status === 'warming'), 'STATUS= is logged');
      const r = await finish(h);
      assert.is(r.code, 0, r.stderr.toString());
    } finally {
      h.kill();
      s.remove();
    }
  });

  test(`${mode}: stop in reverse dependency order, independent ones in parallel, exit when all are gone`, async () => {
    const s = scratch();
    // On TERM each stamps, cleans up for a while (c for 1 s), stamps again and exits 0.
    // `up` only once its `sleep 1000` is forked: a TERM that came between the
    // touch and that fork would leave the sleep unsignalled in the session,
    // waited for without end (no stop.timeout). It did, twice in CI.
    const svc = (name, secs = 0.3) =>
      sh(`trap '${stamp(s.path(name))}; sleep ${secs}; ${stamp(s.path(`${name}.end`))}; exit 0' TERM; sleep 1000 & touch ${s.path(`${name}.up`)}; wait`);
    const cfg = s.write(
      'c.toml',
      `[service.a]\ncommand = ${svc('a')}\n[service.b]\ncommand = ${svc('b')}\nafter = ["a"]\n` +
        `[service.c]\ncommand = ${svc('c', 1)}\nafter = ["b"]\n[service.x]\ncommand = ${svc('x')}\nafter = ["a"]\n`,
    );
    const h = startServices(mode, cfg);
    try {
      await h.waitEvent('services-ready');
      await waitFor('every trap', () => ['a', 'b', 'c', 'x'].every((n) => s.exists(`${n}.up`)));
      const t0 = Date.now();
      const r = await finish(h);
      const took = Date.now() - t0;
      assert.is(r.code, 0, r.stderr.toString());
      assert.ok(s.ts('c.end') <= s.ts('b'), 'b got TERM before c had stopped');
      assert.ok(s.ts('b.end') <= s.ts('a') && s.ts('x.end') <= s.ts('a'), 'a got TERM before its dependents had stopped');
      // c and x do not depend on each other: x is stopped while c still cleans up.
      assert.ok(s.ts('x') < s.ts('c.end'), 'x waited for c');
      // Levels of 1 s, 0.3 s and 0.3 s: well under the 10 s a fixed grace would take.
      assert.ok(took < 10000, `stopping took ${took} ms`);
      const stopped = h.events().filter((e) => e.event === 'service-stopped').map((e) => e.service);
      assert.equal(stopped.slice(-1), ['a']);
    } finally {
      h.kill();
      s.remove();
    }
  });

  test(`${mode}: JSON events: pid is tsinit's own in every one, a service's process is child`, async () => {
    const s = scratch();
    // The service's shell writes its own pid and its parent's (tsinit's), as seen in tsinit's namespace.
    const cfg = s.write('c.toml', `[service.a]\ncommand = ${sh(`echo $$ $PPID > ${s.path('ids')}; exec sleep 1000`)}\n`);
    const h = startServices(mode, cfg);
    try {
      const started = await h.waitEvent('service-started');
      await waitFor('ids', () => s.lines('ids').length === 1);
      const [own, parent] = s.lines('ids')[0].split(' ').map(Number);
      assert.is(started.child, own);
      const r = await finish(h);
      assert.is(r.code, 0, r.stderr.toString());
      const events = h.events();
      const exited = events.find((e) => e.event === 'service-exited');
      assert.is(exited.child, own, 'service-exited names the same process');
      assert.ok(events.length > 3, r.stderr.toString());
      for (const e of events) assert.is(e.pid, parent, `${e.event}: pid is not tsinit's`);
    } finally {
      h.kill();
      s.remove();
    }
  });

  test(`${mode}: restarts with exponential backoff (within generous bounds)`, async () => {
    const s = scratch();
    const cfg = s.write(
      'c.toml',
      `[service.flaky]\ncommand = ${sh(`${stamp(s.path('t'))}; cat ${s.path('t')} >> ${s.path('starts')}; exit 1`)}\n` +
        `restart = { policy = "on-failure", backoff = "200ms", backoff_max = "800ms", limit = 0 }\n[service.keep]\ncommand = ["sleep", "1000"]\n`,
    );
    const h = startServices(mode, cfg);
    try {
      await waitFor('5 starts', () => s.lines('starts').length >= 5, 20000);
      const t = s.lines('starts').map((l) => Number(BigInt(l) / 1000000n));
      const gaps = t.slice(1, 5).map((v, i) => v - t[i]);
      const want = [200, 400, 800, 800];
      gaps.forEach((g, i) => {
        assert.ok(g >= want[i] - 20, `restart ${i + 1} came after ${g} ms, before its ${want[i]} ms backoff`);
        assert.ok(g < want[i] + 3000, `restart ${i + 1} came after ${g} ms (backoff ${want[i]} ms)`);
      });
      const backoffs = h.events().filter((e) => e.event === 'service-backoff').map((e) => e.delayMs);
      assert.equal(backoffs.slice(0, 4), want);
      const r = await finish(h);
      assert.is(r.code, 0, 'a stop by signal without an essential service exits 0');
    } finally {
      h.kill();
      s.remove();
    }
  });

  test(`${mode}: a crash loop hits the start limit; an essential service's status becomes tsinit's`, async () => {
    const s = scratch();
    const cfg = s.write(
      'c.toml',
      `[service.loop]\ncommand = ${sh(`echo x >> ${s.path('starts')}; exit 3`)}\nessential = true\n` +
        `restart = { policy = "always", backoff = "0s", limit = 4, limit_interval = "60s" }\n[service.other]\ncommand = ["sleep", "1000"]\n`,
    );
    const h = startServices(mode, cfg);
    try {
      const r = await h.result;
      assert.is(r.code, 3, r.stderr.toString());
      assert.is(s.lines('starts').length, 4, 'exactly `limit` starts');
      const ev = h.events();
      assert.ok(ev.some((e) => e.event === 'service-failed' && e.service === 'loop' && e.reason === 'start-limit'));
      assert.ok(ev.some((e) => e.event === 'service-stopped' && e.service === 'other'), 'the others are stopped');
    } finally {
      h.kill();
      s.remove();
    }
  });

  test(`${mode}: essential exit statuses: N, 128+N for a signal, --remap-exit, and the main service of -- CMD`, async () => {
    const s = scratch();
    const run = async (script, extra = []) => {
      const cfg = s.write('c.toml', `[service.e]\ncommand = ${sh(script)}\nessential = true\n[service.bg]\ncommand = ["sleep", "1000"]\n`);
      const h = startServices(mode, cfg, { extra });
      const r = await h.result;
      h.kill();
      return r;
    };
    assert.is((await run('sleep 0.2; exit 7')).code, 7);
    assert.is((await run('sleep 0.2; kill -USR1 $$')).code, 138);
    assert.is((await run('sleep 0.2; exit 7', ['-e', '7:0'])).code, 0);
    const cfg = s.write('m.toml', `[service.bg]\ncommand = ["sleep", "1000"]\n`);
    const h = startServices(mode, cfg, { extra: ['--', '/bin/sh', '-c', 'exit 9'] });
    const r = await h.result;
    h.kill();
    assert.is(r.code, 9, r.stderr.toString());
    const h2 = startServices(mode, cfg, { extra: ['--', '/nonexistent/cmd'] });
    const r2 = await h2.result;
    h2.kill();
    assert.is(r2.code, 127, 'a main that cannot be found: 127');
    s.remove();
  });

  test(`${mode}: an orphan adopted from a service is reaped and never taken for the service's exit`, async () => {
    const s = scratch();
    // The subshell forks a short sleep and exits: the sleep is re-parented to tsinit.
    const cfg = s.write('c.toml', `[service.web]\ncommand = ${sh(`(sleep 0.3 &); exec sleep 1000`)}\nessential = true\n`);
    const h = startServices(mode, cfg);
    try {
      const orphan = await h.waitEvent('orphan-reaped');
      assert.is(orphan.service, 'web', JSON.stringify(orphan));
      await sleep(300);
      const ev = h.events();
      assert.not.ok(ev.some((e) => e.event === 'service-exited'), 'the orphan was taken for the service');
      assert.ok(ev.some((e) => e.event === 'service-ready' && e.service === 'web'));
      const r = await finish(h);
      assert.is(r.code, 143, 'the essential service was killed by its stop signal (SIGTERM)');
    } finally {
      h.kill();
      s.remove();
    }
  });

  test(`${mode}: ready_file exists while every service is ready and is removed at the stop`, async () => {
    const s = scratch();
    const cfg = s.write('c.toml', `[tsinit]\nready_file = "${s.path('run/ready')}"\n[service.a]\ncommand = ["sleep", "1000"]\nready = { exec = ["true"] }\n`);
    const h = startServices(mode, cfg);
    try {
      await h.waitEvent('services-ready');
      assert.ok(s.exists('run/ready'));
      await finish(h);
      assert.not.ok(s.exists('run/ready'));
    } finally {
      h.kill();
      s.remove();
    }
  });
}

test('a readiness timeout is a failed start; a missing check is one too', async () => {
  const s = scratch();
  const cfg = s.write(
    'c.toml',
    `[service.slow]\ncommand = ["sleep", "1000"]\nready = { tcp = "127.0.0.1:1", timeout = "300ms" }\nessential = true\n` +
      `restart = { policy = "on-failure", backoff = "0s", limit = 2 }\n`,
  );
  const h = startServices('subreaper', cfg);
  const r = await h.result;
  h.kill();
  assert.is(r.code, 143, r.stderr.toString());
  assert.is(h.events().filter((e) => e.event === 'service-start-failed').length, 2);
  const cfg2 = s.write('d.toml', `[service.c]\ncommand = ["sleep", "1000"]\nready = { exec = ["/nonexistent/check"] }\nessential = true\n`);
  const h2 = startServices('subreaper', cfg2);
  const r2 = await h2.result;
  h2.kill();
  assert.ok(h2.events().some((e) => e.event === 'service-start-failed' && /readiness check cannot run/.test(e.msg)), r2.stderr.toString());
  s.remove();
});

test('--dry-run prints the whole plan and starts nothing', () => {
  const s = scratch();
  const cfg = s.write(
    'c.toml',
    `[tsinit]\nstop_timeout = "25s"\n[service.redis]\ncommand = ["redis-server"]\nready = { tcp = "127.0.0.1:6379" }\n` +
      `[service.web]\ncommand = "exec node server.js"\nafter = ["redis"]\numask = "027"\nlisten = ["tcp://127.0.0.1:8080,name=http"]\nstop = { timeout = "8s" }\n`,
  );
  const r = spawnSync(NODE, [CLI, '--config', cfg, '--dry-run'], { encoding: 'utf8', timeout: 20000 });
  assert.is(r.status, 0, r.stderr);
  const p = JSON.parse(r.stdout);
  assert.equal(p.start_order, [['redis'], ['web']]);
  assert.equal(p.stop_order, [['web'], ['redis']]);
  assert.is(p.stop_budget_ms, 25000);
  const web = p.services.web;
  assert.equal(web.argv, ['/bin/sh', '-c', 'exec node server.js']);
  assert.equal(web.fds[1], { fd: 3, name: 'http', socket: 'tcp', address: '127.0.0.1:8080' });
  assert.equal([web.env.LISTEN_FDS, web.env.LISTEN_FDNAMES], ['1', 'http']);
  assert.equal([web.umask, web.stop, web.no_new_privs], ['0027', { signal: 'SIGTERM', timeout_ms: 8000 }, false]);
  assert.equal(web.restart.policy, 'no');
  assert.equal(p.services.redis.ready, { kind: 'tcp', address: '127.0.0.1:6379', timeout_ms: null, interval_ms: 100 });
  s.remove();
});

test('a config mistake: one line naming file, line and key; exit 2; nothing starts', () => {
  const s = scratch();
  const cfg = s.write('c.toml', `[service.a]\ncommand = ${sh(`touch ${s.path('ran')}`)}\n\n[service.b]\ncommand = ["x"]\nafter = ["nope"]\n`);
  const r = spawnSync(NODE, [CLI, '--config', cfg], { encoding: 'utf8', timeout: 20000 });
  assert.is(r.status, 2);
  assert.is(r.stderr, `tsinit: ${cfg}:6: service.b.after[0]: no service 'nope' (services: a, b)\n`);
  assert.not.ok(s.exists('ran'));
  const env = { ...process.env, TSINIT_CONFIG: cfg };
  assert.is(spawnSync(NODE, [CLI], { encoding: 'utf8', env, timeout: 20000 }).status, 2, 'TSINIT_CONFIG is read');
  const single = spawnSync(NODE, [CLI, '--config', cfg, '--user', 'nobody', '--', 'true'], { encoding: 'utf8', timeout: 20000 });
  assert.is(single.status, 2);
  assert.is(single.stderr, "tsinit: --user is for single-command mode; with --config, set user in the service's table\n");
  const both = spawnSync(NODE, [CLI, '--config', cfg, '--procfile', cfg], { encoding: 'utf8', timeout: 20000 });
  assert.is(both.status, 2);
  assert.is(both.stderr, 'tsinit: --config and --procfile cannot be used together (TSINIT_CONFIG or TSINIT_PROCFILE counts as given)\n');
  s.remove();
});

test('a start-up step the system refuses (a listen port in use): one line, exit 125, nothing starts', async () => {
  const s = scratch();
  const busy = net.createServer();
  await new Promise((resolve) => busy.listen(0, '127.0.0.1', resolve));
  const port = busy.address().port;
  try {
    const cfg = s.write('c.toml', `[service.a]\ncommand = ${sh(`touch ${s.path('ran')}`)}\nlisten = ["tcp://127.0.0.1:${port},name=web"]\n`);
    for (const format of ['text', 'json']) {
      const r = spawnSync(NODE, [CLI, '--log-format', format, '--config', cfg], { encoding: 'utf8', timeout: 20000 });
      assert.is(r.status, 125, r.stderr);
      const line = `service a: cannot bind listen tcp://127.0.0.1:${port},name=web: address already in use`;
      if (format === 'text') assert.is(r.stderr, `tsinit: ${line}\n`);
      else {
        const events = r.stderr.trim().split('\n').map((l) => JSON.parse(l));
        assert.equal(events.map((e) => [e.event, e.msg]), [['error', line]]);
      }
      assert.not.ok(s.exists('ran'));
    }
  } finally {
    busy.close();
    s.remove();
  }
});

test('idle: 20 services up, no timer, no CPU and no wake-ups over 5 s', async () => {
  const s = scratch();
  let text = '';
  for (let i = 0; i < 20; i++) text += `[service.s${i}]\ncommand = ["sleep", "1000"]\n${i > 0 ? `after = ["s${i - 1}"]\n` : ''}`;
  const h = startServices('subreaper', s.write('c.toml', text), { timeoutMs: 40000 });
  try {
    await h.waitEvent('services-ready');
    const pid = await h.initPid;
    assert.is(childrenOf(pid).length, 20);
    await sleep(500);
    const ticks = () => Number(procStat(pid)[14]) + Number(procStat(pid)[15]);
    const switches = () =>
      fs.readdirSync(`/proc/${pid}/task`).reduce((sum, t) => sum + Number(/voluntary_ctxt_switches:\s*(\d+)/.exec(fs.readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8'))[1]), 0);
    const t0 = ticks();
    const w0 = switches();
    await sleep(5000);
    const used = ticks() - t0;
    const woke = switches() - w0;
    assert.ok(used <= 2, `tsinit used ${used} ticks of CPU while idle`);
    assert.ok(woke <= 4, `tsinit woke ${woke} times while idle`);
    const r = await finish(h);
    assert.is(r.code, 0);
  } finally {
    h.kill();
    s.remove();
  }
});

test.run();
