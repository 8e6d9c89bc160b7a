/**
 * A temp-dir cgroupfs that acts a little like the kernel: mkdir fills the new directory
 * with the knob files a cgroup has (from `template`), rmdir removes a directory with its
 * knob files but refuses one with child cgroups (EBUSY), and every write is recorded.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CgroupFs, nodeCgroupFs } from '../../../src/runtime/cgroups/fs.js';
import { errno } from './helpers.js';

export interface FakeCgroupfs {
  root: string;
  fs: CgroupFs;
  writes: [string, string][];
  /** Pre-create an existing (not brig's) cgroup directory with files. */
  existing(path: string, files?: Record<string, string>): void;
  cleanup(): void;
}

export function fakeCgroupfs(template: (dir: string) => Record<string, string>): FakeCgroupfs {
  const root = mkdtempSync(join(tmpdir(), 'brig-cgfs-'));
  const writes: [string, string][] = [];
  const fill = (dir: string, files: Record<string, string>) => {
    for (const [f, c] of Object.entries(files)) writeFileSync(join(dir, f), c);
  };
  const fs: CgroupFs = {
    ...nodeCgroupFs,
    async mkdir(path) {
      await fsp.mkdir(path);
      fill(path, template(path));
    },
    async rmdir(path) {
      const children = readdirSync(path, { withFileTypes: true }).filter((e) => e.isDirectory());
      if (children.length) throw errno('EBUSY');
      rmSync(path, { recursive: true });
    },
    async writeFile(path, data) {
      await nodeCgroupFs.writeFile(path, data);
      writes.push([path.slice(root.length), data]);
    },
  };
  return {
    root,
    fs,
    writes,
    existing(path, files = {}) {
      mkdirSync(join(root, path), { recursive: true });
      fill(join(root, path), files);
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}
