// Where the log relay writes: tsinit's own stdout or stderr, without ever
// blocking PID 1 and without setting O_NONBLOCK on a description others share.
//
// tsinit's fd 1 and 2 are shared with services in raw mode (they inherit the
// same open file description), with tsinit's own log (src/core/log.ts writes
// them with blocking write(2)) and often with the container runtime. O_NONBLOCK
// lives on the open file description, not the descriptor (man 2 open, man 2
// fcntl), so setting it, as libuv does for any pipe it opens, would make every
// other writer's blocking writes fail with EAGAIN. A blocking write, in turn,
// would stop PID 1 whenever the reader (a log driver, a stalled terminal)
// stops reading. So, by what the descriptor is (fstat):
// - a pipe or FIFO (Docker, containerd, Kubernetes): reopened through
//   /proc/self/fd/N, which gives a new open file description of the same pipe,
//   made non-blocking and driven by libuv (a net.Socket: epoll says when there
//   is room again). libuv does the same reopening for terminals (uv_tty_init).
//   Reopening needs /proc and permission on the pipe's inode (a pipe created by
//   root, reopened by a non-root tsinit, is refused): then as for a socket.
// - a socket (journald's stdout; the "pipe" stdio of Node's child_process):
//   it cannot be reopened (ENXIO), so each write is pwritev2(RWF_NOWAIT)
//   (native/pipe.c): non-blocking for that call only; when the socket is full,
//   a retry timer runs (only while output waits).
// - a terminal: reopened likewise (O_NOCTTY: a session leader that gave up
//   its terminal must not get it back by opening it), written with write(2);
//   EAGAIN (a terminal stopped with ^S) waits on the retry timer.
// - a regular file or another device: written in place with write(2), which
//   does not wait for a reader (reopening a file would lose O_APPEND's shared
//   offset).
// Where none of that works (no /proc and a kernel without RWF_NOWAIT for
// pipes), blocking writes remain, with a warning: that is tsinit's own log's
// behaviour, and losing service output silently would be worse.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as tty from 'node:tty';
import { native } from '../native';
import { errnoCode } from '../core/errno';
import type { Logger } from '../core/log';

const E = os.constants.errno;
/** Retry delays while the output is full and cannot tell us when it has room. */
const RETRY_FIRST_MS = 2;
const RETRY_MAX_MS = 100;

/** pipe: an own non-blocking description, libuv; nowait: pwritev2(RWF_NOWAIT) on the shared one;
 * tty: an own non-blocking description; file: write(2) in place; blocking: the last resort; none: no such fd. */
export type SinkKind = 'pipe' | 'nowait' | 'tty' | 'file' | 'blocking' | 'none';

export interface Sink {
  readonly kind: SinkKind;
  /** Queues bytes in order. false: the queue is over its bound; feed no more until onDrain runs. */
  write(buf: Buffer): boolean;
  /** Called (asynchronously) once the queue is under its bound again after write returned false. */
  onDrain: (() => void) | null;
  /** Resolves when every queued byte is written, or dropped because the output is gone. */
  flushed(): Promise<void>;
  /** Stops writing: what is queued is dropped. The descriptor tsinit was given stays open. */
  close(): void;
}

/** Calls the waiters of a Promise once, for flushed(). */
class Waiters {
  private list: (() => void)[] = [];
  wait(): Promise<void> {
    return new Promise((resolve) => this.list.push(resolve));
  }
  wake(): void {
    const l = this.list;
    this.list = [];
    for (const w of l) w();
  }
}

function errnoOf(err: unknown): number {
  const n = (err as NodeJS.ErrnoException).errno;
  return typeof n === 'number' ? (n > 0 ? -n : n) : -E.EIO;
}

/** write(2) as a number: bytes written, or -errno. */
export function writeFd(fd: number): (b: Buffer, off: number, len: number) => number {
  return (b, off, len) => {
    try {
      return fs.writeSync(fd, b, off, len);
    } catch (err) {
      return errnoOf(err);
    }
  };
}

/**
 * A queue written by one non-blocking try at a time; EAGAIN arms a retry
 * timer (2 ms doubling to 100 ms), which exists only while bytes wait.
 */
class PollSink implements Sink {
  onDrain: (() => void) | null = null;
  private queue: Buffer[] = [];
  private head = 0;
  private queued = 0;
  private needDrain = false;
  private timer: NodeJS.Timeout | null = null;
  private delay = RETRY_FIRST_MS;
  private dead = false;
  private idle = new Waiters();

  kind: SinkKind;
  private tryWrite: (b: Buffer, off: number, len: number) => number;
  private hwm: number;
  private warn: (text: string) => void;
  private fallback: (() => (b: Buffer, off: number, len: number) => number) | null;
  private onClose: () => void;

  constructor(
    kind: SinkKind,
    tryWrite: (b: Buffer, off: number, len: number) => number,
    hwm: number,
    warn: (text: string) => void,
    fallback: (() => (b: Buffer, off: number, len: number) => number) | null = null,
    onClose: () => void = () => {},
  ) {
    this.kind = kind;
    this.tryWrite = tryWrite;
    this.hwm = hwm;
    this.warn = warn;
    this.fallback = fallback;
    this.onClose = onClose;
  }

  write(buf: Buffer): boolean {
    if (this.dead || buf.length === 0) return true;
    this.queue.push(buf);
    this.queued += buf.length;
    if (!this.timer) this.flush();
    if (this.queued < this.hwm) return true;
    this.needDrain = true;
    return false;
  }

  flushed(): Promise<void> {
    return this.queued === 0 ? Promise.resolve() : this.idle.wait();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.drop();
    this.dead = true;
    this.idle.wake();
    this.onClose();
  }

  private drop(): void {
    this.queue = [];
    this.head = 0;
    this.queued = 0;
  }

  private flush(): void {
    while (this.queue.length > 0) {
      const b = this.queue[0]!;
      const r = this.tryWrite(b, this.head, b.length - this.head);
      if (r >= 0) {
        this.delay = RETRY_FIRST_MS;
        this.head += r;
        this.queued -= r;
        if (this.head === b.length) {
          this.queue.shift();
          this.head = 0;
        }
      } else if (r === -E.EAGAIN) {
        this.timer = setTimeout(() => {
          this.timer = null;
          this.flush();
        }, this.delay);
        this.delay = Math.min(this.delay * 2, RETRY_MAX_MS);
        break;
      } else if (r === -E.EINTR) {
        continue;
      } else if (r === -E.EOPNOTSUPP && this.fallback) {
        this.warn(`log relay: ${this.kind} output does not take non-blocking writes here: writing it with blocking writes`);
        this.tryWrite = this.fallback();
        this.kind = 'blocking';
        this.fallback = null;
      } else {
        // EPIPE (the reader is gone), EIO, ...: nothing more can be written.
        // Output is dropped from here on, so services never block on it.
        this.warn(`log relay: cannot write ${this.kind} output (${errnoCode(r)}): service output is discarded from now on`);
        this.drop();
        this.dead = true;
      }
    }
    if (this.queued === 0) this.idle.wake();
    if (this.needDrain && this.queued < this.hwm && this.timer === null) {
      this.needDrain = false;
      // write() flushes synchronously too: never call back into the feeder from inside it.
      if (this.onDrain) setImmediate(this.onDrain);
    }
  }
}

/** An own non-blocking description of a pipe, written through libuv (epoll-driven). */
class StreamSink implements Sink {
  readonly kind = 'pipe' as const;
  onDrain: (() => void) | null = null;
  private inflight = 0;
  private dead = false;
  private idle = new Waiters();
  private sock: net.Socket;

  constructor(fd: number, hwm: number, warn: (text: string) => void) {
    this.sock = new net.Socket({ fd, readable: false, writable: true, writableHighWaterMark: hwm } as net.SocketConstructorOpts);
    this.sock.on('drain', () => this.onDrain?.());
    this.sock.on('error', (err) => {
      if (this.dead) return;
      warn(`log relay: cannot write pipe output (${(err as NodeJS.ErrnoException).code ?? err.message}): service output is discarded from now on`);
      this.dead = true;
      this.sock.destroy();
      this.inflight = 0;
      this.idle.wake();
      if (this.onDrain) setImmediate(this.onDrain);
    });
  }

  write(buf: Buffer): boolean {
    if (this.dead || buf.length === 0) return true;
    this.inflight++;
    return this.sock.write(buf, () => {
      if (--this.inflight <= 0) this.idle.wake();
    });
  }

  flushed(): Promise<void> {
    return this.dead || this.inflight === 0 ? Promise.resolve() : this.idle.wait();
  }

  close(): void {
    this.dead = true;
    this.sock.destroy();
    this.idle.wake();
  }
}

/** O_NOCTTY is in fs.constants on Linux; the fallback value is Linux's. */
const O_NOCTTY = fs.constants.O_NOCTTY ?? 0o400;

/** A new open file description of whatever fd is (see the header), or null. */
function reopen(fd: number): number | null {
  try {
    return fs.openSync(`/proc/self/fd/${fd}`, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK | O_NOCTTY);
  } catch {
    return null;
  }
}

export interface SinkOptions {
  /** Queue bound in bytes before write() says "stop". */
  highWaterMark: number;
  log?: Logger | undefined;
}

/** The output for relayed lines on tsinit's descriptor fd (never closed, its flags never changed). */
export function openSink(fd: number, opts: SinkOptions): Sink {
  const warn = (text: string): void => opts.log?.warning(text);
  const hwm = opts.highWaterMark;
  let st: fs.Stats;
  try {
    st = fs.fstatSync(fd);
  } catch {
    // No such descriptor: as with `2>&-`, the output goes nowhere.
    return new PollSink('none', (_b, _o, len) => len, hwm, warn);
  }
  const blocking = (): ((b: Buffer, off: number, len: number) => number) => writeFd(fd);
  const nowait = (b: Buffer, off: number, len: number): number => native.writeNowait(fd, b, off, len);
  if (st.isFIFO()) {
    const own = reopen(fd);
    if (own !== null) return new StreamSink(own, hwm, warn);
    return new PollSink('nowait', nowait, hwm, warn, blocking);
  }
  if (st.isSocket()) return new PollSink('nowait', nowait, hwm, warn, blocking);
  if (st.isCharacterDevice() && tty.isatty(fd)) {
    const own = reopen(fd);
    if (own !== null) return new PollSink('tty', writeFd(own), hwm, warn, null, () => fs.closeSync(own));
    warn('log relay: cannot reopen the terminal: writing it with blocking writes');
    return new PollSink('blocking', blocking(), hwm, warn);
  }
  return new PollSink('file', blocking(), hwm, warn);
}

/** Whether two descriptors are the same file (2>&1, one terminal): then they share one sink, so lines stay whole. */
export function sameFile(a: number, b: number): boolean {
  try {
    const x = fs.fstatSync(a);
    const y = fs.fstatSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}
