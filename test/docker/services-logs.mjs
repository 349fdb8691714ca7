// Reads the logs of a container of test/docker/services (docker logs: the
// stdout and the stderr file) and checks what run.sh asks, printing one line
// of what it found, or what is wrong and exit 1:
//   node services-logs.mjs start OUT ERR   the start order
//   node services-logs.mjs stop OUT ERR    each service's own clean stop, in reverse order
// Every line is JSON: tsinit's events (-v --log-format json, on stderr, in the
// order tsinit wrote them) and the services' lines (log = "json": service,
// stream, line, and time, when tsinit read the line).
import { readFileSync } from 'node:fs';

const [mode, outFile, errFile] = process.argv.slice(2);
const parse = (file) =>
  readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => {
    try {
      return JSON.parse(l);
    } catch {
      fail(`not a JSON line in ${file}: ${l}`);
    }
  });
const out = parse(outFile);
const err = parse(errFile);
const events = err.filter((e) => e.event);
const lines = [...out, ...err].filter((e) => e.service && e.line !== undefined);

function fail(msg) {
  console.log(msg);
  process.exit(1);
}
// The index in tsinit's event stream of the first event named ev (of service s).
function at(ev, s) {
  const i = events.findIndex((e) => e.event === ev && (s === undefined || e.service === s));
  if (i < 0) fail(`no ${ev}${s ? ` event of ${s}` : ''}; events: ${events.map((e) => `${e.event}${e.service ? `(${e.service})` : ''}`).join(' ')}`);
  return i;
}
// When tsinit read the first line of service s matching re (the service's own bytes).
function said(s, re) {
  const l = lines.find((e) => e.service === s && re.test(e.line));
  if (!l) fail(`${s} never said ${re}: ${JSON.stringify(lines.filter((e) => e.service === s).map((e) => e.line).slice(-8))}`);
  return Date.parse(l.time);
}
// nginx's master pid, from its own "N#N: start worker process M" line.
function master() {
  const l = lines.find((e) => e.service === 'nginx' && / start worker process /.test(e.line));
  return l ? /(\d+)#\d+: start worker process/.exec(l.line)?.[1] : fail('nginx never started a worker');
}
function inOrder(what, values) {
  for (let i = 1; i < values.length; i++) if (!(values[i - 1][1] <= values[i][1])) fail(`${what}: ${values.map(([n, v]) => `${n}=${v}`).join(' ')}`);
}

const order = ['redis', 'web', 'nginx'];
if (mode === 'start') {
  // Each starts only once the one before it is ready (tsinit's events), and
  // the services' own start lines come in that order.
  const seq = order.flatMap((s) => [[`${s} started`, at('service-started', s)], [`${s} ready`, at('service-ready', s)]]);
  inOrder('events out of order', seq);
  if (!(at('service-ready', 'nginx') < at('services-ready'))) fail('services-ready before nginx was ready');
  const own = [
    ['redis', said('redis', /Ready to accept connections/)],
    ['web', said('web', /^web: listening on 127\.0\.0\.1:8080, redis said PONG$/)],
    ['nginx', said('nginx', /start worker process/)],
  ];
  inOrder("the services' own start lines", own);
  // tsinit is the container's PID 1: every event's pid is 1; a service's
  // process is child (nginx runs in the foreground: its master is the service's process).
  const notOwn = events.filter((e) => e.pid !== 1);
  if (notOwn.length) fail(`events whose pid is not tsinit's (1): ${notOwn.map((e) => `${e.event} pid ${e.pid}`).join(', ')}`);
  const nginxChild = events[at('service-started', 'nginx')].child;
  if (String(nginxChild) !== master()) fail(`service-started nginx: child ${nginxChild}, but nginx's master is ${master()}`);
  const status = events.find((e) => e.event === 'service-status' && e.service === 'web');
  if (!status || status.status !== 'serving') fail(`no STATUS=serving from web's sd_notify: ${JSON.stringify(status)}`);
  console.log(`events ${seq.map(([n]) => n).join(', ')}; web's STATUS=serving by notify`);
} else if (mode === 'stop') {
  const signals = { nginx: 3, web: 15, redis: 15 };
  const seq = [];
  for (const s of [...order].reverse()) {
    const i = at('service-stopping', s);
    if (events[i].signal !== signals[s]) fail(`${s} was stopped with signal ${events[i].signal}, not ${signals[s]}`);
    const x = events[at('service-exited', s)];
    if (x.status !== 0 || x.signal !== null) fail(`${s} did not exit 0: ${JSON.stringify(x)}`);
    if (x.child !== events[at('service-started', s)].child || x.pid !== 1) fail(`${s}: service-exited child ${x.child} pid ${x.pid}, not the started child and tsinit's 1`);
    seq.push([`${s} stopping`, i], [`${s} stopped`, at('service-stopped', s)]);
  }
  seq.push(['tsinit exit', at('exit')]);
  inOrder('not stopped in reverse order (nginx, web, redis), then tsinit', seq);
  // Nothing had to be killed or was left behind for tsinit's final sweep.
  const forced = events.filter((e) => ['service-killed', 'stop-budget-over', 'draining'].includes(e.event));
  if (forced.length) fail(`not a clean stop: ${forced.map((e) => e.msg).join('; ')}`);
  // Each one's own words for a clean stop, and nginx done before web heard
  // its signal, web done before Redis heard its.
  const own = [
    ['nginx-quit', said('nginx', /signal 3 \(SIGQUIT\) received/)],
    ['nginx-graceful', said('nginx', /gracefully shutting down/)],
    ['nginx-worker-exit', said('nginx', /worker process \d+ exited with code 0/)],
    // The master's own exit (its workers say "exit" too): the master is
    // the one that started the worker.
    ['nginx-exit', said('nginx', new RegExp(`\\[notice\\] ${master()}#\\d+: exit$`))],
    ['web-term', said('web', /^web: SIGTERM: closing$/)],
    ['web-closed', said('web', /^web: closed, exiting 0$/)],
    ['redis-term', said('redis', /Received SIGTERM scheduling shutdown/)],
    ['redis-saved', said('redis', /DB saved on disk/)],
    ['redis-bye', said('redis', /Redis is now ready to exit, bye bye/)],
  ];
  inOrder("the services' own stop lines", own);
  const exit = events[at('exit')];
  if (exit.status !== 0) fail(`tsinit exited ${exit.status}`);
  console.log('nginx (QUIT: graceful, exit), then web (TERM handler, exit 0), then redis (TERM: saved, ready to exit), each status 0');
} else fail(`usage: services-logs.mjs start|stop OUT ERR`);
