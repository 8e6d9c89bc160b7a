/**
 * The in-process Engine: containers are OCI bundles under <root>/containers/<id>, started
 * with the runtime; images come from the image service (pulled, loaded, imported) or are
 * the built-in `host` image, which needs no download.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { arch, release } from 'node:os';
import path from 'node:path';
import { BrigError } from '../errors/index.js';
import {
  applyChanges,
  hostPlatform,
  type ImageLimits,
  type ImageService,
  type ImageUser,
  imageToRuntimeConfig,
  LIMIT_ENV,
  parsePlatform,
  privateDir,
  RegistryClient,
  resolveLimits,
} from '../image/index.js';
import { familiarReference, formatReference, parseReference } from '../image/reference.js';
import { buildInfo } from '../util/build-info.js';
import { API_VERSION, MIN_API_VERSION } from './api-version.js';
import { pullMessages } from './pull-messages.js';
import { currentOwner, formatOwner, ownerAlive, parseOwner } from '../util/owner.js';
import type { Runtime } from '../runtime/runtime.js';
import { defaultSeccompProfile } from '../runtime/seccomp/index.js';
import { DEFAULT_CAPS, defaultSpec } from '../runtime/spec/default-spec.js';
import type { Mount, Spec } from '../runtime/spec/types.js';
import { ensureHostImage, HOST_IMAGE } from './builtin-image.js';
import type {
  AuthConfig,
  ContainerJSON,
  ContainerSummary,
  CreateContainerOptions,
  Engine,
  EngineVersion,
  ExecOptions,
  EngineInfo,
  Filters,
  PullOptions,
  PullReport,
  LogLine,
  LogOptions,
  HistoryItem,
  ImageInspect,
  ImageSummary,
  LoadResult,
  ProgressEvent,
  PullResult,
  RemoveItem,
  RunContainerOptions,
  RunningContainer,
  StartOptions,
} from './engine.js';
import { type ContainerServiceDeps, ContainerService, type ContainerSettings } from './containers/service.js';
import { ContainerFiles } from './container-files.js';
import type { Change, CommitOptions, ContainerPathStat } from './engine.js';
import { parseLogConfig } from './monitor/log-options.js';
import { capabilitiesForUser } from './user-capabilities.js';
import { mountRootfs, type RootfsMounter, unmountRootfs } from './rootfs-mount.js';

export interface LocalEngineDeps {
  /** Engine data directory (e.g. /var/lib/brig). */
  root: string;
  runtime: Runtime;
  /** Pulled and loaded images; without it only the built-in `host` image exists. */
  images?: ImageService;
  /** How image rootfs overlays are mounted (needed with `images`). */
  mounter?: RootfsMounter;
  /** Why the copy snapshotter was chosen over overlayfs, for `info`. */
  snapshotterReason?: string;
  /** Kept containers (create, run -d): their monitor's starter and on-exit command. */
  containers?: Pick<ContainerServiceDeps, 'runtimeBin' | 'runtimeRoot' | 'cleanupCommand' | 'oomCounter'>;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** docker's default capability set. */
const ENGINE_CAPS = [
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

/** The host image has no content digest; this fixed id names it. */
const HOST_ID = `sha256:${Buffer.from('brig built-in host image'.padEnd(32, '.')).toString('hex')}`;

function isHostImage(name: string): boolean {
  return name === HOST_IMAGE || name === `${HOST_IMAGE}:latest` || name === HOST_ID;
}

export class LocalEngine implements Engine {
  private opened: Promise<void> | undefined;
  private containers: ContainerService | undefined;

  constructor(private readonly deps: LocalEngineDeps) {}

  /**
   * The data root is root-only (0700) whichever command opens it first, and an existing one
   * is tightened: it holds image files as images ship them (setuid binaries, capabilities,
   * device nodes), which must not be reachable by another host user.
   */
  private open(): Promise<void> {
    this.opened ??= (async () => {
      await privateDir(this.deps.root);
      await privateDir(path.join(this.deps.root, 'containers'));
      await privateDir(path.join(this.deps.root, 'images'));
      await this.sweepContainers();
    })();
    return this.opened;
  }

  /**
   * Removes container directories a killed brig left (kill -9 while it unpacked the image,
   * say): each records its owner process (`owner`, `<pid>-<starttime>`), and a directory
   * whose owner is gone and whose container is not running is undone like a finished
   * `--rm` container: runtime state, rootfs mount, snapshot, directory. A container that
   * still runs is left alone (it outlives the brig that started it).
   */
  private async sweepContainers(): Promise<void> {
    const dir = path.join(this.deps.root, 'containers');
    for (const id of await readdir(dir)) {
      // Best effort: a directory that cannot be undone now (its rootfs still busy, say) is
      // left for a later command; it must not make this one fail.
      await this.sweepContainer(id, path.join(dir, id)).catch(() => undefined);
    }
  }

  private async sweepContainer(id: string, bundle: string): Promise<void> {
    // A kept container's directory (its record, container.json) is the container store's.
    if (await stat(path.join(bundle, 'container.json')).then(() => true, () => false)) return;
    const owner = parseOwner(await readFile(path.join(bundle, 'owner'), 'utf8').catch(() => ''));
    // Without an owner record (a kill before it was written), only an old directory is stale.
    if (owner !== undefined ? ownerAlive(owner) : Date.now() - (await stat(bundle)).mtimeMs < 60_000) return;
    const status = await this.deps.runtime.state(id).then(
      (st) => st.status,
      (e: BrigError) => {
        if (e.code === 'CONTAINER_NOT_FOUND' || e.code === 'INVALID_ID') return undefined;
        throw e;
      },
    );
    if (status !== undefined && status !== 'stopped') return;
    if (status !== undefined) await this.deps.runtime.delete(id, { force: true });
    // Throws unless unmounted (or never mounted): the rm below must not reach into a rootfs.
    await unmountRootfs(path.join(bundle, 'rootfs'));
    await this.deps.images?.snapshotter?.remove(id).catch((e: BrigError) => {
      if (e.code !== 'SNAPSHOT_NOT_FOUND' && e.code !== 'INVALID_ARGUMENT') throw e;
    });
    await rm(bundle, { recursive: true, force: true });
  }

  private store(): ImageService {
    if (!this.deps.images) {
      throw new BrigError('IMAGE_NOT_FOUND', 'this engine has no image store', { hint: `the built-in image "${HOST_IMAGE}" needs none` });
    }
    return this.deps.images;
  }

  private refuseBuiltin(name: string, what: string): void {
    if (isHostImage(name)) throw new BrigError('INVALID_ARGUMENT', `the built-in image "${HOST_IMAGE}" cannot be ${what}`);
  }

  /**
   * The containers and the images they use, for docker's rmi and prune rules: kept
   * containers from the container store (read only); a foreground `run --rm` container keeps
   * no record, but its rootfs snapshot names its image and it runs for as long as it exists.
   */
  private async imageUsers(): Promise<ImageUser[]> {
    const users: ImageUser[] = [];
    const kept = new Set<string>();
    if (this.deps.containers !== undefined) {
      for (const r of await this.containerService().store.list()) {
        kept.add(r.id);
        users.push({ id: r.id, imageId: r.imageId, running: r.state.status === 'running' || r.state.status === 'paused' || r.state.status === 'restarting' });
      }
    }
    for (const snap of (await this.deps.images?.snapshotter?.list()) ?? []) {
      const image = snap.labels['brig.image'];
      if (snap.kind === 'active' && image !== undefined && !kept.has(snap.key)) users.push({ id: snap.key, imageId: image, running: true });
    }
    return users;
  }

  async listImages(opts: { all?: boolean; filters?: Filters } = {}): Promise<ImageSummary[]> {
    await this.open();
    const host = { image: { created: Number.NaN, labels: HOST_LABELS, names: [{ full: 'docker.io/library/host:latest', repo: 'docker.io/library/host', digest: false }] }, summary: hostImageSummary() };
    if (!this.deps.images) return [host.summary];
    return this.deps.images.list({ filters: opts.filters ?? {}, users: await this.imageUsers(), extra: [host] });
  }

  async inspectImage(nameOrId: string): Promise<ImageInspect> {
    await this.open();
    return isHostImage(nameOrId) ? hostImageInspect() : this.store().inspect(nameOrId);
  }

  async imageHistory(nameOrId: string): Promise<HistoryItem[]> {
    await this.open();
    if (isHostImage(nameOrId)) {
      return [{ Id: HOST_ID, Created: 0, CreatedBy: 'brig: built-in host image', Tags: ['host:latest'], Size: 0, Comment: '' }];
    }
    return this.store().history(nameOrId);
  }

  /**
   * docker's pull: per tag "Pulling from", the layers, "Digest:"; then one "Status:" line
   * for the whole pull, "Downloaded newer image" when any name now points at another image.
   */
  async pullImage(reference: string, opts: PullOptions = {}): Promise<PullReport> {
    await this.open();
    this.refuseBuiltin(reference, 'pulled');
    const store = this.store();
    const ref = parseReference(reference, { defaultTag: opts.allTags !== true });
    if (opts.allTags === true && (ref.tag !== undefined || ref.digest !== undefined)) {
      throw new BrigError('INVALID_ARGUMENT', "tag can't be used with --all-tags/-a", { field: '--all-tags' });
    }
    const platform = opts.platform === undefined || opts.platform === '' ? undefined : parsePlatform(opts.platform);
    const emit = opts.onProgress ?? (() => undefined);
    const tags = opts.allTags === true ? await store.remoteTags(reference, opts.signal ? { signal: opts.signal } : {}) : [ref.tag];
    const images: PullResult[] = [];
    for (const tag of tags) {
      const one = tag === ref.tag ? ref : { ...ref, tag };
      const r = await store.pull(formatReference(one), {
        ...(platform ? { platform } : {}),
        onProgress: pullMessages(one, emit),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      emit({ status: `Digest: ${r.digest}` });
      images.push(r);
    }
    const status = images.some((i) => i.status === 'downloaded') ? 'downloaded' : 'up-to-date';
    const named = familiarReference(ref);
    emit({ status: status === 'downloaded' ? `Status: Downloaded newer image for ${named}` : `Status: Image is up to date for ${named}` });
    return { reference: formatReference(ref), status, images };
  }

  async pushImage(reference: string, opts: { onProgress?: (e: ProgressEvent) => void; signal?: AbortSignal } = {}) {
    await this.open();
    this.refuseBuiltin(reference, 'pushed');
    return this.store().push(reference, opts);
  }

  async tagImage(source: string, target: string): Promise<void> {
    await this.open();
    this.refuseBuiltin(source, 'tagged');
    await this.store().tag(source, target);
  }

  async removeImage(nameOrId: string, opts: { force?: boolean } = {}): Promise<RemoveItem[]> {
    await this.open();
    this.refuseBuiltin(nameOrId, 'removed');
    return this.store().remove(nameOrId, { ...opts, users: await this.imageUsers() });
  }

  async pruneImages(opts: { filters?: Filters } = {}) {
    await this.open();
    return this.store().prune({ filters: opts.filters ?? {}, users: await this.imageUsers() });
  }

  async saveImages(names: string[], consume: (tar: AsyncIterable<Buffer>) => Promise<void>, opts: { format?: 'docker-archive' | 'oci-archive' } = {}): Promise<void> {
    await this.open();
    for (const n of names) this.refuseBuiltin(n, 'saved');
    await consume(await this.store().saveStream(names, opts));
  }

  async loadImages(tar: AsyncIterable<Uint8Array>, opts: { signal?: AbortSignal } = {}): Promise<LoadResult> {
    await this.open();
    return this.store().load(tar, opts);
  }

  async importImage(
    tar: AsyncIterable<Uint8Array>,
    opts: { reference?: string; changes?: string[]; message?: string; platform?: string; signal?: AbortSignal } = {},
  ): Promise<{ id: string; reference?: string }> {
    await this.open();
    const r = await this.store().import(tar, {
      ...(opts.reference !== undefined ? { reference: opts.reference } : {}),
      ...(opts.changes?.length ? { changes: applyChanges({}, opts.changes) } : {}),
      ...(opts.message ? { message: opts.message } : {}),
      ...(opts.platform ? { platform: parsePlatform(opts.platform) } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    return { id: r.id, ...(r.reference ? { reference: r.reference } : {}) };
  }

  async registryLogin(auth: AuthConfig): Promise<{ Status: string; IdentityToken?: string }> {
    const registry = this.deps.images?.registry ?? new RegistryClient();
    const r = await registry.login(auth.serveraddress, { username: auth.username, password: auth.password });
    return { Status: 'Login Succeeded', ...(r.identityToken ? { IdentityToken: r.identityToken } : {}) };
  }

  async version(): Promise<EngineVersion> {
    const b = buildInfo();
    const arch = hostPlatform().architecture;
    const details = {
      ApiVersion: API_VERSION,
      Arch: arch,
      BuildTime: b.built,
      Experimental: 'false',
      GitCommit: b.commit,
      KernelVersion: release(),
      MinAPIVersion: MIN_API_VERSION,
      NodeVersion: b.node,
      Os: 'linux',
    };
    return {
      Platform: { Name: 'brig' },
      Components: [{ Name: 'Engine', Version: b.version, Details: details }],
      Version: b.version,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: b.commit,
      NodeVersion: b.node,
      Os: 'linux',
      Arch: arch,
      KernelVersion: release(),
      BuildTime: b.built,
    };
  }

  async info(): Promise<EngineInfo> {
    const images = this.deps.images;
    const limits = resolveLimits(images?.limits);
    const status: [string, string][] = [];
    if (this.deps.snapshotterReason !== undefined) status.push(['Not overlayfs', this.deps.snapshotterReason]);
    return {
      DockerRootDir: this.deps.root,
      Driver: images?.snapshotter?.name ?? 'none',
      DriverStatus: status,
      ImageLimits: (Object.keys(limits) as (keyof ImageLimits)[]).map((name) => ({ name, env: LIMIT_ENV[name], value: limits[name] })),
    };
  }

  async runContainer(opts: RunContainerOptions): Promise<RunningContainer> {
    await this.open();
    if (!opts.rm) {
      throw new BrigError('INVALID_ARGUMENT', 'keeping stopped containers is not supported yet: pass --rm', { field: '--rm' });
    }
    if (opts.name !== undefined && !NAME_RE.test(opts.name)) {
      throw new BrigError('INVALID_ARGUMENT', `invalid container name "${opts.name}"`, { field: '--name' });
    }
    const id = randomBytes(32).toString('hex');
    const bundle = path.join(this.deps.root, 'containers', id);
    await mkdir(bundle, { recursive: true, mode: 0o700 });
    await writeFile(path.join(bundle, 'owner'), formatOwner(currentOwner()));
    // Undone in reverse order when the container ends or its start fails.
    const undo: (() => Promise<unknown>)[] = [() => rm(bundle, { recursive: true, force: true })];
    const cleanup = async () => {
      for (const u of undo.reverse()) await u();
    };
    try {
      const { spec } = isHostImage(opts.image) ? { spec: await this.hostSpec(opts, id) } : await this.imageSpec(opts, id, bundle, undo);
      await writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec));
      const started = await this.deps.runtime.run(id, {
        bundle,
        stdio: [...opts.stdio],
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      const exit = started.exit.finally(cleanup);
      return { id, pid: started.pid, exit, kill: (sig) => process.kill(started.pid, sig) };
    } catch (e) {
      await cleanup();
      throw e;
    }
  }

  /** The built-in image: a shared read-only rootfs, with fresh tmpfs where programs write. */
  private async hostSpec(opts: Omit<RunContainerOptions, 'stdio'>, id: string): Promise<Spec> {
    const image = await ensureHostImage(path.join(this.deps.root, 'images', 'builtin', HOST_IMAGE));
    const tmpfs = (destination: string, mode: string): Mount => ({
      destination,
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'nodev', `mode=${mode}`, 'size=65536k'],
    });
    const spec = containerSpec(opts, id, image.rootfs, true, [...image.mounts, tmpfs('/tmp', '1777'), tmpfs('/root', '700'), tmpfs('/run', '755')]);
    spec.process!.args = opts.cmd.length > 0 ? opts.cmd : ['sh'];
    spec.process!.user = parseUser(opts.user);
    spec.process!.cwd = opts.workdir ?? '/';
    spec.process!.env = [...spec.process!.env!, 'HOME=/root', ...(opts.env ?? [])];
    spec.annotations = { ...spec.annotations, 'io.brig.image': HOST_IMAGE };
    return spec;
  }

  /** A stored image: a snapshot mounted as the writable rootfs, its config as docker reads it. */
  private async imageSpec(
    opts: Omit<RunContainerOptions, 'stdio'>,
    id: string,
    bundle: string,
    undo: (() => Promise<unknown>)[],
  ): Promise<{ spec: Spec; rootfs: { path: string; snapshot: string }; imageId: string }> {
    const images = this.store();
    const rootfs = path.join(bundle, 'rootfs');
    await mkdir(rootfs);
    const prepared = await images.prepareRootfs(opts.image, id);
    undo.push(() => images.snapshotter!.remove(id));
    if (this.deps.mounter === undefined) throw new BrigError('INTERNAL', 'this engine has no rootfs mounter');
    await mountRootfs(prepared.mounts, rootfs, this.deps.mounter);
    undo.push(() => unmountRootfs(rootfs));
    const fromImage = await imageToRuntimeConfig(prepared.config, rootfs, {
      ...(opts.cmd.length ? { cmd: opts.cmd } : {}),
      ...(opts.env ? { env: opts.env } : {}),
      ...(opts.workdir ? { workdir: opts.workdir } : {}),
      ...(opts.user ? { user: opts.user } : {}),
    });
    const spec = containerSpec(opts, id, rootfs, false, []);
    const { capabilities } = spec.process!;
    spec.process = { ...spec.process!, ...fromImage.spec.process };
    spec.process.capabilities = capabilitiesForUser(capabilities!, spec.process.user.uid);
    spec.annotations = { ...fromImage.spec.annotations, ...spec.annotations, 'io.brig.image': prepared.id };
    return { spec, rootfs: { path: rootfs, snapshot: id }, imageId: prepared.id };
  }

  private containerService(): ContainerService {
    if (!this.deps.containers) throw new BrigError('INTERNAL', 'this engine keeps no containers');
    this.containers ??= new ContainerService({
      root: this.deps.root,
      runtime: this.deps.runtime,
      ...this.deps.containers,
      releaseRootfs: async (r) => {
        await unmountRootfs(r.path);
        await this.deps.images?.snapshotter?.remove(r.snapshot).catch((e: BrigError) => {
          if (e.code !== 'SNAPSHOT_NOT_FOUND') throw e;
        });
      },
    });
    return this.containers;
  }

  private async kept(): Promise<ContainerService> {
    await this.open();
    return this.containerService();
  }

  async createContainer(opts: CreateContainerOptions): Promise<{ Id: string; Warnings: string[] }> {
    const svc = await this.kept();
    const log = parseLogConfig(opts.logDriver, opts.logOpts ?? {});
    const host = isHostImage(opts.image);
    let imageId = HOST_ID;
    let spec!: Spec;
    const r = await svc.create(
      {
        image: opts.image,
        imageId,
        ...(opts.name !== undefined ? { name: opts.name } : {}),
        ...(opts.labels ? { labels: opts.labels } : {}),
        settings: {
          cmd: [],
          log,
          tty: opts.tty,
          openStdin: opts.interactive,
          autoRemove: opts.rm,
          stopSignal: opts.stopSignal ?? 'SIGTERM',
          stopTimeout: opts.stopTimeout ?? 10,
          env: [],
          workdir: '/',
          hostname: '',
        },
      },
      async (id, dir) => {
        const undo: (() => Promise<unknown>)[] = [];
        try {
          if (host) {
            spec = await this.hostSpec(opts, id);
            spec.process!.terminal = opts.tty;
            return { spec };
          }
          const made = await this.imageSpec(opts, id, dir, undo);
          spec = made.spec;
          spec.process!.terminal = opts.tty;
          imageId = made.imageId;
          return { spec, rootfs: made.rootfs };
        } catch (e) {
          for (const u of undo.reverse()) await u();
          throw e;
        }
      },
    );
    // What the bundle came to, recorded for inspect and ps.
    await svc.store.update(r.id, undefined, (rec) => ({
      ...rec,
      imageId,
      spec: { ...rec.spec, cmd: spec.process!.args, env: spec.process!.env ?? [], workdir: spec.process!.cwd, hostname: spec.hostname ?? '', ...(opts.user !== undefined ? { user: opts.user } : {}) } satisfies Partial<ContainerSettings>,
    }));
    return { Id: r.id, Warnings: [] };
  }

  async startContainer(ref: string, opts: StartOptions = {}): Promise<void> {
    await (await this.kept()).start(ref, opts);
  }

  async stopContainer(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    await (await this.kept()).stop(ref, opts);
  }

  async killContainer(ref: string, signal?: string): Promise<void> {
    await (await this.kept()).kill(ref, signal);
  }

  async removeContainer(ref: string, opts: { force?: boolean } = {}): Promise<void> {
    await (await this.kept()).remove(ref, opts);
  }

  async waitContainer(ref: string, opts: { signal?: AbortSignal } = {}): Promise<{ StatusCode: number }> {
    return { StatusCode: await (await this.kept()).wait(ref, opts) };
  }

  async listContainers(opts: { all?: boolean } = {}): Promise<ContainerSummary[]> {
    return (await this.kept()).list(opts);
  }

  async inspectContainer(ref: string): Promise<ContainerJSON> {
    return (await this.kept()).inspect(ref);
  }

  async *containerLogs(ref: string, opts: LogOptions = {}): AsyncIterable<LogLine> {
    yield* (await this.kept()).logs(ref, opts);
  }

  async execContainer(ref: string, opts: ExecOptions): Promise<{ pid: number; exit: Promise<number> }> {
    return (await this.kept()).exec(ref, {
      cmd: opts.cmd,
      tty: opts.tty,
      detach: opts.detach,
      stdio: opts.detach ? ['ignore', 'ignore', 'ignore'] : [...opts.stdio],
      ...(opts.env ? { env: opts.env } : {}),
      ...(opts.workdir !== undefined ? { workdir: opts.workdir } : {}),
      ...(opts.user !== undefined ? { user: opts.user } : {}),
    });
  }

  async pauseContainer(ref: string): Promise<void> {
    await (await this.kept()).pause(ref);
  }

  async unpauseContainer(ref: string): Promise<void> {
    await (await this.kept()).unpause(ref);
  }

  async restartContainer(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    await (await this.kept()).restart(ref, opts);
  }

  async renameContainer(ref: string, name: string): Promise<void> {
    await (await this.kept()).rename(ref, name);
  }

  async attachSocket(ref: string): Promise<string> {
    const r = await (await this.kept()).store.find(ref);
    return (r.spec as unknown as ContainerSettings).files.attach;
  }

  private async files(): Promise<ContainerFiles> {
    return new ContainerFiles(await this.kept(), this.deps.images);
  }

  async containerChanges(ref: string): Promise<Change[]> {
    return (await this.files()).changes(ref);
  }

  async exportContainer(ref: string, consume: (tar: AsyncIterable<Buffer>) => Promise<void>): Promise<void> {
    await (await this.files()).export(ref, consume);
  }

  async statContainerPath(ref: string, p: string): Promise<ContainerPathStat> {
    return (await this.files()).stat(ref, p);
  }

  async getContainerArchive<T>(ref: string, p: string, consume: (stat: ContainerPathStat, tar: AsyncIterable<Buffer>) => Promise<T>): Promise<T> {
    return (await this.files()).getArchive(ref, p, consume);
  }

  async putContainerArchive(ref: string, p: string, tar: AsyncIterable<Uint8Array>, opts: { copyUIDGID?: boolean } = {}): Promise<void> {
    await (await this.files()).putArchive(ref, p, tar, opts);
  }

  async commitContainer(ref: string, opts: CommitOptions = {}): Promise<{ Id: string }> {
    return (await this.files()).commit(ref, opts);
  }

  async cleanupContainer(id: string): Promise<void> {
    await (await this.kept()).cleanup(id);
  }
}

function parseUser(user: string | undefined): { uid: number; gid: number } {
  if (user === undefined) return { uid: 0, gid: 0 };
  const m = /^(\d+)(?::(\d+))?$/.exec(user);
  if (!m) {
    throw new BrigError('INVALID_ARGUMENT', `--user "${user}": the host image takes a numeric uid or uid:gid`, { field: '--user' });
  }
  return { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) };
}

/** What every engine container gets: brig's default spec, docker's capabilities and seccomp profile. */
function containerSpec(opts: Omit<RunContainerOptions, 'stdio'>, id: string, rootfs: string, readonlyRoot: boolean, extraMounts: Mount[]): Spec {
  if (opts.workdir !== undefined && !opts.workdir.startsWith('/')) {
    throw new BrigError('INVALID_ARGUMENT', `--workdir "${opts.workdir}" must be absolute`, { field: '--workdir' });
  }
  const spec = defaultSpec(['sh']);
  const uid = parseUserUid(opts.user);
  spec.process!.capabilities = capabilitiesForUser({ bounding: ENGINE_CAPS, effective: ENGINE_CAPS, permitted: ENGINE_CAPS }, uid);
  // Docker-like seccomp profile; its capability-conditional groups follow the bounding set.
  spec.linux!.seccomp = defaultSeccompProfile({ capabilities: ENGINE_CAPS, arch: arch() === 'arm64' ? 'aarch64' : 'x86_64' });
  spec.root = { path: rootfs, readonly: readonlyRoot };
  spec.hostname = opts.hostname ?? id.slice(0, 12);
  spec.process!.terminal = opts.tty === true;
  spec.mounts = [...spec.mounts!, ...extraMounts];
  spec.annotations = opts.name ? { 'io.brig.name': opts.name } : {};
  return spec;
}

function parseUserUid(user: string | undefined): number {
  const m = /^(\d+)/.exec(user ?? '0');
  return m ? Number(m[1]) : 1;
}

const HOST_LABELS = { 'io.brig.builtin': 'true' };

function hostImageSummary(): ImageSummary {
  return {
    Id: HOST_ID,
    ParentId: '',
    RepoTags: ['host:latest'],
    RepoDigests: [],
    Created: 0,
    Size: 0,
    SharedSize: -1,
    Labels: { 'io.brig.builtin': 'true' },
    Containers: -1,
  } as ImageSummary;
}

function hostImageInspect(): ImageInspect {
  return {
    Id: HOST_ID,
    RepoTags: ['host:latest'],
    RepoDigests: [],
    Parent: '',
    Comment: "brig built-in image: read-only views of the host's /usr, /bin, /lib*, a minimal /etc",
    Created: new Date(0).toISOString(),
    Architecture: arch() === 'arm64' ? 'arm64' : 'amd64',
    Os: 'linux',
    Size: 0,
    Config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'], Labels: { 'io.brig.builtin': 'true' } },
    RootFS: { Type: 'layers', Layers: [] },
  } as unknown as ImageInspect;
}
