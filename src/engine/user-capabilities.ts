import type { Capabilities } from '../runtime/spec/types.js';

/**
 * docker's rule for a container process's capabilities: a non-root user gets none in
 * effect (it keeps the bounding and permitted sets, so a file capability can still raise
 * one); root gets its set. Init and exec'd processes alike.
 */
export function capabilitiesForUser(caps: Capabilities, uid: number): Capabilities {
  return uid === 0 ? caps : { ...caps, effective: [] };
}
