// The negligent-parent report: at -v, names each live process below tsinit
// that leaves its zombie children unreaped. Only their parent can reap them;
// tsinit inherits them once that parent exits.
import { negligentParents, procIsOwn } from '../core/tree';
import type { Logger } from '../core/log';

export class NegligenceReport {
  private readonly log: Logger;
  /** parent:zombie,zombie... already reported: each parent and set once. */
  private readonly reported = new Set<string>();

  constructor(log: Logger) {
    this.log = log;
  }

  /** Reports what is new. Nothing where /proc is of another PID namespace:
   * its pids name other processes than tsinit's. */
  report(): void {
    if (!procIsOwn()) return;
    for (const { parent, zombies } of negligentParents(process.pid)) {
      const key = `${parent.pid}:${zombies.map((z) => z.pid).join(',')}`;
      if (this.reported.has(key)) continue;
      this.reported.add(key);
      const pids = zombies.map((z) => z.pid);
      this.log.event(
        'info',
        'not-reaping',
        `pid ${parent.pid} (${parent.comm}) is not reaping its ${zombies.length} zombie child(ren) ${pids
          .slice(0, 5)
          .join(', ')}: only their parent can; tsinit reaps them once it exits`,
        { parent: parent.pid, zombies: pids },
      );
    }
  }

  /** Looks after firstMs and then every intervalMs while active() holds. The
   * timers are unref'd: they never keep tsinit alive. */
  watch(firstMs: number, intervalMs: number, active: () => boolean): void {
    const check = (): void => {
      if (!active()) return;
      this.report();
      setTimeout(check, intervalMs).unref();
    };
    setTimeout(check, firstMs).unref();
  }
}
