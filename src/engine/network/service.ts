/**
 * The engine's networks: docker's network verbs over NetworkStore, and a container's life on
 * its networks, in this order:
 *
 *   create  `plan`: the mode and networks checked (the default `bridge` made on first use),
 *           the request's addresses, ports, DNS and hosts entries checked; network.json
 *           written in the container's directory. Nothing on the host yet.
 *   start   `attach`: a namespace file, addresses and host ports allocated under the lock,
 *           the backend's setup, hosts and resolv.conf written with the address; the
 *           backend's teardown argv for the monitor to run when the container ends for good.
 *   connect/disconnect: the backend's setup/teardown of one more network in the same namespace.
 *   stop/rm `detach`: the backend's teardown, the namespace file, the allocations.
 *   sweep   at engine start: `detach` for every namespace file whose container is not running.
 *
 * Everything brig makes on the host can so be found again from network.json and the
 * namespace directory alone.
 */
import * as fs from 'node:fs/promises';
import path from 'node:path';
import { BrigError, hasErrno } from '../../errors/index.js';
import { writeFileAtomic } from '../../image/store/lock.js';
import { ParsedFileCache } from '../../util/parsed-file-cache.js';
import { type Claim, HostClaims } from './host-claims.js';
import type { ContainerCreateRequest } from '../containers/config.js';
import type { BackendAttachment, BackendNetwork, NetworkBackend, PortMapping, SetupRequest, SetupResult } from './backend.js';
import { containerHosts, parseExtraHost } from './hosts.js';
import { contains, formatCidr, hostRoutes, intToIp, ipToInt, isIPv4, overlaps, parseCidr, type Cidr } from './ipv4.js';
import { createNetns, listNetns, netnsMounted, netnsPath, removeNetns } from './netns.js';
import { checkPortMap, type PortMap, publishAll, resolvePorts } from './ports.js';
import { checkDns, containerResolvConf, type DnsSettings } from './resolv.js';
import { type Allocations, type NetworkRecord, type NetworkResource, NetworkStore } from './store.js';
import { currentOwner, formatOwner, ownerAlive, parseOwner } from '../../util/owner.js';

export const DEFAULT_NETWORK = 'bridge';

/** What the container's monitor runs to tear its network down without Node. */
export type TeardownCommand = { argv: string[]; env: string[] };
/** Names docker reserves: they are modes, not networks one can create. */
const RESERVED = ['bridge', 'host', 'none', 'default'];

export interface EndpointState {
  NetworkID: string;
  Aliases: string[];
  IPAMConfig: { IPv4Address: string } | null;
  /** The MAC address asked for (--mac-address), kept across restarts. */
  MacConfig?: string;
  IPAddress: string;
  IPPrefixLen: number;
  Gateway: string;
  MacAddress: string;
  /** The interface in the container while set up. */
  ifname: string;
}

/** network.json in a container's directory. */
export interface ContainerNetwork {
  mode: 'bridge' | 'none' | 'host' | 'container';
  /** container:<id> mode: whose namespace. */
  container?: string;
  name: string;
  hostname: string;
  domainname: string;
  /** Network name -> endpoint. */
  endpoints: Record<string, EndpointState>;
  bindings: PortMap;
  exposed: Record<string, unknown>;
  dns: DnsSettings;
  extraHosts: string[];
  /** Legacy links (--link name:alias): /etc/hosts lines for these containers, written at each start. */
  links?: { id: string; name: string; alias: string }[];
  /** While set up: the namespace file and the ports published. */
  netns?: string;
  /** The brig setting it up (`<pid>-<start>`): its container counts as running until that brig is gone. */
  owner?: string;
  ports: PortMapping[];
}

export interface NetworkServiceDeps {
  /** <data root>/networks */
  dir: string;
  /** Where namespace files go (/run/brig/netns). */
  netnsDir: string;
  backend: NetworkBackend;
  /** The host's /etc/resolv.conf text. */
  hostResolv: () => string;
  /** A container's directory (network.json, hosts, resolv.conf, config.json). */
  containerDir: (id: string) => string;
  /** Ids of every container directory (kept and --rm alike). */
  containerIds: () => Promise<string[]>;
  /** Whether the container runs (or is being started by a live brig): its allocations hold. */
  isActive: (id: string) => Promise<boolean>;
  /** For container:NAME: the id of a container by name or id, and its init pid if it runs. */
  lookupContainer: (ref: string) => Promise<{ id: string; name: string; pid: number }>;
  routes?: () => Promise<string>;
  /** The host-wide claims of bridges and subnets (host-claims.ts; tests give their own directory). */
  claims?: HostClaims;
}

export interface CreateNetworkRequest {
  Name: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  Labels?: Record<string, string>;
  Options?: Record<string, string>;
  IPAM?: { Driver?: string; Config?: { Subnet?: string; Gateway?: string; IPRange?: string }[] };
  CheckDuplicate?: boolean;
}

export type NetworkInspect = NetworkResource & { Containers: Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }> };

/** The data root a network record belongs to (<root>/networks/<id>.json), for messages. */
function rootOf(record: string): string {
  return path.dirname(path.dirname(record));
}

/** docker's words (daemon/network.go), its status 403 (errdefs.Forbidden). */
function predefinedError(name: string): BrigError {
  return new BrigError('NETWORK_PREDEFINED', `${name} is a pre-defined network and cannot be removed`);
}

export class NetworkService {
  readonly store: NetworkStore;
  private readonly claims: HostClaims;

  constructor(private readonly deps: NetworkServiceDeps) {
    this.store = new NetworkStore(deps.dir);
    this.claims = deps.claims ?? new HostClaims();
  }

  private stateFile(id: string): string {
    return path.join(this.deps.containerDir(id), 'network.json');
  }

  /**
   * A torn file (a brig killed mid-write before writes were atomic) reads as no state: ps
   * lists the container without networks, detach goes by the namespace file's usual path.
   */
  private static parseState(text: string): ContainerNetwork | undefined {
    try {
      return JSON.parse(text) as ContainerNetwork;
    } catch {
      return undefined;
    }
  }

  private async readState(id: string): Promise<ContainerNetwork | undefined> {
    try {
      return NetworkService.parseState(await fs.readFile(this.stateFile(id), 'utf8'));
    } catch (e) {
      if (hasErrno(e, 'ENOENT') || hasErrno(e, 'ENOTDIR')) return undefined;
      throw e;
    }
  }

  /** Renamed into place: a brig killed mid-write leaves the old state, never half a file (ps reads it). */
  private async writeState(id: string, s: ContainerNetwork): Promise<void> {
    await writeFileAtomic(this.stateFile(id), JSON.stringify(s), { mode: 0o600 });
  }

  /** A container's network state (undefined for one made before networks). */
  state(id: string): Promise<ContainerNetwork | undefined> {
    return this.readState(id);
  }

  /** States as listings last read them, kept while unchanged (read-only: a listing only looks). */
  private readonly listed = new ParsedFileCache<ContainerNetwork | undefined>();

  /**
   * A container's network state for a listing (ps): read again only when its file changed,
   * or not even looked at while the listing's memo of its container directory holds it.
   */
  listedState(id: string, memo?: Map<string, unknown>): ContainerNetwork | undefined {
    if (memo?.has('network')) return memo.get('network') as ContainerNetwork | undefined;
    const st = this.listed.read(this.stateFile(id), NetworkService.parseState);
    memo?.set('network', st);
    return st;
  }

  /** After a whole listing: the states of containers not in it (removed ones) are forgotten. */
  retainListed(ids: string[]): void {
    // Most listings list what the last one did: nothing to forget then.
    if (ids.length === this.lastListed.length && ids.every((id, i) => id === this.lastListed[i])) return;
    this.lastListed = ids;
    this.listed.retain(new Set(ids.map((id) => this.stateFile(id))));
  }
  private lastListed: string[] = [];

  // ---- networks

  private async taken(except?: string): Promise<Cidr[]> {
    const routes = hostRoutes(await (this.deps.routes?.() ?? fs.readFile('/proc/net/route', 'utf8')));
    const nets = (await this.store.list()).filter((n) => n.Id !== except).map((n) => parseCidr(n.IPAM.Config[0]!.Subnet, 'IPAM.Config.Subnet'));
    // Other data roots' networks, whether or not their bridges are up now.
    const others = this.claims.others(this.store.dir).map((c) => parseCidr(c.subnet, 'IPAM.Config.Subnet'));
    return [...routes, ...nets, ...others];
  }

  private async freeBridgeName(records: NetworkRecord[]): Promise<string> {
    const present = new Set(await fs.readdir('/sys/class/net').catch(() => [] as string[]));
    const used = new Set([...records.map((r) => r.brig.bridge), ...this.claims.others(this.store.dir).map((c) => c.bridge)]);
    for (let i = 0; ; i++) if (!present.has(`brig${i}`) && !used.has(`brig${i}`)) return `brig${i}`;
  }

  /** docker network create (bridge driver only). Must run under the lock. */
  private async createLocked(req: CreateNetworkRequest, isDefault: boolean): Promise<NetworkRecord> {
    const name = req.Name;
    if (!isDefault && RESERVED.includes(name)) throw new BrigError('INVALID_ARGUMENT', `${name} is a pre-defined network and cannot be created`, { field: 'Name' });
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name ?? '')) throw new BrigError('INVALID_ARGUMENT', `invalid network name "${name}"`, { field: 'Name', hint: 'letters, digits, _ . -, starting with a letter or digit' });
    if (req.Driver && req.Driver !== 'bridge') throw new BrigError('UNSUPPORTED_FIELD', `network driver "${req.Driver}" is not supported`, { field: 'Driver', hint: 'only bridge' });
    const records = await this.store.list();
    if (records.some((n) => n.Name === name)) throw new BrigError('NETWORK_EXISTS', `network with name ${name} already exists`, { field: 'Name' });
    const cfg = req.IPAM?.Config ?? [];
    if (cfg.length > 1) throw new BrigError('UNSUPPORTED_FIELD', 'only one IPAM config (subnet) per network', { field: 'IPAM.Config' });
    const taken = await this.taken();
    let subnet: Cidr;
    if (cfg[0]?.Subnet) {
      subnet = parseCidr(cfg[0].Subnet, '--subnet');
      const clash = taken.find((t) => overlaps(t, subnet));
      if (clash) throw new BrigError('SUBNET_OVERLAP', `invalid pool request: Pool overlaps with other one on this address space (${formatCidr(subnet)} overlaps ${formatCidr(clash)})`, { field: '--subnet' });
    } else {
      // podman's pools: 10.88.0.0/16 for the default network, 10.89.N.0/24 for the others.
      const candidates = [...(isDefault ? [parseCidr('10.88.0.0/16', 'subnet')] : []), ...Array.from({ length: 256 }, (_, i) => parseCidr(`10.89.${i}.0/24`, 'subnet'))];
      const free = candidates.find((c) => !taken.some((t) => overlaps(t, c)));
      if (!free) throw new BrigError('SUBNET_OVERLAP', 'no free subnet left in 10.89.0.0/16', { field: '--subnet', hint: 'give one with --subnet' });
      subnet = free;
    }
    const inSubnet = (ip: string, field: string) => {
      if (!isIPv4(ip) || !contains(subnet, ipToInt(ip))) throw new BrigError('INVALID_ARGUMENT', `${ip} is not an address in ${formatCidr(subnet)}`, { field });
    };
    const gateway = cfg[0]?.Gateway || intToIp(subnet.base + 1);
    inSubnet(gateway, '--gateway');
    let ipRange: string | undefined;
    if (cfg[0]?.IPRange) {
      const r = parseCidr(cfg[0].IPRange, '--ip-range');
      if (!contains(subnet, r.base) || !contains(subnet, r.base + r.size - 1)) throw new BrigError('INVALID_ARGUMENT', `--ip-range ${cfg[0].IPRange} is not inside --subnet ${formatCidr(subnet)}`, { field: '--ip-range' });
      ipRange = formatCidr(r);
    } else if (cfg[0]?.Gateway && !cfg[0]?.Subnet) {
      throw new BrigError('INVALID_ARGUMENT', '--gateway needs --subnet', { field: '--gateway' });
    }
    const options = { ...(req.Options ?? {}) };
    const bridge = options['com.docker.network.bridge.name'] ?? (await this.freeBridgeName(records));
    if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(bridge)) throw new BrigError('INVALID_ARGUMENT', `invalid bridge name "${bridge}"`, { field: 'Options[com.docker.network.bridge.name]' });
    const rec: NetworkRecord = {
      Name: name,
      Id: NetworkStore.newId(),
      Created: new Date().toISOString(),
      Scope: 'local',
      Driver: 'bridge',
      EnableIPv6: false,
      IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: formatCidr(subnet), Gateway: gateway, ...(ipRange ? { IPRange: ipRange } : {}) }] },
      Internal: req.Internal === true,
      Attachable: req.Attachable === true,
      Ingress: false,
      ConfigFrom: { Network: '' },
      ConfigOnly: false,
      Options: isDefault ? { 'com.docker.network.bridge.default_bridge': 'true', 'com.docker.network.bridge.name': bridge, ...options } : options,
      Labels: req.Labels ?? {},
      // docker resolves names on user networks only, never on the default bridge.
      brig: { bridge, dns: !isDefault },
    };
    await this.store.save(rec);
    return rec;
  }

  async create(req: CreateNetworkRequest): Promise<{ Id: string; Warning: string }> {
    const rec = await this.store.locked(() => this.createClaimed(req, false));
    return { Id: rec.Id, Warning: '' };
  }

  /** createLocked with the host's claims held: no other root picks the same bridge or subnet meanwhile. */
  private createClaimed(req: CreateNetworkRequest, isDefault: boolean): Promise<NetworkRecord> {
    return this.claims.locked(async () => {
      const bridge = req.Options?.['com.docker.network.bridge.name'];
      const other = bridge === undefined ? undefined : this.claims.others(this.store.dir).find((c) => c.bridge === bridge);
      if (other) throw new BrigError('INVALID_ARGUMENT', `bridge ${bridge} is used by a network of another brig data root (${rootOf(other.record)})`, { field: 'Options[com.docker.network.bridge.name]' });
      const rec = await this.createLocked(req, isDefault);
      this.claims.claim(rec.Id, this.claimOf(rec));
      return rec;
    });
  }

  private claimOf(n: NetworkRecord): Claim {
    return { record: this.store.recordFile(n.Id), bridge: n.brig.bridge, subnet: n.IPAM.Config[0]!.Subnet };
  }

  /**
   * Before containers join: each network holds its claim (one made before claims existed, or
   * whose claim /run lost at a reboot, claims again), unless another root has meanwhile
   * claimed its bridge or an overlapping subnet. Runs under the store's lock.
   */
  private async ensureClaims(nets: NetworkRecord[]): Promise<void> {
    if (nets.every((n) => this.claims.has(n.Id))) return;
    await this.claims.locked(async () => {
      const others = this.claims.others(this.store.dir);
      for (const n of nets) {
        if (this.claims.has(n.Id)) continue;
        const subnet = parseCidr(n.IPAM.Config[0]!.Subnet, 'IPAM.Config.Subnet');
        const clash = others.find((c) => c.bridge === n.brig.bridge || overlaps(parseCidr(c.subnet, 'subnet'), subnet));
        if (clash) {
          throw new BrigError('SUBNET_OVERLAP', `network ${n.Name} (${n.brig.bridge}, ${formatCidr(subnet)}) clashes with a network of another brig data root (${rootOf(clash.record)}: ${clash.bridge}, ${clash.subnet})`, {
            hint: `remove this network and create it again (brig network rm ${n.Name}): it takes a free bridge and subnet`,
          });
        }
        this.claims.claim(n.Id, this.claimOf(n));
      }
    });
  }

  /** The default bridge, made on first use. Runs under the lock. */
  private async defaultNetwork(): Promise<NetworkRecord> {
    const found = (await this.store.list()).find((n) => n.Name === DEFAULT_NETWORK);
    return found ?? this.createClaimed({ Name: DEFAULT_NETWORK }, true);
  }

  private async users(): Promise<Map<string, { id: string; state: ContainerNetwork }[]>> {
    const out = new Map<string, { id: string; state: ContainerNetwork }[]>();
    for (const id of await this.deps.containerIds()) {
      const s = await this.readState(id).catch(() => undefined);
      for (const ep of Object.values(s?.endpoints ?? {})) {
        const list = out.get(ep.NetworkID) ?? [];
        list.push({ id, state: s! });
        out.set(ep.NetworkID, list);
      }
    }
    return out;
  }

  private view(n: NetworkRecord, users: { id: string; state: ContainerNetwork }[]): NetworkInspect {
    const { brig: _b, ...resource } = n;
    const Containers: NetworkInspect['Containers'] = {};
    for (const u of users) {
      const ep = Object.values(u.state.endpoints).find((e) => e.NetworkID === n.Id);
      if (!ep || !u.state.netns) continue; // docker lists the containers with a live endpoint
      Containers[u.id] = { Name: u.state.name, EndpointID: '', MacAddress: ep.MacAddress, IPv4Address: ep.IPAddress ? `${ep.IPAddress}/${ep.IPPrefixLen}` : '', IPv6Address: '' };
    }
    return { ...resource, Containers };
  }

  /**
   * docker's networks from the start, as `docker network ls` shows them on a fresh dockerd:
   * bridge (the default bridge's record, made here if no container has made it yet), host
   * and none (no record of brig's: containers in those modes have no endpoint; their ids
   * are made once per data root and kept in predefined.json, so they stay as dockerd's do).
   */
  private async predefined(): Promise<{ bridge: NetworkRecord; host: NetworkInspect; none: NetworkInspect }> {
    const file = path.join(this.store.dir, 'predefined.json');
    type Ids = Record<'host' | 'none', { Id: string; Created: string }>;
    const read = () =>
      fs.readFile(file, 'utf8').then(
        (t) => JSON.parse(t) as Ids,
        (e: unknown) => {
          if (hasErrno(e, 'ENOENT')) return undefined;
          throw e;
        },
      );
    let ids = await read();
    let bridge = (await this.store.list()).find((n) => n.Name === DEFAULT_NETWORK);
    if (!ids || !bridge) {
      [ids, bridge] = await this.store.locked(async () => {
        let made = await read();
        if (!made) {
          const now = new Date().toISOString();
          made = { host: { Id: NetworkStore.newId(), Created: now }, none: { Id: NetworkStore.newId(), Created: now } };
          await fs.writeFile(file, JSON.stringify(made), { mode: 0o600 });
        }
        return [made, await this.defaultNetwork()] as const;
      });
    }
    const fixed = (Name: 'host' | 'none', Driver: 'host' | 'null'): NetworkInspect => ({
      Name,
      Id: ids[Name].Id,
      Created: ids[Name].Created,
      Scope: 'local',
      Driver,
      EnableIPv6: false,
      IPAM: { Driver: 'default', Options: null, Config: [] },
      Internal: false,
      Attachable: false,
      Ingress: false,
      ConfigFrom: { Network: '' },
      ConfigOnly: false,
      Containers: {},
      Options: {},
      Labels: {},
    });
    return { bridge, host: fixed('host', 'host'), none: fixed('none', 'null') };
  }

  /** host or none by name, id or unique id prefix (bridge is a record: the store finds it). */
  private async findFixed(ref: string): Promise<NetworkInspect | undefined> {
    const { host, none } = await this.predefined();
    return [host, none].find((n) => n.Name === ref || n.Id === ref) ?? (ref.length ? [host, none].find((n) => n.Id.startsWith(ref)) : undefined);
  }

  async list(): Promise<NetworkInspect[]> {
    const { host, none } = await this.predefined();
    const users = await this.users();
    return [...(await this.store.list()).map((n) => this.view(n, users.get(n.Id) ?? [])), host, none];
  }

  async inspect(ref: string): Promise<NetworkInspect> {
    const fixed = await this.findFixed(ref);
    if (fixed) return fixed;
    const n = await this.store.find(ref);
    return this.view(n, (await this.users()).get(n.Id) ?? []);
  }

  /** docker network rm: refused for the predefined networks, and while a container is configured with it. */
  async remove(ref: string): Promise<string> {
    const fixed = await this.findFixed(ref);
    if (fixed) throw predefinedError(fixed.Name);
    return this.store.locked(async () => {
      const n = await this.store.find(ref);
      if (n.Name === DEFAULT_NETWORK) throw predefinedError(n.Name);
      const users = (await this.users()).get(n.Id) ?? [];
      if (users.length) {
        throw new BrigError('NETWORK_IN_USE', `error while removing network: network ${n.Name} id ${n.Id} has active endpoints (${users.map((u) => u.state.name).join(', ')})`, { hint: 'remove the containers or disconnect them first' });
      }
      await this.store.remove(n.Id);
      this.claims.release(n.Id);
      return n.Name;
    });
  }

  /** docker network prune: every network no container uses (the default bridge is kept). */
  async prune(opts: { until?: number; labels?: (l: Record<string, string>) => boolean } = {}): Promise<{ NetworksDeleted: string[] }> {
    return this.store.locked(async () => {
      const users = await this.users();
      const deleted: string[] = [];
      for (const n of await this.store.list()) {
        if (n.Name === DEFAULT_NETWORK || users.get(n.Id)?.length) continue;
        if (opts.until !== undefined && Date.parse(n.Created) >= opts.until) continue;
        if (opts.labels && !opts.labels(n.Labels)) continue;
        await this.store.remove(n.Id);
        this.claims.release(n.Id);
        deleted.push(n.Name);
      }
      return { NetworksDeleted: deleted };
    });
  }

  /**
   * What ps shows and filters on: docker's Ports list (published ports while the container
   * runs, the other exposed ones bare) and its networks by name and id (none and host by
   * name: brig keeps no records for them; a container:NAME one has none, as in docker).
   */
  static listView(st: ContainerNetwork, running: boolean): { ports: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[]; networks: { name: string; id: string }[] } {
    const published = running ? st.ports.map((m) => ({ IP: m.hostIp || '0.0.0.0', PrivatePort: m.containerPort, PublicPort: m.hostPort, Type: m.protocol })) : [];
    const bare = Object.keys(st.exposed ?? {})
      .filter((k) => !published.some((p) => `${p.PrivatePort}/${p.Type}` === k))
      .map((k) => ({ PrivatePort: Number(k.split('/')[0]), Type: k.split('/')[1] ?? 'tcp' }));
    const networks = st.mode === 'bridge' ? Object.entries(st.endpoints).map(([name, ep]) => ({ name, id: ep.NetworkID })) : st.mode === 'container' ? [] : [{ name: st.mode, id: '' }];
    return { ports: [...published, ...bare], networks };
  }

  // ---- containers

  /**
   * create: the request's networking checked and written down as network.json. Returns what
   * the spec needs: the namespace (a file for bridge networks, the host's for host mode, none
   * given for none) and the hosts and resolv.conf to write before the first start.
   */
  async plan(req: ContainerCreateRequest, c: { id: string; name: string; hostname: string; domainname: string }): Promise<{ state: ContainerNetwork; namespace: { path: string } | 'host' | 'new'; hosts: string; resolv: string; mode: string }> {
    const h = req.HostConfig ?? {};
    let modeText = h.NetworkMode || 'default';
    if (modeText === 'default') modeText = DEFAULT_NETWORK;
    const dns: DnsSettings = { servers: h.Dns ?? [], search: h.DnsSearch ?? [], options: h.DnsOptions ?? [] };
    checkDns(dns);
    const extraHosts = h.ExtraHosts ?? [];
    for (const e of extraHosts) parseExtraHost(e);
    const bindings: PortMap = h.PortBindings ?? {};
    checkPortMap(bindings);
    const exposed = { ...(req.ExposedPorts ?? {}), ...Object.fromEntries(Object.keys(bindings).map((k) => [k.includes('/') ? k : `${k}/tcp`, {}])) };
    const base: ContainerNetwork = { mode: 'bridge', name: c.name, hostname: c.hostname, domainname: c.domainname, endpoints: {}, bindings: h.PublishAllPorts ? publishAll(exposed, bindings) : bindings, exposed, dns, extraHosts, ports: [] };
    const publishes = Object.values(bindings).some((l) => l?.length) || h.PublishAllPorts === true;
    const noPorts = (mode: string) => {
      if (publishes) throw new BrigError('INVALID_ARGUMENT', `conflicting options: port publishing and the container type network mode "${mode}"`, { field: 'HostConfig.PortBindings' });
    };
    const links = await this.planLinks(h.Links ?? [], modeText, c);
    const endpointCfg = { ...(req.NetworkingConfig?.EndpointsConfig ?? {}) };
    // The CLI's --mac-address goes on the first network's endpoint, keyed by the mode as given.
    const macOnly = Object.entries(endpointCfg).filter(([, e]) => e.MacAddress && !e.Aliases?.length && !e.IPAMConfig?.IPv4Address);
    if (macOnly.length && (modeText === 'host' || modeText.startsWith('container:'))) {
      throw new BrigError('INVALID_ARGUMENT', 'conflicting options: mac-address and the network mode', { field: 'MacAddress' });
    }
    if (modeText === 'none') for (const [k] of macOnly) delete endpointCfg[k]; // docker: nothing to give it to
    if (modeText === 'none' || modeText === 'host') {
      noPorts(modeText);
      if (Object.keys(endpointCfg).length) throw new BrigError('INVALID_ARGUMENT', `container cannot be connected to other networks with network mode "${modeText}"`, { field: 'NetworkingConfig' });
      const state = { ...base, mode: modeText } as ContainerNetwork;
      if (modeText === 'host') {
        const hostsText = await fs.readFile('/etc/hosts', 'utf8').catch(() => containerHosts({ hostname: c.hostname, extra: [] }));
        return { state, namespace: 'host', hosts: hostsText + containerHosts({ hostname: c.hostname, extra: extraHosts }).split('\n').slice(6).join('\n'), resolv: this.deps.hostResolv(), mode: 'host' };
      }
      return { state, namespace: 'new', hosts: containerHosts({ hostname: c.hostname, extra: extraHosts.filter((e) => !e.endsWith('host-gateway')) }), resolv: containerResolvConf(this.deps.hostResolv(), dns, []), mode: 'none' };
    }
    if (modeText.startsWith('container:')) {
      noPorts('container');
      const target = await this.deps.lookupContainer(modeText.slice('container:'.length));
      if (target.id === c.id) throw new BrigError('INVALID_ARGUMENT', 'cannot join own network namespace', { field: 'HostConfig.NetworkMode' });
      const state: ContainerNetwork = { ...base, mode: 'container', container: target.id };
      return { state, namespace: { path: `/proc/${target.pid || 1}/ns/net` }, hosts: '', resolv: '', mode: `container:${target.id}` };
    }
    // bridge or a user network, plus any other networks the request names (the API's EndpointsConfig).
    const endpoints: Record<string, EndpointState> = {};
    await this.store.locked(async () => {
      const first = modeText === DEFAULT_NETWORK ? await this.defaultNetwork() : await this.store.find(modeText);
      const names = [first.Name, ...Object.keys(endpointCfg).filter((k) => k !== first.Name && k !== modeText && k !== 'default')];
      for (const nm of names) {
        const n = nm === first.Name ? first : await this.store.find(nm);
        const cfg = endpointCfg[nm] ?? (nm === first.Name ? (endpointCfg[modeText] ?? endpointCfg.default) : undefined) ?? {};
        endpoints[n.Name] = this.endpoint(n, cfg.Aliases ?? [], cfg.IPAMConfig?.IPv4Address, cfg.MacAddress);
      }
    });
    const state: ContainerNetwork = { ...base, endpoints, ...(links.length ? { links } : {}) };
    return { state, namespace: { path: netnsPath(this.deps.netnsDir, c.id) }, hosts: containerHosts({ hostname: c.hostname, extra: [] }), resolv: containerResolvConf(this.deps.hostResolv(), dns, []), mode: modeText };
  }

  /** docker's --link name[:alias]: the container must run now (docker's registerLinks), and when this one starts. */
  private async planLinks(specs: string[], mode: string, self: { id: string; name: string }): Promise<{ id: string; name: string; alias: string }[]> {
    if (!specs.length) return [];
    if (mode === 'host') throw new BrigError('INVALID_ARGUMENT', "conflicting options: host type networking can't be used with links. This would result in undefined behavior", { field: 'HostConfig.Links' });
    if (mode.startsWith('container:')) throw new BrigError('INVALID_ARGUMENT', "conflicting options: container type network can't be used with links. This would result in undefined behavior", { field: 'HostConfig.Links' });
    const out: { id: string; name: string; alias: string }[] = [];
    for (const spec of specs) {
      const [name = '', alias = name, extra] = spec.replace(/^\//, '').split(':');
      if (!name || !alias || extra !== undefined) throw new BrigError('INVALID_ARGUMENT', `invalid link format: ${spec}`, { field: 'HostConfig.Links', hint: 'name or name:alias' });
      const target = await this.deps.lookupContainer(name).catch((e: BrigError) => {
        throw new BrigError(e.code ?? 'CONTAINER_NOT_FOUND', `could not get container for ${name}`, { field: 'HostConfig.Links', cause: e });
      });
      if (target.id === self.id) throw new BrigError('INVALID_ARGUMENT', 'cannot link a container to itself', { field: 'HostConfig.Links' });
      const link = { id: target.id, name: target.name.replace(/^\//, ''), alias: alias.replace(/^\//, '') };
      if (!target.pid) throw new BrigError('CONTAINER_NOT_RUNNING', `Cannot link to a non running container: /${link.name} AS /${self.name}/${link.alias}`, { field: 'HostConfig.Links' });
      out.push(link);
    }
    return out;
  }

  /**
   * /etc/hosts lines for the links: the other container's address on a network both are on.
   * At start (`strict`) a linked container that does not run is docker's error; on a later
   * rewrite (connect, disconnect) its line is left out.
   */
  private async linkHosts(s: ContainerNetwork, strict: boolean): Promise<[string, string][]> {
    const out: [string, string][] = [];
    for (const l of s.links ?? []) {
      const other = await this.readState(l.id);
      const shared = Object.values(other?.netns ? other.endpoints : {}).find((ep) => ep.IPAddress && Object.values(s.endpoints).some((mine) => mine.NetworkID === ep.NetworkID));
      if (!shared && !strict) continue;
      if (!shared) throw new BrigError('CONTAINER_NOT_RUNNING', `Cannot link to a non running container: /${l.name} AS /${s.name}/${l.alias}`, { field: 'HostConfig.Links', hint: 'start it first; both must be on one network' });
      out.push([shared.IPAddress, `${l.alias} ${l.id.slice(0, 12)} ${l.name}`]);
    }
    return out;
  }

  private endpoint(n: NetworkRecord, aliases: string[], ip: string | undefined, mac?: string): EndpointState {
    if (aliases.length && n.Name === DEFAULT_NETWORK) {
      throw new BrigError('INVALID_ARGUMENT', 'network-scoped aliases are only supported for user-defined networks', { field: '--network-alias' });
    }
    if (ip !== undefined && ip !== '') {
      const subnet = parseCidr(n.IPAM.Config[0]!.Subnet, 'subnet');
      if (!isIPv4(ip)) throw new BrigError('INVALID_ARGUMENT', `invalid IPv4 address: ${ip}`, { field: '--ip' });
      if (!contains(subnet, ipToInt(ip))) throw new BrigError('ADDRESS_IN_USE', `no configured subnet contains IP address ${ip} (network ${n.Name} has ${n.IPAM.Config[0]!.Subnet})`, { field: '--ip' });
      if (n.Name === DEFAULT_NETWORK) throw new BrigError('INVALID_ARGUMENT', 'user specified IP address is supported on user defined networks only', { field: '--ip' });
    }
    if (mac !== undefined && mac !== '') {
      // A unicast address of six octets: the kernel refuses a multicast one on an interface.
      if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac)) throw new BrigError('INVALID_ARGUMENT', `${mac} is not a valid mac address`, { field: 'MacAddress' });
      if (parseInt(mac.slice(0, 2), 16) & 1) throw new BrigError('INVALID_ARGUMENT', `${mac} is a multicast address: an interface needs a unicast one`, { field: 'MacAddress' });
    }
    return { NetworkID: n.Id, Aliases: aliases, IPAMConfig: ip ? { IPv4Address: ip } : null, ...(mac ? { MacConfig: mac.toLowerCase() } : {}), IPAddress: '', IPPrefixLen: 0, Gateway: '', MacAddress: '', ifname: '' };
  }

  /** A container runs, or a live brig is setting its network up right now (before its record says so). */
  private async active(id: string): Promise<boolean> {
    const owner = parseOwner((await this.readState(id).catch(() => undefined))?.owner ?? '');
    if (owner && ownerAlive(owner)) return true;
    return this.deps.isActive(id);
  }

  /** Addresses and ports held by containers that still run; the others' are dropped. */
  private async liveAllocations(): Promise<Allocations> {
    const a = await this.store.allocations();
    const holders = new Set([...Object.values(a.ports), ...Object.values(a.ips).flatMap((m) => Object.values(m))]);
    const dead = new Set<string>();
    for (const id of holders) if (!(await this.active(id))) dead.add(id);
    const ports = Object.fromEntries(Object.entries(a.ports).filter(([, id]) => !dead.has(id)));
    const ips = Object.fromEntries(Object.entries(a.ips).map(([net, m]) => [net, Object.fromEntries(Object.entries(m).filter(([, id]) => !dead.has(id)))]));
    return { ips, ports };
  }

  private allocateIp(a: Allocations, n: NetworkRecord, id: string, wanted: string | undefined): string {
    const cfg = n.IPAM.Config[0]!;
    const subnet = parseCidr(cfg.Subnet, 'subnet');
    const range = cfg.IPRange ? parseCidr(cfg.IPRange, 'ip-range') : subnet;
    const held = (a.ips[n.Id] ??= {});
    const gw = ipToInt(cfg.Gateway);
    if (wanted) {
      const owner = held[wanted];
      if ((owner && owner !== id) || ipToInt(wanted) === gw) throw new BrigError('ADDRESS_IN_USE', `Address already in use: ${wanted} on network ${n.Name}`, { field: '--ip' });
      held[wanted] = id;
      return wanted;
    }
    for (let ip = Math.max(range.base, subnet.base + 1); ip < Math.min(range.base + range.size, subnet.base + subnet.size - 1); ip++) {
      const text = intToIp(ip);
      if (ip === gw || (held[text] && held[text] !== id)) continue;
      held[text] = id;
      return text;
    }
    throw new BrigError('ADDRESS_IN_USE', `no address left on network ${n.Name} (${cfg.IPRange ?? cfg.Subnet})`);
  }

  private static release(a: Allocations, id: string, networkId?: string): void {
    for (const [net, m] of Object.entries(a.ips)) {
      if (networkId && net !== networkId) continue;
      for (const [ip, owner] of Object.entries(m)) if (owner === id) delete m[ip];
    }
    if (!networkId) for (const [k, owner] of Object.entries(a.ports)) if (owner === id) delete a.ports[k];
  }

  private backendNetwork(n: NetworkRecord): BackendNetwork {
    const o = n.Options;
    const options: Record<string, string> = {};
    if (o['com.docker.network.driver.mtu']) options.mtu = o['com.docker.network.driver.mtu'];
    if (o.mtu) options.mtu = o.mtu;
    // Every network is isolated from the others, as docker's bridges are (isolation.ts).
    options.isolate = 'true';
    return { name: n.Name, id: n.Id, bridge: n.brig.bridge, subnet: n.IPAM.Config[0]!.Subnet, gateway: n.IPAM.Config[0]!.Gateway, internal: n.Internal, dns: n.brig.dns, options };
  }

  private attachment(n: NetworkRecord, s: ContainerNetwork, id: string, ep: EndpointState, ifname: string): BackendAttachment {
    const aliases = n.brig.dns ? [...new Set([s.name, ...ep.Aliases, id.slice(0, 12)])] : [];
    return { network: this.backendNetwork(n), ip: ep.IPAddress, ifname, aliases, ...(ep.MacConfig ? { mac: ep.MacConfig } : {}) };
  }

  private request(id: string, s: ContainerNetwork, netns: string, attachments: BackendAttachment[], ports: PortMapping[]): SetupRequest {
    return { containerId: id, containerName: s.name, netns, attachments, ports };
  }

  /** The backend request for what network.json says is set up (for teardown). */
  private async currentRequest(id: string, s: ContainerNetwork): Promise<SetupRequest | undefined> {
    if (!s.netns) return undefined;
    const records = await this.store.list();
    const attachments: BackendAttachment[] = [];
    for (const [name, ep] of Object.entries(s.endpoints)) {
      const n = records.find((r) => r.Id === ep.NetworkID);
      if (!n || !ep.ifname || !ep.IPAddress) continue;
      attachments.push(this.attachment(n, s, id, ep, ep.ifname));
      void name;
    }
    return this.request(id, s, s.netns, attachments, s.ports);
  }

  private async writeEtc(id: string, s: ContainerNetwork, dnsServers: string[], opts: { starting?: boolean } = {}): Promise<void> {
    const dir = this.deps.containerDir(id);
    const first = Object.values(s.endpoints).find((e) => e.IPAddress);
    const hosts = containerHosts({ hostname: s.hostname, domainname: s.domainname, ...(first ? { ip: first.IPAddress, gateway: first.Gateway } : {}), extra: s.extraHosts, links: await this.linkHosts(s, opts.starting === true) });
    await fs.writeFile(path.join(dir, 'hosts'), hosts);
    await fs.writeFile(path.join(dir, 'resolv.conf'), containerResolvConf(this.deps.hostResolv(), s.dns, dnsServers));
  }

  /** The resolvers of the networks the container is on now (their gateways, where aardvark-dns listens). */
  private async resolversOf(s: ContainerNetwork): Promise<string[]> {
    const records = await this.store.list();
    return Object.values(s.endpoints).flatMap((ep) => {
      const n = records.find((r) => r.Id === ep.NetworkID);
      return n?.brig.dns && ep.IPAddress ? [ep.Gateway || n.IPAM.Config[0]!.Gateway] : [];
    });
  }

  private teardownFile(id: string): string {
    return path.join(this.deps.containerDir(id), 'network-teardown.json');
  }

  /**
   * start: the namespace, addresses and ports, the backend's setup, the etc files. Returns
   * the argv the monitor runs when the container ends for good (undefined without a network).
   * A failure leaves nothing set up.
   */
  async attach(id: string): Promise<TeardownCommand | undefined> {
    return (await this.begin(id)).wired;
  }

  /**
   * attach in two steps, for a caller that starts the container meanwhile (run --rm: the
   * backend's setup is the longest step of a start, and the runtime's own work until init is
   * set up needs only the namespace file). Resolves once the namespace file exists (or, for
   * container: mode, once config.json names the other's); `wired` settles when the backend's
   * setup and the etc files are done, and the program must not run before. A failure of
   * either step leaves nothing set up. A caller that gives up waits for `wired` to settle
   * before it detaches: a setup still under way would outlive the teardown.
   */
  async begin(id: string): Promise<{ wired: Promise<TeardownCommand | undefined>; detach: () => Promise<void> }> {
    const none = { wired: Promise.resolve(undefined), detach: () => this.detach(id) };
    const s = await this.readState(id);
    if (!s) return none;
    if (s.mode === 'container') {
      await this.joinContainer(id, s);
      return none;
    }
    if (s.mode !== 'bridge') return none;
    // Whatever the last run left (a monitor's teardown does not free the namespace file).
    // Nothing when no setup is recorded: detach clears `netns` last, after the file is gone.
    if (s.netns !== undefined) await this.detach(id);
    const netns = netnsPath(this.deps.netnsDir, id);
    const fresh = s.netns !== undefined ? (await this.readState(id))! : s;
    let made = false;
    const undo = async (e: unknown): Promise<never> => {
      await this.detach(id, { setupFailed: made }).catch(() => undefined);
      throw e;
    };
    let req: SetupRequest;
    let setup: () => Promise<SetupResult>;
    try {
      req = await this.store.locked(async () => {
        const a = await this.liveAllocations();
        NetworkService.release(a, id);
        const records = await this.store.list();
        const attachments: BackendAttachment[] = [];
        let i = 0;
        const joined = Object.entries(fresh.endpoints).map(([name, ep]) => {
          const n = records.find((r) => r.Id === ep.NetworkID);
          if (!n) throw new BrigError('NETWORK_NOT_FOUND', `network ${name} not found`, { hint: `it was removed after the container was made: brig network create ${name}, or disconnect it` });
          return n;
        });
        await this.ensureClaims(joined);
        for (const [k, ep] of Object.values(fresh.endpoints).entries()) {
          const n = joined[k]!;
          ep.IPAddress = this.allocateIp(a, n, id, ep.IPAMConfig?.IPv4Address);
          ep.ifname = `eth${i++}`;
          attachments.push(this.attachment(n, fresh, id, ep, ep.ifname));
        }
        const ports = await resolvePorts(fresh.bindings, (proto, port) => a.ports[`${proto}/${port}`] !== undefined && a.ports[`${proto}/${port}`] !== id);
        for (const p of ports) a.ports[`${p.protocol}/${p.hostPort}`] = id;
        await this.store.saveAllocations(a);
        fresh.ports = ports;
        fresh.netns = netns;
        fresh.owner = formatOwner(currentOwner());
        // Written before the setup, so that a killed brig's half-done setup is found and undone.
        await this.writeState(id, fresh);
        return this.request(id, fresh, netns, attachments, ports);
      });
      // One process makes the namespace and wires it where the backend can (brig's bridge driver).
      await fs.mkdir(path.dirname(netns), { recursive: true, mode: 0o700 });
      const fused = this.deps.backend.setupNewNetns?.(req);
      if (fused) {
        made = true;
        await fused.made;
        setup = () => fused.done;
      } else {
        await createNetns(netns);
        made = true;
        setup = () => this.deps.backend.setup(req);
      }
    } catch (e) {
      return undo(e);
    }
    const wired = (async () => {
      const result = await setup();
      for (const r of result.attachments) {
        const ep = fresh.endpoints[r.network]!;
        Object.assign(ep, { IPAddress: r.ip, IPPrefixLen: r.prefixLen, Gateway: r.gateway, MacAddress: r.mac });
      }
      await this.writeState(id, fresh);
      // Written in place: a container that has bind-mounted them already sees the new text.
      await this.writeEtc(id, fresh, result.dnsServers, { starting: true });
      return this.deps.backend.teardownCommand(req, this.teardownFile(id));
    })().catch(undo);
    // The caller that made the setup knows it: its teardown starts at once, with nothing to read back first.
    const detach = async () => {
      await wired.catch(() => undefined);
      await this.deps.backend.teardown(req, { releaseNetns: true }).catch(() => undefined);
      await this.detach(id, { tornDown: fresh });
    };
    return { wired, detach };
  }

  /** container:NAME: the other container's namespace and its hosts and resolv.conf, at each start. */
  private async joinContainer(id: string, s: ContainerNetwork): Promise<void> {
    const target = await this.deps.lookupContainer(s.container!);
    if (!target.pid) throw new BrigError('CONTAINER_NOT_RUNNING', `cannot join network of a non running container: ${target.name}`, { field: 'HostConfig.NetworkMode' });
    const other = await this.readState(target.id);
    const ns = other?.netns && (await netnsMounted(other.netns)) ? other.netns : `/proc/${target.pid}/ns/net`;
    const dir = this.deps.containerDir(id);
    const cfgFile = path.join(dir, 'config.json');
    const spec = JSON.parse(await fs.readFile(cfgFile, 'utf8')) as { linux: { namespaces: { type: string; path?: string }[] } };
    spec.linux.namespaces = spec.linux.namespaces.map((n) => (n.type === 'network' ? { type: 'network', path: ns } : n));
    await fs.writeFile(cfgFile, JSON.stringify(spec));
    const from = this.deps.containerDir(target.id);
    for (const f of ['hosts', 'resolv.conf']) await fs.writeFile(path.join(dir, f), await fs.readFile(path.join(from, f)));
  }

  /**
   * stop, rm, sweep: the backend's teardown of what network.json says is set up, the
   * namespace file, the allocations. Idempotent.
   */
  async detach(id: string, opts: { setupFailed?: boolean; tornDown?: ContainerNetwork } = {}): Promise<void> {
    // tornDown: the caller ran the backend's teardown of this state already (begin's detach).
    const s = opts.tornDown ?? (await this.readState(id));
    const netns = s?.netns ?? netnsPath(this.deps.netnsDir, id);
    if (!opts.tornDown && s?.netns && (await netnsMounted(s.netns))) {
      const req = await this.currentRequest(id, s);
      // A teardown the monitor already ran fails on what is gone; what is left still goes.
      // The namespace goes next: the backend may take it off in the same process.
      if (req) await this.deps.backend.teardown(req, { releaseNetns: true }).catch(() => undefined);
    }
    // The backend's shared leftovers go with the last namespace, beside the rest of this.
    // Only after a network this container had: a --network none container pays nothing.
    const idle = s?.netns && (await listNetns(this.deps.netnsDir)).every((n) => n === id) ? this.deps.backend.idle() : undefined;
    try {
      await removeNetns(netns);
      await this.store.locked(async () => {
        const a = await this.store.allocations();
        NetworkService.release(a, id);
        await this.store.saveAllocations(a);
      });
      if (s) {
        for (const ep of Object.values(s.endpoints)) Object.assign(ep, { IPAddress: '', IPPrefixLen: 0, Gateway: '', MacAddress: '', ifname: '' });
        const { netns: _n, owner: _o, ...rest } = s;
        await this.writeState(id, { ...rest, ports: [] }).catch((e: unknown) => {
          if (!hasErrno(e, 'ENOENT')) throw e;
        });
      }
      await fs.rm(this.teardownFile(id), { force: true });
    } finally {
      await idle;
    }
  }

  /** docker network connect: on a running container the interface is there at once. */
  async connect(id: string, ref: string, opts: { aliases?: string[]; ip?: string; running: boolean }): Promise<void> {
    const s = await this.readState(id);
    if (!s || s.mode !== 'bridge') throw new BrigError('INVALID_ARGUMENT', `container cannot be connected to networks with network mode "${s?.mode ?? 'none'}"`);
    const n = await this.store.find(ref);
    if (s.endpoints[n.Name]) throw new BrigError('INVALID_ARGUMENT', `endpoint with name ${s.name} already exists in network ${n.Name}`);
    const ep = this.endpoint(n, opts.aliases ?? [], opts.ip);
    if (!opts.running || !s.netns || !(await netnsMounted(s.netns))) {
      s.endpoints[n.Name] = ep;
      await this.writeState(id, s);
      return;
    }
    const used = new Set(Object.values(s.endpoints).map((e) => e.ifname));
    let i = 0;
    while (used.has(`eth${i}`)) i++;
    ep.ifname = `eth${i}`;
    await this.store.locked(async () => {
      await this.ensureClaims([n]);
      const a = await this.liveAllocations();
      ep.IPAddress = this.allocateIp(a, n, id, opts.ip);
      await this.store.saveAllocations(a);
    });
    const one = this.request(id, s, s.netns, [this.attachment(n, s, id, ep, ep.ifname)], []);
    try {
      const result = await this.deps.backend.setup(one);
      const r = result.attachments[0]!;
      Object.assign(ep, { IPAddress: r.ip, IPPrefixLen: r.prefixLen, Gateway: r.gateway, MacAddress: r.mac });
    } catch (e) {
      await this.store.locked(async () => {
        const a = await this.store.allocations();
        NetworkService.release(a, id, n.Id);
        await this.store.saveAllocations(a);
      });
      throw e;
    }
    s.endpoints[n.Name] = ep;
    await this.writeState(id, s);
    // Its names resolve at once, as docker's embedded DNS starts answering for the new network.
    await this.writeEtc(id, s, await this.resolversOf(s));
    const all = await this.currentRequest(id, s);
    if (all) await this.deps.backend.teardownCommand(all, this.teardownFile(id));
  }

  async disconnect(id: string, ref: string): Promise<void> {
    const s = await this.readState(id);
    const n = await this.store.find(ref);
    const ep = s?.endpoints[n.Name];
    if (!s || !ep) throw new BrigError('INVALID_ARGUMENT', `container ${id.slice(0, 12)} is not connected to network ${n.Name}`);
    if (s.netns && ep.ifname && (await netnsMounted(s.netns))) {
      await this.deps.backend.teardown(this.request(id, s, s.netns, [this.attachment(n, s, id, ep, ep.ifname)], []));
    }
    delete s.endpoints[n.Name];
    await this.store.locked(async () => {
      const a = await this.store.allocations();
      NetworkService.release(a, id, n.Id);
      await this.store.saveAllocations(a);
    });
    await this.writeState(id, s);
    if (s.netns) await this.writeEtc(id, s, await this.resolversOf(s));
    const all = await this.currentRequest(id, s);
    if (all) await this.deps.backend.teardownCommand(all, this.teardownFile(id));
  }

  /**
   * Engine start: every namespace file whose container does not run is torn down (a killed
   * brig's, or a container whose monitor ended it), and so are the backend's shared leftovers.
   */
  async sweep(): Promise<void> {
    // Every brig command opens the engine and so sweeps: only what a killed brig left costs anything.
    await this.deps.backend.sweep();
    let swept = 0;
    for (const id of await listNetns(this.deps.netnsDir)) {
      if (await this.active(id)) continue;
      await this.detach(id).catch(() => undefined);
      swept++;
    }
    // A container that exited on its own had its network torn down by its monitor, which does
    // not clean up the shared chains: the next command does, when nothing uses them.
    if ((swept > 0 || this.deps.backend.mayHaveChains()) && (await listNetns(this.deps.netnsDir)).length === 0) await this.deps.backend.idle().catch(() => undefined);
  }
}
