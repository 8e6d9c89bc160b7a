import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Finds native/build/<name> above the running module: the same code runs from
 * dist/src/... (tests) and from the bundled dist/*.mjs (the installed CLIs).
 */
export function locateNative(name: string, fromUrl: string): string {
  let dir = path.dirname(fileURLToPath(fromUrl));
  for (;;) {
    const candidate = path.join(dir, 'native', 'build', name);
    if (existsSync(candidate)) return candidate;
    const up = path.dirname(dir);
    if (up === dir) return path.join(path.dirname(fileURLToPath(fromUrl)), 'native', 'build', name);
    dir = up;
  }
}
