// Foreman's Procfile for --procfile (src/config/procfile.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { withApp } from '../../helpers/procfile.mjs';

const require = createRequire(import.meta.url);
const { loadProcfile, parseProcfile, ConfigFileError } = require('../../../dist/config/procfile.js');


function refused(fn) {
  try {
    fn();
  } catch (err) {
    assert.instance(err, ConfigFileError);
    assert.not.match(err.message, /\n/, 'one line');
    return err.message;
  }
  assert.unreachable('accepted');
}

test("the Procfile of Foreman's documentation (foreman(1), PROCFILE), as written there", () => {
  withApp('web: bundle exec thin start\njob: bundle exec rake jobs:work\n', null, (file, dir) => {
    assert.equal(loadProcfile(file, {}), {
      file,
      workdir: dir,
      envFile: null,
      env: {},
      services: [
        { name: 'web', command: 'bundle exec thin start', argv: ['/bin/sh', '-c', 'bundle exec thin start'], env: { PORT: '5000', PS: 'web.1' }, line: 1 },
        { name: 'job', command: 'bundle exec rake jobs:work', argv: ['/bin/sh', '-c', 'bundle exec rake jobs:work'], env: { PORT: '5100', PS: 'job.1' }, line: 2 },
      ],
    });
  });
});

test('comments, blank lines, CRLF, names with _ and -, no space after the colon; line numbers are the file\'s', () => {
  const text = '\uFEFF# processes\r\n\r\nweb: node server.js --port $PORT\r\n  # indented comment\r\nworker_2:node worker.js   \r\nclock-1:\tbin/clock\r\n';
  assert.equal(parseProcfile(text, 'Procfile'), [
    { name: 'web', command: 'node server.js --port $PORT', line: 3 },
    { name: 'worker_2', command: 'node worker.js', line: 5 },
    { name: 'clock-1', command: 'bin/clock', line: 6 },
  ]);
});

test('the .env beside it: its variables for every process; its PORT is the base; else the environment\'s; else 5000', () => {
  const procfile = 'web: a\nworker: b\nclock: c\n';
  withApp(procfile, '# settings\nPORT=6000\nexport RAILS_ENV="production"\n', (file, dir) => {
    const p = loadProcfile(file, { PORT: '7000' });
    assert.equal(p.env, { PORT: '6000', RAILS_ENV: 'production' });
    assert.is(p.envFile, path.join(dir, '.env'));
    assert.equal(p.services.map((s) => s.env.PORT), ['6000', '6100', '6200']);
  });
  withApp(procfile, 'RAILS_ENV=production\n', (file) => {
    assert.equal(loadProcfile(file, { PORT: '7000' }).services.map((s) => s.env.PORT), ['7000', '7100', '7200']);
    assert.equal(loadProcfile(file, {}).services.map((s) => s.env.PORT), ['5000', '5100', '5200']);
  });
});

test('the description runs as Foreman runs it: /bin/sh -c, in the Procfile\'s directory, $PORT and $PS set, .env applied', () => {
  withApp('web: echo "$PS $PORT $GREETING" && pwd\nworker: echo "$PS $PORT $GREETING"\n', 'GREETING=\'hello there\'\n', (file, dir) => {
    const p = loadProcfile(file, {});
    const outs = p.services.map((s) => {
      const r = spawnSync(s.argv[0], s.argv.slice(1), { cwd: p.workdir, env: { ...process.env, ...p.env, ...s.env }, encoding: 'utf8' });
      assert.is(r.status, 0);
      return r.stdout;
    });
    assert.equal(outs, [`web.1 5000 hello there\n${fs.realpathSync(dir)}\n`, 'worker.1 5100 hello there\n']);
  });
});

const bad = [
  ['web bundle exec thin start\n', 'Procfile:1: expected NAME: COMMAND'],
  ['web: a\n  job: b\n', 'Procfile:2: a process line starts with its name, with no space before it'],
  ['my.app: a\n', "Procfile:1: 'my.app' is not a process name: use letters, digits, _ and -"],
  ['web:\n', 'Procfile:1: web: no command after "web:"'],
  ['web: a\n\nweb: b\n', 'Procfile:3: web: already defined on line 1'],
  ['# nothing\n\n', 'Procfile: no processes: expected NAME: COMMAND lines'],
];
for (const [text, message] of bad) {
  test(`refused, one line naming file and line: ${JSON.stringify(text)}`, () => {
    assert.is(refused(() => parseProcfile(text, 'Procfile')), message);
  });
}

test('refused: a bad .env (its own file and line), a bad PORT, ports past 65535, a missing Procfile', () => {
  withApp('web: a\n', 'OK=1\nFOO = bar\n', (file) => {
    assert.is(refused(() => loadProcfile(file, {})), `${path.join(path.dirname(file), '.env')}:2: no space is allowed between the key and "="`);
  });
  withApp('web: a\n', 'X=1\nPORT=http\n', (file) => {
    assert.is(refused(() => loadProcfile(file, {})), `${path.join(path.dirname(file), '.env')}:2: PORT "http" in the .env is not a port number (1-65535)`);
  });
  withApp('web: a\n', null, (file) => {
    assert.is(refused(() => loadProcfile(file, { PORT: '0' })), `${file}: PORT "0" in tsinit's environment is not a port number (1-65535)`);
  });
  withApp('a: x\nb: y\n', 'PORT=65500\n', (file) => {
    assert.is(refused(() => loadProcfile(file, {})), `${file}:2: b: its PORT would be 65600 (base 65500 + 100 × 1), past 65535`);
  });
  assert.is(refused(() => loadProcfile('/nonexistent/Procfile', {})), '/nonexistent/Procfile: cannot read the Procfile: no such file or directory');
  withApp('web: a\n', null, (file, dir) => {
    assert.is(refused(() => loadProcfile(dir, {})), `${dir}: cannot read the Procfile: illegal operation on a directory`);
  });
});

test.run();
