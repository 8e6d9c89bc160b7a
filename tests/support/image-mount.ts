/** Performs snapshot mount descriptions for tests (the runtime does this for real containers). */
import { execFileSync } from 'node:child_process';
import type { Mount } from '../../src/image/snapshot/snapshotter.js';

export function mountAll(mounts: Mount[], target: string): () => void {
  const done: string[] = [];
  for (const m of mounts) {
    if (m.type === 'bind') {
      execFileSync('mount', ['--bind', m.source, target]);
      done.push(target);
      if (m.options.includes('ro')) execFileSync('mount', ['-o', 'remount,bind,ro', target]);
    } else {
      execFileSync('mount', ['-t', m.type, '-o', m.options.join(','), m.source, target]);
      done.push(target);
    }
  }
  return () => {
    for (const t of done.reverse()) execFileSync('umount', [t]);
  };
}
