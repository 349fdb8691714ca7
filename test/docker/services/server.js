// The web service of the Docker example (test/docker/run.sh, README "Several
// services"): an HTTP server on 127.0.0.1:8080 that counts requests in Redis.
// No npm packages: it speaks RESP to Redis over node:net. It tells tsinit it
// is ready (sd_notify READY=1 to $NOTIFY_SOCKET) once it listens and Redis
// has answered PING. Node has no unix datagram sockets, so the datagram is
// sent by sdnotify, a small static C program (test/fixtures/sdnotify.c).
'use strict';
const http = require('node:http');
const net = require('node:net');
const { execFile } = require('node:child_process');

const say = (line) => process.stdout.write(`${line}\n`);

// One connection to Redis; replies come back in the order commands went out.
const redis = net.connect(6379, '127.0.0.1');
const waiting = [];
let input = '';
redis.setEncoding('utf8');
redis.on('data', (chunk) => {
  input += chunk;
  // Only the replies this server asks for: +simple, -error, :integer.
  let end;
  while ((end = input.indexOf('\r\n')) >= 0) {
    const line = input.slice(0, end);
    input = input.slice(end + 2);
    const done = waiting.shift();
    if (done) done(line[0] === '-' ? new Error(line.slice(1)) : null, line.slice(1));
  }
});
redis.on('error', (err) => {
  say(`web: redis: ${err.message}`);
  process.exit(1);
});
function command(args, done) {
  waiting.push(done);
  redis.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
}

const server = http.createServer((req, res) => {
  command(['INCR', 'hits'], (err, n) => {
    if (err) {
      res.statusCode = 500;
      res.end(`${err.message}\n`);
      return;
    }
    res.end(`hits=${n}\n`);
  });
});

command(['PING'], (err, pong) => {
  if (err) throw err;
  server.listen(8080, '127.0.0.1', () => {
    say(`web: listening on 127.0.0.1:8080, redis said ${pong}`);
    execFile('sdnotify', ['READY=1', 'STATUS=serving'], (e) => e && say(`web: sdnotify: ${e.message}`));
  });
});

// The stop signal: finish the requests in flight, close Redis, exit 0.
process.on('SIGTERM', () => {
  say('web: SIGTERM: closing');
  server.close(() => {
    redis.end(() => {
      say('web: closed, exiting 0');
      process.exit(0);
    });
  });
});
