/**
 * docker's size units (github.com/docker/go-units): RAMInBytes for memory, shm and log
 * sizes ("512m", "1.5g", "64MiB": powers of 1024 whatever the spelling) and FromHumanSize
 * for decimal sizes ("10kB" = 10000). The caller names the flag or field for the error.
 */
import { BrigError } from '../errors/index.js';

const SIZE = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/;
const POWER: Record<string, number> = { '': 0, k: 1, m: 2, g: 3, t: 4, p: 5 };

function parse(text: string, base: number, field: string): number {
  const m = SIZE.exec(text);
  const n = m ? Number(m[1]) : Number.NaN;
  if (!m || !Number.isFinite(n)) throw new BrigError('INVALID_ARGUMENT', `invalid size: '${text}'`, { field, hint: 'e.g. 512m, 1.5g, 67108864' });
  return Math.floor(n * base ** POWER[(m[2] ?? '').toLowerCase()]!);
}

/** go-units RAMInBytes: binary multiples. */
export function ramInBytes(text: string, field: string): number {
  return parse(text, 1024, field);
}

/** go-units FromHumanSize: decimal multiples. */
export function fromHumanSize(text: string, field: string): number {
  return parse(text, 1000, field);
}
