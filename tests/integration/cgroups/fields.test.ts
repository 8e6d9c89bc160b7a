/**
 * Many linux.resources fields at once on the real kernel, read back from the cgroup files:
 * catches a kernel that formats or validates a file differently from what the unit tests
 * assume. v1 (this project's machines) and v2 (the VM) get the fields each can honour.
 */
import assert from 'node:assert/strict';

import { join } from 'node:path';
import { test } from 'node:test';
import type { LinuxResources } from '../../../src/runtime/cgroups/index.js';
import { newManager, skip, spawnWaiting } from './support.js';
import { readTextSync } from '../../../src/util/read-text.js';

const read = (dir: string | undefined, file: string) =>
  readTextSync(join(dir ?? '/nonexistent', file)).trim();

test('a broad set of fields lands in the kernel as written', { skip }, async () => {
  const { manager, warnings, cleanup } = await newManager();
  const w = spawnWaiting('sleep 60');
  try {
    await manager.apply(w.pid);
    const common: LinuxResources = {
      memory: { limit: 200 << 20, reservation: 100 << 20, kernel: 64 << 20 },
      cpu: { shares: 512, quota: 50_000, period: 100_000, burst: 1_000, cpus: '0', mems: '0' },
      pids: { limit: 77 },
    };
    const dirs = manager.state().dirs;
    if (manager.version === 'v1') {
      await manager.set({ ...common, memory: { ...common.memory, swappiness: 10, disableOOMKiller: false } });
      assert.equal(read(dirs.memory, 'memory.limit_in_bytes'), String(200 << 20));
      assert.equal(read(dirs.memory, 'memory.soft_limit_in_bytes'), String(100 << 20));
      assert.equal(read(dirs.memory, 'memory.swappiness'), '10');
      assert.equal(read(dirs.cpu, 'cpu.shares'), '512');
      assert.equal(read(dirs.cpu, 'cpu.cfs_quota_us'), '50000');
      assert.equal(read(dirs.cpu, 'cpu.cfs_period_us'), '100000');
      assert.equal(read(dirs.cpuset, 'cpuset.cpus'), '0');
      assert.equal(read(dirs.pids, 'pids.max'), '77');
    } else {
      await manager.set({ ...common, unified: { 'memory.high': String(150 << 20) } });
      assert.equal(read(dirs.unified, 'memory.max'), String(200 << 20));
      assert.equal(read(dirs.unified, 'memory.low'), String(100 << 20));
      assert.equal(read(dirs.unified, 'memory.high'), String(150 << 20));
      assert.equal(read(dirs.unified, 'cpu.weight'), '20');
      assert.equal(read(dirs.unified, 'cpu.max'), '50000 100000');
      assert.equal(read(dirs.unified, 'cpu.max.burst'), '1000');
      assert.equal(read(dirs.unified, 'cpuset.cpus'), '0');
      assert.equal(read(dirs.unified, 'pids.max'), '77');
    }
    // Kernel memory is deprecated: applied where the kernel still has it, else a warning.
    for (const m of warnings) assert.match(m, /^memory: linux\.resources\.memory\.kernel=/);
    const s = await manager.stats();
    assert.equal(s.memory.usage.limit, 200 << 20);
    assert.equal(s.pids.limit, 77);
    assert.deepEqual(s.cpuset.cpus, [0]);
    process.stderr.write(`# ${manager.version}: warnings ${JSON.stringify(warnings)}\n`);
  } finally {
    await cleanup();
  }
});
