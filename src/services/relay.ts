// The log relay for `log = "prefix"` and `log = "json"`: each service's stdout
// and stderr arrive through pipes and leave on tsinit's stdout and stderr as
// whole lines, prefixed with the service's name or as JSON objects.
//
// - Lines never interleave mid-line: every line is formatted whole and queued
//   in one piece on the one queue of its output (stdout and stderr share one
//   queue when they are the same file, as after 2>&1 or on a terminal).
// - A line longer than MAX_LINE bytes (16 KiB, the size at which Docker's log
//   copier splits lines too) is cut, at a UTF-8 character boundary; so is a
//   partial line left pending for IDLE_FLUSH_MS (a prompt, a progress dot).
//   The pieces that follow a cut are marked: "name + text" instead of
//   "name | text", and in JSON the cut piece has "partial": true.
// - Backpressure: when an output's queue passes its bound, the services
//   feeding it are no longer read; their pipes fill and their writes block,
//   as they would on a slow terminal. tsinit's memory stays bounded by about
//   one read (64 KiB) and one line per pipe plus the queue's bound.
// - Nothing is lost at exit: drain() resolves once every pipe has reached
//   end-of-file (every writer, the service and whatever inherited its
//   output, has closed it) and every byte has been written out.
// - Idle costs nothing: a timer exists only while a partial line waits (or
//   while an output that cannot signal "writable" is full, relaysink.ts).
import * as tty from 'node:tty';
import { native } from '../native';
import { check } from '../core/errno';
import type { Logger } from '../core/log';
import { openSink, sameFile, type SinkKind } from './relaysink';
import { guardStdio } from './relaystdio';
import { Source, type Limits, type Output, type RelayFormat, type RelayStream } from './relaysource';

export { guardStdio } from './relaystdio';
export { utf8Cut, SEPARATOR, CONTINUED, type RelayFormat, type RelayStream } from './relaysource';

/** Longest line written whole, in bytes (Docker's log copier splits at 16 KiB too). */
export const MAX_LINE = 16 * 1024;
/** How long a partial line may wait for its newline before it is written as it is. */
export const IDLE_FLUSH_MS = 150;
/** Bytes queued per output before the services feeding it are no longer read. */
const HIGH_WATER = 256 * 1024;

export interface RelayOptions {
  /** tsinit's descriptors the lines go to (default 1 and 2). Never closed; their flags are never changed. */
  stdout?: number;
  stderr?: number;
  /** Every service's name, so the prefixes line up from the first line on. */
  names?: readonly string[];
  /** Colour the names; default: when that output is a terminal and NO_COLOR is not set. */
  color?: boolean;
  /** Where a broken or degraded output is reported (once). */
  log?: Logger;
  /** Limits, for tests. */
  maxLine?: number;
  idleMs?: number;
  highWaterMark?: number;
}

/** One start's pipes. The child gets the write ends as its fds 1 and 2; the read ends belong to the relay. */
export interface ServicePipes {
  readonly stdout: number;
  readonly stderr: number;
  /** For NativeSpawnOptions.map (and SpawnRequest.map): [1, stdout, 2, stderr]. */
  readonly map: number[];
  /** Closes tsinit's copies of the write ends. Call right after the spawn, whether it worked or not:
   * the pipes reach end-of-file only when no process holds a write end. Idempotent. */
  closeChildEnds(): void;
  /** Resolves when both pipes have reached end-of-file and their last lines are queued. */
  readonly done: Promise<void>;
}

export interface Relay {
  /** New pipes for one start of a service (each restart gets new ones). Throws a Node-shaped pipe2 error. */
  open(service: string, format: RelayFormat): ServicePipes;
  /** Resolves when every pipe opened so far is at end-of-file and every line is written out. */
  drain(): Promise<void>;
  /** Stops at once: pipes are closed unread, queued output is dropped. For when a deadline has passed. */
  close(): void;
  /** Queues one line of tsinit's own (a log event) on an output, in the same queue as the relayed
   * lines, so neither can land inside the other. A newline is added if missing. */
  writeLine(stream: RelayStream, text: string): void;
  /** How each output is written (see relaysink.ts), for logs and tests. */
  readonly kinds: Readonly<Record<RelayStream, SinkKind>>;
}

export function createRelay(options: RelayOptions = {}): Relay {
  guardStdio();
  const fd1 = options.stdout ?? 1;
  const fd2 = options.stderr ?? 2;
  const hwm = options.highWaterMark ?? HIGH_WATER;
  const limits: Limits = { maxLine: Math.max(4, options.maxLine ?? MAX_LINE), idleMs: options.idleMs ?? IDLE_FLUSH_MS };
  const noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '';
  const makeOutput = (fd: number): Output => {
    const out: Output = {
      sink: openSink(fd, { highWaterMark: hwm, log: options.log }),
      color: options.color ?? (tty.isatty(fd) && !noColor),
      waiting: new Set(),
    };
    out.sink.onDrain = () => {
      const w = [...out.waiting];
      out.waiting.clear();
      for (const s of w) s.resume();
    };
    return out;
  };
  const out1 = makeOutput(fd1);
  const out2 = sameFile(fd1, fd2) ? out1 : makeOutput(fd2);
  const outputs = out1 === out2 ? [out1] : [out1, out2];
  let width = Math.max(0, ...(options.names ?? []).map((n) => n.length));
  const sources = new Set<Source>();
  let closed = false;

  const pipe = (): [number, number] => {
    const r = native.pipe2();
    if (typeof r === 'number') check(r, 'pipe2');
    return r as [number, number];
  };

  const forget = (s: Source): void => {
    sources.delete(s);
  };
  const widest = (): number => width;

  return {
    get kinds() {
      return { stdout: out1.sink.kind, stderr: out2.sink.kind };
    },
    open(service, format) {
      if (closed) throw new Error('the log relay is closed');
      width = Math.max(width, service.length);
      const [r1, w1] = pipe();
      let p2: [number, number];
      try {
        p2 = pipe();
      } catch (err) {
        native.close(r1);
        native.close(w1);
        throw err;
      }
      const [r2, w2] = p2;
      const a = new Source(r1, service, 'stdout', format, out1, widest, limits, forget);
      const b = new Source(r2, service, 'stderr', format, out2, widest, limits, forget);
      sources.add(a);
      sources.add(b);
      let open = true;
      return {
        stdout: w1,
        stderr: w2,
        map: [1, w1, 2, w2],
        closeChildEnds() {
          if (!open) return;
          open = false;
          native.close(w1);
          native.close(w2);
        },
        done: Promise.all([a.done, b.done]).then(() => undefined),
      };
    },
    writeLine(stream, text) {
      if (closed) return;
      (stream === 'stdout' ? out1 : out2).sink.write(Buffer.from(text.endsWith('\n') ? text : `${text}\n`));
    },
    async drain() {
      while (sources.size > 0) await Promise.all([...sources].map((s) => s.done));
      await Promise.all(outputs.map((o) => o.sink.flushed()));
    },
    close() {
      closed = true;
      for (const s of [...sources]) s.abort();
      for (const o of outputs) o.sink.close();
    },
  };
}
