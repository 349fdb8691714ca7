// What the command gets of the terminal on stdin, so `docker run -it IMAGE
// tsinit -- bash` has working Ctrl-C, Ctrl-Z, fg/bg and job control.
import { native } from '../native';
import { SESSION, TTY } from './spawn';
import type { Logger } from './log';
import { errnoMessage } from './errno';

export interface TerminalPlan {
  session: (typeof SESSION)[keyof typeof SESSION];
  tty: (typeof TTY)[keyof typeof TTY];
}

/**
 * - stdin is not a terminal: the command gets a session of its own (setsid).
 * - stdin is tsinit's controlling terminal and tsinit leads its session (PID 1
 *   under `docker run -it`): tsinit gives the terminal up (TIOCNOTTY) and the
 *   command, in a new session, takes it as its controlling terminal
 *   (TIOCSCTTY), which also puts it in the foreground. tsinit then holds no
 *   terminal at all, so it can never be stopped by SIGTTIN/SIGTTOU or receive
 *   the terminal's SIGINT/SIGTSTP/SIGHUP itself.
 * - stdin is tsinit's controlling terminal but another process leads the
 *   session (tsinit started from an interactive shell): the command joins
 *   that session in a process group of its own and becomes the terminal's
 *   foreground group (tcsetpgrp), as tini does. tsinit, now in the background,
 *   ignores SIGTTIN and SIGTTOU (catchForTerminal in signals.ts), so writing its log to the
 *   terminal can never stop it.
 * - stdin is a terminal that is not tsinit's: left alone; the command gets a
 *   new session without a controlling terminal.
 */
export function planTerminal(log: Logger): TerminalPlan {
  if (native.isatty(0) !== 1) return { session: SESSION.setsid, tty: TTY.none };
  const sid = native.getsid();
  if (native.tcgetsid(0) !== sid) {
    log.info('stdin is a terminal, but not tsinit\'s controlling terminal: the command runs without one');
    return { session: SESSION.setsid, tty: TTY.none };
  }
  if (sid === process.pid) {
    const r = native.tiocnotty(0);
    if (r === 0) {
      log.info('handing the controlling terminal to the command');
      return { session: SESSION.setsid, tty: TTY.acquire };
    }
    log.warning(`cannot give up the controlling terminal (${errnoMessage(r)}): the command shares tsinit's session`);
  }
  log.info('the command becomes the foreground process group of the shared terminal');
  return { session: SESSION.setpgid, tty: TTY.foreground };
}
