// A scratch application directory with a Procfile (and a .env when given),
// for the Procfile suites.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Calls fn(procfilePath, dir) with the files written; removes the directory after. */
export function withApp(procfile, dotenv, fn) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsinit-procfile-'));
  try {
    fs.writeFileSync(path.join(dir, 'Procfile'), procfile);
    if (dotenv !== null) fs.writeFileSync(path.join(dir, '.env'), dotenv);
    return fn(path.join(dir, 'Procfile'), dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
