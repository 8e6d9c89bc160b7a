/** Shared by the seccomp unit and integration tests. */
import { DOCKER_DEFAULT_CAPS } from '../../../src/engine/spec/capabilities.js';

/** Docker's default capability set. */
export const DEFAULT_CAPS = DOCKER_DEFAULT_CAPS;
