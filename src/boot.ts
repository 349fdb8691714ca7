// Everything the CLI loads once its signal handlers are in (src/cli.ts):
// one module, so that the build can bundle it, and everything under it, into
// one file (scripts/bundle.js) while cli.ts, native.ts and core/signals.ts
// stay small separate files that load before the handlers go in.
export { inheritedFds } from './core/fds';
export { launcherParent, rawArgs, rawEnv } from './core/proc';
export { runMain } from './cli/main';
// cli.ts's one message before runMain, from the bundle's copy (no module more to load).
export { errnoMessage } from './core/errno';
