/**
 * docker top's way (src/engine/containers/top.ts) on the real kernel: the pids the runtime's
 * cgroup manager reads for a container (what the engine's topContainer uses) are exactly
 * its cgroup's, and the host's ps over them gives the container's rows and no other. Runs
 * on this hybrid host (v1 pids hierarchy) and in the cgroup-v2 VM (tests/vm/cgroup-v2.test.ts).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { hostPs, topProcesses } from '../../../src/engine/containers/top.js';
import { readTextSync } from '../../../src/util/read-text.js';
import { brigRuntime, leftovers, makeBundle } from '../../support/bundle.js';
import { requires } from '../../support/requires.js';

const skip = requires('root', 'helper', 'busybox');

/** cgroup.procs of the cgroup `pid` is in: the unified one on pure v2, else the v1 pids hierarchy's. */
function cgroupProcs(pid: number): number[] {
  const lines = readTextSync(`/proc/${pid}/cgroup`).split('\n');
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  const line = lines.find((l) => (v2 ? l.startsWith('0::') : /^\d+:([^:]*,)?pids(,[^:]*)?:/.test(l)))!;
  const dir = `${v2 ? '/sys/fs/cgroup' : '/sys/fs/cgroup/pids'}${line.slice(line.lastIndexOf(':') + 1)}`;
  return readTextSync(`${dir}/cgroup.procs`).split('\n').filter(Boolean).map(Number).sort((a, b) => a - b);
}

test("top: the runtime's pids are the cgroup's, and ps over them lists the container's processes only", { skip }, async () => {
  const b = makeBundle(['sh', '-c', 'sleep 30 & sleep 31; echo done']);
  const id = 'top-cg';
  try {
    const r = brigRuntime(b, ['run', '-d', id]);
    assert.equal(r.code, 0, r.stderr);
    const init = JSON.parse(brigRuntime(b, ['state', id]).stdout).pid as number;
    let pids: number[] = [];
    for (let i = 0; i < 50 && pids.length < 3; i++) {
      pids = JSON.parse(brigRuntime(b, ['ps', '--format', 'json', id]).stdout) as number[];
      if (pids.length < 3) await new Promise((res) => setTimeout(res, 50));
    }
    assert.deepEqual([...pids].sort((x, y) => x - y), cgroupProcs(init));
    assert.equal(pids.length, 3, 'sh and its two sleeps');
    const ef = await topProcesses(pids, '-ef', hostPs);
    assert.deepEqual(ef.Titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
    assert.deepEqual(ef.Processes.map((p) => Number(p[1])).sort((x, y) => x - y), [...pids].sort((x, y) => x - y));
    assert.deepEqual(ef.Processes.map((p) => p[7]).sort(), ['sh -c sleep 30 & sleep 31; echo done', 'sleep 30', 'sleep 31']);
    const custom = await topProcesses(pids, '-o pid,comm', hostPs);
    assert.deepEqual(custom.Processes.map((p) => p[1]).sort(), ['sh', 'sleep', 'sleep']);
  } finally {
    brigRuntime(b, ['delete', '--force', id]);
    // Other cgroups under /brig may be other people's containers on a shared host.
    const left = leftovers(b).filter((l) => !l.startsWith('cgroup ') || l.endsWith(`/${id}`));
    b.cleanup();
    assert.deepEqual(left, []);
  }
});
