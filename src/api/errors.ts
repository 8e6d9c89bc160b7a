/**
 * The one table from brig's error codes to HTTP statuses, and docker's error body
 * (`{"message": ...}`). Every route throws; the server answers through here. The statuses
 * are the Docker Engine API's: 400 a bad parameter, 404 a missing object, 409 a conflict
 * with the object's state, 500 only for real faults (and whatever is not in the table).
 * 304 (start of a running container, stop of a stopped one) is no error: the routes answer
 * it themselves, having looked at the state.
 */
import { type ErrorCode, isBrigError } from '../errors/index.js';

const STATUS: Partial<Record<ErrorCode, number>> = {
  // bad parameter
  INVALID_CONFIG: 400,
  INVALID_JSON: 400,
  UNSUPPORTED_FIELD: 400,
  INVALID_ID: 400,
  INVALID_ARGUMENT: 400,
  INVALID_TEMPLATE: 400,
  INVALID_REFERENCE: 400,
  INVALID_DIGEST: 400,
  INVALID_MANIFEST: 400,
  INVALID_TAR: 400,
  INVALID_ARCHIVE: 400,
  LAYER_UNSAFE: 400,
  LAYER_TOO_LARGE: 400,
  CGROUP_INVALID: 400,
  RLIMIT_TOO_HIGH: 400,
  SUBNET_OVERLAP: 400,
  ADDRESS_IN_USE: 400,
  // docker's own rule (daemon/start.go translateContainerdStartErr): a command that is not
  // there or cannot run is the caller's configuration, 400.
  EXEC_NOT_FOUND: 400,
  EXEC_DENIED: 400,
  // an id prefix that matches more than one: docker's errdefs.InvalidParameter
  AMBIGUOUS_ID: 400,
  // not found
  CONTAINER_NOT_FOUND: 404,
  IMAGE_NOT_FOUND: 404,
  VOLUME_NOT_FOUND: 404,
  NETWORK_NOT_FOUND: 404,
  PATH_NOT_FOUND: 404,
  BUNDLE_NOT_FOUND: 404,
  REGISTRY_NOT_FOUND: 404,
  PLATFORM_NOT_FOUND: 404,
  // conflict with the object's state
  CONTAINER_EXISTS: 409,
  NAME_IN_USE: 409,
  CONTAINER_RUNNING: 409,
  CONTAINER_NOT_RUNNING: 409,
  CONTAINER_STATE: 409,
  VOLUME_IN_USE: 409,
  IMAGE_IN_USE: 409,
  NETWORK_EXISTS: 409,
  NETWORK_IN_USE: 409,
  SNAPSHOT_EXISTS: 409,
  PORT_IN_USE: 409,
  // docker's errdefs.Forbidden (daemon/network.go deleteNetwork): "bridge is a pre-defined network and cannot be removed"
  NETWORK_PREDEFINED: 403,
  // docker's errdefs.NotImplemented for a log driver that cannot be read (none)
  LOG_READ_UNSUPPORTED: 501,
  // the registry's answers (docker: 401 is passed on for /auth)
  REGISTRY_UNAUTHORIZED: 401,
  REGISTRY_DENIED: 403,
};

/** An error the API layer raises itself (a bad query parameter, an unknown route, a body too large). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (message: string) => new ApiError(400, message);
export const notFound = (message: string) => new ApiError(404, message);
export const conflict = (message: string) => new ApiError(409, message);

/** The status and message an error is answered with. */
export function errorResponse(e: unknown): { status: number; message: string } {
  if (e instanceof ApiError) return { status: e.status, message: e.message };
  // The hint stays out: it names brig CLI commands, and an API client has its own.
  if (isBrigError(e)) return { status: STATUS[e.code] ?? 500, message: e.message };
  return { status: 500, message: e instanceof Error ? e.message : String(e) };
}
