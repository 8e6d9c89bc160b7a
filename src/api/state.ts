/**
 * What the server keeps in memory between requests (docker keeps the same in its daemon):
 * exec instances from create to some time after they end, and attaches that wait for their
 * container's start. Nothing here outlives the server, and nothing in it is a container's
 * state: that is the engine's store.
 */
export class ServerState {}
