/**
 * Test bundles: a busybox-static rootfs (plus the brig-probe program) in a temp dir, a
 * config.json from brig's default spec with per-test changes, and a way to run
 * brig-runtime on it as a user would (the real CLI, a real process).
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultSpec } from '../../src/runtime/spec/default-spec.js';
import type { Spec } from '../../src/runtime/spec/types.js';
import { repoRoot } from './requires.js';
import { readTextSync } from '../../src/util/read-text.js';

export const RUNTIME_BIN = path.join(repoRoot, 'bin', 'brig-runtime');
export const PROBE = path.join(repoRoot, 'native', 'build', 'brig-probe');
export const HELPER = path.join(repoRoot, 'native', 'build', 'brig-helper');

const APPLETS = [
  'sh',
  'ls',
  'cat',
  'echo',
  'id',
  'hostname',
  'mount',
  'true',
  'false',
  'ps',
  'grep',
  'touch',
  'sleep',
  'stat',
  'mkdir',
  'ulimit',
  'umask',
  'wc',
  'test',
  'head',
];

export interface Bundle {
  dir: string;
  rootfs: string;
  /** State root for brig-runtime, private to this bundle. */
  stateRoot: string;
  /** The runtime's cgroups (/brig/<id> in each hierarchy) that existed before this bundle. */
  cgroupsBefore: ReadonlySet<string>;
  writeConfig(spec: Spec): void;
  cleanup(): void;
}

/** A fresh bundle with a busybox rootfs; `edit` changes the default spec. */
export function makeBundle(args: string[], edit: (s: Spec) => void = () => {}): Bundle {
  const dir = mkdtempSync(path.join(tmpdir(), 'brig-test-'));
  // Reachable by a user-namespaced container's root (a mapped host uid), as with runc.
  chmodSync(dir, 0o755);
  const rootfs = path.join(dir, 'rootfs');
  mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
  cpSync('/bin/busybox', path.join(rootfs, 'bin', 'busybox'));
  for (const a of APPLETS) symlinkSync('busybox', path.join(rootfs, 'bin', a));
  if (existsSync(PROBE)) cpSync(PROBE, path.join(rootfs, 'bin', 'probe'));
  for (const d of ['proc', 'dev', 'sys', 'tmp', 'etc']) mkdirSync(path.join(rootfs, d), { recursive: true });
  writeFileSync(path.join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  const stateRoot = path.join(dir, 'state');
  const b: Bundle = {
    dir,
    rootfs,
    stateRoot,
    cgroupsBefore: new Set(runtimeCgroups()),
    writeConfig(spec) {
      writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec, null, 2));
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const spec = defaultSpec(args);
  spec.root = { path: 'rootfs', readonly: false };
  // Tests that need /tmp writable get a tmpfs; the rootfs itself stays as the test set it.
  spec.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev'] });
  edit(spec);
  b.writeConfig(spec);
  return b;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs brig-runtime with the bundle's state root. A detached container inherits its stdio
 * (as with runc), so for `run -d` output goes through files: a pipe would stay open for the
 * container's life and keep spawnSync waiting.
 */
export function brigRuntime(b: Pick<Bundle, 'stateRoot' | 'dir'>, args: string[], opts: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv; bin?: string } = {}): RunResult {
  const bin = opts.bin ?? RUNTIME_BIN;
  const env = opts.env ?? process.env;
  const detached = args[0] === 'create' || ((args[0] === 'run' || args[0] === 'exec') && args.some((a) => a === '-d' || a === '--detach'));
  if (detached) {
    const out = path.join(b.dir, `.out-${Date.now()}-${Math.random().toString(36).slice(2)}`);
    const fdOut = openSync(`${out}.1`, 'w');
    const fdErr = openSync(`${out}.2`, 'w');
    try {
      const r = spawnSync(bin, ['--root', b.stateRoot, ...args], { cwd: b.dir, env, stdio: ['ignore', fdOut, fdErr], timeout: opts.timeoutMs ?? 20_000 });
      return { code: r.status, stdout: readTextSync(`${out}.1`), stderr: readTextSync(`${out}.2`) };
    } finally {
      closeSync(fdOut);
      closeSync(fdErr);
    }
  }
  const r = spawnSync(bin, ['--root', b.stateRoot, ...args], {
    cwd: b.dir,
    env,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 20_000,
    input: opts.input ?? '',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Async variant for tests that act on the host while the container runs. */
export function brigRuntimeAsync(b: Pick<Bundle, 'stateRoot' | 'dir'>, args: string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(RUNTIME_BIN, ['--root', b.stateRoot, ...args], {
      cwd: b.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Run `args` in a fresh bundle and return the result, cleaning up afterwards. */
export function runIn(
  args: string[],
  edit?: (s: Spec) => void,
  id = `t-${process.pid}-${Date.now()}`,
): RunResult & { leftovers: string[] } {
  const b = makeBundle(args, edit);
  try {
    const r = brigRuntime(b, ['run', id]);
    return { ...r, leftovers: leftovers(b) };
  } finally {
    b.cleanup();
  }
}

/**
 * What a failed or finished run must not leave: state directories, mounts under the
 * bundle, processes whose root or cwd is in the bundle.
 */
/** Cgroups at the runtime's default place, /brig/<id>, in every hierarchy. */
function runtimeCgroups(): string[] {
  const found: string[] = [];
  for (const h of readdirSync('/sys/fs/cgroup')) {
    try {
      for (const d of readdirSync(`/sys/fs/cgroup/${h}/brig`, { withFileTypes: true })) {
        if (d.isDirectory()) found.push(`${h}/brig/${d.name}`);
      }
    } catch {}
  }
  return found;
}

export function leftovers(b: Pick<Bundle, 'stateRoot' | 'dir' | 'cgroupsBefore'>): string[] {
  const found: string[] = [];
  if (existsSync(b.stateRoot)) {
    for (const d of readdirSync(b.stateRoot)) found.push(`state dir ${d}`);
  }
  for (const line of readTextSync('/proc/self/mountinfo').split('\n')) {
    const mp = line.split(' ')[4];
    if (mp?.startsWith(b.dir)) found.push(`mount ${mp}`);
  }
  // Cgroups new since the bundle was made (tests run one at a time): a host's stale state from
  // an interrupted run elsewhere is not this test's leak, and must not fail it.
  for (const c of runtimeCgroups()) if (!b.cgroupsBefore.has(c)) found.push(`cgroup ${c}`);
  // Helper processes (stage 0 or an init that never exec'd) run from a memfd named brig-helper.
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readlinkSync(`/proc/${pid}/exe`).includes('brig-helper')) found.push(`helper process ${pid}`);
    } catch {}
  }
  return found;
}
