/**
 * Content digests. brig stores and verifies sha256 only (what every registry and image
 * in use today produces); other algorithms in the OCI grammar are refused with a clear error.
 */
import { createHash, type Hash } from 'node:crypto';
import { BrigError } from '../errors/index.js';

const DIGEST = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;
const SHA256_HEX = /^[a-f0-9]{64}$/;

export interface ParsedDigest {
  readonly digest: string;
  readonly algorithm: 'sha256';
  readonly hex: string;
}

export function parseDigest(input: string, field = 'digest'): ParsedDigest {
  const m = DIGEST.exec(input);
  if (m === null) {
    throw new BrigError('INVALID_DIGEST', `${field}: "${input}" is not a digest (expected sha256:<64 hex>)`, {
      field,
    });
  }
  if (m[1] !== 'sha256') {
    throw new BrigError('INVALID_DIGEST', `${field}: digest algorithm "${m[1]}" is not supported`, {
      field,
      hint: 'brig verifies sha256 digests only',
    });
  }
  if (!SHA256_HEX.test(m[2]!)) {
    throw new BrigError(
      'INVALID_DIGEST',
      `${field}: "${input}" is not 64 lowercase hex digits after sha256:`,
      {
        field,
      },
    );
  }
  return { digest: input, algorithm: 'sha256', hex: m[2]! };
}

export function isDigest(s: string): boolean {
  return DIGEST.test(s) && s.startsWith('sha256:') && SHA256_HEX.test(s.slice(7));
}

export function sha256(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function newHash(): Hash {
  return createHash('sha256');
}

export function digestOf(hash: Hash): string {
  return `sha256:${hash.digest('hex')}`;
}

export function mismatch(what: string, expected: string, actual: string, path?: string): BrigError {
  return new BrigError('DIGEST_MISMATCH', `${what}: expected ${expected}, got ${actual}`, {
    path,
    hint: 'the content was corrupted or tampered with in transit or on disk; fetch it again',
  });
}
