/**
 * The managers' own rules, on a fake cgroupfs: create only what is missing and remember it,
 * write to no cgroup brig did not create, enable v2 controllers only in parents it created,
 * remove exactly what it created, and refuse what it cannot apply.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BrigError } from '../../../src/errors/index.js';
import type { CgroupHost } from '../../../src/runtime/cgroups/detect.js';
import { createCgroupManager, openCgroupManager } from '../../../src/runtime/cgroups/factory.js';
import { NullManager } from '../../../src/runtime/cgroups/null.js';
import { fakeCgroupfs } from './fake-cgroupfs.js';

const V2_FILES = (controllers: string) => ({
  'cgroup.procs': '',
  'cgroup.controllers': `${controllers}\n`,
  'cgroup.subtree_control': '',
  'cgroup.events': 'populated 0\nfrozen 0\n',
  'cgroup.freeze': '0\n',
  'pids.max': 'max\n',
  'memory.max': 'max\n',
  'memory.events': 'oom_kill 0\n',
});

function v2Host(mount: string): CgroupHost {
  return {
    layout: 'unified',
    v1: {},
    unified: { mountPoint: mount, hierarchyRoot: '/', controllers: ['cpu', 'memory', 'pids'] },
    kernel: {},
    own: { v1: {}, unified: '/' },
  };
}

function v1Host(root: string, withUnified: boolean): CgroupHost {
  const v1: CgroupHost['v1'] = {};
  for (const c of ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'freezer', 'devices']) {
    v1[c] = { mountPoint: join(root, c), hierarchyRoot: '/', controllers: [c] };
  }
  const host: CgroupHost = {
    layout: withUnified ? 'hybrid' : 'legacy',
    v1,
    kernel: {},
    own: { v1: {}, unified: '/' },
  };
  if (withUnified)
    host.unified = { mountPoint: join(root, 'unified'), hierarchyRoot: '/', controllers: ['hugetlb'] };
  return host;
}

describe('v2 manager', () => {
  test('creates the missing levels, enables controllers only in parents it created, joins the leaf', async () => {
    const f = fakeCgroupfs(() => V2_FILES('cpu memory pids'));
    try {
      f.existing('/existing', V2_FILES('memory pids'));
      const m = createCgroupManager(v2Host(f.root), {
        id: 'x',
        cgroupsPath: '/existing/brig/c1',
        fs: f.fs,
        kill: () => {},
      });
      await m.apply(1234);
      assert.deepEqual(m.state().created, [join(f.root, 'existing/brig'), join(f.root, 'existing/brig/c1')]);
      assert.deepEqual(f.writes, [
        ['/existing/brig/cgroup.subtree_control', '+cpu +memory +pids'],
        ['/existing/brig/c1/cgroup.procs', '1234'],
      ]);
      await m.set({ pids: { limit: 5 } });
      assert.deepEqual(f.writes.at(-1), ['/existing/brig/c1/pids.max', '5']);
    } finally {
      f.cleanup();
    }
  });

  test('a controller the parent does not delegate is an error naming its subtree_control', async () => {
    const f = fakeCgroupfs(() => V2_FILES('memory'));
    try {
      f.existing('/sys', V2_FILES('memory'));
      const m = createCgroupManager(v2Host(f.root), {
        id: 'x',
        cgroupsPath: '/sys/c1',
        fs: f.fs,
        kill: () => {},
      });
      await m.apply(1);
      await assert.rejects(m.set({ pids: { limit: 5 } }), (e: unknown) => {
        assert.ok(e instanceof BrigError);
        assert.equal(e.code, 'CGROUP_UNSUPPORTED');
        assert.match(e.message, /^pids: .*sys\/cgroup\.subtree_control/);
        assert.match(e.hint ?? '', /did not create/);
        return true;
      });
      // Nothing was written to the cgroup brig did not create.
      assert.ok(f.writes.every(([p]) => p.startsWith('/sys/c1/')));
    } finally {
      f.cleanup();
    }
  });

  test('destroy removes exactly the directories it created, and state() survives a round trip', async () => {
    const f = fakeCgroupfs(() => V2_FILES('pids'));
    try {
      f.existing('/keep', V2_FILES('pids'));
      const m = createCgroupManager(v2Host(f.root), {
        id: 'x',
        cgroupsPath: '/keep/a/b',
        fs: f.fs,
        kill: () => {},
      });
      await m.apply(1);
      // Another process (the delete verb) rebuilds the manager from the saved state.
      const saved = JSON.parse(JSON.stringify(m.state()));
      // The container made a child cgroup of its own inside.
      await f.fs.mkdir(join(f.root, 'keep/a/b/inner'));
      await f.fs.writeFile(join(f.root, 'keep/a/b/cgroup.procs'), '');
      await openCgroupManager(saved, { fs: f.fs, kill: () => {} }).destroy({ timeoutMs: 1000 });
      const { existsSync } = await import('node:fs');
      assert.equal(existsSync(join(f.root, 'keep/a')), false);
      assert.equal(existsSync(join(f.root, 'keep')), true);
    } finally {
      f.cleanup();
    }
  });

  test('removal() is what destroy removes: its own leaf, then the parents it made, deepest first', async () => {
    const f = fakeCgroupfs(() => V2_FILES('pids'));
    try {
      f.existing('/keep', V2_FILES('pids'));
      const m = createCgroupManager(v2Host(f.root), { id: 'x', cgroupsPath: '/keep/a/b', fs: f.fs, kill: () => {} });
      await m.apply(1);
      assert.deepEqual(m.removal(), { leaves: [join(f.root, 'keep/a/b')], parents: [[join(f.root, 'keep/a')]] });
      // A cgroup it joined but did not make is never removed.
      const joined = createCgroupManager(v2Host(f.root), { id: 'y', cgroupsPath: '/keep', fs: f.fs, kill: () => {} });
      await joined.apply(1);
      assert.deepEqual(joined.removal(), { leaves: [], parents: [] });
    } finally {
      f.cleanup();
    }
  });

  test('a failed apply leaves nothing behind', async () => {
    const f = fakeCgroupfs((dir) => (dir.endsWith('c1') ? {} : V2_FILES('pids'))); // leaf lacks cgroup.procs
    try {
      const m = createCgroupManager(v2Host(f.root), {
        id: 'x',
        cgroupsPath: '/p/c1',
        fs: f.fs,
        kill: () => {},
      });
      await assert.rejects(m.apply(1), /cgroup\.procs/);
      const { existsSync } = await import('node:fs');
      assert.equal(existsSync(join(f.root, 'p')), false);
    } finally {
      f.cleanup();
    }
  });
});

describe('v1 manager', () => {
  const v1Files = (dir: string): Record<string, string> => {
    const files: Record<string, string> = { 'cgroup.procs': '', tasks: '' };
    if (dir.includes('/cpuset/')) Object.assign(files, { 'cpuset.cpus': '', 'cpuset.mems': '' });
    if (dir.includes('/pids/')) files['pids.max'] = 'max\n';
    if (dir.includes('/unified/'))
      Object.assign(files, { 'cgroup.controllers': '\n', 'cgroup.subtree_control': '' });
    return files;
  };

  test('one directory per hierarchy; new cpuset levels get the parent cpus/mems; pid joins each', async () => {
    const f = fakeCgroupfs(v1Files);
    try {
      const host = v1Host(f.root, true);
      for (const c of [...Object.keys(host.v1), 'unified']) f.existing(`/${c}`);
      f.existing('/cpuset', { 'cpuset.cpus': '0-3\n', 'cpuset.mems': '0\n' });
      const m = createCgroupManager(host, { id: 'x', cgroupsPath: '/brig/c1', fs: f.fs, kill: () => {} });
      await m.apply(77);
      assert.equal(m.version, 'v1');
      assert.equal(m.state().created.length, 16, '2 levels × (7 v1 hierarchies + unified)');
      const cpusetWrites = f.writes.filter(([p]) => p.startsWith('/cpuset/') && !p.endsWith('cgroup.procs'));
      assert.deepEqual(cpusetWrites, [
        ['/cpuset/brig/cpuset.cpus', '0-3'],
        ['/cpuset/brig/cpuset.mems', '0'],
        ['/cpuset/brig/c1/cpuset.cpus', '0-3'],
        ['/cpuset/brig/c1/cpuset.mems', '0'],
      ]);
      assert.equal(f.writes.filter(([p, d]) => p.endsWith('/c1/cgroup.procs') && d === '77').length, 8);
    } finally {
      f.cleanup();
    }
  });

  test('hybrid: hugetlb in the unified hierarchy but not delegated → error naming subtree_control', async () => {
    const f = fakeCgroupfs(v1Files);
    try {
      const host = v1Host(f.root, true);
      for (const c of [...Object.keys(host.v1), 'unified']) f.existing(`/${c}`);
      f.existing('/cpuset', { 'cpuset.cpus': '0\n', 'cpuset.mems': '0\n' });
      const m = createCgroupManager(host, { id: 'x', cgroupsPath: '/c2', fs: f.fs, kill: () => {} });
      await m.apply(1);
      await assert.rejects(
        m.set({ hugepageLimits: [{ pageSize: '2MB', limit: 0 }] }),
        /^BrigError: hugetlb: .*unified\/cgroup\.subtree_control/,
      );
      await assert.rejects(m.set({ unified: { 'memory.high': '1' } }), /needs cgroup v2/);
      await assert.rejects(m.set({ blockIO: { weight: 100 } }), /^BrigError: blkio: .*not mounted/);
    } finally {
      f.cleanup();
    }
  });
});

describe('stats shape', () => {
  test("runc's events --stats keys, with nothing read yet", async () => {
    const { emptyStats } = await import('../../../src/runtime/cgroups/stats.js');
    const s = JSON.parse(JSON.stringify(emptyStats()));
    assert.deepEqual(Object.keys(s), [
      'cpu',
      'cpuset',
      'memory',
      'pids',
      'blkio',
      'hugetlb',
      'intel_rdt',
      'network_interfaces',
    ]);
    assert.deepEqual(Object.keys(s.memory), ['usage', 'swap', 'kernel', 'kernelTCP']);
    assert.deepEqual(s.memory.usage, { limit: 0, failcnt: 0 });
    assert.deepEqual(s.cpu, { usage: { kernel: 0, user: 0 }, throttling: {} });
  });
});

describe('null manager', () => {
  test('every non-empty request is an error naming the controller; empty ones pass', async () => {
    const m = new NullManager('/x');
    await m.apply();
    await m.set({});
    await m.set({ memory: {}, devices: [] });
    await assert.rejects(
      m.set({ memory: { limit: 1 } }),
      /^BrigError: memory: cannot apply linux\.resources\.memory/,
    );
    await assert.rejects(m.set({ pids: { limit: 1 } }), /^BrigError: pids:/);
    await assert.rejects(m.freeze(), /^BrigError: freezer:/);
    await assert.rejects(m.stats(), /cgroups are disabled/);
    const events = [];
    for await (const e of m.watchOom()) events.push(e);
    assert.deepEqual(events, []);
    await m.destroy();
  });

  test('the factory picks it for layout none or when disabled', () => {
    const host: CgroupHost = { layout: 'none', v1: {}, kernel: {}, own: { v1: {} } };
    assert.equal(createCgroupManager(host, { id: 'x' }).version, 'none');
    assert.equal(createCgroupManager(v2Host('/sys/fs/cgroup'), { id: 'x', disabled: true }).version, 'none');
  });
});
