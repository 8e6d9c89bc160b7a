/** Temp dirs for image tests, removed by the returned cleanup (call it in `after`/`t.after`). */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rmTree } from '../../src/image/fs-util.js';

export async function tempDir(
  prefix = 'brig-image-',
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmTree(dir) };
}

/** A temp dir with an empty `root` to unpack into and an `outside` holding `secret`, which no layer may touch. */
export async function layerTarget(
  t: { after: (fn: () => Promise<void>) => void },
  prefix = 'brig-image-',
): Promise<{ dir: string; target: string; outside: string }> {
  const { dir, cleanup } = await tempDir(prefix);
  t.after(cleanup);
  const target = join(dir, 'root');
  const outside = join(dir, 'outside');
  await mkdir(target);
  await mkdir(outside);
  await writeFile(join(outside, 'secret'), 'secret');
  return { dir, target, outside };
}
