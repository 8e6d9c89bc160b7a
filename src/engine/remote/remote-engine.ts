/**
 * The Engine over the Docker Engine API: what `brig -H unix:///run/brig/docker.sock ...`
 * (or BRIG_HOST) drives, a `brig serve` or any dockerd. Every method is one or a few API
 * calls; answers are already in the Engine's (docker's) shapes, so nothing is translated but
 * streams (see streams.ts) and errors (client.ts).
 *
 * What only a local engine can do says so: the monitor's socket path (attachSocket), its
 * exit clean-up (cleanupContainer), the boot pass (bootContainers: the server's own start
 * runs it). Foreground runs and execs take the caller's fds as a local engine does and pump
 * them over a hijacked connection.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { BrigError } from '../../errors/index.js';
import type { CredentialSource } from '../../image/registry/credentials.js';
import { parseReference } from '../../image/reference.js';
import type {
  AuthConfig,
  BootReport,
  BuildImageOptions,
  BuildResult,
  Change,
  CommitOptions,
  ContainerCreateRequest,
  ContainerJSON,
  ContainerPathStat,
  ContainerPruneReport,
  ContainerStatsResponse,
  ContainerSummary,
  ContainerTopResponse,
  CreateNetworkRequest,
  DistributionInspect,
  Engine,
  EngineInfo,
  EngineVersion,
  EventMessage,
  EventsOptions,
  ExecOptions,
  FilterMap,
  HistoryItem,
  ImageInspect,
  ImageSummary,
  JSONMessage,
  ListContainersOptions,
  LoadResult,
  LogLine,
  LogOptions,
  NetworkInspect,
  PullOptions,
  PullReport,
  RemoveItem,
  ResourceUpdate,
  RunningContainer,
  RunOptions,
  StartOptions,
  StatsStreamOptions,
  Volume,
  VolumeCreateRequest,
  VolumeListResponse,
  VolumePruneReport,
} from '../engine.js';
import { type AttachProxy, attachProxy } from './attach-proxy.js';
import { ApiClient } from './client.js';
import type { RemoteHost } from './host.js';
import { buildContext, followBuild } from './build-client.js';
import { followMessages, frames, jsonLines, logLines } from './streams.js';

const enc = encodeURIComponent;

function localOnly(what: string): BrigError {
  return new BrigError('UNSUPPORTED_FIELD', `${what} works on the local engine only, not through ${'a remote API'}`, { hint: 'unset BRIG_HOST (or drop -H) to use the local engine' });
}

/**
 * A stream ended by its caller's signal (Ctrl-C on `events`, `logs -f`, `stats`): the body
 * fails with AbortError, or with "Premature close" when the abort lands while the response
 * is being read; either way the caller asked for it, and it is no error.
 */
function stoppedByCaller(e: unknown, signal: AbortSignal | undefined): boolean {
  return (e as Error).name === 'AbortError' || signal?.aborted === true;
}

export class RemoteEngine implements Engine {
  readonly client: ApiClient;

  constructor(
    host: RemoteHost,
    private readonly credentials: CredentialSource = async () => undefined,
  ) {
    this.client = new ApiClient(host);
  }

  /** docker's X-Registry-Auth: the client's credentials for the reference's registry, base64url JSON. */
  private async registryAuth(reference: string): Promise<Record<string, string>> {
    let registry: string;
    try {
      registry = parseReference(reference, { defaultTag: false }).registry;
    } catch {
      return {};
    }
    const c = await this.credentials(registry);
    if (!c) return {};
    const auth = { username: c.username ?? '', password: c.password ?? '', ...(c.identityToken ? { identitytoken: c.identityToken } : {}), serveraddress: registry };
    return { 'X-Registry-Auth': Buffer.from(JSON.stringify(auth)).toString('base64url') };
  }

  // ---------------------------------------------------------------- images

  async pullImage(reference: string, opts: PullOptions = {}): Promise<PullReport> {
    const ref = parseReference(reference, { defaultTag: false });
    const nameOnly = ref.tag === undefined && ref.digest === undefined;
    const fromImage = `${ref.registry === 'docker.io' ? '' : `${ref.registry}/`}${ref.repository}`;
    const tag = ref.digest ?? ref.tag ?? (opts.allTags ? '' : 'latest');
    const res = await this.client.request('POST', '/images/create', {
      query: { fromImage, tag: tag || undefined, platform: opts.platform },
      headers: await this.registryAuth(reference),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const messages = await followMessages(res, opts.onProgress);
    const last = [...messages].reverse().find((m) => m.status?.startsWith('Status: '))?.status ?? '';
    const full = nameOnly && opts.allTags ? `${ref.registry}/${ref.repository}` : `${ref.registry}/${ref.repository}${ref.digest ? `@${ref.digest}` : `:${ref.tag ?? 'latest'}`}`;
    const status = /up to date/.test(last) ? 'up-to-date' : 'downloaded';
    const images = [];
    if (!opts.allTags) {
      const i = await this.inspectImage(full);
      const digest = [...messages].reverse().find((m) => m.status?.startsWith('Digest: '))?.status?.slice('Digest: '.length) ?? '';
      images.push({ reference: full, id: i.Id, digest, manifestDigest: digest, platform: { architecture: String(i.Architecture ?? ''), os: String(i.Os ?? '') }, status } as const);
    }
    return { reference: full, status, images };
  }

  async pushImage(reference: string, opts: { onProgress?: (m: JSONMessage) => void; signal?: AbortSignal } = {}) {
    const ref = parseReference(reference);
    const name = reference.replace(/:[^/:@]+$/, '').replace(/@.*$/, '');
    const res = await this.client.request('POST', `/images/${enc(name)}/push`, {
      query: { tag: ref.tag },
      headers: await this.registryAuth(reference),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const messages = await followMessages(res, opts.onProgress);
    const aux = [...messages].reverse().find((m) => m.aux?.Digest !== undefined)?.aux as { Digest: string; Size: number } | undefined;
    if (!aux) throw new BrigError('INTERNAL', `the engine's push of ${reference} ended without a digest`);
    return { reference: `${ref.registry}/${ref.repository}:${ref.tag ?? 'latest'}`, digest: aux.Digest, size: aux.Size };
  }

  async distributionInspect(reference: string, opts: { signal?: AbortSignal } = {}): Promise<DistributionInspect> {
    return this.client.json('GET', `/distribution/${reference}/json`, { headers: await this.registryAuth(reference), ...(opts.signal ? { signal: opts.signal } : {}) });
  }

  listImages(opts: { all?: boolean; filters?: FilterMap; sharedSize?: boolean } = {}): Promise<ImageSummary[]> {
    return this.client.json('GET', '/images/json', { query: { all: opts.all, filters: opts.filters, 'shared-size': opts.sharedSize } });
  }

  inspectImage(nameOrId: string): Promise<ImageInspect> {
    return this.client.json('GET', `/images/${enc(nameOrId)}/json`);
  }

  imageHistory(nameOrId: string): Promise<HistoryItem[]> {
    return this.client.json('GET', `/images/${enc(nameOrId)}/history`);
  }

  async tagImage(source: string, target: string): Promise<void> {
    const ref = parseReference(target);
    const repo = `${ref.registry === 'docker.io' ? '' : `${ref.registry}/`}${ref.repository}`;
    await this.client.call('POST', `/images/${enc(source)}/tag`, { query: { repo, tag: ref.tag ?? 'latest' } });
  }

  removeImage(nameOrId: string, opts: { force?: boolean } = {}): Promise<RemoveItem[]> {
    return this.client.json('DELETE', `/images/${enc(nameOrId)}`, { query: { force: opts.force } });
  }

  pruneImages(opts: { filters?: FilterMap } = {}): Promise<{ ImagesDeleted: RemoveItem[]; SpaceReclaimed: number }> {
    return this.client
      .json<{ ImagesDeleted: RemoveItem[] | null; SpaceReclaimed: number }>('POST', '/images/prune', { query: { filters: opts.filters } })
      .then((r) => ({ ImagesDeleted: r.ImagesDeleted ?? [], SpaceReclaimed: r.SpaceReclaimed }));
  }

  async saveImages(names: string[], consume: (tar: AsyncIterable<Buffer>) => Promise<void>, opts: { format?: 'docker-archive' | 'oci-archive' } = {}): Promise<void> {
    // GET /images/get writes docker archives only: an OCI one is not silently swapped for it.
    if (opts.format === 'oci-archive') {
      throw new BrigError('UNSUPPORTED_FIELD', 'an OCI archive is written by the local engine only, not through a remote API (GET /images/get sends docker archives)', {
        field: '--format',
        hint: 'save without --format oci-archive, or unset BRIG_HOST (or drop -H) to use the local engine',
      });
    }
    await consume(await this.client.request('GET', '/images/get', { query: { names } }));
  }

  async loadImages(tar: AsyncIterable<Uint8Array>, opts: { signal?: AbortSignal } = {}): Promise<LoadResult> {
    const res = await this.client.request('POST', '/images/load', { query: { quiet: true }, body: tar, ...(opts.signal ? { signal: opts.signal } : {}) });
    const out: LoadResult = { loaded: [], ids: [] };
    for (const m of await followMessages(res)) {
      const text = (m as JSONMessage & { stream?: string }).stream ?? m.status ?? '';
      for (const line of text.split('\n')) {
        const named = /^Loaded image: (.+)$/.exec(line.trim());
        const id = /^Loaded image ID: (.+)$/.exec(line.trim());
        if (named) out.loaded.push(named[1]!);
        if (id) out.ids.push(id[1]!);
      }
    }
    return out;
  }

  async importImage(
    tar: AsyncIterable<Uint8Array>,
    opts: { reference?: string; changes?: string[]; message?: string; platform?: string; signal?: AbortSignal } = {},
  ): Promise<{ id: string; reference?: string }> {
    let repo: string | undefined;
    let tag: string | undefined;
    if (opts.reference !== undefined) {
      const ref = parseReference(opts.reference);
      repo = `${ref.registry === 'docker.io' ? '' : `${ref.registry}/`}${ref.repository}`;
      tag = ref.tag ?? 'latest';
    }
    const res = await this.client.request('POST', '/images/create', {
      query: { fromSrc: '-', repo, tag, changes: opts.changes, message: opts.message, platform: opts.platform },
      body: tar,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const messages = await followMessages(res);
    const id = messages.map((m) => m.status).find((s) => /^sha256:[0-9a-f]{64}$/.test(s ?? ''));
    if (!id) throw new BrigError('INTERNAL', 'the engine answered the import without an image id');
    return { id, ...(opts.reference !== undefined ? { reference: opts.reference } : {}) };
  }

  registryLogin(auth: AuthConfig): Promise<{ Status: string; IdentityToken?: string }> {
    return this.client.json('POST', '/auth', { json: auth });
  }

  // ---------------------------------------------------------------- containers

  createContainer(req: ContainerCreateRequest, opts: { name?: string } = {}): Promise<{ Id: string; Warnings: string[] }> {
    return this.client
      .json<{ Id: string; Warnings: string[] | null }>('POST', '/containers/create', { query: { name: opts.name }, json: req })
      .then((r) => ({ Id: r.Id, Warnings: r.Warnings ?? [] }));
  }

  /** docker's CLI's order: attach (the stream held by the server until the container runs), then start. */
  async startContainer(ref: string, opts: StartOptions = {}): Promise<void> {
    let proxy: (AttachProxy & { resendSize(): Promise<void> }) | undefined;
    if (opts.attach) {
      proxy = await this.attachStream(ref);
      try {
        await opts.attach(proxy.socket);
      } catch (e) {
        proxy.close();
        throw e;
      }
    }
    await this.client.call('POST', `/containers/${enc(ref)}/start`);
    // The terminal's size came before the container ran (run -it), when the server can only
    // refuse it: again now, as the docker CLI resizes once the container has started.
    await proxy?.resendSize();
  }

  /** The container's attach stream behind a local monitor-protocol socket (attach-proxy.ts). */
  private async attachStream(ref: string): Promise<AttachProxy & { resendSize(): Promise<void> }> {
    const c = await this.inspectContainer(ref);
    const stdin = c.Config.OpenStdin === true;
    const stream = await this.client.hijack('POST', `/containers/${enc(ref)}/attach`, { query: { stream: true, stdin, stdout: true, stderr: true } });
    let last: [number, number] | undefined;
    const send = (h: number, w: number) => this.client.call('POST', `/containers/${enc(ref)}/resize`, { query: { h, w } });
    const proxy = await attachProxy(stream, async (h, w) => {
      last = [h, w];
      await send(h, w);
    });
    return { ...proxy, resendSize: async () => void (c.Config.Tty && last ? await send(...last).catch(() => {}) : undefined) };
  }

  async stopContainer(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    await this.client.call('POST', `/containers/${enc(ref)}/stop`, { query: { t: opts.timeout, signal: opts.signal } });
  }

  async killContainer(ref: string, signal?: string): Promise<void> {
    await this.client.call('POST', `/containers/${enc(ref)}/kill`, { query: { signal } });
  }

  async removeContainer(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    await this.client.call('DELETE', `/containers/${enc(ref)}`, { query: { force: opts.force, v: opts.volumes } });
  }

  waitContainer(ref: string, opts: { signal?: AbortSignal; condition?: 'not-running' | 'next-exit' | 'removed' } = {}): Promise<{ StatusCode: number }> {
    return this.client.json('POST', `/containers/${enc(ref)}/wait`, { query: { condition: opts.condition }, ...(opts.signal ? { signal: opts.signal } : {}) });
  }

  listContainers(opts: ListContainersOptions = {}): Promise<ContainerSummary[]> {
    return this.client.json('GET', '/containers/json', { query: { all: opts.all, limit: opts.limit && opts.limit > 0 ? opts.limit : undefined, size: opts.size, filters: opts.filters } });
  }

  pruneContainers(opts: { filters?: FilterMap } = {}): Promise<ContainerPruneReport> {
    return this.client
      .json<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/containers/prune', { query: { filters: opts.filters } })
      .then((r) => ({ ContainersDeleted: r.ContainersDeleted ?? [], SpaceReclaimed: r.SpaceReclaimed }));
  }

  topContainer(ref: string, psArgs?: string): Promise<ContainerTopResponse> {
    return this.client.json('GET', `/containers/${enc(ref)}/top`, { query: { ps_args: psArgs } });
  }

  async *containerStats(ref: string, opts: StatsStreamOptions = {}): AsyncIterable<ContainerStatsResponse> {
    const res = await this.client.request('GET', `/containers/${enc(ref)}/stats`, {
      query: { stream: opts.stream ?? true, 'one-shot': opts.oneShot },
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    try {
      yield* jsonLines<ContainerStatsResponse>(res);
    } catch (e) {
      if (!stoppedByCaller(e, opts.signal)) throw e;
    }
  }

  inspectContainer(ref: string, opts: { size?: boolean } = {}): Promise<ContainerJSON> {
    return this.client.json('GET', `/containers/${enc(ref)}/json`, { query: { size: opts.size } });
  }

  async *containerLogs(ref: string, opts: LogOptions = {}): AsyncIterable<LogLine> {
    const c = await this.inspectContainer(ref);
    const res = await this.client.request('GET', `/containers/${enc(ref)}/logs`, {
      query: { stdout: true, stderr: true, timestamps: true, details: true, follow: opts.follow, tail: opts.tail === undefined ? undefined : opts.tail < 0 ? 'all' : opts.tail, since: opts.since, until: opts.until },
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    try {
      yield* logLines(res, c.Config.Tty === true);
    } catch (e) {
      if (!stoppedByCaller(e, opts.signal)) throw e;
    }
  }

  async execContainer(ref: string, opts: ExecOptions): Promise<{ pid: number; exit: Promise<number> }> {
    const attach = !opts.detach;
    const { Id } = await this.client.json<{ Id: string }>('POST', `/containers/${enc(ref)}/exec`, {
      json: {
        Cmd: opts.cmd,
        Env: opts.env,
        WorkingDir: opts.workdir,
        User: opts.user,
        Tty: opts.tty,
        Privileged: opts.privileged === true,
        AttachStdin: attach && opts.interactive,
        AttachStdout: attach,
        AttachStderr: attach,
      },
    });
    if (opts.detach) {
      await this.client.call('POST', `/exec/${Id}/start`, { json: { Detach: true, Tty: opts.tty } });
      const info = await this.client.json<{ Pid: number }>('GET', `/exec/${Id}/json`);
      return { pid: info.Pid, exit: Promise.resolve(0) };
    }
    const { socket, output } = await this.client.hijack('POST', `/exec/${Id}/start`, { json: { Detach: false, Tty: opts.tty } });
    const pumped = pump(socket, output, opts.stdio, opts.tty, opts.interactive);
    const info = await this.client.json<{ Pid: number }>('GET', `/exec/${Id}/json`);
    const exit = pumped.then(async () => (await this.client.json<{ ExitCode: number | null }>('GET', `/exec/${Id}/json`)).ExitCode ?? 0);
    return { pid: info.Pid, exit };
  }

  async pauseContainer(ref: string): Promise<void> {
    await this.client.call('POST', `/containers/${enc(ref)}/pause`);
  }

  async unpauseContainer(ref: string): Promise<void> {
    await this.client.call('POST', `/containers/${enc(ref)}/unpause`);
  }

  async restartContainer(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    await this.client.call('POST', `/containers/${enc(ref)}/restart`, { query: { t: opts.timeout, signal: opts.signal } });
  }

  bootContainers(): Promise<BootReport> {
    return Promise.reject(localOnly('system boot'));
  }

  async renameContainer(ref: string, name: string): Promise<void> {
    await this.client.call('POST', `/containers/${enc(ref)}/rename`, { query: { name } });
  }

  updateContainer(ref: string, update: ResourceUpdate): Promise<{ Warnings: string[] }> {
    return this.client.json<{ Warnings: string[] | null }>('POST', `/containers/${enc(ref)}/update`, { json: update }).then((r) => ({ Warnings: r.Warnings ?? [] }));
  }

  async attachSocket(ref: string): Promise<string> {
    return (await this.attachStream(ref)).socket;
  }

  containerChanges(ref: string): Promise<Change[]> {
    return this.client.json<Change[] | null>('GET', `/containers/${enc(ref)}/changes`).then((r) => r ?? []);
  }

  async exportContainer(ref: string, consume: (tar: AsyncIterable<Buffer>) => Promise<void>): Promise<void> {
    await consume(await this.client.request('GET', `/containers/${enc(ref)}/export`));
  }

  async statContainerPath(ref: string, path: string): Promise<ContainerPathStat> {
    const res = await this.client.request('HEAD', `/containers/${enc(ref)}/archive`, { query: { path } });
    res.resume();
    return pathStat(res.headers['x-docker-container-path-stat']);
  }

  async getContainerArchive<T>(ref: string, path: string, consume: (stat: ContainerPathStat, tar: AsyncIterable<Buffer>) => Promise<T>): Promise<T> {
    const res = await this.client.request('GET', `/containers/${enc(ref)}/archive`, { query: { path } });
    return consume(pathStat(res.headers['x-docker-container-path-stat']), res);
  }

  async putContainerArchive(ref: string, path: string, tar: AsyncIterable<Uint8Array>, opts: { copyUIDGID?: boolean } = {}): Promise<void> {
    await this.client.call('PUT', `/containers/${enc(ref)}/archive`, { query: { path, copyUIDGID: opts.copyUIDGID }, body: tar });
  }

  commitContainer(ref: string, opts: CommitOptions = {}): Promise<{ Id: string }> {
    let repo: string | undefined;
    let tag: string | undefined;
    if (opts.reference !== undefined) {
      const r = parseReference(opts.reference);
      repo = `${r.registry === 'docker.io' ? '' : `${r.registry}/`}${r.repository}`;
      tag = r.tag ?? 'latest';
    }
    return this.client.json('POST', '/commit', { query: { container: ref, repo, tag, comment: opts.comment, author: opts.author, changes: opts.changes, pause: opts.pause ?? true } });
  }

  cleanupContainer(): Promise<void> {
    return Promise.reject(localOnly("a container monitor's clean-up"));
  }

  /**
   * POST /build with the context as the body (build-client.ts: .dockerignore applied here,
   * as docker's CLI does) and the classic builder's stream read back into progress. What the
   * API cannot carry is refused by its flag before anything is sent: secrets (files on this
   * machine the engine would read) and an OCI archive of the result (GET /images/get writes
   * docker archives only). -o type=docker|local and --iidfile are the client's own work.
   */
  async buildImage(context: { dir: string } | { tar: AsyncIterable<Uint8Array> }, opts: BuildImageOptions = {}): Promise<BuildResult> {
    const refuse = (flag: string, why: string) => new BrigError('UNSUPPORTED_FIELD', `${flag}: ${why}, not through a remote API`, { field: flag, hint: 'unset BRIG_HOST (or drop -H) to build on the local engine' });
    if (Object.keys(opts.secrets ?? {}).length > 0) throw refuse('--secret', "build secrets are read from the engine's host by the local engine only");
    if (opts.exports?.includes('oci')) throw refuse('--output type=oci', 'an OCI archive of the image is written by the local engine only (type=docker and type=local work remotely)');
    const { body, dockerfile } = await buildContext(context, opts);
    const quiet = opts.onProgress === undefined;
    const res = await this.client.request('POST', '/build', {
      query: {
        dockerfile,
        t: opts.tags?.length ? opts.tags : undefined,
        target: opts.target,
        buildargs: opts.buildArgs && Object.keys(opts.buildArgs).length > 0 ? opts.buildArgs : undefined,
        labels: opts.labels && Object.keys(opts.labels).length > 0 ? opts.labels : undefined,
        nocache: opts.noCache || undefined,
        pull: opts.pull || undefined,
        networkmode: opts.network,
        platform: opts.platform,
        q: quiet || undefined,
        rm: true,
      },
      body,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const r = await followBuild(res, opts.onProgress);
    return { id: r.id, tags: opts.tags ?? [], steps: r.steps, cached: r.cached };
  }

  pruneBuildCache(): Promise<{ CachesDeleted: string[]; SpaceReclaimed: number }> {
    return this.client.json<{ CachesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/build/prune').then((r) => ({ CachesDeleted: r.CachesDeleted ?? [], SpaceReclaimed: r.SpaceReclaimed }));
  }

  /**
   * run --rm in the foreground, as docker's CLI does it over the API: create (auto-removed),
   * attach, start, then wait for the removal; the caller's fds are pumped both ways.
   */
  async runContainer(req: ContainerCreateRequest, opts: RunOptions): Promise<RunningContainer> {
    const tty = req.Tty === true;
    const stdin = req.OpenStdin === true && opts.stdio[0] !== 'ignore';
    const { Id, Warnings } = await this.createContainer({ ...req, AttachStdin: stdin, AttachStdout: true, AttachStderr: true, HostConfig: { ...req.HostConfig, AutoRemove: true } }, opts.name === undefined ? {} : { name: opts.name });
    try {
      const removed = this.waitContainer(Id, { condition: 'removed' });
      // Awaited below once started; a failed start (then removed here) must not leave it unhandled.
      removed.catch(() => undefined);
      const { socket, output } = await this.client.hijack('POST', `/containers/${Id}/attach`, { query: { stream: true, stdin, stdout: true, stderr: true } });
      const pumped = pump(socket, output, opts.stdio, tty, stdin);
      await this.startContainer(Id);
      const info = await this.inspectContainer(Id).catch(() => undefined);
      const exit = Promise.all([pumped, removed]).then(([, r]) => r.StatusCode);
      opts.signal?.addEventListener('abort', () => void this.killContainer(Id, 'SIGKILL').catch(() => {}), { once: true });
      return { id: Id, pid: info?.State.Pid ?? 0, exit, warnings: Warnings, kill: (sig) => void this.killContainer(Id, String(sig)).catch(() => {}) };
    } catch (e) {
      await this.removeContainer(Id, { force: true }).catch(() => {});
      throw e;
    }
  }

  async info(): Promise<EngineInfo> {
    return this.client.json('GET', '/info');
  }

  async version(): Promise<EngineVersion> {
    return this.client.json('GET', '/version');
  }

  // ---------------------------------------------------------------- events, volumes, networks

  async *events(opts: EventsOptions = {}): AsyncIterable<EventMessage> {
    const res = await this.client.request('GET', '/events', { query: { since: opts.since, until: opts.until, filters: opts.filters }, ...(opts.signal ? { signal: opts.signal } : {}) });
    // timeNano is past 2^53: read as text, kept exact.
    const parse = (line: string) => {
      const m = /"timeNano":(\d+)/.exec(line);
      const e = JSON.parse(line) as EventMessage;
      return { ...e, timeNano: BigInt(m ? m[1]! : Math.round(e.time * 1e9)) };
    };
    try {
      yield* jsonLines(res, parse);
    } catch (e) {
      if (!stoppedByCaller(e, opts.signal)) throw e;
    }
  }

  createVolume(req: VolumeCreateRequest): Promise<Volume> {
    return this.client.json('POST', '/volumes/create', { json: req });
  }

  listVolumes(opts: { filters?: FilterMap } = {}): Promise<VolumeListResponse> {
    return this.client.json<{ Volumes: Volume[] | null; Warnings: string[] | null }>('GET', '/volumes', { query: { filters: opts.filters } }).then((r) => ({ Volumes: r.Volumes ?? [], Warnings: r.Warnings ?? [] }));
  }

  inspectVolume(name: string): Promise<Volume> {
    return this.client.json('GET', `/volumes/${enc(name)}`);
  }

  async removeVolume(name: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.client.call('DELETE', `/volumes/${enc(name)}`, { query: { force: opts.force } });
  }

  pruneVolumes(opts: { filters?: FilterMap } = {}): Promise<VolumePruneReport> {
    return this.client.json<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/volumes/prune', { query: { filters: opts.filters } }).then((r) => ({ VolumesDeleted: r.VolumesDeleted ?? [], SpaceReclaimed: r.SpaceReclaimed }));
  }

  createNetwork(req: CreateNetworkRequest): Promise<{ Id: string; Warning: string }> {
    return this.client.json('POST', '/networks/create', { json: req });
  }

  listNetworks(opts: { filters?: FilterMap } = {}): Promise<NetworkInspect[]> {
    return this.client.json('GET', '/networks', { query: { filters: opts.filters } });
  }

  inspectNetwork(ref: string): Promise<NetworkInspect> {
    return this.client.json('GET', `/networks/${enc(ref)}`);
  }

  async removeNetwork(ref: string): Promise<void> {
    await this.client.call('DELETE', `/networks/${enc(ref)}`);
  }

  pruneNetworks(opts: { filters?: FilterMap } = {}): Promise<{ NetworksDeleted: string[] }> {
    return this.client.json<{ NetworksDeleted: string[] | null }>('POST', '/networks/prune', { query: { filters: opts.filters } }).then((r) => ({ NetworksDeleted: r.NetworksDeleted ?? [] }));
  }

  async connectNetwork(ref: string, container: string, opts: { aliases?: string[]; ip?: string } = {}): Promise<void> {
    await this.client.call('POST', `/networks/${enc(ref)}/connect`, {
      json: { Container: container, EndpointConfig: { ...(opts.aliases ? { Aliases: opts.aliases } : {}), ...(opts.ip ? { IPAMConfig: { IPv4Address: opts.ip } } : {}) } },
    });
  }

  async disconnectNetwork(ref: string, container: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.client.call('POST', `/networks/${enc(ref)}/disconnect`, { json: { Container: container, Force: opts.force === true } });
  }
}

/** X-Docker-Container-Path-Stat: base64 JSON of the path's stat. */
function pathStat(header: string | string[] | undefined): ContainerPathStat {
  const h = Array.isArray(header) ? header[0] : header;
  if (!h) throw new BrigError('INTERNAL', 'the engine sent no X-Docker-Container-Path-Stat header');
  return JSON.parse(Buffer.from(h, 'base64').toString('utf8')) as ContainerPathStat;
}

/**
 * The caller's fds over a hijacked stream: output (docker's frames, or raw bytes with a tty)
 * to fds 1 and 2, fd 0 to the connection (then half-closed, docker's CloseWrite). Resolves
 * when the output ends.
 */
function pump(socket: Writable & { end(): void }, output: Readable, stdio: RunOptions['stdio'], tty: boolean, withStdin: boolean): Promise<void> {
  const sink = (fd: number | 'ignore'): Writable | undefined => (fd === 'ignore' ? undefined : createWriteStream('', { fd, autoClose: false }));
  const out = sink(stdio[1]);
  const err = sink(stdio[2]);
  if (withStdin && stdio[0] !== 'ignore') {
    const input = createReadStream('', { fd: stdio[0], autoClose: false });
    input.on('data', (d) => socket.write(d));
    input.on('end', () => socket.end());
    input.on('error', () => socket.end());
    output.once('end', () => input.destroy());
  }
  const done = (async () => {
    if (tty) {
      for await (const chunk of output) out?.write(chunk as Buffer);
    } else {
      for await (const f of frames(output as AsyncIterable<Buffer>)) (f.stream === 2 ? err : out)?.write(f.data);
    }
  })();
  return done.catch(() => {}).then(() => {
    (socket as unknown as { destroy?: () => void }).destroy?.();
  });
}
