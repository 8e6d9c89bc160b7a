/**
 * Runs one `ImageService.load` in its own process, so a test can measure what the load
 * cost: prints one JSON line with the result or error code and the process's peak RSS
 * (VmHWM from /proc/self/status, in KiB).
 *
 *   node image-load-child.js STORE_ROOT ARCHIVE [LIMITS_JSON]
 */

import { ImageService } from '../../src/image/service.js';
import { readTextSync } from '../../src/util/read-text.js';

const [root, archive, limits] = process.argv.slice(2);
const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(readTextSync('/proc/self/status'))![1]);
const t0 = performance.now();
try {
  const r = await new ImageService({ root: root!, limits: limits ? JSON.parse(limits) : {} }).load(archive!);
  console.log(JSON.stringify({ ok: true, result: r, hwmKiB: hwm(), ms: performance.now() - t0 }));
} catch (e) {
  const err = e as { code?: string; message: string };
  console.log(JSON.stringify({ ok: false, code: err.code, message: err.message, hwmKiB: hwm(), ms: performance.now() - t0 }));
}
