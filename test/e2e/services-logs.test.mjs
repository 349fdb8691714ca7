// log = "prefix" and "json" under --config, as PID 1 and as a subreaper: two
// services' stdout and stderr arrive on tsinit's as whole lines, each named
// after its service, nothing lost when they exit; a raw service's bytes pass
// untouched beside them; four services writing 1 MiB each at once come out
// whole, in order and complete.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MODES } from '../helpers/tsinit.mjs';
import { scratch, startServices } from '../helpers/services.mjs';

const sh = (script) => JSON.stringify(['/bin/sh', '-c', script]);
/** N numbered lines on stdout and one on stderr, then exit 0. */
const writer = (name, n) => sh(`i=0; while [ $i -lt ${n} ]; do echo "${name} line $i"; i=$((i+1)); done; echo "${name} err" >&2`);

/** Runs the formation of cfg to its end with stdout collected; asserts it exited 0. */
async function runToEnd(mode, cfg, timeoutMs) {
  const h = startServices(mode, cfg, { timeoutMs });
  const out = [];
  h.proc.stdout.on('data', (d) => out.push(d));
  try {
    const r = await h.result;
    assert.is(r.code, 0, r.stderr.toString().slice(-2000));
    return { stdout: Buffer.concat(out).toString(), stderr: r.stderr.toString() };
  } finally {
    h.kill();
  }
}

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
    try {
      const r = await runToEnd(mode, cfg, 60000);
      const lines = r.stdout.split('\n').filter(Boolean);
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
      const err = r.stderr;
      assert.match(err, /alpha\s*\| alpha err/);
      assert.match(err, /beta\s*\| beta err/);
    } finally {
      s.remove();
    }
  });

  test(`${mode}: four services writing 1 MiB each at once through "prefix": every line whole, in order, none lost`, async () => {
    const s = scratch();
    const LINES = 16384; // 64 bytes each: 1 MiB per service
    const names = ['w1', 'w2', 'w3', 'w4'];
    const big = (name) => sh(`awk 'BEGIN { for (i = 0; i < ${LINES}; i++) printf "${name} %06d %s\\n", i, "${'x'.repeat(53)}" }'`);
    const cfg = s.write(
      'c.toml',
      `[tsinit]\nlog = "prefix"\n\n` + names.map((n) => `[service.${n}]\ncommand = ${big(n)}\nrestart = { policy = "no" }\n`).join('\n'),
    );
    try {
      const lines = (await runToEnd(mode, cfg, 90000)).stdout.split('\n');
      assert.is(lines.pop(), '', 'the output ends with a whole line');
      for (const name of names) {
        const mine = lines.filter((l) => l.startsWith(`${name} `));
        assert.is(mine.length, LINES, `${name}: ${mine.length} of ${LINES} lines`);
        const bad = mine.findIndex((l, i) => l !== `${name} | ${name} ${String(i).padStart(6, '0')} ${'x'.repeat(53)}`);
        assert.is(bad, -1, bad < 0 ? '' : `${name}: line ${bad} is ${JSON.stringify(mine[bad])}`);
      }
      // Nothing but those lines (and no piece of one) reached stdout.
      assert.is(lines.length, LINES * names.length);
    } finally {
      s.remove();
    }
  });
}

test.run();
