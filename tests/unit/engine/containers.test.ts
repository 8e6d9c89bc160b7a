import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { checkName, generateName, resolveContainer } from '../../../src/engine/containers/names.js';
import { humanStatus, transition } from '../../../src/engine/containers/state.js';
import { humanDuration } from '../../../src/util/human-duration.js';
import { type ContainerRecord, ContainerStore } from '../../../src/engine/containers/store.js';

const init = (name?: string): Omit<ContainerRecord, 'id' | 'name' | 'created'> & { name?: string } => ({
  ...(name !== undefined ? { name } : {}),
  image: 'busybox',
  imageId: 'sha256:x',
  state: { status: 'created', pid: 0, monitorPid: 0, exitCode: 0, oomKilled: false, error: '', startedAt: '', finishedAt: '' },
  restartCount: 0,
  spec: {},
  labels: {},
});

function withStore(fn: (s: ContainerStore, root: string) => Promise<void>) {
  return async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'brig-store-'));
    try {
      await fn(new ContainerStore(root), root);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };
}

test('the state machine allows what docker allows and words refusals as docker does', () => {
  assert.equal(transition('created', 'start', 'a'), 'running');
  assert.equal(transition('running', 'pause', 'a'), 'paused');
  assert.equal(transition('paused', 'unpause', 'a'), 'running');
  assert.equal(transition('running', 'exit', 'a'), 'exited');
  assert.equal(transition('exited', 'start', 'a'), 'running');
  assert.equal(transition('running', 'restart-wait', 'a'), 'restarting');
  assert.equal(transition('restarting', 'restarted', 'a'), 'running');
  assert.equal(transition('exited', 'remove', 'a'), 'removing');
  assert.equal(transition('removing', 'remove-failed', 'a'), 'dead');
  assert.equal(transition('running', 'kill', 'a'), 'running', 'kill changes nothing until the exit');
  assert.throws(() => transition('running', 'remove', 'web'), /cannot remove container "web": container is running: stop the container before removing or force remove/);
  assert.throws(() => transition('paused', 'pause', 'web'), /container web is already paused/);
  assert.throws(() => transition('running', 'unpause', 'web'), /container web is not paused/);
  assert.throws(() => transition('exited', 'exec', 'web'), /container web is not running/);
  assert.throws(() => transition('paused', 'exec', 'web'), /is paused, unpause the container before exec/);
  assert.throws(() => transition('removing', 'start', 'web'), /cannot start container web: container is removing/);
});

test("ps STATUS and docker's human durations", () => {
  const now = new Date('2026-01-01T12:00:00Z');
  assert.equal(humanStatus({ status: 'running', exitCode: 0, startedAt: '2026-01-01T11:57:00Z' }, now), 'Up 3 minutes');
  assert.equal(humanStatus({ status: 'exited', exitCode: 137, finishedAt: '2026-01-01T11:59:55Z' }, now), 'Exited (137) 5 seconds ago');
  assert.equal(humanStatus({ status: 'created', exitCode: 0 }, now), 'Created');
  assert.equal(humanStatus({ status: 'paused', exitCode: 0, startedAt: '2026-01-01T10:00:00Z' }, now), 'Up 2 hours (Paused)');
  assert.equal(humanDuration(500), 'Less than a second');
  assert.equal(humanDuration(1000), '1 second');
  assert.equal(humanDuration(59_999), '59 seconds');
  assert.equal(humanDuration(60_000), 'About a minute');
  assert.equal(humanDuration(119_999), 'About a minute');
  assert.equal(humanDuration(45 * 60_000), '45 minutes');
  assert.equal(humanDuration(90 * 60_000), '2 hours');
  assert.equal(humanDuration(3 * 24 * 3_600_000), '3 days');
  assert.equal(humanDuration(3 * 7 * 24 * 3_600_000), '3 weeks');
});

test('names: docker pattern, generated adjective_surname, lookup by id, name, unique prefix', () => {
  assert.equal(checkName('/web-1'), 'web-1');
  assert.throws(() => checkName('-x'), /Invalid container name \(-x\)/);
  assert.throws(() => checkName('a'), /Invalid container name/);
  assert.match(generateName(() => false), /^[a-z]+_[a-z_]+$/);
  const all = [
    { id: 'abc1'.padEnd(64, '0'), name: 'web' },
    { id: 'abc2'.padEnd(64, '0'), name: 'db' },
  ];
  assert.equal(resolveContainer(all, 'web').name, 'web');
  assert.equal(resolveContainer(all, '/db').name, 'db');
  assert.equal(resolveContainer(all, 'abc2').name, 'db');
  assert.throws(() => resolveContainer(all, 'abc'), /multiple containers found with provided prefix: abc/);
  assert.throws(() => resolveContainer(all, 'nope'), /No such container: nope/);
});

test(
  'create claims one name once, even when many try at once; remove frees it',
  withStore(async (s, root) => {
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => s.create(init('web'))));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const bad = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    assert.equal(ok.length, 1);
    assert.equal(bad.length, 7);
    const winner = (ok[0] as PromiseFulfilledResult<ContainerRecord>).value;
    for (const b of bad) assert.match((b.reason as Error).message, new RegExp(`Conflict\\. The container name "/web" is already in use by container "${winner.id}"`));
    assert.equal((await s.list()).length, 1, 'losers leave nothing');
    assert.equal(statSync(path.join(root, 'containers')).mode & 0o777, 0o700);
    assert.equal((await s.find('web')).id, winner.id);
    assert.equal((await s.find(winner.id.slice(0, 12))).id, winner.id);
    await s.remove(winner.id);
    assert.deepEqual(readdirSync(path.join(root, 'containers')), []);
    assert.deepEqual(readdirSync(path.join(root, 'names')), []);
    assert.equal((await s.create(init('web'))).name, 'web');
  }),
);

test(
  'update goes through the state machine under the lock; rename moves the name',
  withStore(async (s) => {
    const c = await s.create(init());
    assert.match(c.name, /_/);
    const started = await s.update(c.id, 'start', (r) => ({ ...r, state: { ...r.state, pid: 42 } }));
    assert.equal(started.state.status, 'running');
    assert.equal(started.state.pid, 42);
    await assert.rejects(s.update(c.id, 'remove'), /container is running/);
    // Concurrent updates serialise: none is lost.
    await Promise.all(Array.from({ length: 10 }, () => s.update(c.id, undefined, (r) => ({ ...r, restartCount: r.restartCount + 1 }))));
    assert.equal((await s.find(c.id)).restartCount, 10);
    const other = await s.create(init('taken'));
    await assert.rejects(s.rename(c.id, 'taken'), /already in use/);
    await s.rename(c.id, 'renamed');
    assert.equal((await s.find('renamed')).id, c.id);
    await assert.rejects(s.find(c.name), /No such container/);
    assert.equal((await s.find('taken')).id, other.id);
  }),
);

test(
  'records are reconciled on every read: the store never vouches for a process',
  withStore(async (_s, root) => {
    const s = new ContainerStore(root, (r) =>
      r.state.status === 'running' ? { ...r, state: { ...r.state, status: 'exited', exitCode: 137 } } : r,
    );
    const c = await s.create(init('xx'));
    await s.update(c.id, 'start');
    assert.equal((await s.find('xx')).state.status, 'exited');
    assert.equal((await s.list())[0]!.state.exitCode, 137);
    // The reconciled state is what update starts from: exited may start again.
    assert.equal((await s.update(c.id, 'start')).state.status, 'running');
  }),
);

test(
  'an update of a container removed meanwhile is "No such container", not the lock file\'s ENOENT',
  withStore(async (s) => {
    const c = await s.create(init('gone'));
    await s.remove(c.id);
    await assert.rejects(s.update(c.id, 'remove'), (e: Error & { code?: string }) => e.code === 'CONTAINER_NOT_FOUND' && e.message === `No such container: ${c.id}`);
  }),
);

test("signals and times as docker's kill -s, --stop-signal, --since and --until take them", async () => {
  const { parseSignal } = await import('../../../src/util/signals.js');
  const { parseTime } = await import('../../../src/util/time-arg.js');
  assert.equal(parseSignal('TERM'), 15);
  assert.equal(parseSignal('SIGKILL'), 9);
  assert.equal(parseSignal('usr1'), 10);
  assert.equal(parseSignal('2'), 2);
  assert.throws(() => parseSignal('SIGNOPE', '--signal'), /invalid signal: SIGNOPE/);
  const now = Date.parse('2026-01-01T12:00:00Z');
  assert.equal(parseTime('1700000000', '--since', now), 1700000000);
  assert.equal(parseTime('42m', '--since', now), now / 1000 - 42 * 60);
  assert.equal(parseTime('1h30m', '--since', now), now / 1000 - 5400);
  assert.equal(parseTime('2026-01-01T11:00:00Z', '--since', now), now / 1000 - 3600);
  assert.throws(() => parseTime('yesterday', '--since', now), /--since: invalid time "yesterday"/);
});
