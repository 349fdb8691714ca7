// How a service says it is ready: a tcp connect that succeeds, an HTTP GET
// answered 2xx, a check
// command that exits 0, a newline on a pipe (s6's notification-fd), or
// sd_notify's READY=1 on a datagram socket of its own (attribution by
// socket, never by guessing a sender). Each probe reports once and can be
// cancelled; none keeps a timer once it has reported.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import { native } from '../native';
import { errnoMessage, UserError } from '../core/errno';
import { EXIT } from '../core/exit';
import type { Exit } from '../core/reaper';
import { httpTarget } from '../config/plan';

const E = os.constants.errno;
const SIGKILL = os.constants.signals.SIGKILL;
const AF_UNIX = 1;
const SOCK_DGRAM = 2;

export interface Probe {
  cancel(): void;
}

/** One attempt of a polled probe: calls end(ready) when it is over (more calls are ignored); destroy() cuts it short. */
type Attempt = (end: (ready: boolean) => void) => { destroy(): void };

/** Runs attempt, and again intervalMs after each one that ended not ready, until one is ready: then onReady, and nothing is left running. */
function poll(intervalMs: number, attempt: Attempt, onReady: () => void): Probe {
  let timer: NodeJS.Timeout | null = null;
  let live: { destroy(): void } | null = null;
  let done = false;
  const run = (): void => {
    timer = null;
    let over = false;
    let handle: { destroy(): void } | null = null;
    const end = (ready: boolean): void => {
      if (over) return;
      over = true;
      handle?.destroy();
      live = null;
      if (done) return;
      if (ready) {
        done = true;
        onReady();
      } else timer = setTimeout(run, intervalMs);
    };
    handle = attempt(end);
    if (over) handle.destroy();
    else live = handle;
  };
  run();
  return {
    cancel: () => {
      done = true;
      if (timer) clearTimeout(timer);
      live?.destroy();
    },
  };
}

/** Connects to HOST:PORT every intervalMs until one connect succeeds. */
export function tcpProbe(address: string, intervalMs: number, onReady: () => void): Probe {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):([0-9]+)$/.exec(address)!;
  const host = m[1] ?? m[2]!;
  const port = Number(m[3]);
  return poll(intervalMs, (end) => {
    const s = net.connect({ host, port });
    s.once('connect', () => end(true));
    s.on('error', () => end(false));
    return s;
  }, onReady);
}

/** How long one HTTP attempt may take (connect to the end of the headers) before it counts as failed. */
const HTTP_ATTEMPT_MS = 2000;

/**
 * GETs url (checked by config/plan.ts) every intervalMs (after the last
 * attempt ended) until one is answered 2xx; each attempt is cut off after
 * HTTP_ATTEMPT_MS. No agent, so no keep-alive socket or timer stays behind.
 */
export function httpProbe(url: string, intervalMs: number, onReady: () => void): Probe {
  const target = httpTarget(url); // checked by config/plan.ts: never throws here
  return poll(intervalMs, (end) => {
    const r = http.request({ host: target.host, port: target.port, path: target.path, method: 'GET', agent: false, timeout: HTTP_ATTEMPT_MS, headers: { 'user-agent': 'tsinit', connection: 'close' } });
    // An error can follow a timeout or the destroy that ends the attempt: end() counts once.
    r.on('error', () => end(false));
    r.on('timeout', () => end(false));
    r.on('response', (res) => {
      // The body is not read: the status says it all, and destroying the request aborts the rest.
      res.on('error', () => {});
      end(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300);
    });
    r.end();
    return r;
  }, onReady);
}

export interface CheckHost {
  /** Starts argv as the service would run (its user, groups, env, cwd); returns the pid or throws. */
  spawnCheck(argv: Buffer[]): number;
  /** onExit(e) when pid is reaped. */
  watchPid(pid: number, onExit: (e: Exit) => void): void;
}

/** Runs the check every intervalMs (after the last one ended) until it exits 0. */
export function execProbe(host: CheckHost, argv: Buffer[], intervalMs: number, onReady: () => void, onFail: (why: string) => void): Probe {
  let timer: NodeJS.Timeout | null = null;
  let running = 0;
  let done = false;
  const run = (): void => {
    timer = null;
    let pid: number;
    try {
      pid = host.spawnCheck(argv);
    } catch (err) {
      done = true;
      onFail(`the readiness check cannot run: ${(err as Error).message}`);
      return;
    }
    running = pid;
    host.watchPid(pid, (e) => {
      running = 0;
      if (done) return;
      if (e.code === 0) {
        done = true;
        onReady();
      } else timer = setTimeout(run, intervalMs);
    });
  };
  run();
  return {
    cancel: () => {
      done = true;
      if (timer) clearTimeout(timer);
      // A check still running is tsinit's unreaped child (pinned): its group goes.
      if (running) native.kill(-running, SIGKILL);
    },
  };
}

/** s6's notification-fd: ready at the first newline on the pipe tsinit holds the read end of. */
export function pipeProbe(readFd: number, onReady: () => void): Probe {
  let open = true;
  const close = (): void => {
    if (!open) return;
    open = false;
    native.fdWatchStop(readFd);
    native.close(readFd);
  };
  const r = native.fdWatchStart(readFd, () => {
    const b = native.fdRead(readFd);
    if (typeof b === 'number') {
      if (b !== -E.EAGAIN && b !== -E.EINTR) close();
      return;
    }
    // EOF without a newline: the service closed the pipe; it never said it is ready.
    if (b.length === 0) close();
    else if (b.includes(0x0a)) {
      close();
      onReady();
    }
  });
  if (r < 0) close();
  return { cancel: close };
}

export interface NotifyMessage {
  ready: boolean;
  stopping: boolean;
  status: string | null;
}

/** sd_notify(3)'s wire format: newline-separated KEY=VALUE assignments in one datagram. */
export function parseNotify(data: Buffer): NotifyMessage {
  const msg: NotifyMessage = { ready: false, stopping: false, status: null };
  for (const line of data.toString('utf8').split('\n')) {
    if (line === 'READY=1') msg.ready = true;
    else if (line === 'STOPPING=1') msg.stopping = true;
    else if (line.startsWith('STATUS=')) msg.status = line.slice(7);
  }
  return msg;
}

/**
 * One service's NOTIFY_SOCKET: DIR/notify in a directory of its own (mode
 * 0700, owned by the service's user, inside tsinit's 0711 runtime directory),
 * so only that user's processes can send to it, and whatever arrives on it
 * is that service's. Made once and kept across restarts.
 */
export class NotifyChannel {
  readonly path: string;
  private readonly fd: number;
  private handler: (m: NotifyMessage) => void = () => {};

  private constructor(path: string, fd: number) {
    this.path = path;
    this.fd = fd;
  }

  /** The channel for service; a failure throws the UserError (exit 125)
   * naming the service and the step. */
  static open(service: string, dir: string, uid: number, gid: number): NotifyChannel {
    const fail = (why: string): never => {
      throw new UserError(`service ${service}: notify socket: ${why}`, EXIT.startFailed);
    };
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
      fs.chownSync(dir, uid, gid);
    } catch (err) {
      fail(`cannot make ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    const path = `${dir}/notify`;
    const fd = native.socket(AF_UNIX, SOCK_DGRAM);
    if (fd < 0) fail(`socket: ${errnoMessage(fd)}`);
    // Through a handle on the directory, as every socket file root makes
    // (privileges/sockets.ts): nothing on the way is followed twice.
    const dirfd = native.openDirSafe(Buffer.from(dir));
    if (dirfd < 0) {
      native.close(fd);
      fail(`cannot open ${dir}: ${errnoMessage(dirfd)}`);
    }
    const name = Buffer.from('notify');
    let r = native.bindUnixAt(fd, dirfd, name, 0o600);
    if (r === 0) r = native.fchownat(dirfd, name, uid, gid);
    native.close(dirfd);
    if (r < 0) {
      native.close(fd);
      fail(`cannot bind ${path}: ${errnoMessage(r)}`);
    }
    const ch = new NotifyChannel(path, fd);
    const w = native.fdWatchStart(fd, () => ch.drain());
    if (w < 0) {
      native.close(fd);
      fail(`cannot watch ${path}: ${errnoMessage(w)}`);
    }
    return ch;
  }

  onMessage(handler: (m: NotifyMessage) => void): void {
    this.handler = handler;
  }

  private drain(): void {
    for (let i = 0; i < 64; i++) {
      const d = native.notifyRecv(this.fd);
      if (typeof d === 'number') return;
      this.handler(parseNotify(d));
    }
  }

  close(): void {
    native.fdWatchStop(this.fd);
    native.close(this.fd);
  }
}
