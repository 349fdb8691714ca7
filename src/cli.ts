#!/usr/bin/env node
// Entry: side effects only. Signal handlers go in first, before anything else
// loads, so the window in which a signal meets Node's defaults is as short as
// Node allows; runMain does the rest and its status becomes tsinit's.
import { native, type EventHandler } from './native';
import { catchableSignals, catchForTerminal } from './core/signals';

// Signals that arrive before the command exists wait in the addon's pipe and
// are handled, in order, right after the spawn (the spawn is synchronous, so
// the event loop cannot read them earlier).
let handler: EventHandler = () => {};
const installed = native.signalsStart(catchForTerminal(catchableSignals()), (events) => handler(events));

// Everything else loads after the handlers are in place, from one module
// (the build bundles it into one file). The launcher's record of the
// inherited descriptors is read first thing, before tsinit opens anything.
import * as fs from 'node:fs';
const { errnoMessage, inheritedFds, launcherParent, rawArgs, rawEnv, runMain } = require('./boot') as typeof import('./boot');
const inherited = inheritedFds();

function exit(status: number): never {
  return native._exit(status);
}

if (installed < 0) {
  fs.writeSync(2, `tsinit: cannot install signal handlers: ${errnoMessage(installed)}\n`);
  exit(125);
}

runMain({
  args: rawArgs(),
  env: rawEnv(),
  inherited,
  parentPid: launcherParent(),
  setSignalHandler: (h) => {
    handler = h;
  },
}).then(exit, (err: unknown) => {
  fs.writeSync(2, `tsinit: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
  exit(125);
});
