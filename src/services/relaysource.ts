// One pipe of one service (its stdout or its stderr, for one start) read
// into whole lines, formatted, and queued on its output; see relay.ts for
// the rules (line limit, idle flush, continuation marks, backpressure).
import * as net from 'node:net';
import type { Sink } from './relaysink';

export type RelayFormat = 'prefix' | 'json';
export type RelayStream = 'stdout' | 'stderr';

/** Between the name and a line; CONTINUED instead when the line continues a cut one. */
export const SEPARATOR = '|';
export const CONTINUED = '+';
/** Formatted bytes handed to the output at a time, so one read cannot balloon the queue. */
const BATCH = 64 * 1024;
const READ_HIGH_WATER = 64 * 1024;
/** Foreground colours for names (no red: it reads as an error). */
const PALETTE = [36, 33, 32, 35, 34, 96, 93, 92, 95, 94] as const;
const NEWLINE = Buffer.from('\n');

/** Formatted lines on their way to the output, copied into one buffer (reads are not retained) and handed over in one write. */
class Batch {
  private buf: Buffer | null = null;
  private text = '';
  private stamp: string | null = null;
  size = 0;
  add(b: Buffer): void {
    if (!this.buf || this.buf.length - this.size < b.length) {
      const grown = Buffer.allocUnsafe(Math.max(16 * 1024, 2 * (this.size + b.length)));
      this.buf?.copy(grown, 0, 0, this.size);
      this.buf = grown;
    }
    b.copy(this.buf, this.size);
    this.size += b.length;
  }
  addText(t: string): void {
    this.text += t;
    this.size += t.length;
  }
  time(): string {
    return (this.stamp ??= new Date().toISOString());
  }
  take(): Buffer {
    const out = this.text !== '' ? Buffer.from(this.text) : this.buf ? this.buf.subarray(0, this.size) : Buffer.alloc(0);
    this.buf = null;
    this.text = '';
    this.size = 0;
    return out;
  }
}

export interface Output {
  sink: Sink;
  color: boolean;
  /** Sources paused until the sink drains. */
  waiting: Set<Source>;
}

/** A stable colour per name (FNV-1a), independent of order and of the other names. */
function colourOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return PALETTE[h % PALETTE.length]!;
}

/** Where to cut buf at or before limit without splitting a UTF-8 sequence (never before start). */
export function utf8Cut(buf: Buffer, start: number, limit: number): number {
  if (limit >= buf.length) return buf.length;
  let p = limit;
  for (let back = 0; back < 3 && p > start && (buf[p]! & 0xc0) === 0x80; back++) p--;
  return (buf[p]! & 0xc0) === 0x80 ? limit : p;
}

/** How many bytes at the end of buf are an incomplete UTF-8 sequence (0 to 3). */
function incompleteTail(buf: Buffer): number {
  for (let k = 1; k <= Math.min(3, buf.length); k++) {
    const c = buf[buf.length - k]!;
    if ((c & 0xc0) === 0x80) continue;
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return need > k ? k : 0;
  }
  return 0;
}

export interface Limits {
  maxLine: number;
  idleMs: number;
}

/** One pipe: a service's stdout or stderr for one start. */
export class Source {
  private pending: Buffer[] = [];
  private pendingLen = 0;
  /** The next piece continues a cut one. */
  private cont = false;
  private timer: NodeJS.Timeout | null = null;
  /** The unprocessed rest of a read, kept while the output is full. */
  private stash: Buffer | null = null;
  private ended = false;
  finished = false;
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private reader: net.Socket;
  /** The widest name so far: prefixes line up once every service has been opened. */
  private width: () => number;
  private prefixes: { width: number; normal: Buffer; cont: Buffer } | null = null;
  private jsonName: string;

  private service: string;
  private stream: RelayStream;
  private format: RelayFormat;
  private out: Output;
  private limits: Limits;
  private onFinish: (s: Source) => void;

  constructor(fd: number, service: string, stream: RelayStream, format: RelayFormat, out: Output, width: () => number, limits: Limits, onFinish: (s: Source) => void) {
    this.service = service;
    this.stream = stream;
    this.format = format;
    this.out = out;
    this.limits = limits;
    this.onFinish = onFinish;
    this.done = new Promise((r) => (this.resolveDone = r));
    this.width = width;
    this.jsonName = JSON.stringify(service);
    // A libuv pipe handle on our own read end (O_NONBLOCK there is ours alone:
    // the service's write end is another open file description and stays blocking).
    this.reader = new net.Socket({ fd, readable: true, writable: false, readableHighWaterMark: READ_HIGH_WATER } as net.SocketConstructorOpts);
    this.reader.on('data', (chunk: Buffer) => this.feed(chunk));
    this.reader.on('end', () => this.end());
    // EIO and the like: what was read is kept; the pipe is done.
    this.reader.on('error', () => this.end());
  }

  /** Appends one formatted line (its pieces, then a newline) to the batch. */
  private line(batch: Batch, pieces: Buffer[], partial: boolean): void {
    const cont = this.cont;
    this.cont = partial;
    if (this.format === 'json') {
      // The time is when tsinit read the line: one clock read per read(2).
      const str = pieces.length === 1 ? pieces[0]!.toString('utf8') : Buffer.concat(pieces).toString('utf8');
      batch.addText(`{"time":"${batch.time()}","service":${this.jsonName},"stream":"${this.stream}","line":${JSON.stringify(str)}${partial ? ',"partial":true' : ''}}\n`);
      return;
    }
    const w = this.width();
    if (this.prefixes?.width !== w) {
      const pre = (sep: string): Buffer => {
        const text = `${this.service.padEnd(w)} ${sep}`;
        return Buffer.from(this.out.color ? `\x1b[${colourOf(this.service)}m${text}\x1b[0m ` : `${text} `);
      };
      this.prefixes = { width: w, normal: pre(SEPARATOR), cont: pre(CONTINUED) };
    }
    batch.add(cont ? this.prefixes.cont : this.prefixes.normal);
    for (const p of pieces) batch.add(p);
    batch.add(NEWLINE);
  }

  /** The pending partial line's pieces followed by extra; pending is emptied. */
  private takePending(extra: Buffer): Buffer[] {
    if (this.pendingLen === 0) return [extra];
    const pieces = this.pending;
    pieces.push(extra);
    this.pending = [];
    this.pendingLen = 0;
    return pieces;
  }

  private feed(chunk: Buffer): void {
    const { maxLine } = this.limits;
    const batch = new Batch();
    let i = 0;
    while (i < chunk.length) {
      const nl = chunk.indexOf(0x0a, i);
      const end = nl < 0 ? chunk.length : nl;
      const room = maxLine - this.pendingLen;
      if (end - i > room) {
        const cut = utf8Cut(chunk, i, i + room);
        this.line(batch, this.takePending(chunk.subarray(i, cut)), true);
        i = cut;
      } else if (nl < 0) {
        this.pending.push(Buffer.from(chunk.subarray(i)));
        this.pendingLen += chunk.length - i;
        break;
      } else {
        this.line(batch, this.takePending(chunk.subarray(i, nl)), false);
        i = nl + 1;
      }
      if (batch.size >= BATCH && i < chunk.length && !this.out.sink.write(batch.take())) {
        this.stash = chunk.subarray(i);
        this.block();
        return;
      }
    }
    if (batch.size > 0 && !this.out.sink.write(batch.take())) this.block();
    this.armTimer();
  }

  private block(): void {
    this.reader.pause();
    this.out.waiting.add(this);
  }

  /** The output has room again. */
  resume(): void {
    const rest = this.stash;
    this.stash = null;
    if (rest) this.feed(rest);
    if (this.stash || this.out.waiting.has(this)) return;
    if (this.ended) this.finish();
    else this.reader.resume();
  }

  private armTimer(): void {
    if (this.pendingLen === 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
    } else if (this.timer) {
      this.timer.refresh();
    } else {
      this.timer = setTimeout(() => this.idleFlush(), this.limits.idleMs);
      this.timer.unref();
    }
  }

  /** A partial line waited long enough: out it goes, less an incomplete UTF-8 character. */
  private idleFlush(): void {
    this.timer = null;
    if (this.pendingLen === 0 || this.finished) return;
    const all = Buffer.concat(this.pending);
    const keep = incompleteTail(all);
    if (keep === all.length) return;
    this.pending = keep ? [Buffer.from(all.subarray(all.length - keep))] : [];
    this.pendingLen = keep;
    const batch = new Batch();
    this.line(batch, [all.subarray(0, all.length - keep)], true);
    if (!this.out.sink.write(batch.take())) this.block();
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.stash && !this.out.waiting.has(this)) this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // The last line had no newline: it is written anyway (bounded by maxLine).
    if (this.pendingLen > 0) {
      const batch = new Batch();
      this.line(batch, this.takePending(Buffer.alloc(0)), true);
      this.out.sink.write(batch.take());
    }
    this.out.waiting.delete(this);
    this.reader.destroy();
    this.onFinish(this);
    this.resolveDone();
  }

  /** close(): drop everything. */
  abort(): void {
    this.pending = [];
    this.pendingLen = 0;
    this.stash = null;
    this.ended = true;
    this.finish();
  }
}
