/**
 * serve() in this process with a stand-in engine: the unix socket's owner, group and mode
 * (the `brig` group when /etc/group has one: here a group file made by the test), its
 * removal at close, and boot's report said at start.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { serve } from '../../../src/api/serve.js';
import type { Engine } from '../../../src/engine/engine.js';
import { requires } from '../../support/requires.js';

test('the socket: root, the brig group, 0660 from the start; removed at close; boot said', { skip: requires('root') }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'brig-api-unit-'));
  try {
    const groups = path.join(dir, 'group');
    writeFileSync(groups, 'root:x:0:\nbrig:x:4242:alice\n');
    const engine = { bootContainers: async () => ({ started: ['web'], failed: [{ name: 'db', error: 'no such image' }] }) } as unknown as Engine;
    const lines: string[] = [];
    const masks: number[] = [];
    const sock = path.join(dir, 'api.sock');
    const server = await serve(engine, { hosts: [`unix://${sock}`], umask: (m) => (masks.push(m), process.umask(m)), log: (l) => lines.push(l), groupFile: groups });
    const st = statSync(sock);
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal(st.uid, 0);
    assert.equal(st.gid, 4242);
    assert.equal(masks[0], 0o777, 'made with no permissions, as dockerd makes its socket');
    assert.deepEqual(lines, ['restarted container web (restart policy)', 'could not restart container db: no such image', `API listening on ${sock} (unix socket, mode 0660, owner root, group brig (4242))`]);
    await server.close();
    assert.throws(() => statSync(sock), /ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
