/** The engine as a whole: /_ping, /version, /info, /events, /system/df, /auth. */
import { API_VERSION } from '../../engine/api-version.js';
import type { AuthConfig, EngineInfo } from '../../engine/engine.js';
import { encodeEvent } from '../../engine/events/message.js';
import { readObject } from '../body.js';
import { badRequest } from '../errors.js';
import type { RequestContext, RouteModule } from '../router.js';
import { streamRecords } from '../streams.js';

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

/** GET /events: the engine's event stream as docker's JSON lines. */
async function events(c: RequestContext): Promise<void> {
  const since = c.query.string('since');
  const until = c.query.string('until');
  const filters = c.query.filters();
  const stream = c.engine.events({ ...(since ? { since } : {}), ...(until ? { until } : {}), ...(filters ? { filters } : {}), signal: c.x.signal });
  await streamRecords(c.x, stream, { 'Content-Type': 'application/json' }, encodeEvent);
}

/**
 * GET /system/df from the engine's lists: images with the containers using each, containers
 * with their sizes, volumes with the containers using each. A volume's size would take a
 * walk of its directory: it is docker's "not available", -1. brig has no build cache yet.
 */
async function diskUsage(c: RequestContext): Promise<void> {
  const [images, containers, volumes] = await Promise.all([c.engine.listImages(), c.engine.listContainers({ all: true, size: true }), c.engine.listVolumes()]);
  const used = new Map<string, number>();
  for (const ct of containers) used.set(ct.ImageID, (used.get(ct.ImageID) ?? 0) + 1);
  const refs = new Map<string, number>();
  for (const ct of containers) for (const m of ct.Mounts as { Type?: string; Name?: string }[]) if (m.Type === 'volume' && m.Name) refs.set(m.Name, (refs.get(m.Name) ?? 0) + 1);
  c.x.send(200, {
    LayersSize: images.reduce((n, i) => n + i.Size - (i.SharedSize > 0 ? i.SharedSize : 0), 0),
    Images: images.map((i) => ({ ...i, Containers: used.get(i.Id) ?? 0 })),
    Containers: containers,
    Volumes: volumes.Volumes.map((v) => ({ ...v, UsageData: { Size: -1, RefCount: refs.get(v.Name) ?? 0 } })),
    BuildCache: [],
  });
}

const AUTH_BODY = { object: { username: 'string', password: 'string', serveraddress: 'string', email: 'string', auth: 'string', identitytoken: 'string', registrytoken: 'string' } } as const;

export const systemRoutes: RouteModule = (r) => {
  r.add('GET', '/events', events);
  r.add('GET', '/system/df', diskUsage);
  r.add('POST', '/auth', async (c) => {
    const b = await readObject(c.x, AUTH_BODY, 'auth config');
    let { username = '', password = '' } = b as { username?: string; password?: string };
    // docker's "auth" field: base64 of user:password, as config.json keeps it.
    if (!username && typeof b.auth === 'string' && b.auth) {
      const plain = Buffer.from(b.auth, 'base64').toString('utf8');
      const colon = plain.indexOf(':');
      if (colon < 0) throw badRequest('auth: expected base64 of username:password');
      username = plain.slice(0, colon);
      password = plain.slice(colon + 1);
    }
    if (b.identitytoken || b.registrytoken) throw badRequest('identitytoken, registrytoken: token logins are not supported by brig; send username and password');
    const auth: AuthConfig = { username, password, serveraddress: (b.serveraddress as string | undefined) ?? '' };
    c.x.send(200, await c.engine.registryLogin(auth));
  });
  r.add('GET', '/_ping', async ({ x }) => {
    // node:http sends no body for HEAD.
    x.stream(200, { ...PING_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': '2' }).end('OK');
  });
  r.add('GET', '/version', async ({ engine, x }) => x.send(200, await engine.version()));
  r.add('GET', '/info', async ({ engine, x }) => x.send(200, infoWire(await engine.info())));
};
