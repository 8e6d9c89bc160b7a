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
  INVALID_TEMPLATE: 'A --format template that does not parse or cannot be executed on the data',
  BUNDLE_NOT_FOUND: 'Bundle or file not found',
  // container state
  CONTAINER_EXISTS: 'Container already exists',
  CONTAINER_NOT_FOUND: 'Container does not exist',
  CONTAINER_RUNNING: 'Container is running',
  CONTAINER_NOT_RUNNING: 'Container is not running (or not in the state this needs)',
  CONTAINER_STATE: 'The container is not in a state that allows this',
  DEPENDENCY_FAILED: 'A service this one depends on did not reach its condition',
  POD_EXISTS: 'A pod of this name (from kube play) already exists',
  NAME_IN_USE: 'Container name already in use',
  AMBIGUOUS_ID: 'Container id prefix matches more than one container',
  STATE_CORRUPT: 'Container state unreadable',
  LOG_READ_UNSUPPORTED: "The container's logging driver does not support reading",
  HOOK_FAILED: 'A hook failed',
  // volumes
  VOLUME_NOT_FOUND: 'Volume does not exist',
  VOLUME_IN_USE: 'Volume is in use by a container',
  // the native helper and the kernel
  HELPER_MISSING: 'Native helper not built',
  HELPER_PROTOCOL: 'Native helper misbehaved',
  SYSTEM: 'A system call failed while starting the container',
  EXEC_NOT_FOUND: 'Executable not found in the container',
  EXEC_DENIED: 'The executable in the container cannot be run',
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
  // images
  INVALID_REFERENCE: 'Invalid image reference',
  INVALID_DIGEST: 'Invalid content digest',
  DIGEST_MISMATCH: 'Content does not match its digest',
  BLOB_NOT_FOUND: 'Content blob not found in the image store',
  INVALID_MANIFEST: 'Malformed image manifest, index or config',
  PLATFORM_NOT_FOUND: 'No image for the requested platform',
  STORE_LOCKED: 'Image store is locked by another process',
  INVALID_TAR: 'Malformed tar archive',
  LAYER_UNSAFE: 'Layer entry refused as unsafe',
  LAYER_TOO_LARGE: 'Layer exceeds the configured size, entry or expansion limit',
  DISK_RESERVE: 'Free disk space is below the configured reserve',
  SNAPSHOT_NOT_FOUND: 'Snapshot does not exist',
  PATH_NOT_FOUND: 'No such file or directory in the container',
  SNAPSHOT_EXISTS: 'Snapshot already exists',
  SNAPSHOT_INVALID: 'Snapshot operation not valid in its state',
  REGISTRY_UNAUTHORIZED: 'Registry authentication required or failed',
  REGISTRY_DENIED: 'Registry denied access',
  REGISTRY_NOT_FOUND: 'Not found in the registry',
  REGISTRY_RATE_LIMITED: 'Registry rate limit reached',
  REGISTRY_ERROR: 'Registry request failed',
  REGISTRY_INSECURE: 'Plain HTTP refused for a registry not configured as insecure',
  IMAGE_IN_USE: 'Image is in use',
  INVALID_ARCHIVE: 'Malformed image archive',
  TOOL_MISSING: 'A host tool this needs is not installed',
  LAYER_APPLY_FAILED: 'A layer entry could not be written',
  // networks
  NETWORK_NOT_FOUND: 'Network does not exist',
  NETWORK_EXISTS: 'A network with that name already exists',
  NETWORK_IN_USE: 'Network has containers',
  NETWORK_PREDEFINED: 'A pre-defined network (bridge, host, none) cannot be removed',
  SUBNET_OVERLAP: 'Subnet overlaps another network or a host route',
  ADDRESS_IN_USE: 'The requested container address is taken or outside the network',
  PORT_IN_USE: 'Host port already in use',
  // builds
  DOCKERFILE_PARSE: 'The Dockerfile does not parse',
  BUILD_CONTEXT: 'A build context path is missing or outside the context',
  BUILD_STEP_FAILED: 'A build step failed',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;
