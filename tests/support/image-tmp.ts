/** Temp dirs for image tests, removed by the returned cleanup (call it in `after`/`t.after`). */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rmTree } from '../../src/image/fs-util.js';

export async function tempDir(
  prefix = 'brig-image-',
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmTree(dir) };
}
