// --listen specs, and the LISTEN_* environment of systemd's socket activation
// (sd_listen_fds(3)): the command finds its sockets at fds 3, 4, ... with
// LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID = its own pid. Binding them is
// sockets.ts's job.
import * as net from 'node:net';
import { constants } from '../native';
import { OptionError, UserError } from '../core/errno';
import { envGet, hasPrefix } from '../core/proc';
import { resolveOwner, type UserDb } from './users';

export const SD_LISTEN_FDS_START = 3;
/** What sd_listen_fds_with_names(3) reports for a descriptor without a name. */
export const UNNAMED = 'unknown';
/** The native spawn places at most 64 descriptors by number. */
export const MAX_LISTEN = constants.MAX_FD_MAP;
/** systemd's default SocketMode=. */
const DEFAULT_UNIX_MODE = 0o666;

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
function splitOptions(text: string, bad: (why: string) => Error): { address: string; options: Map<Key, string> } {
  const re = new RegExp(`,(?=(?:${KEYS.join('|')})=)`);
  const m = re.exec(text);
  const address = m ? text.slice(0, m.index) : text;
  const options = new Map<Key, string>();
  if (m) {
    for (const part of text.slice(m.index + 1).split(',')) {
      const eq = part.indexOf('=');
      const key = part.slice(0, eq) as Key;
      if (eq < 0 || !KEYS.includes(key)) throw bad(`unknown option '${part}' (name=, mode= or owner=)`);
      if (options.has(key)) throw bad(`${key}= given twice`);
      options.set(key, part.slice(eq + 1));
    }
  }
  return { address, options };
}

/**
 * Parses one --listen SPEC: tcp://HOST:PORT, udp://HOST:PORT (HOST an IPv4
 * literal or [IPv6]; no names, so nothing depends on DNS at start-up), or
 * unix:/PATH with mode=OCTAL and owner=USER[:GROUP]; each may add name=NAME.
 * Throws an OptionError ("--listen SPEC: why") saying what is wrong.
 */
export function parseListen(text: string, db: () => UserDb): ListenSpec {
  const bad = (why: string): OptionError => new OptionError(`--listen ${text}`, why);
  const { address, options } = splitOptions(text, bad);
  const name = options.get('name') ?? UNNAMED;
  if (!validName(name)) throw bad(`name '${name}' must be 1-255 printable ASCII characters without ':' (LISTEN_FDNAMES)`);

  const inet = /^(tcp|udp):\/\/(.*)$/.exec(address);
  if (inet) {
    if (options.has('mode') || options.has('owner')) throw bad('mode= and owner= apply to unix sockets only');
    const kind = inet[1] as 'tcp' | 'udp';
    const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(inet[2]!);
    if (!m) throw bad(`expected ${kind}://HOST:PORT (an IPv4 address, or an IPv6 one in brackets: ${kind}://[::1]:8080)`);
    const port = Number(m[3]);
    if (port > 65535) throw bad(`port ${port} is not 0-65535`);
    if (m[1] !== undefined) {
      if (m[1].includes('%')) throw bad(`'${m[1]}': IPv6 zone ids are not supported`);
      if (!net.isIPv6(m[1])) throw bad(`'${m[1]}' is not an IPv6 address`);
      return { kind, family: 6, host: m[1], port, name, text };
    }
    if (!net.isIPv4(m[2]!)) throw bad(`'${m[2]}' is not an IPv4 address (host names are not resolved; IPv6 goes in brackets)`);
    return { kind, family: 4, host: m[2]!, port, name, text };
  }

  if (address.startsWith('unix:')) {
    const path = address.slice(5);
    if (!path.startsWith('/')) throw bad('expected unix:/ABSOLUTE/PATH');
    // The directory is walked one component at a time (sockets.ts): '..'
    // would make that walk ambiguous, and a path ending in '/' names no file.
    if (path.split('/').includes('..')) throw bad("'..' in a socket path is not supported (name the directory itself)");
    if (path.endsWith('/')) throw bad('the path names a directory, not a socket file');
    // sun_path holds 108 bytes with the terminating NUL (unix(7)).
    if (Buffer.byteLength(path, 'latin1') > 107) throw bad('the path is longer than the 107 bytes a unix socket address holds');
    let mode = DEFAULT_UNIX_MODE;
    const modeText = options.get('mode');
    if (modeText !== undefined) {
      if (!/^0?[0-7]{3}$/.test(modeText)) throw bad(`mode '${modeText}' is not an octal mode such as 0660`);
      mode = parseInt(modeText, 8);
    }
    const ownerText = options.get('owner') ?? null;
    let owner: { uid: number; gid: number } | null = null;
    if (ownerText !== null) {
      try {
        owner = resolveOwner(db(), ownerText);
      } catch (err) {
        if (!(err instanceof UserError)) throw err;
        throw bad(`owner: ${err.message}`);
      }
    }
    return { kind: 'unix', path, mode, owner, ownerText, name, text };
  }
  throw bad('expected tcp://HOST:PORT, udp://HOST:PORT or unix:/PATH');
}

/** The address as users write it: 127.0.0.1:80, [::1]:53, /run/app.sock. */
export function addressOf(spec: ListenSpec): string {
  if (spec.kind === 'unix') return spec.path;
  return spec.family === 6 ? `[${spec.host}]:${spec.port}` : `${spec.host}:${spec.port}`;
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
    const hit = prefixes.findIndex((p) => hasPrefix(e, p));
    if (hit >= 0) removed.push(LISTEN_VARS[hit]!);
    return hit < 0;
  });
  if (names.length === 0) return { env: out, listenPidIndex: undefined, removed };
  out.push(Buffer.from(`LISTEN_FDS=${names.length}`), Buffer.from(`LISTEN_FDNAMES=${names.join(':')}`, 'latin1'));
  out.push(Buffer.from(constants.LISTEN_PID_PREFIX));
  return { env: out, listenPidIndex: out.length - 1, removed };
}
