import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ListingCache } from '../../../src/engine/containers/listing-cache.js';
import type { ContainerRecord } from '../../../src/engine/containers/store.js';

const record = (status: string, pending?: boolean) => ({ id: 'x', name: 'x', state: { status }, ...(pending ? { pending: { op: 'start', owner: '1:1' } } : {}) }) as unknown as ContainerRecord;
const live = (r: ContainerRecord) => r.pending !== undefined || r.state.status === 'running';

/** A container directory (its ctime is now: the tests' clock runs ahead of it to make it old). */
function newDir(root: string, name: string): string {
  const dir = path.join(root, name);
  mkdirSync(dir);
  return dir;
}
const later = () => Date.now() + 1000;

test('listing cache: kept while the directory is unchanged; a file renamed in, a racy directory or a gone one reads again', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'brig-lc-'));
  try {
    let t = later();
    const cache = new ListingCache(() => t);
    const dir = newDir(root, 'a');
    let loads = 0;
    const load = (status: string) => async () => (loads++, record(status));
    const first = await cache.get(dir, load('exited'), live);
    assert.equal(first?.state.status, 'exited');
    assert.equal((await cache.get(dir, load('exited'), live))?.state.status, 'exited');
    assert.equal(loads, 1, 'unchanged: no second load');
    // A change just now is racy (within 100 ms of the clock): read again until it is not.
    writeFileSync(path.join(dir, 'exit.json.tmp'), '{}');
    renameSync(path.join(dir, 'exit.json.tmp'), path.join(dir, 'exit.json'));
    t = Date.now();
    assert.equal((await cache.get(dir, load('running'), live))?.state.status, 'running');
    assert.equal((await cache.get(dir, load('running'), live))?.state.status, 'running');
    assert.equal(loads, 3, 'a just-changed directory is never kept');
    t += 500; // no longer racy
    await cache.get(dir, load('exited'), live);
    await cache.get(dir, load('exited'), live);
    assert.equal(loads, 4, 'kept once the change is older than a clock tick');
    rmSync(dir, { recursive: true });
    assert.equal(await cache.get(dir, load('exited'), live), undefined, 'a removed container is gone');
    assert.equal(loads, 4);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('listing cache: a live record (running, or mid-operation) is reconciled again after a second; a settled one is not', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'brig-lc-'));
  try {
    let t = later();
    const cache = new ListingCache(() => t);
    const running = newDir(root, 'r');
    const settled = newDir(root, 's');
    let loads = 0;
    const counted = (r: ContainerRecord) => async () => (loads++, r);
    await cache.get(running, counted(record('running')), live);
    await cache.get(settled, counted(record('exited')), live);
    await cache.get(running, counted(record('running')), live);
    await cache.get(settled, counted(record('exited')), live);
    assert.equal(loads, 2);
    t += 1500;
    await cache.get(running, counted(record('exited')), live);
    await cache.get(settled, counted(record('exited')), live);
    assert.equal(loads, 3, 'only the running one was looked at again (/proc may say it died)');
    const pendingDir = newDir(root, 'p');
    t = later();
    await cache.get(pendingDir, counted(record('created', true)), live);
    t += 1500;
    await cache.get(pendingDir, counted(record('created', true)), live);
    assert.equal(loads, 5, 'one mid-operation too (its brig may have died)');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("listing cache: a snapshot's memo lives exactly as long as the snapshot", async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'brig-lc-'));
  try {
    let t = later();
    const cache = new ListingCache(() => t);
    const dir = newDir(root, 'm');
    const shared = record('exited');
    const a = (await cache.get(dir, async () => shared, live))!;
    cache.memo(a)!.set('network', 'n1');
    const b = (await cache.get(dir, async () => shared, live))!;
    assert.equal(b, a);
    assert.equal(cache.memo(b)!.get('network'), 'n1');
    writeFileSync(path.join(dir, 'network.json'), '{}');
    t = later();
    // Load hands back the very same object (a parse cache may): the snapshot is still a new one.
    const c = (await cache.get(dir, async () => shared, live))!;
    assert.notEqual(c, a);
    assert.equal(cache.memo(c)!.has('network'), false, 'what was read before the change is not carried over');
    assert.equal(cache.memo(shared), undefined, 'a record not from a snapshot has no memo');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('listing cache: past a second a live snapshot is kept while its processes are all there (a kill(pid, 0) each), and reconciled in full every ten seconds whatever they say', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'brig-lc-'));
  try {
    let t = later();
    const cache = new ListingCache(() => t);
    const dir = newDir(root, 'k');
    let loads = 0;
    let there = true;
    const load = async () => (loads++, record('running'));
    await cache.get(dir, load, live, () => there);
    t += 1500;
    await cache.get(dir, load, live, () => there);
    t += 1500;
    await cache.get(dir, load, live, () => there);
    assert.equal(loads, 1, 'its processes are there: no reconcile');
    t += 8000;
    await cache.get(dir, load, live, () => there);
    assert.equal(loads, 2, 'ten seconds on: in full again');
    t += 1500;
    there = false;
    await cache.get(dir, load, live, () => there);
    assert.equal(loads, 3, 'a process gone: in full again');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
