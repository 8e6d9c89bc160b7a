/** Volumes (the local driver): list, create, inspect, remove, prune. */
import type { VolumeCreateRequest } from '../../engine/engine.js';
import { check, readJson } from '../body.js';
import { type RouteModule, versionAtLeast } from '../router.js';

/** docker's VolumeCreateOptions; the swarm's ClusterVolumeSpec is not brig's. */
const CREATE = {
  object: {
    Name: 'string',
    Driver: 'string',
    DriverOpts: { map: 'string', nullable: true },
    Labels: { map: 'string', nullable: true },
    ClusterVolumeSpec: 'zero',
  },
} as const;

export const volumeRoutes: RouteModule = (r) => {
  r.add('GET', '/volumes', async ({ engine, x, query }) => {
    const filters = query.filters();
    x.send(200, await engine.listVolumes(filters ? { filters } : {}));
  });

  r.add('POST', '/volumes/create', async ({ engine, x }) => {
    // An empty body is a volume with a generated name, as docker's decoder takes it.
    const body = await readJson(x);
    const req = (body === undefined ? {} : check(body, CREATE, '')) as VolumeCreateRequest & { DriverOpts?: Record<string, string> | null; Labels?: Record<string, string> | null };
    const { DriverOpts, Labels, ...rest } = req;
    x.send(201, await engine.createVolume({ ...rest, ...(DriverOpts ? { DriverOpts } : {}), ...(Labels ? { Labels } : {}) }));
  });

  r.add('POST', '/volumes/prune', async ({ engine, x, query, version }) => {
    const filters = { ...(query.filters() ?? {}) };
    // 1.42 made prune take anonymous volumes only; older clients get every unused one, as
    // docker keeps it for them (volume_routes.go postVolumesPrune adds all=true).
    if (!versionAtLeast(version, '1.42')) filters.all = ['true'];
    x.send(200, await engine.pruneVolumes({ filters }));
  });

  r.add('GET', '/volumes/{name}', async ({ engine, x, params }) => {
    x.send(200, await engine.inspectVolume(params.name!));
  });

  r.add('DELETE', '/volumes/{name}', async ({ engine, x, params, query }) => {
    await engine.removeVolume(params.name!, { force: query.bool('force') });
    x.send(204);
  });
};
