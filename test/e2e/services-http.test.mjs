// HTTP readiness, as PID 1 and as a subreaper: a service is ready once a GET
// of its URL is answered 2xx (500s before do not count), which gates its
// dependent (proven by the timestamps both write); no probe runs once it is
// ready; a URL never answered 2xx within the timeout is a failed start.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { MODES, NODE, ROOT, CLI } from '../helpers/tsinit.mjs';
import { sleep, waitFor } from '../helpers/wait.mjs';
import { freePort } from '../helpers/users.mjs';
import { scratch, stamp, startServices, finish } from '../helpers/services.mjs';

const HTTPREADY = `${ROOT}/test/fixtures/httpready.cjs`;
const sh = (script) => JSON.stringify(['/bin/sh', '-c', script]);
/** The fixture: listens after delayMs, answers `fails` requests 500 (-1: all), then 200. */
const server = (s, port, delayMs, fails) => JSON.stringify([NODE, HTTPREADY, String(port), String(delayMs), String(fails), s.path('api'), s.path('api.log')]);

for (const mode of MODES) {
  test(`${mode}: http readiness: 500s do not count, the first 200 makes it ready and starts its dependent; no probe afterwards`, async () => {
    const s = scratch();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/healthz?from=tsinit`;
    const cfg = s.write(
      'c.toml',
      `[service.api]\ncommand = ${server(s, port, 300, 2)}\nready = { http = "${url}", timeout = "20s", interval = "100ms" }\n\n` +
        `[service.web]\ncommand = ${sh(`${stamp(s.path('web'))}; exec sleep 1000`)}\nafter = ["api"]\n`,
    );
    const h = startServices(mode, cfg);
    try {
      const ready = await h.waitEvent('service-ready', (e) => e.service === 'api');
      assert.is(ready.msg, `service api: ready (http ${url} answered 2xx)`);
      await h.waitEvent('services-ready');
      await waitFor('the stamps', () => s.lines('web').length > 0 && s.lines('api').length > 0);
      assert.ok(s.ts('web') > s.ts('api'), 'web started before api answered 200');
      assert.equal(s.lines('api.log'), ['500 /healthz?from=tsinit', '500 /healthz?from=tsinit', '200 /healthz?from=tsinit']);
      // Ready: the probe is gone (no timer, no request) for as long as the service is up.
      await sleep(1000);
      assert.is(s.lines('api.log').length, 3, 'a request after the service was ready');
      const r = await finish(h);
      assert.is(r.code, 0, r.stderr.toString());
    } finally {
      h.kill();
      s.remove();
    }
  });
}

test('subreaper: a URL answered only 500 (or not at all) within the timeout is a failed start', async () => {
  const s = scratch();
  const port = await freePort();
  const cfg = s.write(
    'c.toml',
    `[service.api]\ncommand = ${server(s, port, 0, -1)}\nready = { http = "http://127.0.0.1:${port}/", timeout = "1s", interval = "100ms" }\nessential = true\n` +
      `restart = { policy = "on-failure", backoff = "0s", limit = 2 }\n`,
  );
  const h = startServices('subreaper', cfg);
  try {
    const r = await h.result;
    assert.is(r.code, 143, r.stderr.toString());
    const failed = h.events().filter((e) => e.event === 'service-start-failed');
    assert.is(failed.length, 2);
    assert.match(failed[0].msg, /not ready within 1000 ms/);
    assert.ok(s.lines('api.log').length >= 2 && s.lines('api.log').every((l) => l === '500 /'), 'the server was asked and said 500');
    assert.not.ok(h.events().some((e) => e.event === 'service-ready'));
  } finally {
    h.kill();
    s.remove();
  }
});

test('a malformed URL: one line naming file, line and key; exit 2; nothing starts', () => {
  const s = scratch();
  const cfg = s.write('c.toml', `[service.a]\ncommand = ${sh(`touch ${s.path('ran')}`)}\nready = { http = "http://db.internal:8080/" }\n`);
  const r = spawnSync(NODE, [CLI, '--config', cfg], { encoding: 'utf8', timeout: 20000 });
  assert.is(r.status, 2);
  assert.is(r.stderr, `tsinit: ${cfg}:3: service.a.ready.http: 'db.internal' is not an IP address or localhost (no name is resolved: DNS must not delay readiness)\n`);
  assert.not.ok(s.exists('ran'));
  s.remove();
});

test.run();
