/**
 * What this build of brig is beyond its version (engine/version.ts): the git commit it was
 * built from and when. The bundle step (scripts/bundle.mjs) writes them in as
 * `__BRIG_BUILD__`, so they come from the build, not from the source; code run straight from
 * tsc's output (unit tests) has no bundle and says "unknown". Node's version is the one
 * running, read at the call.
 */
declare const __BRIG_BUILD__: { commit: string; built: string } | undefined;

export interface BuildInfo {
  /** Short git commit, "-dirty" when the tree had changes; "unknown" when built without git. */
  commit: string;
  /** RFC 3339 time of the build (SOURCE_DATE_EPOCH when set); empty when unknown. */
  built: string;
  /** The Node running brig ("v24.11.0"). */
  node: string;
}

export function buildInfo(): BuildInfo {
  const b = typeof __BRIG_BUILD__ === 'undefined' ? undefined : __BRIG_BUILD__;
  return { commit: b?.commit ?? 'unknown', built: b?.built ?? '', node: process.version };
}
