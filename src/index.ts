// Programmatic API: typed wrappers of the native calls and the spawn, for Node
// users who want the pieces. The CLI is dist/cli.js.
export { native, type Binding, type NativeSpawnOptions, type NativeSpawnResult } from './native';
export { check, sysError, errnoCode, errnoMessage, UserError, type SysError } from './core/errno';
export { spawnCommand, resolveCommand, SESSION, type SpawnError, type SpawnRequest } from './core/spawn';
export { reapAll, decodeStatus, exitStatusOf, type Exit } from './core/reaper';
export { parseSignal, signalName, catchableSignals, isForwarded } from './core/signals';
export { parseArgs, type Options, type Parsed } from './cli/args';
export { runMain } from './cli/main';
export { EXIT } from './core/exit';
export { preparePrivileges, type Prepared } from './privileges/privdrop';
export { makePlan, type Plan, type PrivilegeOptions } from './privileges/plan';
export { describePlan } from './privileges/describe';
export { resolveIdentity, readUserDb, parsePasswd, parseGroup, type Identity, type UserDb } from './privileges/users';
export { parseListen, addressOf, type ListenSpec } from './privileges/listen';
export { parseCap, resolveCaps, capName, CAPABILITIES } from './privileges/caps';
