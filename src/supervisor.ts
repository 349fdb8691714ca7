// Joins forwarding and reaping once the command runs, and owns the exit-status
// policy. This is past the point of no return: the command is running, so
// failures here are warnings and tsinit carries on (catatonit): if PID 1 died,
// the whole container would die with it.
import * as os from 'node:os';
import { native } from './native';
import { reapAll, exitStatusOf, type Exit } from './reaper';
import { isForwarded, signalName } from './signals';
import type { Logger } from './log';

const SIGCHLD = os.constants.signals.SIGCHLD;
const ESRCH = -3;

export interface SupervisorOptions {
  /** The command's pid; it leads its own process group. */
  child: number;
  singleChild: boolean;
  log: Logger;
  /** Called once, with tsinit's exit status, when the command has been reaped. */
  onDone(status: number, exit: Exit): void;
}

export class Supervisor {
  private done = false;
  private readonly opts: SupervisorOptions;

  constructor(opts: SupervisorOptions) {
    this.opts = opts;
  }

  /** Signals in order of arrival, as the addon read them from its pipe. */
  onSignals(sigs: Uint8Array): void {
    for (const sig of sigs) {
      if (this.done) return;
      this.handle(sig);
    }
    // Signals that found the pipe full (a burst of 64 KiB): never expected,
    // but not silently lost either.
    const lost = native.signalsOverflow();
    if (lost) {
      lost.forEach((count, sig) => {
        if (count > 0 && !this.done) {
          this.opts.log.warning(`${count} × ${signalName(sig)} arrived while tsinit was busy; handling it once`);
          this.handle(sig);
        }
      });
    }
  }

  private handle(sig: number): void {
    if (sig === SIGCHLD) this.reap();
    else if (isForwarded(sig)) this.forward(sig);
  }

  /** Forwards to the command's process group (default) or to the command alone. */
  forward(sig: number): void {
    const { child, singleChild, log } = this.opts;
    const target = singleChild ? child : -child;
    const r = native.kill(target, sig);
    if (r === 0) {
      log.debug(`forwarded ${signalName(sig)} to ${singleChild ? 'pid' : 'process group'} ${child}`);
    } else if (r !== ESRCH) {
      log.warning(`cannot forward ${signalName(sig)} to ${child}: ${r}`);
    }
  }

  reap(): void {
    const { child, log } = this.opts;
    const r = reapAll((e) => {
      if (e.pid === child) {
        log.info(
          e.code !== null ? `command (pid ${child}) exited with status ${e.code}` : `command (pid ${child}) was killed by ${signalName(e.signal!)}`,
        );
        this.finish(e);
      } else {
        log.debug(`reaped pid ${e.pid} (${e.code !== null ? `status ${e.code}` : signalName(e.signal!)})`);
      }
    });
    if (r < 0) log.warning(`waitpid failed: ${r}`);
  }

  private finish(e: Exit): void {
    if (this.done) return;
    this.done = true;
    this.opts.onDone(exitStatusOf(e), e);
  }
}
