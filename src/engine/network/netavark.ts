/**
 * The netavark adapter: podman's network backend (netavark for bridges, veths, firewall
 * and port forwarding; aardvark-dns for names), driven by the JSON podman gives it
 * (`netavark --file opts.json setup|teardown <netns>`). Chosen over the CNI plugins by
 * measurement (README, "Networks"): about half the time per container, one binary instead of
 * a plugin chain, and a teardown that removes the bridge and stops the resolver with the
 * last container. netavark keeps the request it was given nowhere: brig writes it to the
 * container's directory, which is what lets the monitor run the teardown without Node.
 */
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import path from 'node:path';
import { BrigError } from '../../errors/index.js';
import type { AttachmentResult, NetworkBackend, SetupRequest, SetupResult } from './backend.js';
import { lockedArgv, runLocked } from './host-lock.js';
import { ensureIsolation, removeIsolation } from './isolation.js';
import { currentOwner, formatOwner, ownerAlive, parseOwner } from '../../util/owner.js';

/** Present from a setup until the shared chains are cleaned up (idle). */
const CHAINS_MARKER = '/run/brig/network.chains';

/** Where Debian (and podman's packages) put them. */
const SEARCH = ['/usr/lib/podman', '/usr/libexec/podman', '/usr/local/libexec/podman', '/usr/local/lib/podman'];

export interface NetavarkOptions {
  /** netavark's --config: aardvark-dns keeps its per-network files and pid here. */
  configDir: string;
  netavark?: string;
  aardvark?: string;
}

/** netavark's per-container options (podman's types.NetworkOptions). */
interface NetavarkOpts {
  container_id: string;
  container_name: string;
  port_mappings: { host_ip: string; container_port: number; host_port: number; range: number; protocol: string }[];
  networks: Record<string, { static_ips: string[]; aliases: string[]; interface_name: string; static_mac?: string }>;
  network_info: Record<string, unknown>;
}

type NetavarkStatus = Record<string, { dns_server_ips?: string[]; interfaces?: Record<string, { mac_address: string; subnets?: { ipnet: string; gateway?: string }[] }> }>;

function find(name: string, given?: string): string | undefined {
  if (given) return given;
  return SEARCH.map((d) => path.join(d, name)).find((p) => existsSync(p));
}

export class NetavarkBackend implements NetworkBackend {
  readonly name = 'netavark';
  private readonly netavark: string | undefined;
  private readonly aardvark: string | undefined;

  constructor(private readonly opts: NetavarkOptions) {
    this.netavark = find('netavark', opts.netavark);
    this.aardvark = find('aardvark-dns', opts.aardvark);
  }

  unavailable(): string | undefined {
    if (!this.netavark) return `netavark is not installed (looked in ${SEARCH.join(', ')})`;
    if (!this.aardvark) return `aardvark-dns is not installed (looked in ${SEARCH.join(', ')})`;
    return undefined;
  }

  private bin(): string {
    const why = this.unavailable();
    if (why) throw new BrigError('TOOL_MISSING', why, { hint: 'apt-get install netavark aardvark-dns' });
    return this.netavark!;
  }

  private base(): string[] {
    return ['--config', this.opts.configDir, '--aardvark-binary', this.aardvark!];
  }

  /**
   * The name netavark knows a network by: its firewall chains and aardvark-dns' files are
   * named from it, and they are the host's, so it is the network's id (unique on the host),
   * not the name the user gave (every data root has a network called `bridge`).
   */
  static netName(n: { id: string }): string {
    return `brig-${n.id.slice(0, 16)}`;
  }

  static options(req: SetupRequest): NetavarkOpts {
    const networks: NetavarkOpts['networks'] = {};
    const info: NetavarkOpts['network_info'] = {};
    for (const a of req.attachments) {
      const n = a.network;
      const name = NetavarkBackend.netName(n);
      networks[name] = { static_ips: [a.ip], aliases: a.aliases, interface_name: a.ifname, ...(a.mac ? { static_mac: a.mac } : {}) };
      info[name] = {
        name,
        id: n.id,
        driver: 'bridge',
        network_interface: n.bridge,
        subnets: [{ subnet: n.subnet, gateway: n.gateway }],
        ipv6_enabled: false,
        internal: n.internal,
        dns_enabled: n.dns,
        options: n.options,
        ipam_options: { driver: 'host-local' },
      };
    }
    return {
      container_id: req.containerId,
      container_name: req.containerName,
      port_mappings: req.ports.map((p) => ({ host_ip: p.hostIp, container_port: p.containerPort, host_port: p.hostPort, range: p.range, protocol: p.protocol })),
      networks,
      network_info: info,
    };
  }

  private async call(verb: 'setup' | 'teardown', req: SetupRequest, signal?: AbortSignal): Promise<string> {
    const bin = this.bin();
    await fs.mkdir(this.opts.configDir, { recursive: true, mode: 0o700 });
    const file = path.join(this.opts.configDir, `${req.containerId}.${verb}.${formatOwner(currentOwner())}.json`);
    await fs.writeFile(file, JSON.stringify(NetavarkBackend.options(req)), { mode: 0o600 });
    try {
      const { stdout } = await runLocked([bin, ...this.base(), '--file', file, verb, req.netns], signal ? { signal } : {});
      // After netavark's: its jumps go in at the top of FORWARD, and brig's must come first.
      if (verb === 'setup') await ensureIsolation();
      return stdout;
    } catch (e) {
      const err = e as Error & { stdout?: string; stderr?: string };
      // netavark reports {"error": "..."} on stdout; its stderr carries syslog noise.
      let msg = err.message;
      try {
        msg = (JSON.parse(err.stdout ?? '') as { error: string }).error;
      } catch {}
      throw new BrigError('SYSTEM', `netavark ${verb}: ${msg}`, { cause: e });
    } finally {
      await fs.rm(file, { force: true });
    }
  }

  async setup(req: SetupRequest, opts: { signal?: AbortSignal } = {}): Promise<SetupResult> {
    // Said before the call: netavark may make its shared chains and then fail.
    writeFileSync(CHAINS_MARKER, '');
    const out = await this.call('setup', req, opts.signal);
    const status = JSON.parse(out) as NetavarkStatus;
    const attachments: AttachmentResult[] = [];
    const dns = new Set<string>();
    for (const a of req.attachments) {
      const s = status[NetavarkBackend.netName(a.network)];
      for (const d of s?.dns_server_ips ?? []) dns.add(d);
      const iface = s?.interfaces?.[a.ifname];
      const sub = iface?.subnets?.[0];
      const [ip = a.ip, prefix = a.network.subnet.split('/')[1]] = (sub?.ipnet ?? '').split('/');
      attachments.push({ network: a.network.name, ifname: a.ifname, mac: iface?.mac_address ?? '', ip: ip || a.ip, prefixLen: Number(prefix), gateway: sub?.gateway ?? a.network.gateway });
    }
    return { attachments, dnsServers: [...dns] };
  }

  async teardown(req: SetupRequest, opts: { signal?: AbortSignal } = {}): Promise<void> {
    if (req.attachments.length === 0) return;
    await this.call('teardown', req, opts.signal);
  }

  async teardownCommand(req: SetupRequest, file: string): Promise<{ argv: string[]; env: string[] }> {
    const bin = this.bin();
    await fs.writeFile(file, JSON.stringify(NetavarkBackend.options(req)), { mode: 0o600 });
    return { argv: lockedArgv([bin, ...this.base(), '--file', file, 'teardown', req.netns]), env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] };
  }

  /**
   * netavark leaves its shared chains (NETAVARK_FORWARD, NETAVARK-HOSTPORT-*) and the jumps to
   * them behind after the last container. They go one table at a time, each in one
   * iptables-restore transaction that removes the jumps and then the chains: the kernel
   * refuses to delete a chain that still holds a rule (another netavark user's) or is still
   * jumped to, and then the whole table's transaction is undone, so nothing of someone
   * else's is touched. Two processes in all, where a check and a command per chain took
   * twelve (~10 ms each here, and more while other iptables users fill the ruleset).
   */
  async idle(): Promise<void> {
    // A refused transaction (the chains in use, or gone already) is the expected outcome, not an error.
    await Promise.all([...SHARED_CHAIN_REMOVAL.map((rules) => runLocked(['iptables-restore', '-w', '-n'], { input: rules }).catch(() => undefined)), removeIsolation()]);
    rmSync(CHAINS_MARKER, { force: true });
  }

  /** Whether netavark may have left shared chains since the last clean-up (a file's existence: no process start). */
  mayHaveChains(): boolean {
    return existsSync(CHAINS_MARKER);
  }

  /** The request files (`<id>.<verb>.<pid>-<start>.json`) of a brig killed while netavark ran. */
  async sweep(): Promise<void> {
    // Synchronous: one small directory read at every brig start costs less than a thread-pool trip.
    let names: string[];
    try {
      names = readdirSync(this.opts.configDir);
    } catch {
      return;
    }
    for (const n of names) {
      const m = /^[0-9a-f]{64}\.(?:setup|teardown)\.(\d+-\d+)\.json$/.exec(n);
      const owner = m ? parseOwner(m[1]!) : undefined;
      if (owner && !ownerAlive(owner)) rmSync(path.join(this.opts.configDir, n), { force: true });
    }
  }
}

/**
 * idle()'s iptables-restore inputs, one transaction per table (one input would be one
 * transaction for both); the bench's clean-up runs them too.
 */
export const SHARED_CHAIN_REMOVAL = [
  ['*filter', '-D FORWARD -m comment --comment "netavark firewall plugin rules" -j NETAVARK_FORWARD', '-X NETAVARK_FORWARD', 'COMMIT', ''],
  [
    '*nat',
    '-D PREROUTING -m addrtype --dst-type LOCAL -j NETAVARK-HOSTPORT-DNAT',
    '-D OUTPUT -m addrtype --dst-type LOCAL -j NETAVARK-HOSTPORT-DNAT',
    '-X NETAVARK-HOSTPORT-DNAT',
    // MASQ and SETMARK hold netavark's one fixed rule each; only the jumps in DNAT chains reach SETMARK.
    '-D POSTROUTING -j NETAVARK-HOSTPORT-MASQ',
    '-F NETAVARK-HOSTPORT-MASQ',
    '-X NETAVARK-HOSTPORT-MASQ',
    '-F NETAVARK-HOSTPORT-SETMARK',
    '-X NETAVARK-HOSTPORT-SETMARK',
    'COMMIT',
    '',
  ],
].map((lines) => lines.join('\n'));
