// Which descriptors tsinit inherited from its parent, so exactly those (and
// 0, 1, 2) pass through to the command, as with tini: systemd socket
// activation, --preserve-fds and a make jobserver depend on it.
//
// Started through its launcher (native/launcher.c, the `tsinit` command),
// tsinit is told exactly: the launcher lists every descriptor open without
// FD_CLOEXEC before it execs node, in TSINIT_INHERITED_FDS. That is the
// record; nothing below is guessed. (It holds as long as nothing between the
// launcher and node closes descriptors: a TSINIT_NODE that is a wrapper must
// exec node directly.)
//
// Started as `node dist/cli.js`, tsinit has to reconstruct it, and Node blurs
// it: at start-up Node sets FD_CLOEXEC on 0..16 (seen with strace on Node 20,
// 22 and 24) and then opens its own descriptors, all close-on-exec. So, for
// that way of starting only:
// - from 17 up, inherited = open without FD_CLOEXEC (exact);
// - from 3 to 16, inherited = open and not one of Node's own kinds: the event
//   loop's epoll and eventfd descriptors (anonymous inodes) and pipes whose two
//   ends are both held by this process (libuv's wake-up and signal pipes).
//   An inherited pipe end, socket, file or device passes; an inherited pair
//   of both ends of one pipe, the same pipe end twice (3>&1 4>&1 with stdout
//   a pipe) or an inherited eventfd, timerfd, signalfd or pidfd within 3..16
//   is mistaken for Node's and does not reach the command.
import * as fs from 'node:fs';
import { LAUNCHER_FDS } from './proc';

const NODE_MARKS_CLOEXEC_BELOW = 17;
const O_CLOEXEC = 0o2000000;

/** The launcher's record ("3,4,20", or "" for none) as descriptors; null if
 * it is not one (then the scan decides). */
export function parseFdRecord(record: string): number[] | null {
  if (record === '') return [];
  if (!/^[0-9]+(,[0-9]+)*$/.test(record)) return null;
  const fds = record.split(',').map(Number);
  return fds.every((fd, i) => Number.isSafeInteger(fd) && fd >= 3 && (i === 0 || fd > fds[i - 1]!)) ? fds : null;
}

function cloexec(fd: number): boolean {
  const info = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1');
  const m = /^flags:\s*([0-7]+)/m.exec(info);
  return m ? (parseInt(m[1]!, 8) & O_CLOEXEC) !== 0 : true;
}

/** The reconstruction from /proc/self/fd, for `node dist/cli.js`; [] without /proc. */
function scanFds(): number[] {
  let names: string[];
  try {
    names = fs.readdirSync('/proc/self/fd');
  } catch {
    return [];
  }
  const links = new Map<number, string>();
  for (const name of names) {
    const fd = Number(name);
    if (!(fd >= 3)) continue;
    try {
      links.set(fd, fs.readlinkSync(`/proc/self/fd/${name}`));
    } catch {
      // The descriptor readdir itself used, already closed.
    }
  }
  const seen = new Map<string, number>();
  for (const link of links.values()) seen.set(link, (seen.get(link) ?? 0) + 1);

  const out: number[] = [];
  for (const [fd, link] of links) {
    try {
      if (fd >= NODE_MARKS_CLOEXEC_BELOW) {
        if (!cloexec(fd)) out.push(fd);
      } else if (!link.startsWith('anon_inode:') && !(link.startsWith('pipe:') && seen.get(link)! >= 2)) {
        out.push(fd);
      }
    } catch {
      // Closed meanwhile: not inherited.
    }
  }
  return out.sort((a, b) => a - b);
}

/** Inherited descriptors from 3 up, ascending: the launcher's record when
 * there is one, else the /proc scan. */
export function inheritedFds(record: string | undefined = process.env[LAUNCHER_FDS]): number[] {
  const fds = record === undefined ? null : parseFdRecord(record);
  return fds ?? scanFds();
}
