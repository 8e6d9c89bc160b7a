/**
 * Reads a whole file as UTF-8 text, synchronously. Use this, never readFileSync(x, 'utf8'):
 * Node 24's fast path for an encoding (readFileUtf8) corrupts its heap on a procfs, sysfs or
 * cgroupfs file that reports size 0 and holds more than a few pages: /proc/self/mountinfo
 * on a host with a few hundred mounts aborted brig ("malloc(): invalid size (unsorted)").
 * Reading into a Buffer and decoding takes the ordinary read loop, which is right.
 */
import { readFileSync } from 'node:fs';

export function readTextSync(path: string | number | URL): string {
  return readFileSync(path).toString('utf8');
}
