// The README's option and environment tables are the option table's: written
// from src/cli/options.ts, so they cannot drift from the parser.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { optionTable, optionRows, envTable } = require('../../../dist/cli/help.js');
const README = fs.readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

/** The text between `<!-- NAME...-->` and `<!-- end END -->`. */
function between(name, end = name) {
  const m = new RegExp(`<!-- ${name}[^\\n]*-->\\n([\\s\\S]*?)\\n<!-- end ${end} -->`).exec(README);
  assert.ok(m, `README has no <!-- ${name} --> ... <!-- end ${end} --> block`);
  return m[1];
}

function same(actual, expected, where) {
  if (actual !== expected) {
    assert.fixture(actual, expected, `${where} differs from src/cli/options.ts; replace it with:\n\n${expected}\n`);
  }
}

test('Usage: the general and lifecycle options, exactly', () => {
  same(between('options: general lifecycle', 'options'), optionTable(['general', 'lifecycle']), "README's Usage option table");
});

test('Usage: the environment variables, exactly', () => {
  same(between('environment'), envTable(), "README's environment table");
});

test('Privilege drop: a row for every privilege option, as the table says', () => {
  const lines = README.split('\n');
  for (const row of optionRows(['privileges'])) assert.ok(lines.includes(row), `README lacks the row, or has another text for it:\n${row}`);
});
test.run();
