/**
 * The in-process Engine: containers are OCI bundles under <root>/containers/<id>, started
 * with the runtime. Images: only the built-in `host` image until the image store lands.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { arch } from 'node:os';
import path from 'node:path';
import { BrigError } from '../errors/index.js';
import type { Runtime } from '../runtime/runtime.js';
import { defaultSeccompProfile } from '../runtime/seccomp/index.js';
import { DEFAULT_CAPS, defaultSpec } from '../runtime/spec/default-spec.js';
import type { Spec } from '../runtime/spec/types.js';
import { ensureHostImage, HOST_IMAGE } from './builtin-image.js';
import type { Engine, ImageSummary, RunContainerOptions, RunningContainer } from './engine.js';

export interface LocalEngineDeps {
  /** Engine data directory (e.g. /var/lib/brig). */
  root: string;
  runtime: Runtime;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export class LocalEngine implements Engine {
  constructor(private readonly deps: LocalEngineDeps) {}

  async listImages(): Promise<ImageSummary[]> {
    return [
      {
        name: HOST_IMAGE,
        builtin: true,
        description: "read-only view of the host's /usr, /bin, /lib*; no download",
      },
    ];
  }

  async runContainer(opts: RunContainerOptions): Promise<RunningContainer> {
    if (opts.image !== HOST_IMAGE) {
      throw new BrigError('IMAGE_NOT_FOUND', `image "${opts.image}" not found`, {
        hint: `only the built-in image "${HOST_IMAGE}" exists until images can be pulled`,
      });
    }
    if (!opts.rm) {
      throw new BrigError('INVALID_ARGUMENT', 'keeping stopped containers is not supported yet: pass --rm', {
        field: '--rm',
      });
    }
    if (opts.name !== undefined && !NAME_RE.test(opts.name)) {
      throw new BrigError('INVALID_ARGUMENT', `invalid container name "${opts.name}"`, { field: '--name' });
    }
    const id = randomBytes(32).toString('hex');
    const image = await ensureHostImage(path.join(this.deps.root, 'images', 'builtin', HOST_IMAGE));
    const spec = containerSpec(opts, image.rootfs, image.mounts, id);
    const bundle = path.join(this.deps.root, 'containers', id);
    await mkdir(bundle, { recursive: true, mode: 0o700 });
    try {
      await writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec));
      const started = await this.deps.runtime.run(id, {
        bundle,
        stdio: [...opts.stdio],
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      const exit = started.exit.finally(() => rm(bundle, { recursive: true, force: true }));
      return { id, pid: started.pid, exit, kill: (sig) => process.kill(started.pid, sig) };
    } catch (e) {
      await rm(bundle, { recursive: true, force: true });
      throw e;
    }
  }
}

function parseUser(user: string | undefined): { uid: number; gid: number } {
  if (user === undefined) return { uid: 0, gid: 0 };
  const m = /^(\d+)(?::(\d+))?$/.exec(user);
  if (!m)
    throw new BrigError('INVALID_ARGUMENT', `--user "${user}": give a numeric uid or uid:gid`, {
      field: '--user',
    });
  return { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) };
}

function containerSpec(
  opts: RunContainerOptions,
  rootfs: string,
  imageMounts: Spec['mounts'],
  id: string,
): Spec {
  const spec = defaultSpec(opts.cmd.length > 0 ? opts.cmd : ['sh']);
  const p = spec.process!;
  p.user = parseUser(opts.user);
  p.cwd = opts.workdir ?? '/';
  if (!p.cwd.startsWith('/'))
    throw new BrigError('INVALID_ARGUMENT', `--workdir "${p.cwd}" must be absolute`, { field: '--workdir' });
  p.env = [...p.env!, 'HOME=/root', ...(opts.env ?? [])];
  // docker's default capability set, minus what needs a network or cgroup backend not yet here.
  const caps = [
    ...DEFAULT_CAPS,
    'CAP_CHOWN',
    'CAP_DAC_OVERRIDE',
    'CAP_FSETID',
    'CAP_FOWNER',
    'CAP_SETGID',
    'CAP_SETUID',
    'CAP_SETPCAP',
    'CAP_SETFCAP',
    'CAP_SYS_CHROOT',
    'CAP_MKNOD',
    'CAP_NET_RAW',
  ];
  p.capabilities = { bounding: caps, effective: p.user.uid === 0 ? caps : [], permitted: caps };
  // The engine's default: docker-like seccomp profile, capability-conditional groups
  // following the bounding set.
  spec.linux!.seccomp = defaultSeccompProfile({
    capabilities: caps,
    arch: arch() === 'arm64' ? 'aarch64' : 'x86_64',
  });
  spec.root = { path: rootfs, readonly: true };
  spec.hostname = opts.hostname ?? id.slice(0, 12);
  spec.mounts = [
    ...spec.mounts!,
    ...(imageMounts ?? []),
    {
      destination: '/tmp',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'nodev', 'mode=1777', 'size=65536k'],
    },
    {
      destination: '/root',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'nodev', 'mode=700', 'size=65536k'],
    },
    {
      destination: '/run',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'nodev', 'mode=755', 'size=65536k'],
    },
  ];
  spec.annotations = { 'io.brig.image': HOST_IMAGE, ...(opts.name ? { 'io.brig.name': opts.name } : {}) };
  return spec;
}
