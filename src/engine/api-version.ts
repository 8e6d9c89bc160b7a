/**
 * The Docker Engine API versions brig speaks: `version` reports them, `brig serve`
 * advertises the newest (/_ping's Api-Version) and serves paths prefixed with any of them
 * (/v1.24/... up). The engine's shapes follow docker's current ones; where a version changed
 * what a client reads, src/api answers as the request's version says (so far: the stdio
 * streams' Content-Type, multiplexed-stream from 1.42).
 */
export const API_VERSION = '1.45';
export const MIN_API_VERSION = '1.24';
