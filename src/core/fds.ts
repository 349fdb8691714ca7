// Which descriptors tsinit inherited from its parent, so exactly those (and
// 0, 1, 2) pass through to the command, as with tini: systemd socket
// activation and --preserve-fds depend on it.
//
// Every descriptor open at exec was inherited (close-on-exec ones are gone by
// then). Node blurs that record: at start-up it sets FD_CLOEXEC on 0..16
// (seen with strace on Node 20, 22 and 24) and then opens its own
// descriptors, all close-on-exec. So:
// - from 17 up, inherited = open without FD_CLOEXEC (exact);
// - from 3 to 16, inherited = open and not one of Node's own kinds: the event
//   loop's epoll and eventfd descriptors (anonymous inodes) and pipes whose two
//   ends are both held by this process (libuv's wake-up and signal pipes).
//   An inherited pipe end, socket, file or device passes; an inherited pair
//   of both ends of one pipe within 3..16 would be mistaken for Node's.
import * as fs from 'node:fs';

const NODE_MARKS_CLOEXEC_BELOW = 17;
const O_CLOEXEC = 0o2000000;

function cloexec(fd: number): boolean {
  const info = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1');
  const m = /^flags:\s*([0-7]+)/m.exec(info);
  return m ? (parseInt(m[1]!, 8) & O_CLOEXEC) !== 0 : true;
}

/** Inherited descriptors from 3 up, ascending. Reads /proc/self/fd; [] without /proc. */
export function inheritedFds(): number[] {
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
