/** What this build is and what it runs on, for `info` and `version`. */

import { hasErrno } from '../errors/index.js';
import { readTextSync } from '../util/read-text.js';

/** The package version (kept in step with package.json by the tests). */
export const BRIG_VERSION = '0.1.0';

/** The host's PRETTY_NAME from os-release, as docker info shows it. */
export function osName(file = '/etc/os-release'): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readTextSync(file));
    return m?.[1] ?? 'Linux';
  } catch (e) {
    if (hasErrno(e, 'ENOENT')) return 'Linux';
    throw e;
  }
}
