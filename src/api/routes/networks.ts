/** Networks (the bridge driver): list, inspect, create, remove, prune, connect, disconnect. */
import type { CreateNetworkRequest, NetworkInspect } from '../../engine/engine.js';
import { readObject, type Schema } from '../body.js';
import { isBrigError } from '../../errors/index.js';
import { ApiError, badRequest, notFound } from '../errors.js';
import { type RouteModule, versionAtLeast } from '../router.js';

const MAP: Schema = { map: 'string', nullable: true };

/** docker's networks from the start, which cannot be removed. */
const PREDEFINED = ['bridge', 'host', 'none'];

/**
 * docker's NetworkCreateRequest. What brig's bridge networks do not have (IPv6, swarm's
 * ingress and config networks, IPAM drivers' options, auxiliary addresses) is taken only
 * with its zero value, so a request for it is refused, not ignored.
 */
const CREATE: { object: Record<string, Schema> } = {
  object: {
    Name: 'string',
    CheckDuplicate: 'boolean',
    Driver: 'string',
    Scope: 'string',
    EnableIPv4: { nullable: 'boolean' },
    EnableIPv6: { nullable: 'zero' },
    Internal: 'boolean',
    Attachable: 'boolean',
    Ingress: 'zero',
    ConfigOnly: 'zero',
    ConfigFrom: { nullable: 'zero' },
    IPAM: {
      nullable: true,
      object: {
        Driver: 'string',
        Options: { nullable: 'zero' },
        Config: { nullable: true, array: { object: { Subnet: 'string', IPRange: 'string', Gateway: 'string', AuxiliaryAddresses: { nullable: 'zero' } } } },
      },
    },
    Options: MAP,
    Labels: MAP,
  },
};

/** EndpointSettings as connect takes it: aliases and a static IPv4 address. */
const CONNECT: { object: Record<string, Schema> } = {
  object: {
    Container: 'string',
    EndpointConfig: {
      nullable: true,
      object: {
        IPAMConfig: { nullable: true, object: { IPv4Address: 'string', IPv6Address: 'zero', LinkLocalIPs: { nullable: 'zero' } } },
        Links: { nullable: 'zero' },
        Aliases: { nullable: true, array: 'string' },
        MacAddress: 'zero',
        DriverOpts: { nullable: 'zero' },
        GwPriority: 'zero',
        // Read-only fields of EndpointSettings, which clients echo back empty.
        NetworkID: 'string',
        EndpointID: 'string',
        Gateway: 'string',
        IPAddress: 'string',
        IPPrefixLen: 'integer',
        IPv6Gateway: 'string',
        GlobalIPv6Address: 'string',
        GlobalIPv6PrefixLen: 'integer',
        DNSNames: { nullable: true, array: 'string' },
      },
    },
  },
};

const DISCONNECT: { object: Record<string, Schema> } = { object: { Container: 'string', Force: 'boolean' } };

/** Since 1.28 the list leaves out each network's containers (only inspect shows them), as the API docs say. */
function listWire(n: NetworkInspect, version: string): NetworkInspect {
  return versionAtLeast(version, '1.28') ? { ...n, Containers: {} } : n;
}

export const networkRoutes: RouteModule = (r) => {
  r.add('GET', '/networks', async ({ engine, x, query, version }) => {
    const filters = query.filters();
    x.send(200, (await engine.listNetworks(filters ? { filters } : {})).map((n) => listWire(n, version)));
  });

  r.add('POST', '/networks/create', async ({ engine, x }) => {
    const body = await readObject(x, CREATE, 'network create request');
    type Config = NonNullable<CreateNetworkRequest['IPAM']>['Config'];
    const { Scope, EnableIPv4, IPAM, Options, Labels, ...rest } = body as Omit<CreateNetworkRequest, 'IPAM' | 'Options' | 'Labels'> & {
      Scope?: string;
      EnableIPv4?: boolean | null;
      IPAM?: { Driver?: string; Config?: Config | null } | null;
      Options?: Record<string, string> | null;
      Labels?: Record<string, string> | null;
    };
    if (typeof rest.Name !== 'string' || rest.Name === '') throw badRequest('Name: a network needs a name');
    if (Scope !== undefined && Scope !== '' && Scope !== 'local') throw badRequest(`Scope: brig's networks are local, not ${JSON.stringify(Scope)}`);
    if (EnableIPv4 === false) throw badRequest('EnableIPv4: brig\'s bridge networks always have IPv4');
    if (IPAM?.Driver !== undefined && IPAM.Driver !== '' && IPAM.Driver !== 'default') throw badRequest(`IPAM.Driver: only the default IPAM driver, not ${JSON.stringify(IPAM.Driver)}`);
    const req: CreateNetworkRequest = {
      ...rest,
      ...(IPAM?.Config ? { IPAM: { Config: IPAM.Config } } : {}),
      ...(Options ? { Options } : {}),
      ...(Labels ? { Labels } : {}),
    };
    x.send(201, await engine.createNetwork(req));
  });

  r.add('POST', '/networks/prune', async ({ engine, x, query }) => {
    const filters = query.filters();
    x.send(200, await engine.pruneNetworks(filters ? { filters } : {}));
  });

  r.add('GET', '/networks/{id}', async ({ engine, x, params, query }) => {
    // verbose adds a swarm network's services: brig has none. scope narrows to one scope.
    const scope = query.string('scope');
    if (scope !== undefined && scope !== '' && !['local', 'global', 'swarm'].includes(scope)) throw badRequest(`invalid scope value '${scope}': must be one of local, global, swarm`);
    const n = await engine.inspectNetwork(params.id!);
    if (scope && n.Scope !== scope) throw notFound(`network ${params.id} not found`);
    x.send(200, n);
  });

  r.add('DELETE', '/networks/{id}', async ({ engine, x, params }) => {
    // docker answers 403 both for a predefined network and for one with endpoints
    // (libnetwork's ActiveEndpointsError is errdefs.Forbidden), not 409.
    const n = await engine.inspectNetwork(params.id!);
    if (PREDEFINED.includes(n.Name)) throw new ApiError(403, `${n.Name} is a pre-defined network and cannot be removed`);
    try {
      await engine.removeNetwork(n.Id);
    } catch (e) {
      if (isBrigError(e) && e.code === 'NETWORK_IN_USE') throw new ApiError(403, e.message);
      throw e;
    }
    x.send(204);
  });

  r.add('POST', '/networks/{id}/connect', async ({ engine, x, params }) => {
    const body = (await readObject(x, CONNECT, 'network connect request')) as { Container?: string; EndpointConfig?: { Aliases?: string[] | null; IPAMConfig?: { IPv4Address?: string } | null } | null };
    if (!body.Container) throw badRequest('Container: the container to connect is required');
    const ep = body.EndpointConfig;
    const ip = ep?.IPAMConfig?.IPv4Address;
    await engine.connectNetwork(params.id!, body.Container, { ...(ep?.Aliases?.length ? { aliases: ep.Aliases } : {}), ...(ip ? { ip } : {}) });
    x.send(200);
  });

  r.add('POST', '/networks/{id}/disconnect', async ({ engine, x, params }) => {
    const body = (await readObject(x, DISCONNECT, 'network disconnect request')) as { Container?: string; Force?: boolean };
    if (!body.Container) throw badRequest('Container: the container to disconnect is required');
    await engine.disconnectNetwork(params.id!, body.Container, { force: body.Force === true });
    x.send(200);
  });
};

