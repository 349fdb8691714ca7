// Programmatic API: typed wrappers of the native calls and the spawn, for Node
// users who want the pieces. The CLI is dist/cli.js.
export { native, type Binding, type NativeSpawnOptions, type NativeSpawnResult } from './native';
export { check, sysError, errnoCode, errnoMessage, type SysError } from './errno';
export { spawnCommand, resolveCommand, SESSION, type SpawnError, type SpawnRequest } from './spawn';
export { reapAll, decodeStatus, exitStatusOf, type Exit } from './reaper';
export { parseSignal, signalName, catchableSignals, isForwarded } from './signals';
export { parseArgs, type Options, type Parsed } from './args';
export { runMain, EXIT } from './main';
export { preparePrivileges, makePlan, describePlan, PRIV_EXIT, type Prepared, type Plan } from './privdrop';
export { resolveIdentity, readUserDb, parsePasswd, parseGroup, type Identity, type UserDb } from './users';
export { parseListen, addressOf, type ListenSpec } from './listen';
export { parseCap, resolveCaps, capName, CAPABILITIES } from './caps';
