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

/**
 * Image operations, in the Docker Engine API's shapes (GET /images/json, /images/{id}/json,
 * ...) so the CLI, `brig serve` and the SDK render the same data. The built-in `host` image
 * is listed and inspected like any other; it cannot be pushed, saved or removed.
 */
export interface ImageOps {
  pullImage(reference: string, opts?: { onProgress?: (e: ProgressEvent) => void; signal?: AbortSignal }): Promise<PullResult>;
  pushImage(reference: string, opts?: { onProgress?: (e: ProgressEvent) => void; signal?: AbortSignal }): Promise<{ reference: string; digest: string; size: number }>;
  listImages(opts?: { all?: boolean }): Promise<ImageSummary[]>;
  inspectImage(nameOrId: string): Promise<ImageInspect>;
  imageHistory(nameOrId: string): Promise<HistoryItem[]>;
  tagImage(source: string, target: string): Promise<void>;
  removeImage(nameOrId: string, opts?: { force?: boolean }): Promise<RemoveItem[]>;
  pruneImages(opts?: { all?: boolean }): Promise<{ ImagesDeleted: RemoveItem[]; SpaceReclaimed: number }>;
  saveImages(names: string[], file: string, format: 'docker-archive' | 'oci-archive'): Promise<void>;
  loadImages(file: string): Promise<LoadResult>;
  importImage(file: string, reference?: string): Promise<{ id: string; reference?: string }>;
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

export type { ResourceUpdate };
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
  removeContainer(ref: string, opts?: { force?: boolean }): Promise<void>;
  waitContainer(ref: string, opts?: { signal?: AbortSignal }): Promise<{ StatusCode: number }>;
  listContainers(opts?: ListContainersOptions): Promise<ContainerSummary[]>;
  /** POST /containers/prune: every stopped container the filters (until, label, label!) allow. */
  pruneContainers(opts?: { filters?: FilterMap }): Promise<ContainerPruneReport>;
  /** GET /containers/{id}/top: the host's ps with `psArgs` (ps_args; default "-ef") over the container's processes. */
  topContainer(ref: string, psArgs?: string): Promise<ContainerTopResponse>;
  /** GET /containers/{id}/json (`size`: SizeRw and SizeRootFs, docker's ?size=1). */
  inspectContainer(ref: string, opts?: { size?: boolean }): Promise<ContainerJSON>;
  containerLogs(ref: string, opts?: LogOptions): AsyncIterable<LogLine>;
  /** docker exec: a new process in a running container; its exit code (0 at once with detach). */
  execContainer(ref: string, opts: ExecOptions): Promise<{ pid: number; exit: Promise<number> }>;
  pauseContainer(ref: string): Promise<void>;
  unpauseContainer(ref: string): Promise<void>;
  restartContainer(ref: string, opts?: { timeout?: number; signal?: string }): Promise<void>;
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
}

export interface Engine extends ImageOps, ContainerOps {
  /** A foreground container removed when it exits (run --rm): no monitor, no record. */
  runContainer(req: ContainerCreateRequest, opts: RunOptions): Promise<RunningContainer>;
  info(): Promise<EngineInfo>;
}
