// The UserError a call throws (src/core/errno.ts: parsers throw, they do not
// return `T | string`): the test fails if the call returns, or throws anything else.
import { createRequire } from 'node:module';
import * as assert from 'uvu/assert';

const require = createRequire(import.meta.url);
const { UserError } = require('../../dist/core/errno.js');

/** The UserError fn throws. */
export function refusal(fn) {
  let result;
  try {
    result = fn();
  } catch (err) {
    if (err instanceof UserError) return err;
    throw err;
  }
  assert.unreachable(`expected a UserError, got ${typeof result === 'object' ? JSON.stringify(result) : String(result)}`);
}

/** The one line of the UserError fn throws. */
export const refused = (fn) => refusal(fn).message;
