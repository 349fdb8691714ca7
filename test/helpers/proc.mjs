// Readers of kernel state in /proc: children, descendants, status, stat, fds.
import fs from 'node:fs';

/** Children of pid, from /proc/<pid>/task/<tid>/children. */
export function childrenOf(pid) {
  const out = [];
  let tids = [];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tids) {
    try {
      const s = fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim();
      if (s) out.push(...s.split(/\s+/).map(Number));
    } catch {}
  }
  return out;
}

export function descendantsOf(pid) {
  const out = [];
  const stack = [pid];
  while (stack.length) {
    for (const c of childrenOf(stack.pop())) {
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}

/** /proc/<pid>/status as a map of field → value. */
export function procStatus(pid) {
  const m = new Map();
  for (const line of fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return m;
}

/** /proc/<pid>/stat fields, numbered as in proc(5) (1 = pid, 3 = state, ...). */
/** Whether pid is a `sleep` already asleep in nanosleep: past its exec and
 * its own start-up (setlocale opens locale files, briefly, as fd 3 and up). */
export function sleepingSleep(pid) {
  try {
    return procStat(pid)[2] === 'sleep' && fs.readFileSync(`/proc/${pid}/wchan`, 'utf8').includes('nanosleep');
  } catch {
    return false;
  }
}

export function procStat(pid) {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const close = s.lastIndexOf(')');
  const rest = s.slice(close + 2).split(' ');
  const f = [undefined, Number(s.slice(0, s.indexOf(' '))), s.slice(s.indexOf('(') + 1, close), ...rest];
  return f;
}

/** procStat, or null if the process is gone: one read, so no exists() before it
 * that the process can outlive only by a moment (it may be reaped in between). */
export function procStatIfAlive(pid) {
  try {
    return procStat(pid);
  } catch (e) {
    if (e.code === 'ENOENT' || e.code === 'ESRCH') return null;
    throw e;
  }
}

export function fdsOf(pid) {
  const out = {};
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      out[fd] = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {}
  }
  return out;
}

/** Zombie children of pid. */
export function zombiesOf(pid) {
  return childrenOf(pid).filter((c) => {
    try {
      return procStat(c)[3] === 'Z';
    } catch {
      return false;
    }
  });
}

export function exists(pid) {
  try {
    fs.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** The signal bit for sig in a /proc status mask (SigCgt, SigBlk, ...). */
export function maskHas(hex, sig) {
  return ((BigInt(`0x${hex}`) >> BigInt(sig - 1)) & 1n) === 1n;
}


/** Descriptors of this test process that any child it spawns inherits (open
 * without FD_CLOEXEC, from 3 up): tsinit rightly passes them on too. */
export function leakedFds() {
  const out = [];
  for (const fd of fs.readdirSync('/proc/self/fd').map(Number)) {
    if (fd < 3) continue;
    try {
      const flags = parseInt(/flags:\s*([0-7]+)/.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))[1], 8);
      if ((flags & 0o2000000) === 0) out.push(fd);
    } catch {}
  }
  return out;
}
