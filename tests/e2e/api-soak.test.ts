/**
 * brig serve's memory and fds over a few hundred create/start/wait/remove cycles (issue 14:
 * "the server's memory stays flat over 10,000 create/start/remove cycles"; the 10,000 are
 * bench/api-soak.ts, by hand). The same cycle and sample as the bench
 * (tests/support/api-soak.ts), with the server's collected heap from GET /_brig/memory
 * (--debug-memory, NODE_OPTIONS=--expose-gc).
 *
 * The bounds are a CI run's, coarser than the bench's (SOAK_BOUNDS), because a few hundred
 * cycles are still within V8's warm-up: its young generation grows towards its cap (RSS),
 * and code and type feedback are still being made (a few KiB a cycle in the collected heap
 * during the first ~1000 cycles of the bench's runs, flat after). What a leak of a
 * container's worth per cycle would do is far above them: a container's record, inspect
 * JSON or a stream's buffers are several KiB each, 300 cycles of that are MiBs of heap.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { formatSample, sampleServer, soakClient, soakCycle, soakVerdict, type SoakSample } from '../support/api-soak.js';
import { type ApiServer, apiRequest, startApiServer, stopApiServer } from '../support/api-server.js';
import { requires } from '../support/requires.js';

const skip = requires('root', 'helper', 'busybox');
const CYCLES = Number(process.env.BRIG_SOAK_CYCLES ?? 300);
const WARMUP = Math.round(CYCLES / 3);
const EVERY = 20;
let s: ApiServer;

before(async () => {
  if (!skip) s = await startApiServer('brig-api-soak-', ['--debug-memory'], { NODE_OPTIONS: '--expose-gc' });
});
after(async () => {
  if (!skip) await stopApiServer(s);
});

test('GET /_brig/memory answers only with --debug-memory', { skip }, async () => {
  const plain = await startApiServer('brig-api-soak-plain-');
  try {
    const r = await fetchStatus(plain.socket, '/_brig/memory');
    assert.equal(r, 404, 'not exposed by default');
  } finally {
    await stopApiServer(plain);
  }
});

async function fetchStatus(socket: string, p: string): Promise<number> {
  return (await apiRequest(socket, 'GET', p)).status;
}

test(`${CYCLES} create/start/wait/remove cycles: the server's heap, RSS and fds stay flat after warm-up`, { skip, timeout: 1_200_000 }, async () => {
  const c = soakClient(s.socket);
  const pid = s.proc.pid!;
  const t0 = Date.now();
  const samples: SoakSample[] = [await sampleServer(c, pid, 0, t0)];
  assert.equal(samples[0]!.collected, true, 'the server collects before it answers (--expose-gc)');
  for (let i = 1; i <= CYCLES; i++) {
    await soakCycle(c);
    if (i % EVERY === 0) samples.push(await sampleServer(c, pid, i, t0));
  }
  c.agent.destroy();
  for (const x of samples) console.log(`# ${formatSample(x)}`);
  // 4 KiB a cycle: a container's record, inspect document or stream state kept per cycle is
  // more than that once parsed; the first few hundred cycles grow the collected heap by up
  // to ~2 KiB a cycle on their own (warm-up: flat after ~1000 cycles in the bench's runs).
  const v = soakVerdict(samples, WARMUP, { rssGrowthKiB: 24 * 1024, heapBytesPerCycle: 4096, fds: 2 });
  for (const l of v.lines) console.log(`# ${l}`);
  assert.ok(v.flat, v.lines.join('\n'));
  const last = samples.at(-1)!;
  assert.deepEqual(last.server, { execs: 0, waitingAttaches: 0 }, 'the server keeps nothing per container');
  assert.equal(s.brig.ok(['ps', '-aq']), '', 'every container is gone');
});
