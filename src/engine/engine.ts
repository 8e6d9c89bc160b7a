/**
 * The Engine: what every front end (the brig CLI, `brig serve`, the SDK) calls. Handlers
 * return data; front ends render it. Local (in-process) now; a remote implementation over
 * the Engine API will satisfy the same interface.
 */
/** A foreground container (run --rm): where its stdio goes. */
export interface RunOptions {
  name?: string;
  /** fds for the container's stdin, stdout, stderr. */
  stdio: [number | 'ignore', number | 'ignore', number | 'ignore'];
  signal?: AbortSignal;
}

export interface RunningContainer {
  id: string;
  pid: number;
  /** Resolves with the exit code once the container has exited and been cleaned up. */
  exit: Promise<number>;
  /** Sends a signal to the container's init. */
  kill(signal: number): void;
  /** What the engine wants the user to know (a capability the host withholds, ...). */
  warnings: string[];
}

import type { EventMessage } from './events/message.js';
import type { VolumeCreateRequest, VolumeListResponse, VolumePruneReport } from './volumes/service.js';
import type { Volume } from './volumes/store.js';
import type { CreateNetworkRequest, NetworkInspect } from './network/service.js';
import type {
  HistoryItem,
  ImageInspect,
  ImageSummary,
  LoadResult,
  ProgressEvent,
  PullResult,
  RemoveItem,
} from '../image/index.js';

export type { HistoryItem, ImageInspect, ImageSummary, LoadResult, ProgressEvent, PullResult, RemoveItem };
// References are parsed on the client side too (docker's CLI does: "Using default tag").
export { familiarReference, formatReference, parseReference, type Reference } from '../image/reference.js';
// The client's registry credentials (docker's config.json), which `login` writes: not the engine's.
export { CredentialStore, HUB_SERVER, serverKey } from '../image/registry/credentials.js';

/**
 * One line of docker's progress stream (pkg/jsonmessage): what POST /images/create and
 * /images/load send, and what the CLI prints ("a1b2c3d4e5f6: Pull complete").
 */
export interface JSONMessage {
  /** Absent on a message that only carries `aux`. */
  status?: string;
  /** A layer's short digest, or the tag a pull is for. */
  id?: string;
  /**
   * Present (maybe empty) on a layer's lines, which a terminal redraws in place; with
   * numbers on transfers, which only a terminal shows (as a bar).
   */
  progressDetail?: { current?: number; total?: number };
  /** Data for programs, in a message of its own that clients do not print: a push's {Tag, Digest, Size}. */
  aux?: Record<string, unknown>;
}

/**
 * Registry credentials for one pull or push (what `brig serve` takes from a request's
 * X-Registry-Auth header); without them the engine uses its own (docker's config.json).
 */
export type { Credentials as RegistryCredentials } from '../image/registry/credentials.js';
import type { Credentials as RegistryCredentials } from '../image/registry/credentials.js';

/** `GET /distribution/{name}/json`: what a registry serves for a reference, and for which platforms. */
export interface DistributionInspect {
  Descriptor: { mediaType: string; digest: string; size: number };
  Platforms: { architecture: string; os: string; variant?: string }[];
}

export interface PullOptions {
  /** os/arch[/variant]: the image for that platform from a multi-platform index. */
  platform?: string;
  /** Every tag of the repository (the reference must name none). */
  allTags?: boolean;
  onProgress?: (m: JSONMessage) => void;
  signal?: AbortSignal;
  auth?: RegistryCredentials;
}

/** What a pull did: docker's last status line ("Downloaded newer image" or "Image is up to date"). */
export interface PullReport {
  /** The full reference pulled (name only with allTags). */
  reference: string;
  status: 'downloaded' | 'up-to-date';
  images: PullResult[];
}

/** A registry login (POST /auth): the server as the user named it, and what to send. */
export interface AuthConfig {
  username: string;
  password: string;
  /** `127.0.0.1:5000`, `https://registry.example/`; Docker Hub when empty. */
  serveraddress: string;
}

/**
 * Image operations, in the Docker Engine API's shapes (GET /images/json, /images/{id}/json,
 * ...) so the CLI, `brig serve` and the SDK render the same data. The built-in `host` image
 * is listed and inspected like any other; it cannot be pushed, saved or removed. Archives
 * go in and out as streams, never whole in memory.
 */
export interface ImageOps {
  /** POST /images/create?fromImage=: progress as docker's JSON messages, "Digest:" and "Status:" lines included. */
  pullImage(reference: string, opts?: PullOptions): Promise<PullReport>;
  /**
   * POST /images/{name}/push: progress as docker's JSON messages ("The push refers to
   * repository [...]", a line per layer, "TAG: digest: sha256:... size: N" with its aux).
   */
  pushImage(reference: string, opts?: { onProgress?: (m: JSONMessage) => void; signal?: AbortSignal; auth?: RegistryCredentials }): Promise<{ reference: string; digest: string; size: number }>;
  /** GET /distribution/{name}/json: the registry's descriptor and platforms for a reference, nothing pulled. */
  distributionInspect(reference: string, opts?: { signal?: AbortSignal; auth?: RegistryCredentials }): Promise<DistributionInspect>;
  /**
   * GET /images/json, with docker's filters (dangling, label, before, since, until,
   * reference); sharedSize fills SharedSize (else -1), docker's shared-size=1.
   */
  listImages(opts?: { all?: boolean; filters?: FilterMap; sharedSize?: boolean }): Promise<ImageSummary[]>;
  inspectImage(nameOrId: string): Promise<ImageInspect>;
  imageHistory(nameOrId: string): Promise<HistoryItem[]>;
  tagImage(source: string, target: string): Promise<void>;
  /** DELETE /images/{name}: docker's rules, containers using the image included. */
  removeImage(nameOrId: string, opts?: { force?: boolean }): Promise<RemoveItem[]>;
  /** POST /images/prune: filters dangling (default true), until, label, label!. */
  pruneImages(opts?: { filters?: FilterMap }): Promise<{ ImagesDeleted: RemoveItem[]; SpaceReclaimed: number }>;
  /**
   * GET /images/get: the images as a tar, handed to `consume` once every name resolved (a
   * missing image fails before a byte is written).
   */
  saveImages(names: string[], consume: (tar: AsyncIterable<Buffer>) => Promise<void>, opts?: { format?: 'docker-archive' | 'oci-archive' }): Promise<void>;
  /** POST /images/load: a docker-archive or oci-archive, plain or compressed. */
  loadImages(tar: AsyncIterable<Uint8Array>, opts?: { signal?: AbortSignal }): Promise<LoadResult>;
  /** POST /images/create?fromSrc=-: a filesystem tarball as a one-layer image. */
  importImage(
    tar: AsyncIterable<Uint8Array>,
    opts?: { reference?: string; changes?: string[]; message?: string; platform?: string; signal?: AbortSignal },
  ): Promise<{ id: string; reference?: string }>;
  /** POST /auth: checks the credentials against the registry; stores nothing. */
  registryLogin(auth: AuthConfig): Promise<{ Status: string; IdentityToken?: string }>;
}

/**
 * `GET /info` in docker's SystemInfo shape (the fields brig can answer truthfully), plus
 * brig's own: why each part of the engine was chosen on this host, and the image limits.
 */
export interface EngineInfo {
  ID: string;
  Name: string;
  ServerVersion: string;
  Containers: number;
  ContainersRunning: number;
  ContainersPaused: number;
  ContainersStopped: number;
  Images: number;
  DockerRootDir: string;
  /** The snapshotter (`overlayfs` or `copy`), and why overlayfs was not chosen. */
  Driver: string;
  DriverStatus: [string, string][];
  LoggingDriver: string;
  CgroupDriver: string;
  CgroupVersion: string;
  MemoryLimit: boolean;
  SwapLimit: boolean;
  CpuCfsPeriod: boolean;
  CpuCfsQuota: boolean;
  CPUShares: boolean;
  CPUSet: boolean;
  PidsLimit: boolean;
  OomKillDisable: boolean;
  KernelVersion: string;
  OperatingSystem: string;
  OSType: string;
  Architecture: string;
  NCPU: number;
  MemTotal: number;
  DefaultRuntime: string;
  Runtimes: Record<string, { path: string }>;
  InitBinary: string;
  SecurityOptions: string[];
  Warnings: string[];
  /** brig: what each part of the engine is on this host and why. */
  Choices: { part: string; choice: string; why: string }[];
  /** brig: limits on layers, blobs and archives (src/image/layers/limits.ts), with the env names that set them. */
  ImageLimits: { name: string; env: string; value: number }[];
}

import type { ContainerCreateRequest } from './containers/config.js';
import type { ResourceUpdate } from './spec/update.js';
import type { ContainerJSON, ContainerSummary } from './containers/inspect.js';
import type { LogLine } from './logs/line.js';
/** docker's rendering of a log record (--details, -t), for every front end. */
export { renderLogLine } from './logs/line.js';
import type { Change, ContainerPathStat } from './containers/files.js';
import type { FilterMap } from './containers/filters.js';
import type { ContainerTopResponse } from './containers/top.js';
import type { StatsStreamOptions } from './stats/reader.js';
import type { ContainerStatsResponse, CpuStats, MemoryStats } from './stats/types.js';

export type { ResourceUpdate };
export type { ContainerStatsResponse, CpuStats, MemoryStats, StatsStreamOptions };
export type { Change, ContainerCreateRequest, ContainerJSON, ContainerPathStat, ContainerSummary, ContainerTopResponse, FilterMap, LogLine };

/** GET /containers/json's query: docker's rules (src/engine/containers/filters.ts). */
export interface ListContainersOptions {
  /** Stopped containers too (ps -a). */
  all?: boolean;
  /** The newest n, stopped ones included (ps -n; -l is 1); 0 or less: no limit. */
  limit?: number;
  /** Fill SizeRw and SizeRootFs (ps -s): each container's upper dir is walked. */
  size?: boolean;
  /** status, name, label, ancestor, id, exited, before, since, health, network, volume, publish, expose, is-task, isolation. */
  filters?: FilterMap;
}

/** POST /containers/prune's answer. */
export interface ContainerPruneReport {
  ContainersDeleted: string[];
  SpaceReclaimed: number;
}

/** docker commit (POST /commit). */
export interface CommitOptions {
  /** REPO[:TAG] to name the image; none leaves it dangling. */
  reference?: string;
  comment?: string;
  author?: string;
  /** Dockerfile instructions (CMD, ENV, ...) applied to the container's config. */
  changes?: string[];
  /** Freeze a running container while its changes are read (docker's default: true). */
  pause?: boolean;
}

export interface LogOptions {
  follow?: boolean;
  tail?: number;
  /** Unix seconds. */
  since?: number;
  until?: number;
  signal?: AbortSignal;
}

export interface ExecOptions {
  cmd: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  tty: boolean;
  interactive: boolean;
  detach: boolean;
  /** Every capability brig holds (docker exec --privileged). */
  privileged?: boolean;
  /** fds for the process's stdin, stdout, stderr (foreground). */
  stdio: [number | 'ignore', number | 'ignore', number | 'ignore'];
  /** With tty: the terminal's size to start with (docker's ConsoleSize: height, width). */
  consoleSize?: { height: number; width: number };
  /**
   * With tty, in the foreground, on the local engine: the read end of a pipe; each 4-byte
   * write of rows and cols (big-endian u16) to its other end resizes the terminal
   * (brig serve's POST /exec/{id}/resize).
   */
  resizeFd?: number;
}

export interface StartOptions {
  /**
   * Attach before the container runs (docker run's attach-then-start): called with the attach
   * socket's path once it listens, it must connect; the container starts after that, so the
   * client misses none of its output.
   */
  attach?: (socket: string) => Promise<void>;
}

/** Container operations in the Docker Engine API's shapes. */
export interface ContainerOps {
  /** POST /containers/create: the request in docker's shape; the name as docker's `name` query parameter. */
  createContainer(req: ContainerCreateRequest, opts?: { name?: string }): Promise<{ Id: string; Warnings: string[] }>;
  startContainer(ref: string, opts?: StartOptions): Promise<void>;
  stopContainer(ref: string, opts?: { timeout?: number; signal?: string }): Promise<void>;
  killContainer(ref: string, signal?: string): Promise<void>;
  /** volumes: its anonymous volumes too, when no other container uses them (rm -v). */
  removeContainer(ref: string, opts?: { force?: boolean; volumes?: boolean }): Promise<void>;
  waitContainer(ref: string, opts?: { signal?: AbortSignal }): Promise<{ StatusCode: number }>;
  listContainers(opts?: ListContainersOptions): Promise<ContainerSummary[]>;
  /** POST /containers/prune: every stopped container the filters (until, label, label!) allow. */
  pruneContainers(opts?: { filters?: FilterMap }): Promise<ContainerPruneReport>;
  /** GET /containers/{id}/top: the host's ps with `psArgs` (ps_args; default "-ef") over the container's processes. */
  topContainer(ref: string, psArgs?: string): Promise<ContainerTopResponse>;
  /**
   * GET /containers/{id}/stats: docker's stats JSON (engine/stats/reader.ts). Streaming (the
   * default) yields a sample now and one every second, each with the previous one's CPU as
   * precpu_stats, until `signal` aborts or the container is removed; `stream: false` yields
   * one, read twice a second apart so precpu_stats is filled, or once with `oneShot`. A
   * container that is not running yields samples with only its name and id. An unknown
   * container throws CONTAINER_NOT_FOUND.
   */
  containerStats(ref: string, opts?: StatsStreamOptions): AsyncIterable<ContainerStatsResponse>;
  /** GET /containers/{id}/json (`size`: SizeRw and SizeRootFs, docker's ?size=1). */
  inspectContainer(ref: string, opts?: { size?: boolean }): Promise<ContainerJSON>;
  containerLogs(ref: string, opts?: LogOptions): AsyncIterable<LogLine>;
  /** docker exec: a new process in a running container; its exit code (0 at once with detach). */
  execContainer(ref: string, opts: ExecOptions): Promise<{ pid: number; exit: Promise<number> }>;
  pauseContainer(ref: string): Promise<void>;
  unpauseContainer(ref: string): Promise<void>;
  restartContainer(ref: string, opts?: { timeout?: number; signal?: string }): Promise<void>;
  /**
   * What dockerd does for its containers when it starts, for a host that just booted (or a
   * `brig serve` starting): start every stopped container its restart policy brings back —
   * always; unless-stopped unless the user stopped it; on-failure after a failure, within
   * its retries.
   */
  bootContainers(): Promise<BootReport>;
  renameContainer(ref: string, name: string): Promise<void>;
  /** docker update (POST /containers/{id}/update): resource limits, live on a running container and kept for its next start. */
  updateContainer(ref: string, update: ResourceUpdate): Promise<{ Warnings: string[] }>;
  /** The monitor's attach socket (stdin in, output out, in its framing): local engines only. */
  attachSocket(ref: string): Promise<string>;
  /** docker diff (GET /containers/{id}/changes): its rootfs against its image. */
  containerChanges(ref: string): Promise<Change[]>;
  /**
   * docker export (GET /containers/{id}/export): the whole filesystem as a tar, handed to
   * `consume` (a running container stays paused until it returns).
   */
  exportContainer(ref: string, consume: (tar: AsyncIterable<Buffer>) => Promise<void>): Promise<void>;
  /** HEAD /containers/{id}/archive: a path in the container, its final component not followed. */
  statContainerPath(ref: string, path: string): Promise<ContainerPathStat>;
  /** GET /containers/{id}/archive: the path as a tar (its top entry named as the path's base). */
  getContainerArchive<T>(ref: string, path: string, consume: (stat: ContainerPathStat, tar: AsyncIterable<Buffer>) => Promise<T>): Promise<T>;
  /** PUT /containers/{id}/archive: a tar extracted into the directory at `path`. */
  putContainerArchive(ref: string, path: string, tar: AsyncIterable<Uint8Array>, opts?: { copyUIDGID?: boolean }): Promise<void>;
  /** docker commit: a new image from the container's changes; its id (sha256:...). */
  commitContainer(ref: string, opts?: CommitOptions): Promise<{ Id: string }>;
  /** What a container's monitor runs once it has exited (runtime state; the container itself with --rm). */
  cleanupContainer(id: string): Promise<void>;
  /**
   * For a resident process (brig serve): --rm containers are removed here as they exit, not
   * by a `brig container cleanup` their monitor starts (a Node start, ~100 ms and more before
   * docker run --rm's wait for removal ends). Their monitors still do it if this process has
   * not within a grace period (it was stopped or killed). Resolves when `signal` aborts.
   */
  removeAtExit?(signal: AbortSignal, log?: (line: string) => void): Promise<void>;
  /** The caller lists again and again (brig serve): keep what a listing reads while it is unchanged. */
  keepListings?(): void;
}

/**
 * `GET /version`, docker's shape: the Engine component carries the API versions it serves,
 * and brig's runtime, Node, in place of docker's Go (`NodeVersion`, not `GoVersion`).
 */
export interface EngineVersion {
  Platform: { Name: string };
  Components: { Name: string; Version: string; Details: Record<string, string> }[];
  Version: string;
  ApiVersion: string;
  MinAPIVersion: string;
  GitCommit: string;
  NodeVersion: string;
  Os: string;
  Arch: string;
  KernelVersion: string;
  /** RFC 3339, as the build wrote it. */
  BuildTime: string;
}


export type { EventMessage };

/** GET /events' query: docker's since/until timestamps and filters (src/engine/events/filter.ts). */
export interface EventsOptions {
  /** Unix seconds (with a fraction), RFC 3339, or a duration back from now ("10m"); without it only new events. */
  since?: string;
  /** As since; without it the stream follows the log until `signal` aborts. */
  until?: string;
  /** type, event, container, image, label, scope, volume, network, daemon, ... */
  filters?: FilterMap;
  signal?: AbortSignal;
}

/** docker's event stream, read from the event log every brig process appends to. */
export interface EventOps {
  events(opts?: EventsOptions): AsyncIterable<EventMessage>;
}

export interface BootReport {
  started: string[];
  failed: { name: string; error: string }[];
}

/** docker's volume endpoints: the local driver (src/engine/volumes/). */
export interface VolumeOps {
  createVolume(req: VolumeCreateRequest): Promise<Volume>;
  /** filters: dangling, driver, label, name. */
  listVolumes(opts?: { filters?: FilterMap }): Promise<VolumeListResponse>;
  inspectVolume(name: string): Promise<Volume>;
  /** Refused while a container uses it; force forgives a missing one. */
  removeVolume(name: string, opts?: { force?: boolean }): Promise<void>;
  /** Unused anonymous volumes; filters all=true (every unused one), label, label!. */
  pruneVolumes(opts?: { filters?: FilterMap }): Promise<VolumePruneReport>;
}

export type { Volume, VolumeCreateRequest, VolumeListResponse, VolumePruneReport };


/** docker's network verbs (src/engine/network). */
export interface NetworkOps {
  createNetwork(req: CreateNetworkRequest): Promise<{ Id: string; Warning: string }>;
  listNetworks(opts?: { filters?: FilterMap }): Promise<NetworkInspect[]>;
  inspectNetwork(ref: string): Promise<NetworkInspect>;
  removeNetwork(ref: string): Promise<void>;
  pruneNetworks(opts?: { filters?: FilterMap }): Promise<{ NetworksDeleted: string[] }>;
  connectNetwork(ref: string, container: string, opts?: { aliases?: string[]; ip?: string }): Promise<void>;
  disconnectNetwork(ref: string, container: string, opts?: { force?: boolean }): Promise<void>;
}

export type { CreateNetworkRequest, NetworkInspect };

import type { BuildProgress, BuildResult, BuildSettings } from '../build/executor.js';
export type { BuildProgress, BuildResult };

/** `brig build` / POST /build: what the client sends besides the context. */
export interface BuildImageOptions extends BuildSettings {
  /** The Dockerfile's path inside the context (default `Dockerfile`); unused with `dockerfileText`. */
  dockerfile?: string;
  /** The Dockerfile itself, when the client read it (`-f -`, or a file outside the context). */
  dockerfileText?: string;
  /** The ignore file the client found beside such a Dockerfile (NAME.dockerignore). */
  ignoreText?: string;
  /**
   * The exports the client makes of the image afterwards (`-o type=...`), so that an engine
   * that cannot serve one refuses before building rather than after.
   */
  exports?: ('oci' | 'docker' | 'local')[];
}

/** Builds (POST /build, /build/prune). */
export interface BuildOps {
  /** A Dockerfile build; the context is a directory on the engine's host or a tar stream (plain or compressed). */
  buildImage(context: { dir: string } | { tar: AsyncIterable<Uint8Array> }, opts?: BuildImageOptions): Promise<BuildResult>;
  /** The build cache's records, the snapshots only they kept and their cache mounts. */
  pruneBuildCache(): Promise<{ CachesDeleted: string[]; SpaceReclaimed: number }>;
}

export interface Engine extends ImageOps, ContainerOps, EventOps, VolumeOps, NetworkOps, BuildOps {
  /** A foreground container removed when it exits (run --rm): no monitor, no record. */
  runContainer(req: ContainerCreateRequest, opts: RunOptions): Promise<RunningContainer>;
  info(): Promise<EngineInfo>;
  version(): Promise<EngineVersion>;
}
// docker's CLI parses -p itself (nat.ParsePortSpecs); so does brig's, with the engine's parser.
export { parsePortSpecs } from './network/ports.js';
