// The plan as --dry-run prints it (setpriv -d's idea, as JSON): what would be
// bound, dropped and passed on, read from the plan without changing anything.
import { native } from '../native';
import { capName } from './caps';
import { SD_LISTEN_FDS_START, addressOf } from './listen';
import type { Plan } from './plan';
import { currentGroups } from './verify';

function octal(n: number): string {
  return `0${n.toString(8).padStart(3, '0')}`;
}

/** The plan as --dry-run prints it. */
export function describePlan(p: Plan): Record<string, unknown> {
  const id = p.identity;
  const fds: Record<string, unknown>[] = p.activation.fds.map((fd, i) => ({ fd, name: p.activation.names[i], socket: 'inherited', address: null }));
  p.listen.forEach((l, i) => {
    const fd = SD_LISTEN_FDS_START + p.activation.fds.length + i;
    const d: Record<string, unknown> = { fd, name: l.name, socket: l.kind, address: addressOf(l) };
    if (l.kind === 'unix') {
      d['mode'] = octal(l.mode);
      // owner= as ids; null: that id stays tsinit's (chown(1) leaves it alone).
      d['owner'] = { uid: l.owner && l.owner.uid >= 0 ? l.owner.uid : null, gid: l.owner && l.owner.gid >= 0 ? l.owner.gid : null };
    }
    fds.push(d);
  });
  const env: Record<string, string> = {};
  if (id) env['HOME'] = id.home;
  if (p.listenPidIndex !== undefined) {
    env['LISTEN_FDS'] = String(fds.length);
    env['LISTEN_FDNAMES'] = [...p.activation.names, ...p.listen.map((l) => l.name)].join(':');
    env['LISTEN_PID'] = "(the command's own pid, written between fork and exec)";
  }
  return {
    user: id ? id.name : null,
    uid: id ? id.uid : process.getuid?.(),
    gid: id ? id.gid : process.getgid?.(),
    groups: id ? id.groups : currentGroups(),
    capabilities: id ? p.caps.map(capName) : null,
    no_new_privs: p.noNewPrivs || native.prctlGetNoNewPrivs() === 1,
    umask: p.umask === undefined ? null : octal(p.umask),
    cwd: p.workdir ?? null,
    fds,
    env,
    env_removed: p.removedEnv.filter((v) => !(v in env)),
    argv: p.argv.map((a) => a.toString()),
  };
}
