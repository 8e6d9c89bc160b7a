/**
 * Mounting a container's rootfs from the snapshotter's mount descriptions (containerd's
 * model: the engine mounts the rootfs, the runtime gets a directory).
 *
 * Overlays go through native/build/brig-mount (the new mount API: one fsconfig call per
 * option), because mount(2) takes all options as one page: a `lowerdir=a:b:c` longer than
 * 4095 bytes is cut by the kernel without an error, silently dropping the bottom layers
 * (or naming a directory of another image). How each layer is handed over depends on the
 * kernel, decided here (`overlayMountPlan`, pure, so it is tested without root):
 *
 *   - 6.13+: every path option as an open directory fd (FSCONFIG_SET_FD): no length limit;
 *   - 6.8 to 6.12: `lowerdir+` strings, relative to the layers' common parent (the kernel
 *     takes at most 255 bytes per string value);
 *   - older: mount(8) with `lowerdir=a:b:c` relative to that parent, refused when it would
 *     not fit in a page.
 *
 * Overlayfs stacks at most 500 lower layers (OVL_MAX_STACK); more is refused with the count
 * before anything is mounted. Bind mounts go through mount(8).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { runNativeTool, type Spawner } from '../native/spawner.js';
import { BrigError } from '../errors/index.js';
import type { Mount } from '../image/index.js';
import { childProcess, execFileAsync } from '../util/builtins.js';
import { locateNative } from '../native/locate.js';
import { SHM_OPTIONS, shmMountArgs } from './containers/shared-shm.js';


/** OVL_MAX_STACK. */
export const OVERLAY_MAX_LOWER = 500;
/** The longest string value fsconfig(FSCONFIG_SET_STRING) copies in (256 with the NUL). */
const FSCONFIG_MAX_STRING = 255;
/** mount(2) copies one page of options, the NUL included. */
const MOUNT_DATA_MAX = 4095;
const PATH_OPTIONS = new Set(['lowerdir+', 'upperdir', 'workdir', 'datadir+']);

export interface RootfsMounter {
  /** native/build/brig-mount. */
  tool: string;
  /** The kernel release (os.release()), which decides how overlay layers are passed. */
  kernel: string;
  /** brig's launcher's spawner (src/native/spawner.ts): brig-mount runs through it where this process has one. */
  spawner?: Spawner;
}

/** What to run for one overlay mount: a program, its arguments and working directory. */
export interface MountCommand {
  file: string;
  args: string[];
  cwd?: string;
}

function kernelAtLeast(release: string, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (m === null) return false;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a > major || (a === major && b >= minor);
}

function splitOption(o: string): [string, string | undefined] {
  const eq = o.indexOf('=');
  return eq < 0 ? [o, undefined] : [o.slice(0, eq), o.slice(eq + 1)];
}

/** The parent directory every path shares (`/` at worst). */
function commonParent(paths: string[]): string {
  let common = path.dirname(paths[0]!);
  while (!paths.every((p) => p.startsWith(`${common}/`)) && common !== '/') common = path.dirname(common);
  return common;
}

export function overlayMountPlan(m: Mount, target: string, mounter: RootfsMounter): MountCommand {
  const opts = m.options.map(splitOption);
  const lowers = opts.filter(([k]) => k === 'lowerdir+').length;
  if (lowers > OVERLAY_MAX_LOWER) {
    throw new BrigError(
      'HOST_UNSUPPORTED',
      `the container rootfs has ${lowers} layers; overlayfs stacks at most ${OVERLAY_MAX_LOWER}`,
      { hint: 'squash the image into fewer layers, or use the copy snapshotter' },
    );
  }
  if (opts.some(([k, v]) => k === 'lowerdir' || (PATH_OPTIONS.has(k) && (v === undefined || !v.startsWith('/'))))) {
    throw new BrigError('INTERNAL', `overlay mount options must give each layer as an absolute lowerdir+: ${m.options.join(',')}`);
  }
  if (kernelAtLeast(mounter.kernel, 6, 13)) {
    const args = opts.map(([k, v]) => (v === undefined ? `f:${k}` : `${PATH_OPTIONS.has(k) ? 'd' : 's'}:${k}=${v}`));
    return { file: mounter.tool, args: [m.type, target, `s:source=${m.source}`, ...args] };
  }
  const dir = commonParent(opts.filter(([k]) => PATH_OPTIONS.has(k)).map(([, v]) => v!));
  const rel = (v: string) => path.relative(dir, v);
  if (kernelAtLeast(mounter.kernel, 6, 8)) {
    const args = opts.map(([k, v]) => {
      if (v === undefined) return `f:${k}`;
      const value = PATH_OPTIONS.has(k) ? rel(v) : v;
      if (Buffer.byteLength(value) > FSCONFIG_MAX_STRING) {
        throw new BrigError('HOST_UNSUPPORTED', `overlay option ${k}=${value} is longer than the kernel's ${FSCONFIG_MAX_STRING} bytes`, {
          hint: 'use a shorter data root, or a kernel 6.13+ (layers passed as fds)',
        });
      }
      return `s:${k}=${value}`;
    });
    return { file: mounter.tool, args: ['-C', dir, m.type, target, `s:source=${m.source}`, ...args] };
  }
  const lower = opts.filter(([k]) => k === 'lowerdir+').map(([, v]) => rel(v!));
  const rest = opts.filter(([k]) => k !== 'lowerdir+').map(([k, v]) => (v === undefined ? k : `${k}=${PATH_OPTIONS.has(k) ? rel(v) : v}`));
  const data = [...rest, `lowerdir=${lower.join(':')}`].join(',');
  if (Buffer.byteLength(data) > MOUNT_DATA_MAX) {
    throw new BrigError(
      'HOST_UNSUPPORTED',
      `the container rootfs has ${lowers} layers; their overlay options take ${Buffer.byteLength(data)} bytes, over the ${MOUNT_DATA_MAX} mount(2) takes on kernel ${mounter.kernel}`,
      { hint: 'squash the image into fewer layers, or use a kernel 6.8+ (layers passed one by one)' },
    );
  }
  return { file: 'mount', args: ['-t', m.type, '-o', data, m.source, target], cwd: dir };
}

export async function mountRootfs(mounts: Mount[], target: string, mounter: RootfsMounter): Promise<void> {
  if (mounts.length !== 1) throw new BrigError('INTERNAL', `expected one rootfs mount, got ${mounts.length}`);
  const m = mounts[0]!;
  const cmd: MountCommand =
    m.type === 'bind'
      ? { file: 'mount', args: ['--bind', ...optionArgs(m.options.filter((o) => o !== 'bind' && o !== 'rbind')), m.source, target] }
      : m.type === 'overlay'
        ? overlayMountPlan(m, target, mounter)
        : { file: 'mount', args: ['-t', m.type, ...optionArgs(m.options), m.source, target] };
  const r = cmd.file === mounter.tool && mounter.spawner ? await spawnerTool(mounter.spawner, cmd.file, cmd.args) : runTool(cmd.file, cmd.args, cmd.cwd);
  if (r.error === undefined) return;
  if (r.error.code === 'ENOENT' && cmd.file === mounter.tool) {
    throw new BrigError('HELPER_MISSING', `cannot run ${cmd.file}`, { path: cmd.file, hint: 'run `npm run build`' });
  }
  throw new BrigError('SYSTEM', `mounting the container rootfs on ${target} failed: ${r.stderr.trim() || r.error.message}`, { path: target, cause: r.error });
}

/**
 * A shareable container's /dev/shm: a fresh tmpfs on `dir` (containers/shared-shm.ts), through
 * brig-mount, or mount(8) where it is not built.
 */
export function mountShm(dir: string, size: number, mounter: RootfsMounter | undefined): void {
  const r = mounter
    ? runTool(mounter.tool, shmMountArgs(dir, size))
    : runTool('mount', ['-t', 'tmpfs', '-o', [`size=${size}`, 'mode=1777', ...SHM_OPTIONS].join(','), 'shm', dir]);
  if (r.error) throw new BrigError('SYSTEM', `mounting the container's shared /dev/shm on ${dir} failed: ${r.stderr.trim() || r.error.message}`, { path: dir, cause: r.error });
}

/**
 * Runs a mount tool to its end. Synchronously: brig-mount is one syscall's work (a few ms),
 * and spawnSync costs Node about half of an async spawn's main-thread time (no streams or
 * sockets for the pipes; ~5 against ~11 ms of CPU here), on every `run` and `create`.
 */
function runTool(file: string, args: string[], cwd?: string): { stderr: string; error?: Error & { code?: string } } {
  const r = childProcess().spawnSync(file, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', ...(cwd === undefined ? {} : { cwd }) });
  const stderr = r.stderr ?? '';
  if (r.error) return { stderr, error: r.error };
  if (r.status === 0) return { stderr };
  const how = r.status === null ? `signal ${r.signal}` : `status ${r.status}`;
  return { stderr, error: new Error(`${[file, ...args].join(' ')} exited with ${how}${stderr.trim() ? `: ${stderr.trim()}` : ''}`) };
}

function optionArgs(options: string[]): string[] {
  return options.length ? ['-o', options.join(',')] : [];
}

/**
 * Unmounts a rootfs, or any mount point brig made (a network namespace file); not there:
 * nothing to do. brig-mount's umount2 when it is built, else umount(8) (which reads the
 * host's every mount and its utab first: ~15 ms a call here).
 */
export async function unmountRootfs(target: string, mounter?: RootfsMounter): Promise<void> {
  const tool = mountTool();
  if (tool && mounter?.spawner && mounter.tool === tool) {
    const r = await spawnerTool(mounter.spawner, tool, ['-u', target]);
    if (r.error && !/not mounted|no mount point/.test(r.stderr)) throw r.error;
    return;
  }
  // Async, unlike the mount: `rm` unmounts many containers' rootfs at once.
  try {
    await (tool ? execFileAsync(tool, ['-u', target]) : execFileAsync('umount', [target]));
  } catch (e) {
    if (!/not mounted|no mount point/.test((e as { stderr?: string }).stderr ?? '')) throw e;
  }
}

/** runTool's result, from the launcher's spawner instead of a spawn. */
async function spawnerTool(spawner: Spawner, file: string, args: string[]): Promise<{ stderr: string; error?: Error & { code?: string } }> {
  const r = await runNativeTool([file, ...args], { spawner });
  if (r.status === 0) return { stderr: r.stderr };
  const error: Error & { code?: string } = new Error(`${[file, ...args].join(' ')} ${r.status < 0 ? 'could not be started' : `exited with status ${r.status}`}${r.stderr.trim() ? `: ${r.stderr.trim()}` : ''}`);
  if (r.status < 0) error.code = 'ENOENT';
  return { stderr: r.stderr, error };
}

let tool: string | null | undefined;
/** native/build/brig-mount when it is built (tests may run without the native tools). */
export function mountTool(): string | undefined {
  if (tool === undefined) {
    const t = locateNative('brig-mount', import.meta.url);
    tool = existsSync(t) ? t : null;
  }
  return tool ?? undefined;
}
