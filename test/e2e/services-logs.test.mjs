// log = "prefix" and "json" under --config, as PID 1 and as a subreaper: two
// services' stdout and stderr arrive on tsinit's as whole lines, each named
// after its service, nothing lost when they exit; a raw service's bytes pass
// untouched beside them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MODES } from '../helpers/tsinit.mjs';
import { scratch, startServices } from '../helpers/services.mjs';

const sh = (script) => JSON.stringify(['/bin/sh', '-c', script]);
/** N numbered lines on stdout and one on stderr, then exit 0. */
const writer = (name, n) => sh(`i=0; while [ $i -lt ${n} ]; do echo "${name} line $i"; i=$((i+1)); done; echo "${name} err" >&2`);

for (const mode of MODES) {
  test(`${mode}: log = "prefix" relays whole lines named after their service; "json" as objects; raw untouched`, async () => {
    const s = scratch();
    const cfg = s.write(
      'c.toml',
      `[tsinit]\nlog = "prefix"\n\n` +
        `[service.alpha]\ncommand = ${writer('alpha', 2000)}\nrestart = { policy = "no" }\n\n` +
        `[service.beta]\ncommand = ${writer('beta', 2000)}\nrestart = { policy = "no" }\n\n` +
        `[service.gamma]\ncommand = ${writer('gamma', 3)}\nlog = "json"\nrestart = { policy = "no" }\n\n` +
        `[service.delta]\ncommand = ${writer('delta', 3)}\nlog = "raw"\nrestart = { policy = "no" }\n`,
    );
    const h = startServices(mode, cfg, { timeoutMs: 60000 });
    const out = [];
    h.proc.stdout.on('data', (d) => out.push(d));
    try {
      const r = await h.result;
      assert.is(r.code, 0, r.stderr.toString().slice(-2000));
      const lines = Buffer.concat(out).toString().split('\n').filter(Boolean);
      for (const name of ['alpha', 'beta']) {
        const mine = lines.filter((l) => l.startsWith(`${name} `) && l.includes(`${name} line`));
        assert.is(mine.length, 2000, `${name}: ${mine.length} of 2000 lines`);
        // Prefixed ("NAME | text", padded to the longest relayed name), whole and in order.
        mine.forEach((l, i) => assert.match(l, new RegExp(`^${name}\\s*\\| ${name} line ${i}$`)));
      }
      const json = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
      assert.equal(json.filter((j) => j.service === 'gamma' && j.stream === 'stdout').map((j) => j.line), ['gamma line 0', 'gamma line 1', 'gamma line 2']);
      for (const j of json) assert.ok(typeof j.time === 'string' && j.time.length > 0, 'json lines carry a time');
      // The raw service wrote straight to tsinit's stdout: no prefix at all.
      assert.equal(lines.filter((l) => l.startsWith('delta line')), ['delta line 0', 'delta line 1', 'delta line 2']);
      const err = r.stderr.toString();
      assert.match(err, /alpha\s*\| alpha err/);
      assert.match(err, /beta\s*\| beta err/);
    } finally {
      h.kill();
      s.remove();
    }
  });
}

test.run();
