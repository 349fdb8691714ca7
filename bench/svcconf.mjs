// The supervision bench's configurations: the same services (one argv each)
// in each supervisor's own format. Each writer puts its files in `dir` and
// returns what the supervisor is started with (a file, or s6's scandir).
// Every supervisor restarts a service that exits, as soon as it allows.
import fs from 'node:fs';
import path from 'node:path';

const name = (i) => `s${String(i + 1).padStart(2, '0')}`;
const q = JSON.stringify; // TOML basic strings and JS strings take JSON's escapes for these paths

export const configs = {
  tsinit(dir, cmds) {
    const text = cmds
      .map((argv, i) => `[service.${name(i)}]\ncommand = [${argv.map(q).join(', ')}]\nrestart = { policy = "always", backoff = "0s", backoff_max = "0s", limit = 0 }\n`)
      .join('\n');
    const file = path.join(dir, 'tsinit.toml');
    fs.writeFileSync(file, text);
    return file;
  },

  // nodaemon as PID 1; every program logs to supervisord's stdout as in a
  // container; startsecs 0, so an instance counts as started at once and its
  // exit is a plain restart (no startretries backoff).
  supervisord(dir, cmds) {
    const head = [
      '[supervisord]',
      'nodaemon=true',
      'user=root',
      'logfile=/dev/null',
      'logfile_maxbytes=0',
      `pidfile=${path.join(dir, 'supervisord.pid')}`,
      `childlogdir=${dir}`,
      '',
    ];
    const progs = cmds.map((argv, i) =>
      [
        `[program:${name(i)}]`,
        `command=${argv.join(' ')}`,
        'autorestart=true',
        'startsecs=0',
        'stopwaitsecs=30',
        'stdout_logfile=/dev/stdout',
        'stdout_logfile_maxbytes=0',
        'redirect_stderr=true',
        '',
      ].join('\n'),
    );
    const file = path.join(dir, 'supervisord.conf');
    fs.writeFileSync(file, `${head.join('\n')}\n${progs.join('\n')}`);
    return file;
  },

  // One service directory each. A command run by its absolute path gets
  // ./run as a symlink to the binary with its arguments in ./svc.args (the
  // bench's service binary reads them), so no shell sits between
  // s6-supervise and the service's first instruction; others get
  // `#!/bin/sh exec ...`.
  s6(dir, cmds) {
    const scan = path.join(dir, 'scan');
    cmds.forEach((argv, i) => {
      const sd = path.join(scan, name(i));
      fs.mkdirSync(sd, { recursive: true });
      if (path.basename(argv[0]) === 'svc') {
        fs.symlinkSync(argv[0], path.join(sd, 'run'));
        fs.writeFileSync(path.join(sd, 'svc.args'), `${argv.slice(1).join('\n')}\n`);
      } else fs.writeFileSync(path.join(sd, 'run'), `#!/bin/sh\nexec ${argv.join(' ')}\n`, { mode: 0o755 });
    });
    return scan;
  },

  // Fork mode, the command run directly (interpreter none), no restart delay.
  pm2(dir, cmds) {
    const apps = cmds.map((argv, i) => ({
      name: name(i),
      script: argv[0],
      args: argv.slice(1),
      interpreter: 'none',
      exec_mode: 'fork',
      autorestart: true,
      restart_delay: 0,
      max_restarts: 1000,
      kill_timeout: 30_000,
    }));
    const file = path.join(dir, 'ecosystem.config.js');
    fs.writeFileSync(file, `module.exports = ${JSON.stringify({ apps }, null, 1)};\n`);
    return file;
  },
};
