// "tsinit: <level>: ..." lines on stderr, written synchronously with write(2).
// Never through process.stderr: for a pipe, libuv would set O_NONBLOCK on the
// open file description that the command shares, and the command's own writes
// would start failing with EAGAIN.
import * as fs from 'node:fs';

export const LEVELS = { error: 0, warning: 0, info: 1, debug: 2 } as const;
export type Level = keyof typeof LEVELS;

export interface Logger {
  verbosity: number;
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

export function createLogger(verbosity: number, fd = 2): Logger {
  const log: Logger = {
    verbosity,
    enabled: (level) => LEVELS[level] <= log.verbosity,
    // Errors keep the plain form users grep for: "tsinit: cannot run 'x': ...".
    error: (msg) => writeAll(fd, `tsinit: ${msg}\n`),
    warning: (msg) => writeAll(fd, `tsinit: warning: ${msg}\n`),
    info: (msg) => {
      if (log.verbosity >= LEVELS.info) writeAll(fd, `tsinit: info: ${msg}\n`);
    },
    debug: (msg) => {
      if (log.verbosity >= LEVELS.debug) writeAll(fd, `tsinit: debug: ${msg}\n`);
    },
  };
  return log;
}
