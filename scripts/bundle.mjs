#!/usr/bin/env node
/**
 * The bundle step of `npm run build`: dist/brig-runtime.cjs and dist/brig.cjs with esbuild,
 * and what the build is written into them as __BRIG_BUILD__ (src/util/build-info.ts):
 *
 *   commit   BRIG_GIT_COMMIT if set, else `git rev-parse --short HEAD` (7 characters, as
 *            docker's), "-dirty" after it when tracked files have changes; "unknown" where
 *            there is no git (a source tarball)
 *   built    SOURCE_DATE_EPOCH if set (reproducible builds), else now; RFC 3339, UTC
 *
 * An npm package carries the bundles as they were built by `npm pack` (its install script
 * builds only native code), so an installed brig reports the commit it was packed from.
 */
import { execFileSync } from 'node:child_process';
import process from 'node:process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function git(...args) {
  return execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

function commit() {
  if (process.env.BRIG_GIT_COMMIT) return process.env.BRIG_GIT_COMMIT;
  try {
    const head = git('rev-parse', '--short=7', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') === '' ? head : `${head}-dirty`;
  } catch {
    return 'unknown';
  }
}

const epoch = process.env.SOURCE_DATE_EPOCH;
const info = {
  commit: commit(),
  built: (epoch ? new Date(Number(epoch) * 1000) : new Date()).toISOString(),
};

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node24',
  logLevel: 'warning',
  define: { 'import.meta.url': '__brigModuleUrl', __BRIG_BUILD__: JSON.stringify(info) },
  banner: { js: "const __brigModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
};
await Promise.all([
  build({ ...common, entryPoints: [path.join(root, 'src/cli/runtime/main.ts')], outfile: path.join(root, 'dist/brig-runtime.cjs') }),
  build({ ...common, entryPoints: [path.join(root, 'src/cli/brig/main.ts')], outfile: path.join(root, 'dist/brig.cjs') }),
]);
