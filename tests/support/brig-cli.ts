/**
 * The real bin/brig on a data root of its own (BRIG_ROOT in a temp dir), for end-to-end
 * tests: run it, insist it succeeds, and list what a removed container left on the host.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './requires.js';
import { readTextSync } from '../../src/util/read-text.js';

export const BRIG = path.join(repoRoot, 'bin', 'brig');

export function brigCli(data: string, extraEnv: NodeJS.ProcessEnv = {}) {
  const env = { ...process.env, BRIG_ROOT: data, ...extraEnv };
  const brig = (args: string[], input?: string | Buffer) => {
    const r = spawnSync(BRIG, args, { env, encoding: 'utf8', input: input ?? '', timeout: 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const ok = (args: string[], input?: string | Buffer): string => {
    const r = brig(args, input);
    assert.equal(r.code, 0, `brig ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  /** What a removed container must not leave, seen from the host. */
  const traces = (id: string): string[] => {
    const found: string[] = [];
    for (const h of readdirSync('/sys/fs/cgroup')) if (existsSync(`/sys/fs/cgroup/${h}/brig/${id}`)) found.push(`cgroup ${h}`);
    for (const l of readTextSync('/proc/self/mountinfo').split('\n')) if (l.includes(id)) found.push(`mount ${l.split(' ')[4]}`);
    if (existsSync(path.join(data, 'containers', id))) found.push('container dir');
    if (existsSync(path.join(data, 'run', id))) found.push('runtime state');
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        if (!readlinkSync(`/proc/${pid}/exe`).endsWith('brig-monitor')) continue;
        // A monitor holds the container's log (or, with no log, little else that names it).
        if (readdirSync(`/proc/${pid}/fd`).some((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`).includes(id))) found.push(`monitor ${pid}`);
      } catch {}
    }
    return found;
  };
  return { env, brig, ok, traces };
}
