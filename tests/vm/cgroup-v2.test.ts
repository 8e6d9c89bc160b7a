/**
 * The cgroup suites on cgroup v2, for real: boots a QEMU (TCG) VM whose only cgroup
 * hierarchy is cgroup2 with every controller, and runs the cgroup manager tests and the
 * runtime's resource and exec tests inside it (see DEVELOPERS.md). This host is hybrid v1, so this
 * is where v2 is proven. Lives outside tests/integration so the guest does not recurse.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot, requires } from '../support/requires.js';

function vmSkip(): false | string {
  const base = requires('root', 'helper', 'busybox');
  if (base) return base;
  if (!existsSync('/usr/bin/qemu-system-x86_64')) return 'qemu-system-x86 not installed';
  if (!readdirSync('/boot').some((f) => f.startsWith('vmlinuz-'))) return 'no kernel in /boot (apt-get install linux-image-amd64)';
  if (process.env.BRIG_VM_SKIP) return 'BRIG_VM_SKIP is set';
  return false;
}

test('cgroup v2 (in a VM): manager suite and runtime resource tests pass', { skip: vmSkip(), timeout: 480_000 }, async () => {
  const args = [
    'node_modules/.bin/node', '--test', '--test-concurrency=1', '--test-reporter=spec',
    'dist/tests/integration/cgroups/*.test.js', 'dist/tests/integration/runtime/resources.test.js',
    // exec clones into the cgroup on v2 (CLONE_INTO_CGROUP) rather than moving stage 0.
    'dist/tests/integration/runtime/exec.test.js',
  ];
  const child = spawn(path.join(repoRoot, 'tests/vm/run-cgroup-v2.sh'), args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  // The guest's own summary, so the CI log shows what ran on v2.
  const summary = out.split('\n').filter((l) => /^\s*[✔✖]|ℹ (tests|pass|fail|skipped)|run-cgroup-v2:/.test(l));
  console.log(summary.map((l) => `  [v2 vm] ${l}`).join('\n'));
  assert.equal(code, 0, out.split('\n').slice(-60).join('\n'));
  assert.match(out, /ℹ fail 0/);
  assert.doesNotMatch(out, /ℹ pass 0\b/);
});
