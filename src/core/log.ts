// Lifecycle events, one line each on stderr: "tsinit: <level>: <text>", or a
// JSON object per line with a timestamp and an event name. Written
// synchronously with write(2), never through process.stderr: for a pipe, libuv
// would set O_NONBLOCK on the open file description that the command shares,
// and the command's own writes would start failing with EAGAIN.
import * as fs from 'node:fs';

export const LEVELS = { error: 0, warning: 0, info: 1, debug: 2 } as const;
export type Level = keyof typeof LEVELS;
/** Names every JSON event has, with one meaning each: `pid` is tsinit's own
 * pid (a service's or the command's process is `child`). An event's fields
 * may not reuse them (a type error), and would not override them if they did. */
type Reserved = { readonly [K in 'ts' | 'level' | 'event' | 'msg' | 'pid']?: never };
export type Fields = Readonly<Record<string, string | number | boolean | null | readonly number[]>> & Reserved;

export interface Logger {
  verbosity: number;
  format: 'text' | 'json';
  /** One event: its name, the human text, and fields for the JSON form. */
  event(level: Level, name: string, text: string, fields?: Fields): void;
  error(msg: string): void;
  warning(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
  enabled(level: Level): boolean;
}

function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text);
  let off = 0;
  for (let tries = 0; off < buf.length && tries < 1000; tries++) {
    try {
      off += fs.writeSync(fd, buf, off);
    } catch (err) {
      // EAGAIN: someone made stderr non-blocking and the reader is slow. Retry
      // a bounded number of times rather than lose the line or hang PID 1.
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return;
    }
  }
}

export function createLogger(verbosity: number, format: 'text' | 'json' = 'text', fd = 2): Logger {
  const log: Logger = {
    verbosity,
    format,
    enabled: (level) => LEVELS[level] <= log.verbosity,
    event: (level, name, text, fields) => {
      if (LEVELS[level] > log.verbosity) return;
      if (log.format === 'json') {
        const own = { ts: new Date().toISOString(), level, event: name, msg: text, pid: process.pid };
        // Assigned again after the fields: the first keeps the keys' order, the second their values.
        writeAll(fd, `${JSON.stringify(Object.assign({ ...own }, fields, own))}\n`);
      } else {
        // Errors keep the plain form users grep for: "tsinit: cannot run 'x': ...".
        writeAll(fd, level === 'error' ? `tsinit: ${text}\n` : `tsinit: ${level}: ${text}\n`);
      }
    },
    error: (msg) => log.event('error', 'error', msg),
    warning: (msg) => log.event('warning', 'warning', msg),
    info: (msg) => log.event('info', 'info', msg),
    debug: (msg) => log.event('debug', 'debug', msg),
  };
  return log;
}
