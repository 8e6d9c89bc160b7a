/**
 * A temporary directory standing in for one cgroup's directory in cgroupfs: pre-create the
 * files a real cgroup has, run a controller, then look at every write (in order) and at the
 * files' final contents. `kernel` hooks let a test play the kernel: clamp a value or reject
 * a write with an errno.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrigError } from '../../../src/errors/index.js';
import type { SetContext } from '../../../src/runtime/cgroups/controller.js';
import { type CgroupFs, ControllerDir, nodeCgroupFs } from '../../../src/runtime/cgroups/fs.js';
import { readTextSync } from '../../../src/util/read-text.js';

export interface FakeCgroup {
  root: string;
  dir: ControllerDir;
  /** [file name, data] for every successful write, in order. */
  writes: [string, string][];
  warnings: string[];
  ctx: SetContext;
  read(file: string): string;
  cleanup(): void;
}

export interface KernelHooks {
  /** Return the text the kernel would store, or throw an errno error. */
  onWrite?: (file: string, data: string) => string | undefined;
}

export function errno(code: string): Error {
  return Object.assign(new Error(code), { code });
}

export function fakeCgroup(
  controller: string,
  files: Record<string, string>,
  hooks: KernelHooks = {},
): FakeCgroup {
  const root = mkdtempSync(join(tmpdir(), 'brig-cgunit-'));
  for (const [f, content] of Object.entries(files)) writeFileSync(join(root, f), content);
  const writes: [string, string][] = [];
  const warnings: string[] = [];
  const fs: CgroupFs = {
    ...nodeCgroupFs,
    async writeFile(path, data) {
      const file = path.slice(root.length + 1);
      const stored = hooks.onWrite?.(file, data);
      await nodeCgroupFs.writeFile(path, stored ?? data);
    },
  };
  const dir = new ControllerDir(controller, root, fs, (path, data) =>
    writes.push([path.slice(root.length + 1), data]),
  );
  return {
    root,
    dir,
    writes,
    warnings,
    ctx: { warn: (m) => warnings.push(m) },
    read: (file) => readTextSync(join(root, file)),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Runs `fn` with a fake cgroup and always cleans it up. */
export async function withCgroup<T>(
  controller: string,
  files: Record<string, string>,
  fn: (cg: FakeCgroup) => Promise<T>,
  hooks: KernelHooks = {},
): Promise<T> {
  const cg = fakeCgroup(controller, files, hooks);
  try {
    return await fn(cg);
  } finally {
    cg.cleanup();
  }
}

/** Rejects with a BrigError of `code` whose message mentions every part (controller, file, data). */
export async function rejectsNaming(p: Promise<unknown>, code: string, ...parts: string[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof BrigError, String(e));
    assert.equal(e.code, code, e.message);
    for (const part of parts)
      assert.ok(e.message.includes(part), `${JSON.stringify(e.message)} should mention ${part}`);
    return true;
  });
}
