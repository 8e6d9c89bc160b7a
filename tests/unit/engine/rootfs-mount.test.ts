/** How an overlay rootfs is handed to the kernel, per kernel version, and what is refused. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { overlayMountPlan } from '../../../src/engine/rootfs-mount.js';

const root = `/var/lib/${'d'.repeat(190)}/snapshots/overlayfs/snapshots`;
const overlay = (layers: number, firstId = 1) => ({
  type: 'overlay',
  source: 'overlay',
  options: [
    `workdir=${root}/999/work`,
    `upperdir=${root}/999/fs`,
    ...Array.from({ length: layers }, (_, i) => `lowerdir+=${root}/${firstId + layers - 1 - i}/fs`),
  ],
});
const tool = '/opt/brig/native/build/brig-mount';

test('6.13+: every layer, upper and work dir go over as an open fd, in order', () => {
  const p = overlayMountPlan(overlay(3), '/c/rootfs', { tool, kernel: '6.18.44-fc' });
  assert.deepEqual(p, {
    file: tool,
    args: [
      'overlay',
      '/c/rootfs',
      's:source=overlay',
      `d:workdir=${root}/999/work`,
      `d:upperdir=${root}/999/fs`,
      `d:lowerdir+=${root}/3/fs`,
      `d:lowerdir+=${root}/2/fs`,
      `d:lowerdir+=${root}/1/fs`,
    ],
  });
});

test('6.8 to 6.12: lowerdir+ strings relative to the layers parent, each under 256 bytes', () => {
  const p = overlayMountPlan(overlay(2), '/c/rootfs', { tool, kernel: '6.8.0-31-generic' });
  assert.deepEqual(p.args, ['-C', root, 'overlay', '/c/rootfs', 's:source=overlay', 's:workdir=999/work', 's:upperdir=999/fs', 's:lowerdir+=2/fs', 's:lowerdir+=1/fs']);
});

test('older kernels: mount(8) with relative lowerdir=a:b, refused (naming the count) when over a page', () => {
  const p = overlayMountPlan(overlay(2), '/c/rootfs', { tool, kernel: '6.1.0-18-amd64' });
  assert.deepEqual(p, { file: 'mount', args: ['-t', 'overlay', '-o', 'workdir=999/work,upperdir=999/fs,lowerdir=2/fs:1/fs', 'overlay', '/c/rootfs'], cwd: root });
  // Relative paths keep 500 layers under a page while snapshot ids stay short; not once they grow.
  overlayMountPlan(overlay(500), '/c', { tool, kernel: '5.15.0' });
  assert.throws(
    () => overlayMountPlan(overlay(499, 100_000), '/c', { tool, kernel: '5.15.0' }),
    /the container rootfs has 499 layers; their overlay options take \d+ bytes, over the 4095 mount\(2\) takes on kernel 5\.15\.0/,
  );
});

test('more than 500 lower layers is refused before anything is mounted', () => {
  overlayMountPlan(overlay(500), '/c', { tool, kernel: '6.18.0' });
  assert.throws(() => overlayMountPlan(overlay(501), '/c', { tool, kernel: '6.18.0' }), /the container rootfs has 501 layers; overlayfs stacks at most 500/);
});
