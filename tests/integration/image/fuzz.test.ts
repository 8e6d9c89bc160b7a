/**
 * Fuzzes the tar reader and the layer applier (tests/support/layer-fuzz.ts) for a set time:
 * about 100 s in all by default, BRIG_FUZZ_SECONDS for longer runs; BRIG_FUZZ_SEED repeats a
 * run (the seed is printed). Each case must end in success or a refusal (a BrigError other
 * than INTERNAL), write
 * nothing outside its target, and finish within 10 s. Prints what it ran.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { tempDir } from '../../support/image-tmp.js';

const total = Number(process.env.BRIG_FUZZ_SECONDS ?? 100);
const baseSeed = Number(process.env.BRIG_FUZZ_SEED ?? Date.now() % 1e9);
const CASE_TIMEOUT_MS = 10_000;
const isRoot = process.getuid?.() === 0;

async function fuzz(target: 'reader' | 'applier', seconds: number, work: string): Promise<void> {
  const results = new Map<string, number>();
  let cases = 0;
  const t0 = performance.now();
  const worker = new Worker(new URL('../../support/layer-fuzz-worker.js', import.meta.url), {
    workerData: { target, seed: baseSeed, seconds, work, overlay: isRoot },
  });
  await new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const fail = (why: string) => {
      clearTimeout(timer);
      void worker.terminate();
      reject(new Error(why));
    };
    worker.on('message', (m: { started?: number; done?: number; result?: string; crash?: number; error?: string; finished?: boolean }) => {
      if (m.started !== undefined) {
        clearTimeout(timer);
        const seed = m.started;
        timer = setTimeout(() => fail(`${target} case ${seed} hung (over ${CASE_TIMEOUT_MS} ms); repeat with BRIG_FUZZ_SEED=${seed}`), CASE_TIMEOUT_MS);
      } else if (m.done !== undefined) {
        clearTimeout(timer);
        cases++;
        results.set(m.result!, (results.get(m.result!) ?? 0) + 1);
      } else if (m.crash !== undefined) {
        fail(`${target} case ${m.crash} crashed (BRIG_FUZZ_SEED=${m.crash}): ${m.error}`);
      } else if (m.finished) {
        clearTimeout(timer);
        void worker.terminate().then(() => resolve());
      }
    });
    worker.on('error', (e) => fail(`${target} worker failed: ${e.stack ?? e.message}`));
  });
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  const summary = [...results].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
  console.log(`  fuzz ${target}: ${cases} cases in ${s} s from seed ${baseSeed} (${summary})`);
  assert.ok(cases > 0);
}

test(`fuzz: tar reader (${Math.round(total * 0.35)} s)`, async () => {
  await fuzz('reader', total * 0.35, '/nonexistent');
});

test(`fuzz: layer applier (${Math.round(total * 0.65)} s, ${isRoot ? 'overlay and remove' : 'remove'} whiteouts)`, async (t) => {
  const { dir, cleanup } = await tempDir('brig-fuzz-');
  t.after(cleanup);
  await fuzz('applier', total * 0.65, dir);
});
