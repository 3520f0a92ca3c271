// The contact list a running client follows: relations from the login server's list, refreshed
// by version, reporting who became a buddy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ContactList } from '../../src/client/contact-list.js';
test('the contact list answers relations, asks with its version, and reports new buddies', async () => {
    let server = { version: 1, entries: [{ username: 'bob', kind: 'buddy' }, { username: 'mallory', kind: 'blocked' }] };
    const asked = [];
    const list = new ContactList(async (since) => {
        asked.push(since);
        return since === server.version ? { version: server.version, unchanged: true } : server;
    });
    assert.equal(list.relationOf('bob'), 'stranger', 'nothing is known before the first answer');
    assert.deepEqual(await list.refresh(), ['bob']);
    assert.deepEqual([list.relationOf('bob'), list.relationOf('mallory'), list.relationOf('carol')], ['buddy', 'blocked', 'stranger']);
    assert.deepEqual(await list.refresh(), [], 'unchanged');
    // Carol accepted a request; bob was removed and mallory unblocked elsewhere.
    server = { version: 2, entries: [{ username: 'carol', kind: 'buddy' }] };
    assert.deepEqual(await list.refresh(), ['carol']);
    assert.deepEqual([list.relationOf('bob'), list.relationOf('mallory'), list.relationOf('carol')], ['stranger', 'stranger', 'buddy']);
    assert.deepEqual(asked, [null, 1, 1]);
});
//# sourceMappingURL=contact-list.test.js.map