// The resolved plan as --dry-run prints it: per service the argv, what it
// adds to the environment, ids, groups, capabilities, no_new_privs, fds and
// LISTEN_* names, cwd, umask, restart and readiness; then the start order and
// the stop order with its budget. JSON, so tools can check it.
import { capName } from '../privileges/caps';
import { SD_LISTEN_FDS_START, addressOf } from '../privileges/listen';
import { signalName } from '../core/signals';
import type { Plan, ServicePlan } from './plan';

function octal(n: number): string {
  return `0${n.toString(8).padStart(3, '0')}`;
}

function describeService(s: ServicePlan): Record<string, unknown> {
  const id = s.identity;
  const env: Record<string, string> = Object.fromEntries(s.envSet);
  const fds: Record<string, unknown>[] = [{ fd: 0, socket: null, address: s.stdin === 'null' ? '/dev/null' : "tsinit's stdin" }];
  s.listen.forEach((l, i) => fds.push({ fd: SD_LISTEN_FDS_START + i, name: l.name, socket: l.kind, address: addressOf(l) }));
  if (s.listen.length > 0) {
    env['LISTEN_FDS'] = String(s.listen.length);
    env['LISTEN_FDNAMES'] = s.listen.map((l) => l.name).join(':');
    env['LISTEN_PID'] = "(the service's own pid, written between fork and exec)";
  }
  if (s.ready.kind === 'notify') env['NOTIFY_SOCKET'] = '(a socket of its own, in a directory only its user can reach)';
  if (s.ready.kind === 'fd') fds.push({ fd: s.ready.fd, socket: null, address: 'readiness pipe (write a newline when ready)' });
  const ready: Record<string, unknown> = { ...s.ready };
  for (const k of ['timeoutMs', 'intervalMs'] as const) {
    if (k in ready) {
      ready[k === 'timeoutMs' ? 'timeout_ms' : 'interval_ms'] = ready[k];
      delete ready[k];
    }
  }
  const r = s.restart;
  return {
    argv: s.argv.map((a) => a.toString()),
    env,
    env_inherited: "tsinit's environment, without LISTEN_* and NOTIFY_SOCKET",
    user: id ? id.name : null,
    uid: id ? id.uid : process.geteuid?.(),
    gid: id ? id.gid : process.getegid?.(),
    groups: id ? id.groups : null,
    caps: id ? s.caps.map(capName) : null,
    no_new_privs: s.noNewPrivs,
    umask: s.umask === null ? null : octal(s.umask),
    cwd: s.cwd,
    fds,
    after: s.after,
    essential: s.essential,
    ready,
    restart: {
      policy: r.policy,
      success: r.success,
      backoff_ms: r.backoffMs,
      backoff_max_ms: r.backoffMaxMs,
      reset_after_ms: r.resetAfterMs,
      limit: r.limit,
      limit_interval_ms: r.limitIntervalMs,
    },
    stop: { signal: signalName(s.stop.signal), timeout_ms: s.stop.timeoutMs },
    signals: s.signals.map(signalName),
    log: s.log,
  };
}

export function describePlan(p: Plan): Record<string, unknown> {
  return {
    config: p.file,
    services: Object.fromEntries(p.services.map((s) => [s.name, describeService(s)])),
    start_order: p.startOrder,
    stop_order: p.stopOrder,
    stop_budget_ms: p.global.stopTimeoutMs,
    ready_file: p.global.readyFile,
    log: p.global.log,
  };
}
