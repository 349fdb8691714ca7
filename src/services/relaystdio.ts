// process.stdout and process.stderr as plain blocking writers, so that no
// libuv stream is ever opened on tsinit's shared fds 1 and 2 (see guardStdio).
import * as os from 'node:os';
import { Writable } from 'node:stream';
import { writeFd } from './relaysink';

const E = os.constants.errno;

/** A blocking writer on fd, as tsinit's own log writes (src/core/log.ts). */
function plainWriter(fd: number): Writable {
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (let off = 0, tries = 0; off < chunk.length && tries < 1000; tries++) {
        const r = writeFd(fd)(chunk, off, chunk.length - off);
        if (r >= 0) off += r;
        else if (r !== -E.EAGAIN) break;
      }
      cb();
    },
  });
  return Object.assign(w, { fd, isTTY: false });
}

let guarded = false;

/**
 * Node's net.Socket#_destroy evaluates `this !== process.stderr`, and that
 * getter creates process.stderr on first use (node/lib/net.js): for a pipe or
 * socket a libuv stream on fd 2, which sets O_NONBLOCK on the description
 * tsinit shares; for a terminal, libuv reopens it and dup2s the copy over fd
 * 2. Every net.Socket the relay (or a TCP readiness probe) ends would do
 * that. So, before the first one, process.stdout and process.stderr become
 * plain blocking writers on fds 1 and 2, which is also all that a stray
 * console.log in tsinit should ever do.
 */
export function guardStdio(): void {
  if (guarded) return;
  guarded = true;
  for (const [name, fd] of [['stdout', 1], ['stderr', 2]] as const) {
    let stream: Writable | null = null;
    Object.defineProperty(process, name, { configurable: true, enumerable: true, get: () => (stream ??= plainWriter(fd)) });
  }
}
