// The io_uring check before the drop (CVE-2024-22017): a ring whose kernel
// polling thread was made while tsinit was root would keep root's credentials.
import * as fs from 'node:fs';

/**
 * Whether libuv made an io_uring ring with a kernel submission thread
 * (IORING_SETUP_SQPOLL) while tsinit was root. That thread keeps the
 * credentials of the ring's creator, so requests through it would still run
 * as root after the drop (CVE-2024-22017). Rings without it, which newer
 * libuv (Node 22 and later) makes for epoll_ctl batching, are harmless: each
 * request runs with its submitter's current credentials. Node 20 makes an
 * SQPOLL ring only with UV_USE_IO_URING=1. A ring whose fdinfo does not say
 * (a kernel too old to print SqThread) counts as one.
 */
export function sqpollRing(): boolean {
  let fds: string[];
  try {
    fds = fs.readdirSync('/proc/self/fd');
  } catch {
    return false;
  }
  return fds.some((fd) => {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) !== 'anon_inode:[io_uring]') return false;
      const m = /^SqThread:\s*(-?[0-9]+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'));
      return !m || Number(m[1]) >= 0;
    } catch {
      return false;
    }
  });
}
