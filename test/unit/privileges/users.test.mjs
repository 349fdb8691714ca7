// USER[:GROUP] and --groups resolution against passwd/group text: pure, no processes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { refusal, refused } from '../../helpers/refused.mjs';

const require = createRequire(import.meta.url);
const { parsePasswd, parseGroup, resolveIdentity, resolveOwner, parseId } = require('../../../dist/privileges/users.js');

const db = {
  passwd: parsePasswd(
    [
      'root:x:0:0:root:/root:/bin/bash',
      '# a comment',
      '+nis',
      'broken:x:notanumber:1::/:/bin/sh',
      'app:x:1000:1000:App:/srv/app:/usr/sbin/nologin',
      'solo:x:1001:1001::/home/solo:/bin/sh',
      '1234:x:2000:2000::/home/digits:/bin/sh',
      'nohome:x:1002:1002',
      '',
    ].join('\n'),
  ),
  group: parseGroup(['root:x:0:', 'app:x:1000:', 'solo:x:1001:', 'www:x:33:app, solo', 'audio:x:29:app', 'empty:x:50:'].join('\n')),
};
const id = (spec, groups) => resolveIdentity(db, spec, groups);

test('passwd and group files: bad, comment and NIS lines are skipped', () => {
  assert.equal(db.passwd.map((p) => p.name), ['root', 'app', 'solo', '1234', 'nohome']);
  assert.is(db.passwd.find((p) => p.name === 'nohome').home, '/');
  assert.equal(db.group.find((g) => g.name === 'www').members, ['app', 'solo']);
});

test('a name: its ids, home and initgroups (primary plus every group listing it)', () => {
  assert.equal(id('app'), { uid: 1000, gid: 1000, groups: [29, 33, 1000], name: 'app', home: '/srv/app' });
  assert.equal(id('solo'), { uid: 1001, gid: 1001, groups: [33, 1001], name: 'solo', home: '/home/solo' });
});

test('a number: its passwd entry if any; a name made of digits is a name first', () => {
  assert.equal(id('1000').name, 'app');
  assert.equal(id('1234'), { uid: 2000, gid: 2000, groups: [2000], name: '1234', home: '/home/digits' });
});

test('an explicit :GROUP is the only group (gosu); by name or by any number', () => {
  assert.equal(id('app:www'), { uid: 1000, gid: 33, groups: [33], name: 'app', home: '/srv/app' });
  assert.equal(id('app:777'), { uid: 1000, gid: 777, groups: [777], name: 'app', home: '/srv/app' });
  assert.equal(id('5000:5001'), { uid: 5000, gid: 5001, groups: [5001], name: null, home: '/' });
});

test('--groups is the exact list, "" is none, names and numbers, sorted and unique', () => {
  assert.equal(id('app', 'audio,42,audio').groups, [29, 42]);
  assert.equal(id('app', '').groups, []);
  assert.equal(id('app:www', 'empty').groups, [50]);
  assert.is(id('app:www', 'empty').gid, 33);
});

test('what is refused, in one line each', () => {
  // An OptionError keeps the parts config/plan.ts words for its own keys.
  const e = refusal(() => id('app', 'nope'));
  assert.is(e.option, '--groups');
  assert.is(e.reason, "no group 'nope' in /etc/group");
  assert.is(e.status, 2);
  assert.is(refused(() => id('nobody-here')), "--user: no user 'nobody-here' in /etc/passwd");
  assert.is(refused(() => id('app:nogroup')), "--user: no group 'nogroup' in /etc/group");
  assert.is(refused(() => id('5000')), '--user: uid 5000 has no entry in /etc/passwd, so it has no group: name one (--user 5000:GID)');
  assert.is(refused(() => id('app', 'audio,,www')), "--groups: no group '' in /etc/group");
  assert.is(refused(() => id('app', 'nope')), "--groups: no group 'nope' in /etc/group");
  for (const bad of ['', ':1000', 'app:', 'a:b:c']) assert.is(refused(() => id(bad)), `--user: '${bad}' is not USER[:GROUP] (a name or a number on each side)`);
  assert.is(refused(() => id('4294967295')), "--user: no user '4294967295' in /etc/passwd", '2^32-1 is -1, not an id');
});

test('ids: 0 to 2^32-2, digits only', () => {
  assert.is(parseId('0'), 0);
  assert.is(parseId('4294967294'), 4294967294);
  for (const bad of ['4294967295', '-1', '1e3', ' 1', '0x10', '']) assert.is(parseId(bad), null, bad);
});

test('owner=: like chown(1), a side left out stays (-1)', () => {
  assert.equal(resolveOwner(db, 'app'), { uid: 1000, gid: -1 });
  assert.equal(resolveOwner(db, 'app:www'), { uid: 1000, gid: 33 });
  assert.equal(resolveOwner(db, ':www'), { uid: -1, gid: 33 });
  assert.equal(resolveOwner(db, '7:8'), { uid: 7, gid: 8 });
  assert.is(refused(() => resolveOwner(db, 'ghost')), "no user 'ghost' in /etc/passwd");
  assert.is(refused(() => resolveOwner(db, ':')), "':' is not USER[:GROUP] or :GROUP");
});

test.run();
