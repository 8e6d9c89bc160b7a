/**
 * The registry of stable error codes. A code never changes once released, even when
 * the message does: scripts and the API map on codes, people read messages.
 * Group by the layer that raises them.
 */
export const ErrorCodes = {
  // configuration and input
  INVALID_CONFIG: 'Invalid configuration',
  INVALID_JSON: 'Malformed JSON',
  UNSUPPORTED_FIELD: 'Field not supported by this build or host',
  INVALID_ID: 'Invalid container id',
  INVALID_ARGUMENT: 'Invalid command-line argument',
  BUNDLE_NOT_FOUND: 'Bundle or file not found',
  // container state
  CONTAINER_EXISTS: 'Container already exists',
  CONTAINER_NOT_FOUND: 'Container does not exist',
  CONTAINER_RUNNING: 'Container is running',
  CONTAINER_NOT_RUNNING: 'Container is not running (or not in the state this needs)',
  STATE_CORRUPT: 'Container state unreadable',
  // the native helper and the kernel
  HELPER_MISSING: 'Native helper not built',
  HELPER_PROTOCOL: 'Native helper misbehaved',
  SYSTEM: 'A system call failed while starting the container',
  EXEC_NOT_FOUND: 'Executable not found in the container',
  HOST_UNSUPPORTED: 'The host lacks a kernel feature this needs',
  RLIMIT_TOO_HIGH: 'Resource limit above the host hard limit',
  // engine
  IMAGE_NOT_FOUND: 'Image not found',
  INTERNAL: 'Internal error',
  // seccomp
  SECCOMP_TOO_LARGE: 'Seccomp filter longer than the kernel accepts',
  // cgroups
  CGROUP_IO: 'Reading or writing a cgroup file failed',
  CGROUP_UNSUPPORTED: 'Cgroup controller or file not available on this host',
  CGROUP_INVALID: 'Invalid cgroup resource value',
  CGROUP_PATH: 'Invalid cgroup path',
  CGROUP_BUSY: 'Cgroup could not be frozen, emptied or removed in time',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;
