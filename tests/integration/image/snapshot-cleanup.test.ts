/**
 * Snapshotter.cleanup, for both snapshotters: what a killed unpack or an interrupted
 * removal left goes; a live owner's work snapshot and unlabelled snapshots stay.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { CopySnapshotter } from '../../../src/image/snapshot/copy.js';
import { OverlaySnapshotter } from '../../../src/image/snapshot/overlay.js';
import { OWNER_LABEL, type Snapshotter } from '../../../src/image/snapshot/snapshotter.js';
import { currentOwner, formatOwner } from '../../../src/util/owner.js';
import { overlayMissing } from '../../support/image-registry.js';
import { tempDir } from '../../support/image-tmp.js';

const kinds: [string, (root: string) => Snapshotter, string | false][] = [
  ['overlayfs', (root) => new OverlaySnapshotter({ root }), overlayMissing()],
  ['copy', (root) => new CopySnapshotter({ root }), false],
];

for (const [name, make, skip] of kinds) {
  test(`${name}: cleanup removes a dead owner's work snapshot and unfinished removals, nothing else`, { skip }, async (t) => {
    const { dir, cleanup } = await tempDir();
    t.after(cleanup);
    const s = make(dir);
    await s.prepare('base-work');
    await s.commit('base', 'base-work');
    const me = currentOwner();
    // Same pid, another start time: the process that wrote it is gone.
    await s.prepare('extract-dead', 'base', { labels: { [OWNER_LABEL]: formatOwner({ pid: me.pid, start: '1' }) } });
    await s.prepare('extract-live', 'base', { labels: { [OWNER_LABEL]: formatOwner(me) } });
    await s.prepare('container', 'base');
    const dirs = async () => (await fs.readdir(join(dir, 'snapshots'))).sort();
    assert.equal((await dirs()).length, 4);
    // A removal killed after its move into trash, and one from before trash existed.
    await fs.mkdir(join(dir, 'trash', '99', 'fs', 'a', 'b'), { recursive: true });
    await fs.mkdir(join(dir, 'snapshots', 'rm-98', 'fs'), { recursive: true });

    await s.cleanup();
    assert.deepEqual((await s.list()).map((i) => i.key), ['base', 'extract-live', 'container']);
    assert.equal((await dirs()).length, 3);
    assert.deepEqual(await fs.readdir(join(dir, 'trash')), []);
  });
}
