/**
 * Bounds on what one image may cost the host: every layer, blob and archive is hostile
 * input until it has been read, and a few megabytes of gzip can expand to terabytes. The
 * defaults stop a bomb early and leave honest images alone (the largest public images have
 * ~200k files and layers of a few GB that compress 2-5x). Each is configurable through the
 * engine's options or the environment, and `brig info` shows the values in force.
 *
 * | limit        | env                      | default | what it bounds                                   |
 * | ------------ | ------------------------ | ------- | ------------------------------------------------ |
 * | maxLayerSize | BRIG_MAX_LAYER_SIZE      | 16 GiB  | uncompressed bytes of one layer's tar stream     |
 * | maxBlobSize  | BRIG_MAX_BLOB_SIZE       | 16 GiB  | one stored blob (a pulled or loaded layer)       |
 * | maxEntries   | BRIG_MAX_LAYER_ENTRIES   | 1000000 | entries in one layer or image archive            |
 * | maxRatio     | BRIG_MAX_EXPANSION_RATIO | 100     | decompressed / compressed bytes, past 16 MiB     |
 * | minFreeDisk  | BRIG_MIN_FREE_DISK       | 1 GiB   | free space left where a layer or blob is written |
 *
 * Sizes take a plain byte count or a k/m/g/t suffix (powers of 1024).
 */
import { statfsSync } from 'node:fs';
import { ramInBytes } from '../../util/units.js';
import { BrigError } from '../../errors/index.js';

export interface ImageLimits {
  maxLayerSize: number;
  maxBlobSize: number;
  maxEntries: number;
  maxRatio: number;
  minFreeDisk: number;
}

export const DEFAULT_LIMITS: Readonly<ImageLimits> = {
  maxLayerSize: 16 * 1024 ** 3,
  maxBlobSize: 16 * 1024 ** 3,
  maxEntries: 1_000_000,
  maxRatio: 100,
  minFreeDisk: 1024 ** 3,
};

/** Decompressed bytes allowed before the ratio applies: tiny layers may compress very well. */
export const RATIO_GRACE = 16 << 20;
/** How often (bytes written) free disk space is checked. */
const DISK_CHECK_EVERY = 32 << 20;

const ENV: Record<keyof ImageLimits, string> = {
  maxLayerSize: 'BRIG_MAX_LAYER_SIZE',
  maxBlobSize: 'BRIG_MAX_BLOB_SIZE',
  maxEntries: 'BRIG_MAX_LAYER_ENTRIES',
  maxRatio: 'BRIG_MAX_EXPANSION_RATIO',
  minFreeDisk: 'BRIG_MIN_FREE_DISK',
};

/** A size in docker's binary units (16g, 512m, 1048576); a bad one names the variable. */
export function parseSize(text: string, field: string): number {
  try {
    return ramInBytes(text.trim(), field);
  } catch {
    throw new BrigError('INVALID_ARGUMENT', `${field}="${text}" is not a size (e.g. 16g, 512m, 1048576)`, { field });
  }
}

/** The limits the environment sets (only those it sets). */
export function limitsFromEnv(env: Record<string, string | undefined>): Partial<ImageLimits> {
  const out: Partial<ImageLimits> = {};
  for (const [k, name] of Object.entries(ENV) as [keyof ImageLimits, string][]) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    out[k] = k === 'maxRatio' || k === 'maxEntries' ? Number(parseSize(v, name)) : parseSize(v, name);
    if (out[k] === 0 && k !== 'minFreeDisk') {
      throw new BrigError('INVALID_ARGUMENT', `${name} must be more than 0`, { field: name });
    }
  }
  return out;
}

export function resolveLimits(partial: Partial<ImageLimits> = {}): ImageLimits {
  return { ...DEFAULT_LIMITS, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) };
}

function tooLarge(message: string, entry: string | undefined, env: string): BrigError {
  return new BrigError('LAYER_TOO_LARGE', entry === undefined ? message : `entry "${entry}": ${message}`, {
    path: entry,
    hint: `if the image is trusted, raise ${env}`,
  });
}

/**
 * Counts bytes in and out of a decompressor and the bytes written to disk, and throws as
 * soon as one passes its bound. `where` names what is being read, `entry()` the current
 * entry (for messages).
 */
export class Meter {
  compressed = 0;
  expanded = 0;
  private sinceDiskCheck = 0;

  constructor(
    private readonly limits: ImageLimits,
    private readonly where: string,
    private readonly diskPath: string | undefined,
    private readonly entry: () => string | undefined = () => undefined,
  ) {}

  /** Compressed bytes read from the source. */
  input(n: number): void {
    this.compressed += n;
  }

  /** Decompressed bytes produced. */
  output(n: number): void {
    this.expanded += n;
    const { maxRatio } = this.limits;
    if (this.expanded > RATIO_GRACE && this.expanded > maxRatio * this.compressed) {
      throw tooLarge(
        `${this.where} expands more than ${maxRatio}x (${this.expanded} bytes from ${this.compressed}); refusing a decompression bomb`,
        this.entry(),
        ENV.maxRatio,
      );
    }
  }

  /** Bytes about to be written to disk. */
  written(n: number): void {
    this.sinceDiskCheck += n;
    if (this.sinceDiskCheck < DISK_CHECK_EVERY) return;
    this.sinceDiskCheck = 0;
    checkFreeDisk(this.diskPath, this.limits.minFreeDisk, this.where, this.entry());
  }
}

/** Throws DISK_RESERVE when the filesystem holding `path` has less than `min` bytes free. */
export function checkFreeDisk(path: string | undefined, min: number, where: string, entry?: string): void {
  if (path === undefined || min <= 0) return;
  const st = statfsSync(path);
  const free = st.bavail * st.bsize;
  if (free < min) {
    throw new BrigError(
      'DISK_RESERVE',
      `${where}${entry === undefined ? '' : ` (entry "${entry}")`}: only ${free} bytes free on the filesystem of ${path}, below the reserve of ${min}`,
      { path, hint: `free some space (brig image prune) or lower ${ENV.minFreeDisk}` },
    );
  }
}

export { ENV as LIMIT_ENV, tooLarge };
