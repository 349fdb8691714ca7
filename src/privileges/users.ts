// USER[:GROUP] and group lists → numeric ids, from the container's own
// /etc/passwd and /etc/group read as plain files (no NSS, no daemon), as gosu
// and runc's libcontainer/user do. Pure apart from readUserDb.
import * as fs from 'node:fs';
import { OptionError, UserError } from '../core/errno';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export interface UserDb {
  passwd: PasswdEntry[];
  group: GroupEntry[];
}

/** What --user and --groups resolve to. */
export interface Identity {
  uid: number;
  gid: number;
  /** Supplementary groups, ascending, without duplicates (the kernel sorts them too). */
  groups: number[];
  /** The passwd name, or null for a numeric uid without an entry. */
  name: string | null;
  /** HOME for the command: the passwd entry's, else "/" (runc's default). */
  home: string;
}

/** An id as the kernel takes it: 0 to 2^32-2 (2^32-1 is -1, "unchanged"). */
const ID_MAX = 0xfffffffe;

export function parseId(text: string): number | null {
  if (!/^[0-9]{1,10}$/.test(text)) return null;
  const n = Number(text);
  return n <= ID_MAX ? n : null;
}

// Both files are colon-separated lines (passwd(5), group(5)). Lines that do
// not parse are skipped rather than fatal, as glibc's files backend and runc
// do: one bad line must not lock every user out. Comments and NIS "+"/"-"
// lines are skipped too.
function lines(text: string): string[][] {
  const out: string[][] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue;
    out.push(line.split(':'));
  }
  return out;
}

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const f of lines(text)) {
    const uid = parseId(f[2] ?? '');
    const gid = parseId(f[3] ?? '');
    if (f[0] === undefined || f[0] === '' || uid === null || gid === null) continue;
    out.push({ name: f[0], uid, gid, home: f[5] || '/' });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const f of lines(text)) {
    const gid = parseId(f[2] ?? '');
    if (f[0] === undefined || f[0] === '' || gid === null) continue;
    const members = (f[3] ?? '').split(',').map((m) => m.trim()).filter((m) => m !== '');
    out.push({ name: f[0], gid, members });
  }
  return out;
}

/** Reads /etc/passwd and /etc/group (latin1, so names compare byte for byte
 * with the command line). A missing file is an empty database. */
export function readUserDb(root = '/'): UserDb {
  const read = (file: string): string => {
    try {
      return fs.readFileSync(`${root.replace(/\/$/, '')}/etc/${file}`, 'latin1');
    } catch {
      return '';
    }
  };
  return { passwd: parsePasswd(read('passwd')), group: parseGroup(read('group')) };
}

/** A name first, then a number: a name made of digits is looked up as a name
 * before it is taken as an id (runc's libcontainer/user matches the same way). */
export function findUser(db: UserDb, text: string): PasswdEntry | undefined {
  const id = parseId(text);
  return db.passwd.find((p) => p.name === text) ?? (id === null ? undefined : db.passwd.find((p) => p.uid === id));
}

/** A group name, else a numeric gid (which need not exist, as with gosu); null if neither. */
export function resolveGroup(db: UserDb, text: string): number | null {
  const byName = db.group.find((g) => g.name === text);
  if (byName) return byName.gid;
  return parseId(text);
}

/** initgroups(3): the primary group and every group that lists the user as a member. */
export function initGroups(db: UserDb, name: string, gid: number): number[] {
  return sortedUnique([gid, ...db.group.filter((g) => g.members.includes(name)).map((g) => g.gid)]);
}

function sortedUnique(ids: number[]): number[] {
  return [...new Set(ids)].sort((a, b) => a - b);
}

/**
 * Resolves --user USER[:GROUP] and --groups G1,G2, as Docker's --user and
 * gosu do, with one difference: a numeric uid that has no passwd entry needs
 * an explicit group. Docker and gosu give it gid 0, the root group, which is
 * the kind of leftover privilege a drop exists to remove.
 *
 * Supplementary groups: --groups if given (exactly that list; "" for none,
 * like setpriv --clear-groups); else only GROUP when one was named (gosu);
 * else the user's groups from /etc/group (initgroups). Throws an OptionError
 * (--user or --groups) saying what is wrong.
 */
export function resolveIdentity(db: UserDb, spec: string, groupsSpec: string | undefined): Identity {
  const parts = spec.split(':');
  const userText = parts[0] ?? '';
  const groupText = parts[1];
  if (parts.length > 2 || userText === '' || groupText === '') {
    throw new OptionError('--user', `'${spec}' is not USER[:GROUP] (a name or a number on each side)`);
  }
  const entry = findUser(db, userText);
  let uid: number;
  if (entry) uid = entry.uid;
  else {
    const id = parseId(userText);
    if (id === null) throw new OptionError('--user', `no user '${userText}' in /etc/passwd`);
    uid = id;
  }

  let gid: number;
  let groups: number[];
  if (groupText !== undefined) {
    const g = resolveGroup(db, groupText);
    if (g === null) throw new OptionError('--user', `no group '${groupText}' in /etc/group`);
    gid = g;
    groups = [g];
  } else if (entry) {
    gid = entry.gid;
    groups = initGroups(db, entry.name, entry.gid);
  } else {
    throw new OptionError('--user', `uid ${uid} has no entry in /etc/passwd, so it has no group: name one (--user ${uid}:GID)`);
  }

  if (groupsSpec !== undefined) {
    const list = groupsSpec === '' ? [] : groupsSpec.split(',');
    groups = [];
    for (const text of list) {
      const g = text === '' ? null : resolveGroup(db, text);
      if (g === null) throw new OptionError('--groups', `no group '${text}' in /etc/group`);
      groups.push(g);
    }
  }
  return { uid, gid, groups: sortedUnique(groups), name: entry?.name ?? null, home: entry?.home ?? '/' };
}

/** owner=USER[:GROUP], owner=:GROUP or owner=USER: like chown(1), a side left
 * out keeps its id (-1). Throws a UserError without a prefix: listen.ts names
 * the spec and the key. */
export function resolveOwner(db: UserDb, spec: string): { uid: number; gid: number } {
  const parts = spec.split(':');
  const u = parts[0] ?? '';
  const g = parts[1];
  if (parts.length > 2 || (u === '' && (g === undefined || g === '')) || g === '') throw new UserError(`'${spec}' is not USER[:GROUP] or :GROUP`);
  let uid = -1;
  if (u !== '') {
    const e = findUser(db, u);
    const id = e ? e.uid : parseId(u);
    if (id === null) throw new UserError(`no user '${u}' in /etc/passwd`);
    uid = id;
  }
  let gid = -1;
  if (g !== undefined) {
    const id = resolveGroup(db, g);
    if (id === null) throw new UserError(`no group '${g}' in /etc/group`);
    gid = id;
  }
  return { uid, gid };
}
