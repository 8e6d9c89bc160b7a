/**
 * Shared by the cgroup integration tests: a manager for a fresh /brig-test-<random> cgroup
 * (v1 on this project's hybrid machines, v2 in the VM), children that wait for a go signal
 * so they are inside the cgroup before they do anything, and the test-only device-program
 * loader standing in for the native helper.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  type CgroupHost,
  type CgroupManager,
  createCgroupManager,
  type DeviceProgramAttacher,
  detectCgroups,
} from '../../../src/runtime/cgroups/index.js';
import { repoRoot, requires } from '../../support/requires.js';

const run = promisify(execFile);

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** false when this host can run the suite (root and a writable cgroup v1 or v2), else why not. */
export const skip: false | string =
  (requires('root', 'cgroup-v1') && requires('root', 'cgroup-v2')) ||
  (writable('/sys/fs/cgroup/memory') || writable('/sys/fs/cgroup/cgroup.procs')
    ? false
    : 'the cgroup filesystem is read-only here (a container without cgroup delegation?)');

let host: Promise<CgroupHost> | undefined;
export function cgroupHost(): Promise<CgroupHost> {
  host ??= detectCgroups();
  return host;
}

/** The runtime's own loader, built by `npm run build`. */
export function deviceLoader(): Promise<string> {
  return Promise.resolve(join(repoRoot, 'native/build/brig-devload'));
}

export const attachWithTestLoader: DeviceProgramAttacher = async (dir, program) => {
  const tmp = mkdtempSync(join(tmpdir(), 'brig-devprog-'));
  try {
    const file = join(tmp, `${program.sha256}.bpf`);
    writeFileSync(file, program.insns);
    await run(await deviceLoader(), [file, dir]);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
};

export function testCgroupPath(): string {
  return `/brig-test-${randomBytes(6).toString('hex')}`;
}

export interface Made {
  manager: CgroupManager;
  warnings: string[];
  /** Destroy and check nothing is left; safe to call twice. */
  cleanup(): Promise<void>;
}

export async function newManager(): Promise<Made> {
  const warnings: string[] = [];
  const manager = createCgroupManager(await cgroupHost(), {
    id: 'test',
    cgroupsPath: testCgroupPath(),
    warn: (m) => warnings.push(m),
    attachDevices: attachWithTestLoader,
  });
  return {
    manager,
    warnings,
    async cleanup() {
      await manager.destroy({ timeoutMs: 10_000 });
    },
  };
}

export interface Waiting {
  child: ChildProcess;
  pid: number;
  /** Let the script run. */
  go(): void;
  /** Resolves when the child exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

/** `sh -c` that first waits for a line on stdin, so it can be placed in the cgroup before it runs. */
export function spawnWaiting(script: string): Waiting {
  const child = spawn('sh', ['-c', `read _go; ${script}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  if (child.pid === undefined) throw new Error('spawn sh failed');
  return {
    child,
    pid: child.pid,
    go: () => child.stdin?.write('\n'),
    exited,
    output: () => out,
  };
}

export function allGone(manager: CgroupManager): string[] {
  return Object.values(manager.state().dirs).filter((d) => existsSync(d));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(50);
  }
  return false;
}
