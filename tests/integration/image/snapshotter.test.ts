import { CopySnapshotter } from '../../../src/image/snapshot/copy.js';
import { OverlaySnapshotter } from '../../../src/image/snapshot/overlay.js';
import { requires } from '../../support/requires.js';
import { snapshotterSuite } from './snapshotter-suite.js';

// Overlay whiteouts (mknod 0:0, trusted.* xattrs) and overlay mounts need root.
snapshotterSuite('overlayfs', (root) => new OverlaySnapshotter({ root }), requires('root'));
snapshotterSuite('copy', (root) => new CopySnapshotter({ root }), false);
