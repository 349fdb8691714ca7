// --listen specs → bound sockets, the one line saying why a bind failed, and
// closing them again: for a unix socket, its file made, owned and removed
// only through a handle on its directory, even after the drop.
//
// Why handles: the directory of a unix socket may be writable by someone
// else (/run/app owned by the service's user). Root following the path a
// second time (chown after bind, unlink on failure) would follow whatever
// was swapped in meanwhile: a symlink to /etc makes root chown /etc/s. So
// the directory is resolved once (sock_open_dir_safe: systemd's CHASE_SAFE
// walk, which also refuses a symlink from one user's directory into
// another's), the file is bound through that handle, and pinned by an
// O_PATH handle on its inode right after, which the chown and every later
// removal go through.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { native } from '../native';
import { errnoMessage } from '../core/errno';
import type { ListenSpec } from './listen';

/** Capped by net.core.somaxconn, as systemd's Backlog= default is. */
const BACKLOG = 4096;
const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const E = os.constants.errno;
const S_IFMT = fs.constants.S_IFMT;
const S_IFSOCK = fs.constants.S_IFSOCK;
/** A name of '' addresses the handle itself (AT_EMPTY_PATH). */
const SELF = Buffer.alloc(0);

/** A unix socket file this run created, addressed only through handles. */
export interface SocketFile {
  /** O_PATH handle on its directory. */
  dir: number;
  name: Buffer;
  /** O_PATH handle on the file's inode, taken right after bind. */
  pin: number;
}

export interface Bound {
  spec: ListenSpec;
  fd: number;
  /** The unix socket file this bind created, removed again if tsinit gives up. */
  file: SocketFile | null;
}

export type BindFailure = { step: string; errno: number };

/** The one line saying why a bind failed, with the usual cause named. */
export function bindMessage(spec: ListenSpec, failure: BindFailure): string {
  const { step, errno } = failure;
  let why = errnoMessage(errno);
  if (step === 'bind' && errno === -E.EACCES && spec.kind !== 'unix') {
    let start = 1024;
    try {
      start = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'latin1').trim());
    } catch {
      // Older kernels: 1024.
    }
    if (spec.port < start) why += ` (ports below ${start} need root or CAP_NET_BIND_SERVICE)`;
  }
  if (spec.kind === 'unix') {
    if (errno === -E.ENOLINK) why = "a symlink or directory on the way belongs to one unprivileged user and leads to another user's file (refused, as systemd's CHASE_SAFE does)";
    else if (step === 'bind' && errno === -E.ENAMETOOLONG) why = 'the file name is too long to bind through the directory handle (/proc/self/fd/N/NAME must fit in 107 bytes)';
    else if (errno === -E.ESTALE) why = 'the socket file was replaced right after bind (someone else can write its directory)';
    else if (step === 'bind' && errno === -E.ENOENT) why += ' (is /proc mounted?)';
  }
  const what = step === 'bind' ? 'bind' : step === 'directory' ? 'open the directory of' : `${step} the socket for`;
  return `cannot ${what} --listen ${spec.text}: ${why}`;
}

/** bind (through the directory handle) → listen → chown, for a unix spec. */
function bindUnix(spec: Extract<ListenSpec, { kind: 'unix' }>, fd: number): { file: SocketFile } | BindFailure {
  const slash = spec.path.lastIndexOf('/');
  const dir = native.openDirSafe(Buffer.from(spec.path.slice(0, slash) || '/', 'latin1'));
  if (dir < 0) return { step: 'directory', errno: dir };
  const name = Buffer.from(spec.path.slice(slash + 1), 'latin1');
  let pin = -1;
  const fail = (step: string, errno: number): BindFailure => {
    if (pin >= 0) {
      native.unlinkatSame(dir, name, pin);
      native.close(pin);
    }
    native.close(dir);
    return { step, errno };
  };
  let r = native.bindUnixAt(fd, dir, name, spec.mode);
  // A socket file left by an earlier run (a restarted container) would make
  // every restart fail: replace it, as systemd's socket units do. Anything
  // that is not a socket is left alone and reported. (Between this check and
  // the unlink only someone who can write the directory could swap the
  // name, and they could remove it anyway.)
  if (r === -E.EADDRINUSE) {
    const st = native.fstatat(dir, name);
    if (typeof st !== 'number' && (st[0] & S_IFMT) === S_IFSOCK) {
      native.unlinkatSame(dir, name, -1);
      r = native.bindUnixAt(fd, dir, name, spec.mode);
    }
  }
  if (r < 0) return fail('bind', r);
  // Pin the file just made. Only whoever can write the directory could have
  // replaced it already; a socket owned by tsinit's own uid is the one bind
  // made (nobody else can make one owned by root).
  pin = native.openatPath(dir, name);
  if (pin < 0) return fail('bind', pin);
  const st = native.fstatat(pin, SELF);
  if (typeof st === 'number') return fail('bind', st);
  if ((st[0] & S_IFMT) !== S_IFSOCK || st[1] !== process.geteuid?.()) {
    native.close(pin);
    pin = -1; // Not ours: never removed.
    return fail('bind', -E.ESTALE);
  }
  const l = native.listen(fd, BACKLOG);
  if (l < 0) return fail('listen', l);
  if (spec.owner) {
    const c = native.fchownat(pin, SELF, spec.owner.uid, spec.owner.gid);
    if (c < 0) return fail('chown', c);
  }
  return { file: { dir, name, pin } };
}

/**
 * socket → SO_REUSEADDR (TCP, as systemd and every server do, so a restart
 * does not wait out TIME_WAIT; it never lets two listeners share a port) →
 * bind → listen (stream sockets) → chown (unix, owner=). The socket is
 * close-on-exec and blocking, as systemd passes them. On failure nothing is
 * left open or created.
 */
export function bindListen(spec: ListenSpec): Bound | BindFailure {
  const domain = spec.kind === 'unix' ? AF_UNIX : spec.family === 6 ? AF_INET6 : AF_INET;
  const type = spec.kind === 'udp' ? SOCK_DGRAM : SOCK_STREAM;
  const fd = native.socket(domain, type);
  if (fd < 0) return { step: 'socket', errno: fd };
  const fail = (step: string, errno: number): BindFailure => {
    native.close(fd);
    return { step, errno };
  };

  if (spec.kind === 'unix') {
    const u = bindUnix(spec, fd);
    if ('errno' in u) return fail(u.step, u.errno);
    return { spec, fd, file: u.file };
  }

  if (type === SOCK_STREAM) {
    const o = native.setsockoptInt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    if (o < 0) return fail('setsockopt', o);
  }
  const b = native.bindInet(fd, domain, spec.host, spec.port);
  if (b < 0) return fail('bind', b);
  if (type === SOCK_STREAM) {
    const l = native.listen(fd, BACKLOG);
    if (l < 0) return fail('listen', l);
  }
  return { spec, fd, file: null };
}

/**
 * The unlinker (native/sockets.h): after the drop tsinit may no longer
 * write the socket files' directories (/run is root's; unlinkat checks the
 * caller's permission on the directory), yet a failure between the drop and
 * the spawn (the drop's proof, --workdir, the exec) must still remove them.
 * So a child forked before the drop stays root, holding the directory
 * handles, until tsinit tells it the outcome; it can do nothing but remove
 * exactly those files (pinned by inode), and it exits at once when told or
 * when tsinit dies. Checking everything before the drop instead cannot work:
 * --workdir and the exec must be checked as the target user. Keeping
 * CAP_DAC_OVERRIDE in tsinit instead would break the proof that it holds
 * nothing. Null when no file was created.
 */
export interface Unlinker {
  pid: number;
  fd: number;
}

export function startUnlinker(bound: readonly Bound[]): Unlinker | number | null {
  const files = bound.map((b) => b.file).filter((f): f is SocketFile => f !== null);
  if (files.length === 0) return null;
  const r = native.unlinkerStart(
    files.map((f) => f.dir),
    files.map((f) => f.name),
    files.map((f) => f.pin),
  );
  if (typeof r === 'number') return r;
  return { pid: r[0], fd: r[1] };
}

/**
 * Closes tsinit's copies and handles; with removeFiles, also removes the
 * socket files it created (through the unlinker when there is one), each
 * only while it is still the inode bind made. Returns what went wrong, as
 * warnings: the command has not started, so tsinit exits anyway.
 */
export function closeAll(bound: readonly Bound[], removeFiles: boolean, unlinker: Unlinker | null = null): string[] {
  const warnings: string[] = [];
  if (unlinker) {
    const r = native.unlinkerFinish(unlinker.pid, unlinker.fd, removeFiles ? 1 : 0);
    if (r !== 0) warnings.push(r < 0 ? `the helper that removes the socket files failed: ${errnoMessage(r)}` : `${r} socket file(s) could not be removed`);
  }
  for (const b of bound) {
    native.close(b.fd);
    if (!b.file) continue;
    if (removeFiles && !unlinker) {
      const r = native.unlinkatSame(b.file.dir, b.file.name, b.file.pin);
      if (r < 0 && r !== -E.ENOENT) warnings.push(`cannot remove the socket file of --listen ${b.spec.text}: ${errnoMessage(r)}`);
    }
    native.close(b.file.pin);
    native.close(b.file.dir);
  }
  return warnings;
}
