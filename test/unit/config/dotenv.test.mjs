// .env files as Foreman reads them (src/config/dotenv.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { parseDotenv, loadDotenv, ConfigFileError } = require('../../../dist/config/dotenv.js');
const { UserError } = require('../../../dist/core/errno.js');

test('KEY=VALUE lines, comments, blank lines, CRLF, export, later wins', () => {
  const text = [
    '# a comment',
    '',
    'DATABASE_URL=postgres://localhost/app',
    '   # an indented comment',
    'export NODE_ENV=production',
    'export\tTAB=1',
    'EMPTY=',
    '1LEADING_DIGIT=ok',
    'NODE_ENV=development',
    'SPACES=  kept as is  # not a comment',
    'EQUALS=a=b=c',
  ].join('\r\n') + '\r\n';
  assert.equal(parseDotenv(text, '.env'), {
    DATABASE_URL: 'postgres://localhost/app',
    NODE_ENV: 'development',
    TAB: '1',
    EMPTY: '',
    '1LEADING_DIGIT': 'ok',
    SPACES: '  kept as is  # not a comment',
    EQUALS: 'a=b=c',
  });
});

test('quotes: single quotes are literal; double quotes take \\n and \\X', () => {
  const env = parseDotenv(
    [`S='a\\nb $HOME "x"'`, `D="a\\nb \\"q\\" back\\\\slash \\x $HOME"`, `E=""`, `Q="it's"`].join('\n'),
    '.env',
  );
  assert.is(env.S, 'a\\nb $HOME "x"');
  assert.is(env.D, 'a\nb "q" back\\slash x $HOME');
  assert.is(env.E, '');
  assert.is(env.Q, "it's");
});

const bad = [
  ['FOO = bar', 2, 'no space is allowed between the key and "="'],
  ['  FOO=bar', 2, 'expected KEY=VALUE at the start of the line'],
  ['FOO', 2, 'expected KEY=VALUE, where KEY is letters, digits and _'],
  ['FOO-BAR=x', 2, 'expected KEY=VALUE, where KEY is letters, digits and _'],
  ['FOO="open', 2, 'the value opens a double quote and does not close it on this line (multi-line values are not supported)'],
  ["FOO='", 2, 'the value opens a single quote and does not close it on this line (multi-line values are not supported)'],
];
for (const [line, n, why] of bad) {
  test(`refused with its line: ${JSON.stringify(line)}`, () => {
    try {
      parseDotenv(`OK=1\n${line}\nLATER=2\n`, 'app/.env');
      assert.unreachable('accepted');
    } catch (err) {
      assert.instance(err, ConfigFileError);
      assert.is(err.message, `app/.env:${n}: ${why}`);
      assert.is(err.line, n);
      assert.is(err.file, 'app/.env');
      assert.is(err.code, 'TSINIT_CONFIG');
      // A UserError, exit 2: cli/main.ts reports it as any other bad input.
      assert.instance(err, UserError);
      assert.is(err.status, 2);
    }
  });
}

test('a byte-order mark is not part of the first key; loadDotenv reads a file or says why not', () => {
  assert.equal(parseDotenv('\uFEFFA=1\n', '.env'), { A: '1' });
  try {
    loadDotenv('/nonexistent/.env');
    assert.unreachable('read');
  } catch (err) {
    assert.instance(err, ConfigFileError);
    assert.is(err.message, '/nonexistent/.env: cannot read the file: no such file or directory');
  }
});

test.run();
