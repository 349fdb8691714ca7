// tsinit's own exit statuses, besides the command's N and 128+N: one
// definition for every stage that can fail before the command runs.
export const EXIT = {
  /** Bad input: an unknown option, a malformed value, an unknown user. */
  usage: 2,
  /** The system refused: a bind, the drop or its proof, a fork. */
  startFailed: 125,
  /** The command exists but could not be executed. */
  cannotExecute: 126,
  /** The command was not found. */
  notFound: 127,
} as const;
