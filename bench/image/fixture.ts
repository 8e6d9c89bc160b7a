/**
 * A synthetic rootfs for benchmarks: a tree shaped like a distro image (many small files,
 * some large ones, symlinks), with content that compresses about as well as binaries do.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';

export async function makeTree(root: string, totalBytes: number): Promise<{ files: number; bytes: number }> {
  // Half-random blocks: gzip gets roughly 2:1, like executables and libraries.
  const block = Buffer.concat([randomBytes(32 << 10), Buffer.alloc(32 << 10, 0x41)]);
  let bytes = 0;
  let files = 0;
  let i = 0;
  while (bytes < totalBytes) {
    const dir = join(root, `usr/lib/pkg${Math.floor(i / 50)}`);
    if (i % 50 === 0) await fs.mkdir(dir, { recursive: true });
    // Mostly small files, every 40th a large one.
    const size = i % 40 === 0 ? 4 << 20 : 1024 + ((i * 7919) % (48 << 10));
    const buf = Buffer.alloc(size);
    for (let off = 0; off < size; off += block.length) block.copy(buf, off, (i * 131) % 1024);
    await fs.writeFile(join(dir, `f${i}`), buf);
    if (i % 10 === 0) await fs.symlink(`f${i}`, join(dir, `l${i}`));
    bytes += size;
    files++;
    i++;
  }
  return { files, bytes };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
