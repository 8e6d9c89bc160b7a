/**
 * The engine's side of docker's diff, export, cp (the archive endpoints) and commit for
 * kept containers. LocalEngine's methods call these; the CLI does docker cp's client half
 * (which name the copy takes where) with src/image/layers/copy.ts, as docker's CLI does.
 *
 * A running container is paused while its files are read or written (and, unless told
 * otherwise, while it is committed): its processes cannot swap a checked path component for
 * a symlink between the check and the use.
 *
 * cp sees what the container sees. A running (or paused) one is read and written through
 * /proc/<init>/root, its own mount namespace: its volumes, binds, tmpfs mounts and the
 * /etc/hosts, /etc/resolv.conf the engine mounted over the image's. A stopped one has no
 * mounts, so its bind mounts (volumes included) are followed from its config, as dockerd
 * mounts a stopped container's volumes for the archive endpoints.
 */
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { BrigError } from '../errors/index.js';
import { applyChanges } from '../image/changes.js';
import type { ContainerConfig, ImageService } from '../image/index.js';
import { tarTree } from '../image/layers/create.js';
import { archiveResource, extractArchive } from '../image/layers/copy.js';
import { resolveLimits } from '../image/layers/limits.js';
import { parseMountPoints } from '../runtime/host-facts.js';
import { hostPathIn, resolveInContainer, type ScopeMount } from '../image/fs-util.js';
import { procStat } from '../util/proc-stat.js';
import type { Spec } from '../runtime/spec/types.js';
import { type Change, type ContainerPathStat, fileNotFound, isDirMode, madeMountpoints, overlayChanges, statPath } from './containers/files.js';
import type { ContainerService, ContainerSettings } from './containers/service.js';
import type { ContainerRecord } from './containers/store.js';
import type { CommitOptions } from './engine.js';
import { readTextSync } from '../util/read-text.js';
import { INIT_LAYER_PATHS } from './rootfs-init.js';

export class ContainerFiles {
  constructor(
    private readonly svc: ContainerService,
    private readonly images: ImageService | undefined,
  ) {}

  private settings(r: ContainerRecord): ContainerSettings {
    return r.spec as unknown as ContainerSettings;
  }

  /** The container's rootfs on the host; an image container's must be mounted there. */
  private rootfs(r: ContainerRecord): string {
    if (r.state.status === 'removing' || r.state.status === 'dead') {
      throw new BrigError('CONTAINER_STATE', `container ${r.name} is ${r.state.status === 'dead' ? 'dead' : 'marked for removal'}`);
    }
    const root = this.svc.rootfsOf(r);
    const real = this.settings(r).rootfs ? realpathSync(root) : root;
    if (this.settings(r).rootfs && !parseMountPoints(readTextSync('/proc/self/mountinfo')).some((m) => m.point === real)) {
      throw new BrigError('SYSTEM', `the rootfs of container ${r.name} is not mounted`, { path: root, hint: `brig rm ${r.name}` });
    }
    return root;
  }

  /**
   * Where cp reads and writes (see the top of this file): the init's root while it runs,
   * else the rootfs with the config's bind mounts. Call it with the container frozen, so the
   * init checked here is the one whose root is used.
   */
  private view(r: ContainerRecord): { root: string; mounts: ScopeMount[]; spec: Spec } {
    const spec = JSON.parse(readTextSync(path.join(this.settings(r).bundle, 'config.json'))) as Spec;
    const root = this.rootfs(r);
    if ((r.state.status === 'running' || r.state.status === 'paused') && r.state.pid > 0) {
      const st = procStat(r.state.pid);
      if (st && st.start === r.state.pidStart && st.state !== 'Z') {
        // The trailing slash makes lstat follow the magic link to the directory it names.
        return { root: `/proc/${r.state.pid}/root/`, mounts: [], spec };
      }
    }
    const mounts = (spec.mounts ?? [])
      .filter((m) => m.source !== undefined && (m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind')))
      .map((m) => ({ destination: path.posix.normalize(m.destination), source: path.resolve(this.settings(r).bundle, m.source!) }));
    return { root, mounts, spec };
  }

  /** Runs `fn` with a running container frozen (and thaws it after); others as they are. */
  private async frozen<T>(r: ContainerRecord, fn: () => Promise<T>, pause = true): Promise<T> {
    if (!pause || r.state.status !== 'running') return fn();
    await this.svc.pause(r.id);
    try {
      return await fn();
    } finally {
      await this.thaw(r.id);
    }
  }

  private async thaw(id: string): Promise<void> {
    await this.svc.unpause(id).catch((e: BrigError) => {
      // It exited while frozen: nothing to thaw.
      if (e.code !== 'CONTAINER_STATE' && e.code !== 'CONTAINER_NOT_RUNNING' && e.code !== 'CONTAINER_NOT_FOUND') throw e;
    });
  }

  async changes(ref: string): Promise<Change[]> {
    const r = await this.svc.find(ref);
    const s = this.settings(r);
    // The built-in image's rootfs is a read-only view: nothing in it changes.
    if (!s.rootfs) return [];
    const snap = this.images?.snapshotter;
    if (!snap) throw new BrigError('INTERNAL', 'this engine has no snapshotter');
    const upper = await snap.upperDir(s.rootfs.snapshot);
    if (upper === undefined) {
      throw new BrigError('UNSUPPORTED_FIELD', `diff needs the overlayfs snapshotter (this engine uses ${snap.name})`, { hint: 'the copy snapshotter keeps no record of what changed' });
    }
    const { lowers, made } = await this.madeMountpoints(r);
    return overlayChanges(upper, lowers, made);
  }

  /** The container's lower dirs and the mountpoints the runtime made above them (files.ts madeMountpoints). */
  private async madeMountpoints(r: ContainerRecord): Promise<{ lowers: string[]; made: Set<string> }> {
    const s = this.settings(r);
    const mounts = await this.images!.snapshotter!.mounts(s.rootfs!.snapshot);
    const lowers = mounts.flatMap((m) => m.options.filter((o) => o.startsWith('lowerdir+=')).map((o) => o.slice('lowerdir+='.length)));
    const spec = JSON.parse(readTextSync(path.join(s.bundle, 'config.json'))) as Spec;
    return { lowers, made: madeMountpoints([...(spec.mounts ?? []).map((m) => m.destination), ...INIT_LAYER_PATHS], lowers) };
  }

  async export(ref: string, consume: (tar: AsyncIterable<Buffer>) => Promise<void>): Promise<void> {
    const r = await this.svc.find(ref);
    const root = this.rootfs(r);
    await this.frozen(r, () => consume(tarTree(root)));
  }

  async stat(ref: string, p: string): Promise<ContainerPathStat> {
    const r = await this.svc.find(ref);
    return this.frozen(r, async () => {
      const { root, mounts } = this.view(r);
      return statPath(root, p, ref, mounts).stat;
    });
  }

  async getArchive<T>(ref: string, p: string, consume: (stat: ContainerPathStat, tar: AsyncIterable<Buffer>) => Promise<T>): Promise<T> {
    const r = await this.svc.find(ref);
    return this.frozen(r, () => {
      const { root, mounts } = this.view(r);
      const st = statPath(root, p, ref, mounts);
      // docker's TarResourceRebase: the resource, named as the base of the path asked for.
      return consume(st.stat, archiveResource(st.resolved, path.posix.basename(st.abs.replace(/(.)\/$/, '$1')) || '.'));
    });
  }

  async putArchive(ref: string, p: string, tar: AsyncIterable<Uint8Array>, opts: { copyUIDGID?: boolean } = {}): Promise<void> {
    const r = await this.svc.find(ref);
    const limits = resolveLimits(this.images?.limits);
    await this.frozen(r, async () => {
      const { root, mounts, spec } = this.view(r);
      const inner = resolveInContainer(root, path.posix.join('/', p), { mounts });
      // docker's rules (containerExtractToDir): into a volume or bind, its own rw/ro decides;
      // elsewhere a read-only rootfs refuses.
      const covering = (spec.mounts ?? [])
        .filter((m) => { const d = path.posix.normalize(m.destination).replace(/\/+$/, ''); return d !== '' && (inner === d || inner.startsWith(`${d}/`)); })
        .sort((a, b) => b.destination.length - a.destination.length)[0];
      if (covering && (covering.options ?? []).includes('ro')) {
        throw new BrigError('INVALID_ARGUMENT', `mounted volume is marked read-only`, { path: covering.destination });
      }
      if (!covering && spec.root?.readonly) throw new BrigError('INVALID_ARGUMENT', 'container rootfs is marked read-only');
      const resolved = hostPathIn(root, inner, mounts);
      let st: ContainerPathStat;
      try {
        st = statPath(root, inner, ref, mounts).stat;
      } catch (e) {
        if ((e as BrigError).code === 'PATH_NOT_FOUND') throw fileNotFound(p, ref);
        throw e;
      }
      if (!isDirMode(st.mode)) throw new BrigError('INVALID_ARGUMENT', 'extraction point is not a directory', { path: p });
      // The extraction stays inside the mount (or the root) the directory is in.
      const base = mounts.find((m) => resolved === m.source || resolved.startsWith(`${m.source}/`))?.source ?? root;
      // Without -a the files belong to the container's root (docker's rule); with -a, as archived.
      await extractArchive(tar, base, path.relative(base, resolved), {
        owner: opts.copyUIDGID ? 'archive' : { uid: 0, gid: 0 },
        maxBytes: limits.maxLayerSize,
        maxEntries: limits.maxEntries,
      });
    });
  }

  async commit(ref: string, opts: CommitOptions = {}): Promise<{ Id: string }> {
    const r = await this.svc.find(ref);
    const s = this.settings(r);
    if (!s.rootfs || !this.images) throw new BrigError('INVALID_ARGUMENT', `container ${r.name} runs the built-in image "host", which cannot be committed`);
    const images = this.images;
    const image = await images.resolve(r.imageId);
    const base = image.config.config ?? {};
    // docker commits the container's Config (the request merged with its image at create).
    const c = s.config;
    let config: ContainerConfig = {
      ...base,
      Env: c.Env,
      Cmd: c.Cmd,
      Entrypoint: c.Entrypoint,
      WorkingDir: c.WorkingDir,
      Labels: c.Labels,
      ...(c.User ? { User: c.User } : {}),
      ...(c.StopSignal && c.StopSignal !== 'SIGTERM' ? { StopSignal: c.StopSignal } : {}),
      ...(c.ExposedPorts ? { ExposedPorts: c.ExposedPorts } : {}),
      ...(c.Volumes ? { Volumes: c.Volumes } : {}),
    };
    config = applyChanges(config, opts.changes ?? []);
    const { made: mountpoints } = await this.madeMountpoints(r);
    const made = await this.frozen(
      r,
      () =>
        images.commit(s.rootfs!.snapshot, {
          changes: config,
          exclude: mountpoints,
          ...(opts.reference !== undefined ? { reference: opts.reference } : {}),
          ...(opts.comment !== undefined ? { comment: opts.comment } : {}),
          ...(opts.author !== undefined ? { author: opts.author } : {}),
        }),
      opts.pause !== false,
    );
    return { Id: made.id };
  }
}
