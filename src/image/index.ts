/**
 * The image layer's public surface, for the engine, the CLI and the API. Everything else
 * under src/image is an implementation detail.
 */
export type { ArchiveFormat, LoadResult } from './archive.js';
export { applyChanges } from './changes.js';
export { chainIDs } from './chain.js';
export type { FilterableImage } from './filters.js';
export { sha256 } from './digest.js';
export { privateDir } from './fs-util.js';
export { type CreatedLayer, createLayer, tarTree } from './layers/create.js';
export { type UnpackOptions, type UnpackResult, unpackLayer } from './layers/unpack.js';
export { DEFAULT_LIMITS, type ImageLimits, LIMIT_ENV, limitsFromEnv, resolveLimits } from './layers/limits.js';
export type { ContainerConfig, Descriptor, ImageConfig, Manifest, Platform } from './manifest.js';
export { formatPlatform, hostPlatform, parsePlatform } from './platform.js';
export {
  familiarReference,
  formatReference,
  normalizeReference,
  parseReference,
  type Reference,
} from './reference.js';
export {
  type ProgressEvent,
  type ProgressFn,
  plainHttpAllowed,
  RegistryClient,
  type RegistryClientOptions,
} from './registry/client.js';
export { type Credentials, dockerConfigCredentials, staticCredentials } from './registry/credentials.js';
export {
  type ImageRuntimeConfig,
  imageToRuntimeConfig,
  type RuntimeConfigPart,
  type RuntimeOverrides,
} from './runtime-config.js';
export {
  type HistoryItem,
  type ImageInspect,
  ImageService,
  type ImageServiceOptions,
  type ImageSummary,
  type ImageUser,
  type PullResult,
  type RemoveItem,
  type ResolvedImage,
} from './service.js';
export { CopySnapshotter } from './snapshot/copy.js';
export { OverlaySnapshotter } from './snapshot/overlay.js';
export { defaultSnapshotter, overlayUnavailable, type SnapshotterChoice } from './snapshot/select.js';
export type { ApplyTarget, Mount, SnapshotInfo, SnapshotKind, Snapshotter } from './snapshot/snapshotter.js';
export { ImageStore, type StoredImage } from './store/image-store.js';
