/** Build tests' shared pieces: a context directory written from a map, and the steps of `--progress plain` output. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Writes `files` (relative names to contents) under `root`, directories as needed; returns `root`. */
export function writeTree(root: string, files: Record<string, string>): string {
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    writeFileSync(path.join(root, f), text);
  }
  return root;
}

/** Step names and which were cached, from --progress plain. */
export function plainSteps(out: string): { name: string; cached: boolean }[] {
  const byId = new Map<string, { name: string; cached: boolean }>();
  for (const l of out.split('\n')) {
    const m = /^#(\d+) (\[.*)$/.exec(l);
    if (m) byId.set(m[1]!, { name: m[2]!, cached: false });
    const c = /^#(\d+) CACHED$/.exec(l);
    if (c) byId.get(c[1]!)!.cached = true;
  }
  return [...byId.values()];
}
