/**
 * A representative part of the brig CLI's end-to-end suite run again in remote mode
 * (BRIG_TEST_REMOTE=1, tests/support/brig-cli.ts): the same files, the CLI driving a
 * `brig serve` on each data root through its RemoteEngine. The whole suite in remote mode
 * takes as long again as the suite (~20 min); these files cover the verbs clients use most
 * (ps with its filters and formats, events streamed and replayed, logs and their drivers)
 * in a few minutes. Each file runs as its own `node --test` process, one after another, as
 * the suite runs them; a failure prints that file's report.
 *
 * BRIG_REMOTE_SUITE=file1,file2 runs other files (names under tests/e2e, without .test.ts),
 * BRIG_REMOTE_SUITE=0 none.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { REMOTE } from '../support/brig-cli.js';
import { requires } from '../support/requires.js';

const FILES = (process.env.BRIG_REMOTE_SUITE ?? 'brig-ps,brig-events,brig-logs').split(',').filter((f) => f && f !== '0');
// Already in remote mode (the whole suite run with BRIG_TEST_REMOTE=1): these files ran so.
const skip = requires('root', 'helper', 'busybox') || (REMOTE ? 'the suite runs in remote mode already' : false);
const here = path.dirname(fileURLToPath(import.meta.url));

function runFile(file: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-reporter=spec', path.join(here, `${file}.test.js`)], {
      // Without NODE_TEST_CONTEXT: set by this runner, it would make the child a subtest
      // reporting to a parent that does not listen, and run nothing.
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT')), BRIG_TEST_REMOTE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => resolve({ code, out }));
  });
}

for (const file of FILES) {
  test(`remote mode: tests/e2e/${file}.test.ts through brig serve`, { skip, timeout: 900_000 }, async () => {
    const started = Date.now();
    const r = await runFile(file);
    const summary = r.out.split('\n').filter((l) => /^ℹ (tests|pass|fail|skipped)/.test(l));
    console.log(`# ${file} in remote mode: ${((Date.now() - started) / 1000).toFixed(0)} s; ${summary.join(', ')}`);
    assert.equal(r.code, 0, `${file} in remote mode:\n${r.out.slice(-6000)}`);
    assert.ok(summary.some((l) => /^ℹ pass [1-9]/.test(l)), `${file} ran its tests:\n${r.out.slice(-2000)}`);
  });
}
