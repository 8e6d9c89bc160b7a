/**
 * The in-process Engine: containers are OCI bundles under <root>/containers/<id>, started
 * with the runtime; images come from the image service (pulled, loaded, imported) or are
 * the built-in `host` image, which needs no download.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { arch, hostname, machine, release } from 'node:os';
import path from 'node:path';
import { BrigError, hasErrno, isBrigError } from '../errors/index.js';
import {
  applyChanges,
  hostPlatform,
  type ImageLimits,
  type ImageService,
  type ImageUser,
  LIMIT_ENV,
  parsePlatform,
  privateDir,
  RegistryClient,
  resolveLimits,
} from '../image/index.js';
import type { ImageConfig } from '../image/manifest.js';
import { familiarReference, formatReference, parseReference } from '../image/reference.js';
import { buildInfo } from '../util/build-info.js';
import { frozen, frozenWith } from '../util/frozen-json.js';
import { mark } from '../util/timing.js';
import { API_VERSION, MIN_API_VERSION } from './api-version.js';
import { pullMessages } from './pull-messages.js';
import { pushedMessages, pushMessages } from './push-messages.js';
import { Filters as FilterArgs } from './containers/filters.js';
import { currentOwner, formatOwner, ownerAlive, parseOwner } from '../util/owner.js';
import { describeCgroups, detectCgroups } from '../runtime/cgroups/detect.js';
import type { Runtime } from '../runtime/runtime.js';
import { BRIG_VERSION, osName } from './version.js';
import type { Mount, Spec } from '../runtime/spec/types.js';
import { ensureHostImage, HOST_IMAGE } from './builtin-image.js';
import type {
  AuthConfig,
  ContainerJSON,
  ContainerPruneReport,
  ContainerSummary,
  ContainerTopResponse,
  Engine,
  EngineVersion,
  FilterMap,
  ListContainersOptions,
  ExecOptions,
  EngineInfo,
  PullOptions,
  PullReport,
  DistributionInspect,
  RegistryCredentials,
  LogLine,
  LogOptions,
  HistoryItem,
  ImageInspect,
  ImageSummary,
  LoadResult,
  JSONMessage,
  PullResult,
  RemoveItem,
  RunOptions,
  RunningContainer,
  StartOptions,
} from './engine.js';
import type { ContainerCreateRequest } from './containers/config.js';
import { imageFamily } from './containers/filters.js';
import { checkName } from './containers/names.js';
import { joinNamespaces, type NamespaceOwner, sharedNamespaces } from './containers/namespaces.js';
import { DEFAULT_SHM_SIZE, isShareable, shmDir, withShm } from './containers/shared-shm.js';
import { type ContainerServiceDeps, ContainerService, type ContainerSettings, type PreparedContainer } from './containers/service.js';
import type { ContainerRecord } from './containers/store.js';
import { ContainerFiles } from './container-files.js';
import type { BootReport, Change, CommitOptions, ContainerPathStat } from './engine.js';
import type { EngineConfig } from './engine-config.js';
import { resolveLogConfig } from './logs/config.js';
import { StatsReader, type StatsStreamOptions } from './stats/reader.js';
import type { ContainerStatsResponse } from './stats/types.js';
import { buildContainerSpec, type SpecInput } from './spec/container-spec.js';
import { type EngineHost, readEngineHost } from './spec/host.js';
import { resourcePlan } from './spec/resources.js';
import { mergeUpdate, type ResourceUpdate } from './spec/update.js';
import { initLayerBytes, initRootfs } from './rootfs-init.js';
import type { EventLog } from './events/log.js';
import { containerEvent, type EventMessage, imageEvent, type NewEvent, objectEvent } from './events/message.js';
import { eventFilter, parseEventTime } from './events/filter.js';
import type { EventsOptions } from './engine.js';
import { mountRootfs, mountShm, type RootfsMounter, unmountRootfs } from './rootfs-mount.js';
import { inheritMounts, type MountPlan, parseVolumesFrom, planMounts } from './volumes/mount-spec.js';
import { resolveMounts } from './volumes/resolve.js';
import { VolumeService, type VolumeCreateRequest, type VolumeListResponse, type VolumePruneReport } from './volumes/service.js';
import { type Volume, VolumeStore } from './volumes/store.js';
import type { NetworkBackend } from './network/backend.js';
import { type CreateNetworkRequest, type NetworkInspect, NetworkService } from './network/service.js';
import { filterNetworks, networkPruneFilters } from './network/filters.js';
import { portsView } from './network/ports.js';
import { isRunningLike } from './containers/state.js';
import type { BuildHost } from '../build/executor.js';
import { buildInEngine, pruneBuilder } from '../build/engine-build.js';
import { madeMountpoints } from './containers/files.js';
import { INIT_LAYER_PATHS } from './rootfs-init.js';
import type { BuildImageOptions, BuildResult } from './engine.js';

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
  containers?: Pick<ContainerServiceDeps, 'runtimeBin' | 'helperBin' | 'runtimeRoot' | 'cleanupCommand' | 'oomCounter'>;
  /** Facts about the host for container specs (read from /proc and /sys when absent). */
  host?: EngineHost;
  /** The engine's configuration (daemon.json), read when first needed: a broken file stops create, not rm. */
  config?: () => EngineConfig;
  /** The event log every brig process shares (<root>/events); without it nothing is recorded and `events` has nothing to read. */
  events?: EventLog;
  /** Container networks: the backend and where network namespace files go; without it every container is in "none". */
  network?: { backend: NetworkBackend; netnsDir: string };
}

/** The host image has no content digest; this fixed id names it. */
const HOST_ID = `sha256:${Buffer.from('brig built-in host image'.padEnd(32, '.')).toString('hex')}`;

/** The built-in image's config, as an image config carries it. */
const HOST_IMAGE_CONFIG: ImageConfig = {
  architecture: arch() === 'arm64' ? 'arm64' : 'amd64',
  os: 'linux',
  config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
  rootfs: { type: 'layers', diff_ids: [] },
};

function isHostImage(name: string): boolean {
  return name === HOST_IMAGE || name === `${HOST_IMAGE}:latest` || name === HOST_ID;
}

export class LocalEngine implements Engine {
  private opened: Promise<void> | undefined;
  private containers: ContainerService | undefined;
  private networks: NetworkService | undefined;
  private cgroupLayout: Promise<string> | undefined;

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
      await this.volumeStore().sweep();
      // After the containers: a killed brig's namespaces, veths, rules and allocations.
      await this.networkService()?.sweep();
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
    const record = await readFile(path.join(bundle, 'container.json'), 'utf8').then(
      (t) => JSON.parse(t) as ContainerRecord,
      (e: unknown) => {
        if (hasErrno(e, 'ENOENT')) return undefined;
        throw e;
      },
    );
    // A kept container's directory is the container store's, unless its create was cut
    // short: then it is undone like a --rm container's, name and all.
    if (record !== undefined && !ContainerService.abandoned(record)) return;
    if (record === undefined) {
      const owner = parseOwner(await readFile(path.join(bundle, 'owner'), 'utf8').catch(() => ''));
      // Without an owner record (a kill before it was written), only an old directory is stale.
      if (owner !== undefined ? ownerAlive(owner) : Date.now() - (await stat(bundle)).mtimeMs < 60_000) return;
    }
    const status = await this.deps.runtime.state(id).then(
      (st) => st.status,
      (e: BrigError) => {
        if (e.code === 'CONTAINER_NOT_FOUND' || e.code === 'INVALID_ID') return undefined;
        throw e;
      },
    );
    // A build step's container goes with the build that ran it (docker's builder kills it
    // too); any other still-running container outlives the brig that started it.
    const buildStep = record === undefined && (await stat(path.join(bundle, BUILD_STEP_MARKER)).then(() => true, () => false));
    if (status !== undefined && status !== 'stopped' && !buildStep) return;
    if (status !== undefined) await this.deps.runtime.delete(id, { force: true });
    // Throws unless unmounted (or never mounted): the rm below must not reach into a rootfs,
    // or empty a shareable container's /dev/shm and then stop at its mount point.
    await unmountRootfs(path.join(bundle, 'rootfs'));
    await this.shm.unmount(shmDir(bundle));
    await this.deps.images?.snapshotter?.remove(id).catch((e: BrigError) => {
      if (e.code !== 'SNAPSHOT_NOT_FOUND' && e.code !== 'INVALID_ARGUMENT') throw e;
    });
    await this.networkService()?.detach(id);
    if (record !== undefined) await this.containerService().store.remove(id);
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

  private event(e: NewEvent): void {
    this.deps.events?.append(e);
  }

  /** docker's LogImageEvent: the image's labels as attributes while it still exists. */
  private async imageEvent(action: string, id: string, name?: string): Promise<void> {
    if (!this.deps.events) return;
    const labels = ((await this.store().inspect(id).catch(() => undefined))?.Config?.Labels as Record<string, string> | null | undefined) ?? {};
    this.event(imageEvent(action, id, name, labels));
  }

  /** A kept container's event, for verbs the container service does not see (commit, export, ...). */
  private async containerEvent(ref: string, action: string, extra: Record<string, string> = {}): Promise<void> {
    if (!this.deps.events) return;
    const svc = await this.kept();
    svc.event(await svc.find(ref), action, extra);
  }

  /**
   * GET /events: the event log's events the filters allow (src/engine/events/filter.ts),
   * from `since` (else only new ones) to `until` (else until `signal` aborts).
   */
  async *events(opts: EventsOptions = {}): AsyncIterable<EventMessage> {
    await this.open();
    if (!this.deps.events) throw new BrigError('INTERNAL', 'this engine keeps no event log');
    const now = BigInt(Date.now()) * 1_000_000n;
    const since = opts.since ? parseEventTime(opts.since, now, 'since') : undefined;
    const until = opts.until ? parseEventTime(opts.until, now, 'until') : undefined;
    if (since !== undefined && until !== undefined && until < since) {
      throw new BrigError('INVALID_ARGUMENT', `\`since\` time (${opts.since}) cannot be after \`until\` time (${opts.until})`, { field: '--since' });
    }
    const accept = eventFilter(opts.filters);
    const read = this.deps.events.read({ ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
    for await (const m of read) if (accept(m)) yield m;
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

  async listImages(opts: { all?: boolean; filters?: FilterMap; sharedSize?: boolean } = {}): Promise<ImageSummary[]> {
    await this.open();
    const host = { image: { created: Number.NaN, labels: HOST_LABELS, names: [{ full: 'docker.io/library/host:latest', repo: 'docker.io/library/host', digest: false }] }, summary: hostImageSummary() };
    if (!this.deps.images) return [host.summary];
    return this.deps.images.list({ filters: filterLists(opts.filters), users: await this.imageUsers(), extra: [host], ...(opts.sharedSize ? { sharedSize: true } : {}) });
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
    const registry = this.registryFor(opts.auth);
    const tags = opts.allTags === true ? await store.remoteTags(reference, { ...(opts.signal ? { signal: opts.signal } : {}), ...registry }) : [ref.tag];
    const images: PullResult[] = [];
    for (const tag of tags) {
      const one = tag === ref.tag ? ref : { ...ref, tag };
      const r = await store.pull(formatReference(one), {
        ...(platform ? { platform } : {}),
        onProgress: pullMessages(one, emit),
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...registry,
      });
      emit({ status: `Digest: ${r.digest}` });
      images.push(r);
      // docker's pull event names the reference, not the image id.
      await this.imageEvent('pull', familiarReference(one), familiarReference({ ...one, tag: undefined, digest: undefined }));
    }
    const status = images.some((i) => i.status === 'downloaded') ? 'downloaded' : 'up-to-date';
    const named = familiarReference(ref);
    emit({ status: status === 'downloaded' ? `Status: Downloaded newer image for ${named}` : `Status: Image is up to date for ${named}` });
    return { reference: formatReference(ref), status, images };
  }

  /** The registry client for one operation: the caller's credentials, else the engine's own. */
  private registryFor(auth: RegistryCredentials | undefined): { registry?: RegistryClient } {
    return auth === undefined ? {} : { registry: this.store().registry.withCredentials(async () => auth) };
  }

  async distributionInspect(reference: string, opts: { signal?: AbortSignal; auth?: RegistryCredentials } = {}): Promise<DistributionInspect> {
    await this.open();
    this.refuseBuiltin(reference, 'looked up in a registry');
    return this.store().distribution(reference, { ...(opts.signal ? { signal: opts.signal } : {}), ...this.registryFor(opts.auth) });
  }

  async pushImage(reference: string, opts: { onProgress?: (m: JSONMessage) => void; signal?: AbortSignal; auth?: RegistryCredentials } = {}) {
    await this.open();
    this.refuseBuiltin(reference, 'pushed');
    const ref = parseReference(reference);
    const emit = opts.onProgress ?? (() => {});
    // docker's words for a name with no image (distribution/push.go, push_v2.go), before anything is sent.
    const missing = await this.store().inspect(reference).then(() => undefined, (e: unknown) => (isBrigError(e) && e.code === 'IMAGE_NOT_FOUND' ? e : Promise.reject(e)));
    if (missing !== undefined) {
      const name = familiarReference({ ...ref, tag: undefined, digest: undefined });
      const repoHeld = (await this.listImages({ filters: { reference: [name] } })).length > 0;
      throw new BrigError('IMAGE_NOT_FOUND', repoHeld ? `tag does not exist: ${familiarReference(ref)}` : `An image does not exist locally with the tag: ${name}`, { hint: 'tag an image with that name first (brig tag)' });
    }
    const words = pushMessages(ref, emit);
    const pushed = await this.store().push(reference, { signal: opts.signal, onStart: words.start, onProgress: words.progress, ...this.registryFor(opts.auth) });
    for (const m of pushedMessages(ref.tag ?? 'latest', pushed.digest, pushed.size)) emit(m);
    this.event(imageEvent('push', familiarReference(ref), familiarReference({ ...ref, tag: undefined, digest: undefined })));
    return pushed;
  }

  async tagImage(source: string, target: string): Promise<void> {
    await this.open();
    this.refuseBuiltin(source, 'tagged');
    await this.store().tag(source, target);
    const id = (await this.store().inspect(source)).Id;
    await this.imageEvent('tag', id, familiarReference(parseReference(target)));
  }

  async removeImage(nameOrId: string, opts: { force?: boolean } = {}): Promise<RemoveItem[]> {
    await this.open();
    this.refuseBuiltin(nameOrId, 'removed');
    const id = (await this.store().inspect(nameOrId).catch(() => undefined))?.Id;
    const items = await this.store().remove(nameOrId, { ...opts, users: await this.imageUsers() });
    if (id !== undefined) this.removalEvents(items, new Set([id]));
    return items;
  }

  async pruneImages(opts: { filters?: FilterMap } = {}) {
    await this.open();
    const ids = new Set((await this.listImages({ all: true })).map((i) => i.Id));
    const pruned = await this.store().prune({ filters: filterLists(opts.filters), users: await this.imageUsers() });
    this.removalEvents(pruned.ImagesDeleted, ids);
    return pruned;
  }

  /**
   * docker's untag and delete events from a removal's records: each image's untags come
   * before its own Deleted record (then its layers'), and carry its id as docker's do.
   */
  private removalEvents(items: RemoveItem[], images: Set<string>): void {
    let untagged = 0;
    for (const item of items) {
      if ('Untagged' in item) untagged++;
      else if (images.has(item.Deleted)) {
        for (; untagged > 0; untagged--) this.event(imageEvent('untag', item.Deleted, item.Deleted));
        this.event(imageEvent('delete', item.Deleted, item.Deleted));
      }
    }
    // Names taken from an image that stays (rmi of one of its tags).
    const [only] = images;
    if (images.size === 1 && only !== undefined) for (; untagged > 0; untagged--) this.event(imageEvent('untag', only, only));
  }

  async saveImages(names: string[], consume: (tar: AsyncIterable<Buffer>) => Promise<void>, opts: { format?: 'docker-archive' | 'oci-archive' } = {}): Promise<void> {
    await this.open();
    for (const n of names) this.refuseBuiltin(n, 'saved');
    await consume(await this.store().saveStream(names, opts));
    for (const n of names) await this.imageEvent('save', (await this.store().inspect(n)).Id, n);
  }

  async loadImages(tar: AsyncIterable<Uint8Array>, opts: { signal?: AbortSignal } = {}): Promise<LoadResult> {
    await this.open();
    const loaded = await this.store().load(tar, opts);
    const ids = new Set(loaded.ids);
    for (const n of loaded.loaded) ids.add((await this.store().inspect(n)).Id);
    for (const id of ids) await this.imageEvent('load', id, id);
    return loaded;
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
    await this.imageEvent('import', r.id, r.id);
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
      Components: [{ Name: 'Engine', Version: BRIG_VERSION, Details: details }],
      Version: BRIG_VERSION,
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

  /**
   * docker info: counts, the host's facts, and what each part of the engine is here and
   * why (a fallback such as the copy snapshotter is said, never silent).
   */
  async info(): Promise<EngineInfo> {
    await this.open();
    const images = this.deps.images;
    const limits = resolveLimits(images?.limits);
    const host = this.host();
    const [containers, imageList, cgroups, id] = await Promise.all([
      this.deps.containers ? this.containerService().list({ all: true }) : Promise.resolve([]),
      this.listImages(),
      detectCgroups(),
      this.engineId(),
    ]);
    const count = (state: string) => containers.filter((c) => c.State === state).length;
    const snapshotter = images?.snapshotter?.name ?? 'none';
    const status: [string, string][] = [];
    if (this.deps.snapshotterReason !== undefined) status.push(['Not overlayfs', this.deps.snapshotterReason]);
    const v1Memory = cgroups.v1.memory !== undefined;
    const has = (c: string) => cgroups.v1[c] !== undefined || (cgroups.unified?.controllers.includes(c) ?? false);
    const runtimeBin = this.deps.containers?.runtimeBin ?? '';
    const init = 'path' in host.init ? host.init.path : '';
    const warnings: string[] = [];
    if (!host.swapLimit) warnings.push('WARNING: No swap limit support');
    if (this.deps.snapshotterReason !== undefined) warnings.push(`WARNING: the copy snapshotter copies every image for every container: ${this.deps.snapshotterReason}`);
    return {
      ID: id,
      Name: hostname(),
      ServerVersion: BRIG_VERSION,
      Containers: containers.length,
      ContainersRunning: count('running'),
      ContainersPaused: count('paused'),
      ContainersStopped: containers.length - count('running') - count('paused'),
      Images: imageList.length,
      DockerRootDir: this.deps.root,
      Driver: snapshotter,
      DriverStatus: status,
      LoggingDriver: 'json-file',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: cgroups.layout === 'unified' ? '2' : '1',
      MemoryLimit: has('memory'),
      SwapLimit: host.swapLimit,
      CpuCfsPeriod: has('cpu'),
      CpuCfsQuota: has('cpu'),
      CPUShares: has('cpu'),
      CPUSet: has('cpuset'),
      PidsLimit: has('pids'),
      OomKillDisable: v1Memory,
      KernelVersion: release(),
      OperatingSystem: osName(),
      OSType: 'linux',
      Architecture: machine(),
      NCPU: host.cpus,
      MemTotal: host.memTotal,
      DefaultRuntime: 'brig',
      Runtimes: { brig: { path: runtimeBin } },
      InitBinary: init,
      SecurityOptions: ['name=seccomp,profile=builtin', ...(cgroups.layout === 'unified' ? ['name=cgroupns'] : [])],
      Warnings: warnings,
      Choices: [
        {
          part: 'snapshotter',
          choice: snapshotter,
          why: this.deps.snapshotterReason ?? 'the kernel has overlayfs and brig runs as root; the layer applier makes whiteouts and xattrs itself, so no host tool is needed',
        },
        { part: 'cgroups', choice: describeCgroups(cgroups), why: 'detected from /proc/self/mountinfo; the v1 manager where controllers are on v1 hierarchies, the v2 manager on a unified host' },
        { part: 'runtime', choice: runtimeBin ? `brig-runtime (${runtimeBin})` : 'none', why: "brig's own OCI runtime, started by each container's monitor; brig run --rm uses it in-process" },
        this.networkChoice(),
        { part: 'logging', choice: 'json-file', why: "docker's default driver" },
        { part: 'init', choice: init || 'none', why: 'path' in host.init ? 'a statically linked init on the host, for --init' : host.init.missing },
      ],
      ImageLimits: (Object.keys(limits) as (keyof ImageLimits)[]).map((name) => ({ name, env: LIMIT_ENV[name], value: limits[name] })),
    };
  }

  /** `brig info`'s network line: the backend and what it lacks. */
  private networkChoice(): { part: string; choice: string; why: string } {
    const backend = this.deps.network?.backend;
    if (!backend) return { part: 'network', choice: 'none', why: 'this engine has no network backend: every container gets a namespace of its own with only loopback (--network none)' };
    const missing = backend.unavailable();
    return {
      part: 'network',
      choice: backend.name,
      why:
        "networks without DNS (docker's default bridge) through brig's own bridge driver (rtnetlink, and one iptables-restore transaction per change); networks with DNS through netavark and aardvark-dns, podman's stack" +
        (missing ? `; ${missing}` : ''),
    };
  }

  /** A stable id for this engine's data root (docker's engine ID), made on first use. */
  private async engineId(): Promise<string> {
    const file = path.join(this.deps.root, 'engine-id');
    try {
      return (await readFile(file, 'utf8')).trim();
    } catch (e) {
      if (!hasErrno(e, 'ENOENT')) throw e;
    }
    const id = randomUUID();
    await writeFile(file, `${id}\n`, { flag: 'wx' }).catch((e: unknown) => {
      if (!hasErrno(e, 'EEXIST')) throw e;
    });
    return (await readFile(file, 'utf8')).trim();
  }

  /**
   * A foreground container removed when it exits (run --rm): no monitor and no record, just
   * a bundle that goes when it ends. Built from the same request and spec compiler as a kept
   * container, so both run the same thing.
   */
  async runContainer(req: ContainerCreateRequest, opts: RunOptions): Promise<RunningContainer> {
    return this.runWith(req, opts);
  }

  /**
   * runContainer, or (with `base`) a build step's container on an active snapshot the
   * builder prepared (its key is the container's id, so a killed build's container dir and
   * snapshot are swept together); the builder commits the snapshot after, so it stays.
   */
  private async runWith(req: ContainerCreateRequest, opts: RunOptions, base?: BuildBase): Promise<RunningContainer & { spec: Spec }> {
    mark('engine: run');
    await this.open();
    mark('engine: opened');
    if (opts.name !== undefined) checkName(opts.name);
    const id = base?.key ?? randomBytes(32).toString('hex');
    const bundle = path.join(this.deps.root, 'containers', id);
    await mkdir(bundle, { recursive: true, mode: 0o700 });
    await writeFile(path.join(bundle, 'owner'), formatOwner(currentOwner()));
    // Undone when the container ends or its start fails: `undo` in reverse order and, beside
    // it, the network's teardown (the longest step, sharing nothing with the others but the
    // directory); the directory last, and only when everything in it came off.
    const undo: (() => Promise<unknown>)[] = [];
    let network: (() => Promise<unknown>) | undefined;
    let networkDone: Promise<unknown> | undefined;
    const networkDown = () => (networkDone ??= network?.());
    const cleanup = async () => {
      const done = await Promise.allSettled([
        networkDown(),
        (async () => {
          for (const u of undo.reverse()) await u();
        })(),
      ]);
      const failed = done.find((d) => d.status === 'rejected');
      if (failed) throw failed.reason;
      mark('engine: undone');
      await rm(bundle, { recursive: true, force: true });
      mark('engine: directory removed');
    };
    try {
      const made = await this.prepareContainer(req, id, bundle, undo, opts.name ?? id.slice(0, 12), base);
      // A foreground container joins the others' namespaces now; a kept one at each start.
      const h = req.HostConfig ?? {};
      made.spec = await joinNamespaces(made.spec, h, id, (ref) => this.namespaceOwner(ref));
      const joinedShm = await this.containerService().donorShm(h);
      if (joinedShm) made.spec.mounts = withShm(made.spec.mounts ?? [], joinedShm);
      if (isShareable(h)) {
        undo.push(() => this.shm.unmount(shmDir(bundle)));
        await this.shm.mount(shmDir(bundle), made.hostConfig.ShmSize);
      }
      // Its anonymous volumes go with it; named ones (even made for it) stay, as docker's --rm.
      made.volumeUndo.names = made.volumeUndo.names.filter((v) => made.anonymousVolumes.includes(v));
      await writeFile(path.join(bundle, 'config.json'), JSON.stringify(made.spec));
      mark('engine: config.json written');
      // The network's setup runs while the runtime sets the container up in its namespace;
      // init waits for it before it runs the program.
      let wired: Promise<unknown> = Promise.resolve();
      const net = this.networkService();
      if (net) {
        const begun = await net.begin(id);
        wired = begun.wired;
        wired.catch(() => undefined); // seen by the runtime, or by the clean-up
        network = begun.detach;
      }
      // No record and no monitor: this process is the container's only witness, die included.
      const actor = { id, image: req.Image ?? '', labels: made.config.Labels, ...(opts.name !== undefined ? { name: opts.name } : {}) };
      this.event(containerEvent('create', actor));
      this.event(containerEvent('attach', actor));
      const started = await this.deps.runtime.run(id, {
        bundle,
        stdio: [...opts.stdio],
        ...(opts.signal ? { signal: opts.signal } : {}),
        beforeStart: async () => {
          await wired;
        },
      });
      this.event(containerEvent('start', actor));
      mark('engine: started');
      // The network's teardown (the longest step) starts the moment the container has ended,
      // before anything else is done for the exit (events, the rootfs), and runs beside them.
      started.exit.finally(networkDown).catch(() => undefined);
      const exit = started.exit
        .then((code) => (this.event(containerEvent('die', actor, { exitCode: String(code) })), code))
        .finally(cleanup)
        .finally(() => this.event(containerEvent('destroy', actor)));
      return { id, pid: started.pid, exit, kill: (sig) => process.kill(started.pid, sig), warnings: made.warnings, spec: made.spec };
    } catch (e) {
      await cleanup();
      throw e;
    }
  }

  /**
   * Everything a new container needs in its directory: the rootfs (a snapshot of the image
   * mounted at <dir>/rootfs, or the built-in host image's shared one), the spec compiled from
   * the request and the image, and the hostname, hosts and resolv.conf files. What it made
   * is pushed on `undo`.
   */
  private async prepareContainer(
    req: ContainerCreateRequest,
    id: string,
    dir: string,
    undo: (() => Promise<unknown>)[],
    name?: string,
    base?: BuildBase,
  ): Promise<PreparedContainer & { warnings: string[]; volumeUndo: { names: string[] }; anonymousVolumes: string[] }> {
    if (typeof req.Image !== 'string' || req.Image === '') throw new BrigError('INVALID_ARGUMENT', 'no image given', { field: 'Image' });
    let image: ImageConfig;
    let imageId: string;
    let rootfs: SpecInput['rootfs'];
    let snapshot: PreparedContainer['rootfs'];
    if (isHostImage(req.Image)) {
      const host = await ensureHostImage(path.join(this.deps.root, 'images', 'builtin', HOST_IMAGE));
      const tmpfs = (destination: string, mode: string): Mount => ({ destination, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', `mode=${mode}`, 'size=65536k'] });
      image = HOST_IMAGE_CONFIG;
      imageId = HOST_ID;
      rootfs = { path: host.rootfs, readonly: true, mounts: [...host.mounts, tmpfs('/tmp', '1777'), tmpfs('/root', '700'), tmpfs('/run', '755')] };
    } else {
      const images = this.store();
      const target = path.join(dir, 'rootfs');
      await mkdir(target);
      const prepared = base
        ? { mounts: await images.snapshotter!.mounts(base.key), config: base.config, id: base.imageId }
        : await images.prepareRootfs(req.Image, id);
      mark('engine: image resolved, snapshot prepared');
      if (!base)
        undo.push(async () => {
          await images.snapshotter!.remove(id);
          mark('engine: snapshot removed');
        });
      if (this.deps.mounter === undefined) throw new BrigError('INTERNAL', 'this engine has no rootfs mounter');
      await mountRootfs(prepared.mounts, target, this.deps.mounter);
      mark('engine: rootfs mounted');
      undo.push(async () => {
        await unmountRootfs(target, this.deps.mounter);
        mark('engine: rootfs unmounted');
      });
      image = prepared.config;
      imageId = prepared.id;
      rootfs = { path: target };
      snapshot = { path: target, snapshot: id };
    }
    // Volumes, binds and --mount tmpfs (a volume made here goes again if the create fails).
    const h = req.HostConfig ?? {};
    const inherited: MountPlan[] = [];
    for (const [i, spec] of (h.VolumesFrom ?? []).entries()) {
      const from = parseVolumesFrom(spec, i);
      const other = await (await this.kept()).find(from.container);
      inherited.push(...inheritMounts((other.spec as Partial<ContainerSettings>).mounts ?? [], from.rw));
    }
    const plans = planMounts({ Binds: h.Binds, Mounts: h.Mounts, Volumes: { ...(image.config?.Volumes ?? {}), ...(req.Volumes ?? {}) }, Tmpfs: h.Tmpfs ?? {} }, inherited);
    const resolved = await resolveMounts(plans, { volumes: this.volumeStore(), rootfs: rootfs.path });
    for (const v of resolved.created) this.event(objectEvent('volume', 'create', v, { driver: 'local' }));
    // Undone on failure: every volume made here. A run --rm narrows it, once running, to the
    // anonymous ones (docker's --rm keeps named volumes it made on the way).
    const volumeUndo = { names: resolved.created };
    undo.push(() => Promise.all(volumeUndo.names.map((v) => this.volumeStore().remove(v).catch(() => {}))));
    const built = await buildContainerSpec({
      id,
      request: req,
      image,
      rootfs,
      mounts: resolved.mounts,
      etcDir: dir,
      host: this.host(),
      kernel: release(),
      arch: arch() === 'arm64' ? 'aarch64' : 'x86_64',
    });
    built.spec.annotations = { ...built.spec.annotations, 'io.brig.image': imageId };
    mark('engine: spec built');
    // --ipc/--pid/--uts container:NAME must name a container (joined when this one starts).
    for (const j of sharedNamespaces(h)) {
      await this.namespaceOwner(j.ref).catch((e: unknown) => {
        if (e instanceof BrigError && e.code === 'CONTAINER_NOT_FOUND') throw new BrigError('CONTAINER_NOT_FOUND', `no such container to join the ${j.what} of: ${j.ref}`, { field: `HostConfig.${j.field}`, cause: e });
        throw e;
      });
    }
    const net = this.networkService();
    if (net) {
      const planned = await net.plan(req, { id, name: name ?? '', hostname: built.config.Hostname, domainname: built.config.Domainname ?? '' });
      const ns = built.spec.linux!.namespaces!;
      const where = planned.namespace;
      if (where === 'host') built.spec.linux!.namespaces = ns.filter((n) => n.type !== 'network');
      else if (where !== 'new') built.spec.linux!.namespaces = ns.map((n) => (n.type === 'network' ? { type: 'network', path: where.path } : n));
      built.hostConfig.NetworkMode = planned.mode;
      built.etc.hosts = planned.hosts;
      built.etc['resolv.conf'] = planned.resolv;
      await writeFile(path.join(dir, 'network.json'), JSON.stringify(planned.state));
    } else if (req.HostConfig?.NetworkMode && req.HostConfig.NetworkMode !== 'none') {
      throw new BrigError('UNSUPPORTED_FIELD', `HostConfig.NetworkMode "${req.HostConfig.NetworkMode}" needs a network backend this engine does not have`, { field: 'HostConfig.NetworkMode' });
    } else built.hostConfig.NetworkMode = 'none';
    // The built-in image's root is shared and read-only: nothing is made in it.
    if (snapshot) await initRootfs(rootfs.path, built.spec.process!.cwd);
    await Promise.all(Object.entries(built.etc).map(([f, text]) => writeFile(path.join(dir, f), text, { mode: 0o644 })));
    mark('engine: rootfs initialised, etc files written');
    return { spec: built.spec, imageId, config: built.config, hostConfig: built.hostConfig, warnings: built.warnings, mounts: resolved.points, volumeUndo, anonymousVolumes: resolved.anonymous, ...(snapshot ? { rootfs: snapshot } : {}) };
  }

  private volumes?: VolumeStore;
  private volumeStore(): VolumeStore {
    return (this.volumes ??= new VolumeStore(path.join(this.deps.root, 'volumes')));
  }

  private volumeSvc?: VolumeService;
  private async volumeService(): Promise<VolumeService> {
    const svc = await this.kept();
    return (this.volumeSvc ??= new VolumeService(this.volumeStore(), () => svc.volumeUsers()));
  }

  async createVolume(req: VolumeCreateRequest): Promise<Volume> {
    const v = await (await this.volumeService()).create(req);
    this.event(objectEvent('volume', 'create', v.Name, { driver: v.Driver }));
    return v;
  }

  async listVolumes(opts: { filters?: FilterMap } = {}): Promise<VolumeListResponse> {
    return (await this.volumeService()).list(opts);
  }

  async inspectVolume(name: string): Promise<Volume> {
    return (await this.volumeService()).inspect(name);
  }

  async removeVolume(name: string, opts: { force?: boolean } = {}): Promise<void> {
    const existed = await (await this.volumeService()).inspect(name).then(() => true, () => false);
    await (await this.volumeService()).remove(name, opts);
    if (existed) this.event(objectEvent('volume', 'destroy', name, { driver: 'local' }));
  }

  async pruneVolumes(opts: { filters?: FilterMap } = {}): Promise<VolumePruneReport> {
    const r = await (await this.volumeService()).prune(opts);
    for (const v of r.VolumesDeleted) this.event(objectEvent('volume', 'destroy', v, { driver: 'local' }));
    return r;
  }

  private host(): EngineHost {
    return (this.deps.host ??= readEngineHost());
  }

  private containerService(): ContainerService {
    if (!this.deps.containers) throw new BrigError('INTERNAL', 'this engine keeps no containers');
    this.containers ??= new ContainerService({
      root: this.deps.root,
      runtime: this.deps.runtime,
      ...this.deps.containers,
      heldCapabilities: () => this.host().capabilities,
      exitGraceMs: () => this.exitGraceMs,
      releaseVolumes: async (names) => (await this.volumeService()).releaseAnonymous(names),
      ...(this.deps.events ? { events: this.deps.events } : {}),
      layerSize: async (r) => {
        const snap = this.deps.images?.snapshotter;
        const u = await snap?.usage(r.snapshot);
        // What docker keeps in its init layer is no size of the container's (/etc/mtab).
        const init = await initLayerBytes((await snap?.upperDir(r.snapshot)) ?? undefined);
        return { rw: Math.max(0, (u?.own.size ?? 0) - init), rootFs: Math.max(0, (u?.total.size ?? 0) - init) };
      },
      imageFamily: (refs) => this.imageFamily(refs),
      ...(this.deps.network
        ? {
            network: {
              attach: (id: string) => this.networkService()!.attach(id),
              detach: (id: string) => this.networkService()!.detach(id),
              listView: (id: string, running: boolean, memo?: Map<string, unknown>) => {
                const st = this.networkService()!.listedState(id, memo);
                return Promise.resolve(st && NetworkService.listView(st, running));
              },
              listed: (ids: string[]) => this.networkService()!.retainListed(ids),
            },
          }
        : {}),
      shm: this.shm,
      releaseRootfs: async (r) => {
        await unmountRootfs(r.path);
        await this.deps.images?.snapshotter?.remove(r.snapshot).catch((e: BrigError) => {
          if (e.code !== 'SNAPSHOT_NOT_FOUND') throw e;
        });
      },
    });
    return this.containers;
  }

  /** The engine's networks, when it has a backend. */
  private networkService(): NetworkService | undefined {
    const n = this.deps.network;
    if (!n) return undefined;
    const containers = path.join(this.deps.root, 'containers');
    this.networks ??= new NetworkService({
      dir: path.join(this.deps.root, 'networks'),
      netnsDir: n.netnsDir,
      backend: n.backend,
      hostResolv: () => this.host().resolvConf,
      containerDir: (id) => path.join(containers, id),
      containerIds: async () => (await readdir(containers).catch(() => [] as string[])).filter((x) => /^[0-9a-f]{64}$/.test(x)),
      isActive: async (id) => {
        const r = await this.containerService().store.find(id).catch(() => undefined);
        if (r) return isRunningLike(r.state.status) || (r.pending !== undefined && ownerAlive(parseOwner(r.pending.owner) ?? { pid: 0, start: '' }));
        // A foreground --rm container has no record: its brig's owner file says, or the
        // runtime while it still runs (its brig killed, as sweepContainer leaves it).
        const owner = parseOwner(await readFile(path.join(containers, id, 'owner'), 'utf8').catch(() => ''));
        if (owner !== undefined && ownerAlive(owner)) return true;
        const status = await this.deps.runtime.state(id).then((st) => st.status, () => undefined);
        return status !== undefined && status !== 'stopped';
      },
      lookupContainer: (ref) => this.namespaceOwner(ref),
    });
    return this.networks;
  }

  private async nets(): Promise<NetworkService> {
    await this.open();
    const n = this.networkService();
    if (!n) throw new BrigError('UNSUPPORTED_FIELD', 'this engine has no network backend');
    return n;
  }

  async createNetwork(req: CreateNetworkRequest): Promise<{ Id: string; Warning: string }> {
    const made = await (await this.nets()).create(req);
    this.event(objectEvent('network', 'create', made.Id, { name: req.Name, type: 'bridge' }));
    return made;
  }

  async listNetworks(opts: { filters?: FilterMap } = {}): Promise<NetworkInspect[]> {
    const net = await this.nets();
    // docker's list leaves Containers out; dangling asks who uses each network, from the service's own view.
    return filterNetworks(await net.list(), opts.filters, (n) => Object.keys(n.Containers).length > 0);
  }

  async inspectNetwork(ref: string): Promise<NetworkInspect> {
    return (await this.nets()).inspect(ref);
  }

  async removeNetwork(ref: string): Promise<void> {
    const name = await (await this.nets()).remove(ref);
    this.event(objectEvent('network', 'destroy', ref, { name, type: 'bridge' }));
  }

  async pruneNetworks(opts: { filters?: FilterMap } = {}): Promise<{ NetworksDeleted: string[] }> {
    const r = await (await this.nets()).prune(networkPruneFilters(opts.filters, Date.now()));
    for (const n of r.NetworksDeleted) this.event(objectEvent('network', 'destroy', n, { name: n, type: 'bridge' }));
    return r;
  }

  async connectNetwork(ref: string, container: string, opts: { aliases?: string[]; ip?: string } = {}): Promise<void> {
    const net = await this.nets();
    const r = await this.containerService().find(container);
    await net.connect(r.id, ref, { ...opts, running: isRunningLike(r.state.status) });
    this.event(objectEvent('network', 'connect', ref, { container: r.id, name: ref, type: 'bridge' }));
  }

  async disconnectNetwork(ref: string, container: string): Promise<void> {
    const net = await this.nets();
    const r = await this.containerService().find(container);
    await net.disconnect(r.id, ref);
    this.event(objectEvent('network', 'disconnect', ref, { container: r.id, name: ref, type: 'bridge' }));
  }

  /**
   * A shareable container's /dev/shm on the host (containers/shared-shm.ts), fresh: the last
   * run's is unmounted first. The size is the HostConfig's (docker's default without one).
   */
  private readonly shm = {
    mount: async (dir: string, size: number | undefined) => {
      await unmountRootfs(dir);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      mountShm(dir, size || DEFAULT_SHM_SIZE, this.deps.mounter);
    },
    unmount: (dir: string) => unmountRootfs(dir),
  };

  /** A kept container by name or id, with its init pid while it runs (0 otherwise). */
  private async namespaceOwner(ref: string): Promise<NamespaceOwner> {
    const r = await this.containerService().find(ref);
    return { id: r.id, name: r.name, pid: isRunningLike(r.state.status) ? r.state.pid : 0 };
  }

  private async kept(): Promise<ContainerService> {
    await this.open();
    return this.containerService();
  }

  async createContainer(req: ContainerCreateRequest, opts: { name?: string } = {}): Promise<{ Id: string; Warnings: string[] }> {
    const svc = await this.kept();
    // The log settings are checked before anything is made, and resolved again once the
    // image's env and the container's id and name are known (labels, env and tag options).
    const logRequest = req.HostConfig?.LogConfig ?? {};
    const logDefaults = this.deps.config?.().log ?? {};
    const tagInfo = (id: string, name: string, imageId: string, cmd: string[]) => ({ id, name, imageId, imageName: req.Image, command: cmd });
    const first = resolveLogConfig(logRequest, logDefaults, { labels: req.Labels ?? {}, env: req.Env ?? [], container: tagInfo('', '', '', []) });
    let warnings: string[] = [];
    const r = await svc.create({ image: req.Image, ...(opts.name !== undefined ? { name: opts.name } : {}), log: first.log, tty: req.Tty === true }, async (id, dir, name) => {
      const undo: (() => Promise<unknown>)[] = [];
      try {
        const made = await this.prepareContainer(req, id, dir, undo, name);
        warnings = made.warnings;
        const cmd = [...(made.config.Entrypoint ?? []), ...made.config.Cmd];
        const resolved = resolveLogConfig(logRequest, logDefaults, { labels: made.config.Labels, env: made.config.Env, container: tagInfo(id, name, made.imageId, cmd) });
        return { ...made, log: resolved.log, hostConfig: { ...made.hostConfig, LogConfig: resolved.hostConfig } };
      } catch (e) {
        for (const u of undo.reverse()) await u();
        throw e;
      }
    });
    return { Id: r.id, Warnings: warnings };
  }

  async startContainer(ref: string, opts: StartOptions = {}): Promise<void> {
    const svc = await this.kept();
    const r = await svc.find(ref);
    await this.ensureRootfs(r);
    try {
      await svc.start(r.id, opts);
    } catch (e) {
      // dockerd: a --rm container whose start fails is removed at once (`docker run --rm`
      // waits for its removal); one that some other error refused is left as it is.
      const now = await svc.find(r.id).catch(() => undefined);
      if (now && (now.spec as Partial<ContainerSettings>).hostConfig?.AutoRemove === true && now.state.error && !isRunningLike(now.state.status)) {
        await svc.remove(r.id, { force: true, volumes: true }).catch(() => undefined);
      }
      throw e;
    }
  }

  /**
   * A container's rootfs is mounted from create to removal, but a host's reboot unmounts it:
   * a start mounts it again from its snapshot when it is not there.
   */
  private async ensureRootfs(r: ContainerRecord): Promise<void> {
    const rootfs = (r.spec as Partial<ContainerSettings>).rootfs;
    if (!rootfs || !this.deps.mounter) return;
    const [dir, parent] = await Promise.all([stat(rootfs.path), stat(path.dirname(rootfs.path))]);
    if (dir.dev !== parent.dev) return;
    const mounts = await this.store().snapshotter!.mounts(rootfs.snapshot);
    await mountRootfs(mounts, rootfs.path, this.deps.mounter);
  }

  async bootContainers(): Promise<BootReport> {
    const svc = await this.kept();
    const report: BootReport = { started: [], failed: [] };
    for (const r of await svc.toBoot()) {
      try {
        await this.ensureRootfs(r);
        await svc.start(r.id);
        report.started.push(r.name);
      } catch (e) {
        report.failed.push({ name: r.name, error: (e as Error).message });
      }
    }
    return report;
  }

  async stopContainer(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    await (await this.kept()).stop(ref, opts);
  }

  async killContainer(ref: string, signal?: string): Promise<void> {
    await (await this.kept()).kill(ref, signal);
  }

  async removeContainer(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    await (await this.kept()).remove(ref, opts);
  }

  async waitContainer(ref: string, opts: { signal?: AbortSignal } = {}): Promise<{ StatusCode: number }> {
    return { StatusCode: await (await this.kept()).wait(ref, opts) };
  }

  async listContainers(opts: ListContainersOptions = {}): Promise<ContainerSummary[]> {
    const listed = await (await this.kept()).listRecords(opts);
    const net = this.networkService();
    if (!net) return listed.map((x) => x.summary);
    return listed.map(({ summary: c, memo }) => {
      // A kept snapshot's summary with its network part: the same frozen object while the
      // summary is (see keptSummary), since the network state is kept with the same snapshot.
      // Only a kept summary (frozen) has a kept listing: one with sizes (ps -s) is made afresh.
      const keep = memo !== undefined && Object.isFrozen(c);
      const kept = keep ? (memo.get('listed') as { from: ContainerSummary; out: ContainerSummary } | undefined) : undefined;
      if (kept?.from === c) return kept.out;
      if (kept && memo) {
        // The same snapshot, so only the Status moved (keptSummary).
        const out = frozenWith(kept.out, 'Status', c.Status);
        memo.set('listed', { from: c, out });
        return out;
      }
      const st = net.listedState(c.Id, memo);
      if (!st) return c;
      const running = c.State === 'running' || c.State === 'paused' || c.State === 'restarting';
      const { ports } = NetworkService.listView(st, running);
      const networks = st.mode === 'bridge' ? Object.fromEntries(Object.entries(st.endpoints).map(([n, ep]) => [n, this.endpointView(ep)])) : { [st.mode === 'container' ? 'container' : st.mode]: {} };
      const { Status, ...rest } = c;
      const out = { ...rest, Ports: ports, NetworkSettings: { Networks: networks }, Status };
      if (keep) memo.set('listed', { from: c, out: frozen(out) });
      return out;
    });
  }

  /** docker's EndpointSettings from brig's endpoint state. */
  private endpointView(ep: import('./network/service.js').EndpointState): Record<string, unknown> {
    return {
      IPAMConfig: ep.IPAMConfig,
      Links: null,
      Aliases: ep.Aliases.length ? ep.Aliases : null,
      NetworkID: ep.NetworkID,
      EndpointID: ep.IPAddress ? ep.NetworkID.slice(0, 16) + ep.MacAddress.replace(/:/g, '') : '',
      Gateway: ep.Gateway,
      IPAddress: ep.IPAddress,
      IPPrefixLen: ep.IPPrefixLen,
      IPv6Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      MacAddress: ep.MacAddress,
      DriverOpts: null,
    };
  }

  async pruneContainers(opts: { filters?: FilterMap } = {}): Promise<ContainerPruneReport> {
    return (await this.kept()).prune(opts);
  }

  async topContainer(ref: string, psArgs?: string): Promise<ContainerTopResponse> {
    const top = await (await this.kept()).top(ref, psArgs);
    await this.containerEvent(ref, 'top');
    return top;
  }

  containerStats(ref: string, opts: StatsStreamOptions = {}): AsyncIterable<ContainerStatsResponse> {
    const reader = new StatsReader({
      find: async (r) => {
        const c = await (await this.kept()).find(r);
        return { id: c.id, name: c.name, pid: c.state.pid, running: c.state.status === 'running' || c.state.status === 'paused' };
      },
      cgroupStats: (id) => this.deps.runtime.stats(id),
      cgroupVersion: async () => {
        // The runtime's own detection decides which manager reads the cgroups: v2 on a unified host only.
        this.cgroupLayout ??= detectCgroups().then((h) => h.layout);
        const layout = await this.cgroupLayout;
        return layout === 'unified' ? 'v2' : layout === 'none' ? 'none' : 'v1';
      },
    });
    return reader.stream(ref, opts);
  }

  /**
   * docker's ancestor filter: each reference's image (a name, name:tag, id or id prefix) and
   * its descendants. A reference that names no image adds nothing, as in docker.
   */
  private async imageFamily(refs: string[]): Promise<Set<string>> {
    const all = await this.listImages();
    // Layers are read only when asked: an inspect per image.
    const layered = await Promise.all(all.map(async (i) => ({ id: i.Id, layers: ((await this.inspectImage(i.Id).catch(() => undefined))?.RootFS?.Layers as string[] | undefined) ?? [] })));
    const out = new Set<string>();
    for (const ref of refs) {
      const found = await this.inspectImage(ref).catch(() => undefined);
      if (!found) continue;
      for (const id of imageFamily({ id: found.Id, layers: (found.RootFS?.Layers as string[] | undefined) ?? [] }, layered)) out.add(id);
    }
    return out;
  }

  async inspectContainer(ref: string, opts: { size?: boolean } = {}): Promise<ContainerJSON> {
    const json = await (await this.kept()).inspect(ref, opts);
    const st = await this.networkService()?.state(json.Id);
    if (!st) return json;
    const running = json.State.Running || json.State.Paused || json.State.Restarting;
    const networks = st.mode === 'bridge' ? Object.fromEntries(Object.entries(st.endpoints).map(([n, ep]) => [n, this.endpointView(ep)])) : st.mode === 'container' ? {} : { [st.mode]: this.endpointView({ NetworkID: '', Aliases: [], IPAMConfig: null, IPAddress: '', IPPrefixLen: 0, Gateway: '', MacAddress: '', ifname: '' }) };
    const first = Object.entries(st.endpoints)[0];
    // docker's top-level fields are the default bridge's endpoint's (empty on user networks).
    const main = first && first[0] === 'bridge' ? first[1] : undefined;
    return {
      ...json,
      HostConfig: { ...json.HostConfig, PortBindings: st.bindings, PublishAllPorts: json.HostConfig.PublishAllPorts === true, Dns: st.dns.servers ?? [], DnsSearch: st.dns.search ?? [], DnsOptions: st.dns.options ?? [], ExtraHosts: st.extraHosts.length ? st.extraHosts : null, Links: st.links?.length ? st.links.map((l) => `/${l.name}:/${st.name}/${l.alias}`) : null },
      NetworkSettings: {
        ...json.NetworkSettings,
        Bridge: '',
        SandboxKey: running && st.netns ? st.netns : '',
        Ports: running ? portsView(st.exposed, st.ports) : {},
        Gateway: main?.Gateway ?? '',
        IPAddress: main?.IPAddress ?? '',
        IPPrefixLen: main?.IPPrefixLen ?? 0,
        MacAddress: main?.MacAddress ?? '',
        Networks: networks,
      },
    };
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
      ...(opts.privileged ? { privileged: true } : {}),
      ...(opts.tty && opts.consoleSize ? { consoleSize: opts.consoleSize } : {}),
      ...(opts.tty && !opts.detach && opts.resizeFd !== undefined ? { resizeFd: opts.resizeFd } : {}),
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

  /**
   * docker update: the merged limits are checked as at create, written to the cgroup of a
   * running container, and kept in its record and bundle for the next start. Device rules
   * stay as created.
   */
  async updateContainer(ref: string, update: ResourceUpdate): Promise<{ Warnings: string[] }> {
    const svc = await this.kept();
    const r = await svc.find(ref);
    const s = r.spec as unknown as ContainerSettings;
    const merged = mergeUpdate(s.hostConfig, update);
    const plan = resourcePlan(merged, this.host());
    const { devices: _kept, ...resources } = plan.resources;
    const running = await this.deps.runtime.state(r.id).then(
      (st) => st.status === 'running' || st.status === 'paused',
      (e: BrigError) => {
        if (e.code === 'CONTAINER_NOT_FOUND') return false;
        throw e;
      },
    );
    if (running) await this.deps.runtime.update(r.id, resources);
    const configPath = path.join(s.bundle, 'config.json');
    const spec = JSON.parse(await readFile(configPath, 'utf8')) as Spec;
    spec.linux = { ...spec.linux, resources: { ...resources, ...(spec.linux?.resources?.devices ? { devices: spec.linux.resources.devices } : {}) } };
    await writeFile(configPath, JSON.stringify(spec));
    await svc.store.update(r.id, undefined, (rec) => ({ ...rec, spec: { ...rec.spec, hostConfig: { ...merged, ...plan.adjusted } } }));
    svc.event(r, 'update');
    return { Warnings: plan.warnings };
  }

  async attachSocket(ref: string): Promise<string> {
    const svc = await this.kept();
    const r = await svc.find(ref);
    svc.event(r, 'attach');
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
    await this.containerEvent(ref, 'export');
  }

  async statContainerPath(ref: string, p: string): Promise<ContainerPathStat> {
    return (await this.files()).stat(ref, p);
  }

  async getContainerArchive<T>(ref: string, p: string, consume: (stat: ContainerPathStat, tar: AsyncIterable<Buffer>) => Promise<T>): Promise<T> {
    const got = await (await this.files()).getArchive(ref, p, consume);
    await this.containerEvent(ref, 'archive-path');
    return got;
  }

  async putContainerArchive(ref: string, p: string, tar: AsyncIterable<Uint8Array>, opts: { copyUIDGID?: boolean } = {}): Promise<void> {
    await (await this.files()).putArchive(ref, p, tar, opts);
    await this.containerEvent(ref, 'extract-to-dir');
  }

  async commitContainer(ref: string, opts: CommitOptions = {}): Promise<{ Id: string }> {
    const made = await (await this.files()).commit(ref, opts);
    await this.containerEvent(ref, 'commit', { comment: opts.comment ?? '', imageID: made.Id, ...(opts.reference ? { imageRef: familiarReference(parseReference(opts.reference)) } : {}) });
    return made;
  }

  async buildImage(context: { dir: string } | { tar: AsyncIterable<Uint8Array> }, opts: BuildImageOptions = {}): Promise<BuildResult> {
    await this.open();
    return buildInEngine(this.buildHost(), context, opts);
  }

  async pruneBuildCache(): Promise<{ CachesDeleted: string[]; SpaceReclaimed: number }> {
    await this.open();
    return pruneBuilder(this.buildHost());
  }

  /** What the builder needs of the engine (src/build/executor.ts BuildHost). */
  private buildHost(): BuildHost {
    const images = this.store();
    const containers = path.join(this.deps.root, 'containers');
    return {
      images,
      builderRoot: path.join(this.deps.root, 'builder'),
      // Under containers/<key> with an owner record, as a container's rootfs: a killed
      // build's mount and snapshot are swept by the next command (sweepContainer).
      mount: async (key) => {
        if (this.deps.mounter === undefined) throw new BrigError('INTERNAL', 'this engine has no rootfs mounter');
        const dir = path.join(containers, key);
        const target = path.join(dir, 'rootfs');
        await mkdir(target, { recursive: true, mode: 0o700 });
        await writeFile(path.join(dir, 'owner'), formatOwner(currentOwner()));
        try {
          await mountRootfs(await images.snapshotter!.mounts(key), target, this.deps.mounter);
        } catch (e) {
          await rm(dir, { recursive: true, force: true });
          throw e;
        }
        return {
          root: target,
          release: async () => {
            await unmountRootfs(target);
            await rm(dir, { recursive: true, force: true });
          },
        };
      },
      run: async (key, step) => {
        const { Volumes: _v, Healthcheck: _h, OnBuild: _o, ...config } = step.config.config ?? {};
        const req: ContainerCreateRequest = {
          Image: key,
          Cmd: step.cmd,
          Entrypoint: [],
          Env: step.env,
          User: step.user,
          WorkingDir: step.workdir,
          HostConfig: {
            ...(step.network !== 'default' ? { NetworkMode: step.network } : {}),
            Mounts: step.binds.map((b) => ({ Type: 'bind', Source: b.source, Target: b.target, ReadOnly: b.readonly })),
            Tmpfs: Object.fromEntries(step.tmpfs.map((t) => [t, ''])),
          },
        };
        // Marked before the container exists: a killed build's step is killed by the sweep.
        await mkdir(path.join(containers, key), { recursive: true, mode: 0o700 });
        await writeFile(path.join(containers, key, BUILD_STEP_MARKER), '');
        const c = await this.runWith(req, { stdio: ['ignore', step.outputFd, step.outputFd], ...(step.signal ? { signal: step.signal } : {}) }, { key, config: { ...step.config, config }, imageId: key });
        const kill = () => c.kill(9);
        step.signal?.addEventListener('abort', kill, { once: true });
        try {
          const exitCode = await c.exit;
          const lowers = (await images.snapshotter!.mounts(key)).flatMap((m) => m.options.filter((o) => o.startsWith('lowerdir+=')).map((o) => o.slice('lowerdir+='.length)));
          return { exitCode, made: madeMountpoints([...(c.spec.mounts ?? []).map((m) => m.destination), ...INIT_LAYER_PATHS], lowers) };
        } finally {
          step.signal?.removeEventListener('abort', kill);
        }
      },
      pull: async (reference, platform, signal) => {
        await this.pullImage(reference, { ...(platform ? { platform } : {}), ...(signal ? { signal } : {}) });
      },
    };
  }

  keepListings(): void {
    if (this.deps.containers) this.containerService().store.keepListing();
  }

  async cleanupContainer(id: string): Promise<void> {
    await (await this.kept()).cleanup(id);
  }

  /** While set (removeAtExit runs), how long a --rm container's monitor waits for this process to remove it. */
  private exitGraceMs: number | undefined;

  async removeAtExit(signal: AbortSignal, log: (line: string) => void = () => {}): Promise<void> {
    const svc = await this.kept();
    const running = new Set<Promise<void>>();
    this.exitGraceMs = EXIT_GRACE_MS;
    try {
      const dies = this.events({ filters: { type: ['container'], event: ['die'] }, signal });
      for await (const ev of dies) {
        const p = svc.removeExited(ev.Actor.ID).catch((e: unknown) => log(`removing container ${ev.Actor.ID.slice(0, 12)} at its exit: ${(e as Error).message}`));
        running.add(p);
        void p.finally(() => running.delete(p));
      }
    } catch (e) {
      if (!signal.aborted) throw e;
    } finally {
      this.exitGraceMs = undefined;
      await Promise.all(running);
    }
  }
}

/** A build step's rootfs: the active snapshot `key` and the stage's config (runWith). */
interface BuildBase {
  key: string;
  config: ImageConfig;
  imageId: string;
}

/** In a build step container's directory: the sweep kills it once its build is gone. */
const BUILD_STEP_MARKER = 'build-step';
/**
 * How long a --rm container's monitor waits for brig serve to remove it: its own removal
 * (the container gone, no exit record left) takes ~20-60 ms; a loaded machine is given 40
 * times that before the monitor starts its own clean-up.
 */
const EXIT_GRACE_MS = 2000;

const HOST_LABELS = { 'io.brig.builtin': 'true' };

/** The API's filters as lists (its older {value: true} form too), as the image service takes them. */
function filterLists(raw: FilterMap | undefined): Record<string, string[]> {
  const f = new FilterArgs(raw);
  return Object.fromEntries(f.keys().map((k) => [k, f.get(k)]));
}

function hostImageSummary(): ImageSummary {
  return {
    Id: HOST_ID,
    ParentId: '',
    RepoTags: ['host:latest'],
    RepoDigests: [],
    Created: 0,
    Size: 0,
    SharedSize: -1,
    Labels: {},
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
    Config: HOST_IMAGE_CONFIG.config,
    RootFS: { Type: 'layers', Layers: [] },
  } as unknown as ImageInspect;
}
