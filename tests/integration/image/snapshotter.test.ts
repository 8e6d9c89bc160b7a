import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CopySnapshotter } from '../../../src/image/snapshot/copy.js';
import { OverlaySnapshotter } from '../../../src/image/snapshot/overlay.js';
import { defaultSnapshotter } from '../../../src/image/snapshot/select.js';
import { overlayMissing } from '../../support/image-registry.js';
import { snapshotterSuite } from './snapshotter-suite.js';

// Overlay whiteouts (mknod 0:0, trusted.* xattrs via setfattr) and overlay mounts need root.
snapshotterSuite('overlayfs', (root) => new OverlaySnapshotter({ root }), overlayMissing());
snapshotterSuite('copy', (root) => new CopySnapshotter({ root }), false);

test('default snapshotter: overlayfs where possible, else copy with a reason', () => {
  const { snapshotter, reason } = defaultSnapshotter({ root: '/nonexistent/brig-test' });
  const why = overlayMissing();
  if (why === false && reason === undefined) assert.equal(snapshotter.name, 'overlayfs');
  else assert.equal(snapshotter.name, 'copy');
  assert.equal(reason === undefined, snapshotter.name === 'overlayfs');
});
