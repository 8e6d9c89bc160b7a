/** The engine as a whole: /_ping, /version, /info. */
import { API_VERSION } from '../../engine/api-version.js';
import type { EngineInfo } from '../../engine/engine.js';
import type { RouteModule } from '../router.js';

/** What /_ping says besides "OK" (docker's api/server/router/system/system_routes.go). */
const PING_HEADERS = {
  'Api-Version': API_VERSION,
  'Docker-Experimental': 'false',
  Ostype: 'linux',
  // The classic builder's "1": brig has no BuildKit, so clients do not try a BuildKit session.
  'Builder-Version': '1',
  'Cache-Control': 'no-cache, no-store, must-revalidate',
  Pragma: 'no-cache',
};

/**
 * docker's SystemInfo has fields about parts brig does not have (swarm, plugins): they are
 * given as docker gives them with those parts off, so `docker info` prints "Swarm: inactive".
 */
function infoWire(info: EngineInfo): EngineInfo & Record<string, unknown> {
  return {
    ...info,
    Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'none'], Authorization: null, Log: ['json-file', 'local', 'none'] },
    Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
  };
}

export const systemRoutes: RouteModule = (r) => {
  r.add('GET', '/_ping', async ({ x }) => {
    // node:http sends no body for HEAD.
    x.stream(200, { ...PING_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': '2' }).end('OK');
  });
  r.add('GET', '/version', async ({ engine, x }) => x.send(200, await engine.version()));
  r.add('GET', '/info', async ({ engine, x }) => x.send(200, infoWire(await engine.info())));
};
