// --listen specs → bound sockets, and the LISTEN_* environment of systemd's
// socket activation (sd_listen_fds(3)): the command finds its sockets at fds
// 3, 4, ... with LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID = its own pid.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import { native, constants } from '../native';
import { envGet } from '../core/proc';
import { resolveOwner, type UserDb } from './users';

export const SD_LISTEN_FDS_START = 3;
/** What sd_listen_fds_with_names(3) reports for a descriptor without a name. */
export const UNNAMED = 'unknown';
/** The native spawn places at most 64 descriptors by number. */
export const MAX_LISTEN = constants.MAX_FD_MAP;
/** systemd's default SocketMode=. */
const DEFAULT_UNIX_MODE = 0o666;
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

export type ListenSpec =
  | { kind: 'tcp' | 'udp'; family: 4 | 6; host: string; port: number; name: string; text: string }
  | { kind: 'unix'; path: string; mode: number; owner: { uid: number; gid: number } | null; ownerText: string | null; name: string; text: string };

const KEYS = ['name', 'mode', 'owner'] as const;
type Key = (typeof KEYS)[number];

/** systemd's fdname_is_valid: printable ASCII without ':', at most 255 bytes. */
function validName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && /^[\x20-\x7e]+$/.test(name) && !name.includes(':');
}

/** Splits "ADDRESS,key=value,..." at the first comma that starts a known key,
 * so a unix path may itself contain commas. */
function splitOptions(text: string): { address: string; options: Map<Key, string> } | string {
  const re = new RegExp(`,(?=(?:${KEYS.join('|')})=)`);
  const m = re.exec(text);
  const address = m ? text.slice(0, m.index) : text;
  const options = new Map<Key, string>();
  if (m) {
    for (const part of text.slice(m.index + 1).split(',')) {
      const eq = part.indexOf('=');
      const key = part.slice(0, eq) as Key;
      if (eq < 0 || !KEYS.includes(key)) return `unknown option '${part}' (name=, mode= or owner=)`;
      if (options.has(key)) return `${key}= given twice`;
      options.set(key, part.slice(eq + 1));
    }
  }
  return { address, options };
}

/**
 * Parses one --listen SPEC: tcp://HOST:PORT, udp://HOST:PORT (HOST an IPv4
 * literal or [IPv6]; no names, so nothing depends on DNS at start-up), or
 * unix:/PATH with mode=OCTAL and owner=USER[:GROUP]; each may add name=NAME.
 * Returns the spec or one line saying what is wrong.
 */
export function parseListen(text: string, db: () => UserDb): ListenSpec | string {
  const bad = (why: string): string => `--listen ${text}: ${why}`;
  const split = splitOptions(text);
  if (typeof split === 'string') return bad(split);
  const { address, options } = split;
  const name = options.get('name') ?? UNNAMED;
  if (!validName(name)) return bad(`name '${name}' must be 1-255 printable ASCII characters without ':' (LISTEN_FDNAMES)`);

  const inet = /^(tcp|udp):\/\/(.*)$/.exec(address);
  if (inet) {
    if (options.has('mode') || options.has('owner')) return bad('mode= and owner= apply to unix sockets only');
    const kind = inet[1] as 'tcp' | 'udp';
    const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(inet[2]!);
    if (!m) return bad(`expected ${kind}://HOST:PORT (an IPv4 address, or an IPv6 one in brackets: ${kind}://[::1]:8080)`);
    const port = Number(m[3]);
    if (port > 65535) return bad(`port ${port} is not 0-65535`);
    if (m[1] !== undefined) {
      if (m[1].includes('%')) return bad(`'${m[1]}': IPv6 zone ids are not supported`);
      if (!net.isIPv6(m[1])) return bad(`'${m[1]}' is not an IPv6 address`);
      return { kind, family: 6, host: m[1], port, name, text };
    }
    if (!net.isIPv4(m[2]!)) return bad(`'${m[2]}' is not an IPv4 address (host names are not resolved; IPv6 goes in brackets)`);
    return { kind, family: 4, host: m[2]!, port, name, text };
  }

  if (address.startsWith('unix:')) {
    const path = address.slice(5);
    if (!path.startsWith('/')) return bad('expected unix:/ABSOLUTE/PATH');
    // sun_path holds 108 bytes with the terminating NUL (unix(7)).
    if (Buffer.byteLength(path, 'latin1') > 107) return bad('the path is longer than the 107 bytes a unix socket address holds');
    let mode = DEFAULT_UNIX_MODE;
    const modeText = options.get('mode');
    if (modeText !== undefined) {
      if (!/^0?[0-7]{3}$/.test(modeText)) return bad(`mode '${modeText}' is not an octal mode such as 0660`);
      mode = parseInt(modeText, 8);
    }
    const ownerText = options.get('owner') ?? null;
    let owner: { uid: number; gid: number } | null = null;
    if (ownerText !== null) {
      const o = resolveOwner(db(), ownerText);
      if (typeof o === 'string') return bad(`owner: ${o}`);
      owner = o;
    }
    return { kind: 'unix', path, mode, owner, ownerText, name, text };
  }
  return bad('expected tcp://HOST:PORT, udp://HOST:PORT or unix:/PATH');
}

/** The address as users write it: 127.0.0.1:80, [::1]:53, /run/app.sock. */
export function addressOf(spec: ListenSpec): string {
  if (spec.kind === 'unix') return spec.path;
  return spec.family === 6 ? `[${spec.host}]:${spec.port}` : `${spec.host}:${spec.port}`;
}

export interface Bound {
  spec: ListenSpec;
  fd: number;
  /** The unix socket file this bind created, removed again if tsinit gives up. */
  created: Buffer | null;
}

export type BindFailure = { step: string; errno: number };

function isSocketFile(path: Buffer): boolean {
  try {
    return fs.lstatSync(path).isSocket();
  } catch {
    return false;
  }
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
  let created: Buffer | null = null;
  const fail = (step: string, errno: number): BindFailure => {
    native.close(fd);
    if (created) unlinkQuietly(created);
    return { step, errno };
  };

  if (spec.kind === 'unix') {
    const path = Buffer.from(spec.path, 'latin1');
    let r = native.bindUnix(fd, path, spec.mode);
    // A socket file left by an earlier run (a restarted container) would make
    // every restart fail: replace it, as systemd's socket units do. Anything
    // that is not a socket is left alone and reported.
    if (r === -E.EADDRINUSE && isSocketFile(path)) {
      unlinkQuietly(path);
      r = native.bindUnix(fd, path, spec.mode);
    }
    if (r < 0) return fail('bind', r);
    created = path;
    const l = native.listen(fd, BACKLOG);
    if (l < 0) return fail('listen', l);
    if (spec.owner) {
      const c = native.lchown(path, spec.owner.uid, spec.owner.gid);
      if (c < 0) return fail('chown', c);
    }
    return { spec, fd, created };
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
  return { spec, fd, created: null };
}

function unlinkQuietly(path: Buffer): void {
  try {
    fs.unlinkSync(path);
  } catch {
    // Gone already, or not ours to remove.
  }
}

/** Closes tsinit's copies; with removeFiles, also the socket files it created. */
export function closeAll(bound: readonly Bound[], removeFiles: boolean): void {
  for (const b of bound) {
    native.close(b.fd);
    if (removeFiles && b.created) unlinkQuietly(b.created);
  }
}

/** Sockets tsinit itself was handed by systemd-style activation. */
export interface Activation {
  fds: number[];
  names: string[];
}

const LISTEN_VARS = ['LISTEN_PID', 'LISTEN_FDS', 'LISTEN_FDNAMES'] as const;

/**
 * What tsinit inherited in LISTEN_*. Only LISTEN_PID equal to tsinit's own pid
 * means the sockets are tsinit's (sd_listen_fds(3) checks the same): then fds
 * 3 .. 3+LISTEN_FDS-1 are handed on. Anything else is stale (meant for
 * another process, or for a parent that exec'd tsinit without clearing it).
 */
export function inheritedActivation(env: readonly Buffer[], pid: number, inherited: readonly number[]): { activation: Activation; warning: string | null } {
  const none = { activation: { fds: [], names: [] } };
  const lp = envGet(env, 'LISTEN_PID')?.toString('latin1');
  const lf = envGet(env, 'LISTEN_FDS')?.toString('latin1');
  if (lp === undefined || lp !== String(pid)) return { ...none, warning: null };
  if (lf === undefined || !/^[0-9]+$/.test(lf)) return { ...none, warning: `LISTEN_PID is tsinit's pid but LISTEN_FDS='${lf ?? ''}' is not a count: no socket handed on` };
  const n = Number(lf);
  const fds: number[] = [];
  for (let i = 0; i < n; i++) fds.push(SD_LISTEN_FDS_START + i);
  const missing = fds.filter((fd) => !inherited.includes(fd));
  if (missing.length > 0) return { ...none, warning: `LISTEN_FDS=${n} but fd ${missing.join(', ')} is not open: no socket handed on` };
  const given = envGet(env, 'LISTEN_FDNAMES')?.toString('latin1').split(':');
  const names = given && given.length === n ? given : fds.map(() => UNNAMED);
  return { activation: { fds, names }, warning: null };
}

/**
 * The command's environment: every inherited LISTEN_* entry removed, then, if
 * any socket is handed over, LISTEN_FDS, LISTEN_FDNAMES and a LISTEN_PID entry
 * whose index the native spawn rewrites in the child to the child's own pid.
 */
export function listenEnv(env: readonly Buffer[], names: readonly string[]): { env: Buffer[]; listenPidIndex: number | undefined; removed: string[] } {
  const prefixes = LISTEN_VARS.map((v) => Buffer.from(`${v}=`));
  const removed: string[] = [];
  const out = env.filter((e) => {
    const hit = prefixes.findIndex((p) => e.length >= p.length && e.subarray(0, p.length).equals(p));
    if (hit >= 0) removed.push(LISTEN_VARS[hit]!);
    return hit < 0;
  });
  if (names.length === 0) return { env: out, listenPidIndex: undefined, removed };
  out.push(Buffer.from(`LISTEN_FDS=${names.length}`), Buffer.from(`LISTEN_FDNAMES=${names.join(':')}`, 'latin1'));
  out.push(Buffer.from('LISTEN_PID='));
  return { env: out, listenPidIndex: out.length - 1, removed };
}
