/**
 * OCI image and Docker schema2 documents: descriptors, manifests, indexes (manifest lists)
 * and image configs. Parsing validates every field brig relies on and names the one that is
 * wrong; the two formats differ only in media types, so one shape serves both.
 */
import { BrigError } from '../errors/index.js';
import { parseDigest } from './digest.js';

export const MediaType = {
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciLayer: 'application/vnd.oci.image.layer.v1.tar',
  OciLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  OciLayerNondistGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  DockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

export const MANIFEST_TYPES: readonly string[] = [MediaType.OciManifest, MediaType.DockerManifest];
export const INDEX_TYPES: readonly string[] = [MediaType.OciIndex, MediaType.DockerManifestList];

export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';
export const ANNOTATION_IMAGE_NAME = 'io.containerd.image.name';

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
  urls?: string[];
}

export interface Manifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface Index {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** The `config` object inside an image config (what a container starts from). */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  ArgsEscaped?: boolean;
  Healthcheck?: import('../engine/containers/config.js').HealthConfig;
  OnBuild?: string[] | null;
  Shell?: string[];
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  config?: ContainerConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: HistoryEntry[];
}

function bad(what: string, field: string, why: string): BrigError {
  return new BrigError('INVALID_MANIFEST', `${what}: ${field} ${why}`, { field });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseJson(bytes: Uint8Array, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw new BrigError('INVALID_MANIFEST', `${what}: not valid JSON`, { cause: e });
  }
  if (!isObject(v)) throw new BrigError('INVALID_MANIFEST', `${what}: not a JSON object`);
  return v;
}

export function checkDescriptor(v: unknown, what: string, field: string): Descriptor {
  if (!isObject(v)) throw bad(what, field, 'is not an object');
  if (typeof v.mediaType !== 'string' || v.mediaType.length === 0) {
    throw bad(what, `${field}.mediaType`, 'is missing');
  }
  if (typeof v.digest !== 'string') throw bad(what, `${field}.digest`, 'is missing');
  try {
    parseDigest(v.digest, `${field}.digest`);
  } catch (e) {
    throw new BrigError('INVALID_MANIFEST', `${what}: ${(e as Error).message}`, { field: `${field}.digest` });
  }
  if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0) {
    throw bad(what, `${field}.size`, 'is not a non-negative integer');
  }
  if (v.platform !== undefined) {
    const p = v.platform;
    if (!isObject(p) || typeof p.architecture !== 'string' || typeof p.os !== 'string') {
      throw bad(what, `${field}.platform`, 'needs string architecture and os');
    }
  }
  return v as unknown as Descriptor;
}

/** What a JSON document is, by its mediaType field or, failing that, its shape. */
export function sniffMediaType(bytes: Uint8Array): string | undefined {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isObject(v)) return undefined;
  if (typeof v.mediaType === 'string') return v.mediaType;
  if (Array.isArray(v.manifests)) return MediaType.OciIndex;
  if (isObject(v.config) && Array.isArray(v.layers)) return MediaType.OciManifest;
  return undefined;
}

export function parseManifest(bytes: Uint8Array, what = 'manifest'): Manifest {
  const v = parseJson(bytes, what);
  if (v.schemaVersion !== 2)
    throw bad(what, 'schemaVersion', 'must be 2 (schema1 manifests are not supported)');
  if (v.mediaType !== undefined && !MANIFEST_TYPES.includes(v.mediaType as string)) {
    throw bad(what, 'mediaType', `"${String(v.mediaType)}" is not an image manifest`);
  }
  checkDescriptor(v.config, what, 'config');
  if (!Array.isArray(v.layers)) throw bad(what, 'layers', 'is not an array');
  for (const [i, l] of v.layers.entries()) checkDescriptor(l, what, `layers[${i}]`);
  return v as unknown as Manifest;
}

export function parseIndex(bytes: Uint8Array, what = 'index'): Index {
  const v = parseJson(bytes, what);
  if (v.schemaVersion !== 2) throw bad(what, 'schemaVersion', 'must be 2');
  if (v.mediaType !== undefined && !INDEX_TYPES.includes(v.mediaType as string)) {
    throw bad(what, 'mediaType', `"${String(v.mediaType)}" is not an image index`);
  }
  if (!Array.isArray(v.manifests)) throw bad(what, 'manifests', 'is not an array');
  for (const [i, m] of v.manifests.entries()) checkDescriptor(m, what, `manifests[${i}]`);
  return v as unknown as Index;
}

export function parseImageConfig(bytes: Uint8Array, what = 'image config'): ImageConfig {
  const v = parseJson(bytes, what);
  if (typeof v.architecture !== 'string') throw bad(what, 'architecture', 'is missing');
  if (typeof v.os !== 'string') throw bad(what, 'os', 'is missing');
  const rootfs = v.rootfs;
  if (!isObject(rootfs) || rootfs.type !== 'layers' || !Array.isArray(rootfs.diff_ids)) {
    throw bad(what, 'rootfs', 'must be {"type":"layers","diff_ids":[...]}');
  }
  rootfs.diff_ids.forEach((d, i) => {
    if (typeof d !== 'string') throw bad(what, `rootfs.diff_ids[${i}]`, 'is not a string');
    parseDigest(d, `rootfs.diff_ids[${i}]`);
  });
  if (v.config !== undefined && v.config !== null && !isObject(v.config))
    throw bad(what, 'config', 'is not an object');
  const c = (v.config ?? {}) as Record<string, unknown>;
  for (const k of ['Env', 'Entrypoint', 'Cmd'] as const) {
    const x = c[k];
    if (x !== undefined && x !== null && !(Array.isArray(x) && x.every((s) => typeof s === 'string'))) {
      throw bad(what, `config.${k}`, 'is not an array of strings');
    }
  }
  for (const k of ['User', 'WorkingDir', 'StopSignal'] as const) {
    if (c[k] !== undefined && typeof c[k] !== 'string') throw bad(what, `config.${k}`, 'is not a string');
  }
  return v as unknown as ImageConfig;
}

export function isManifestType(mediaType: string): boolean {
  return MANIFEST_TYPES.includes(mediaType);
}

export function isIndexType(mediaType: string): boolean {
  return INDEX_TYPES.includes(mediaType);
}

/** Layer compression from the media type; undefined for an unknown type. */
export function layerCompression(mediaType: string): 'none' | 'gzip' | 'zstd' | undefined {
  if (mediaType.endsWith('+gzip') || mediaType.endsWith('.tar.gzip')) return 'gzip';
  if (mediaType.endsWith('+zstd')) return 'zstd';
  if (mediaType.endsWith('.tar')) return 'none';
  return undefined;
}

const DOCKER_TO_OCI: Record<string, string> = {
  [MediaType.DockerConfig]: MediaType.OciConfig,
  [MediaType.DockerLayer]: MediaType.OciLayer,
  [MediaType.DockerLayerGzip]: MediaType.OciLayerGzip,
  [MediaType.DockerForeignLayerGzip]: MediaType.OciLayerNondistGzip,
};

/**
 * A Docker schema2 manifest as an OCI manifest: only media types change, the config and
 * layer blobs (and so the image ID and diffIDs) stay the same. OCI manifests pass through.
 */
export function toOciManifest(m: Manifest): Manifest {
  if (m.mediaType === MediaType.OciManifest) return m;
  const conv = (d: Descriptor): Descriptor => ({
    ...d,
    mediaType: DOCKER_TO_OCI[d.mediaType] ?? d.mediaType,
  });
  const out: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: conv(m.config),
    layers: m.layers.map(conv),
  };
  if (m.annotations !== undefined) out.annotations = m.annotations;
  return out;
}
