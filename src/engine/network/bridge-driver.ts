/**
 * brig's own bridge driver, for networks without a resolver (docker's default `bridge`, and
 * any network made with DNS off): the veth pair, the address and route in the container,
 * the bridge, and docker's firewall rules for the network and its published ports, compiled
 * here and carried out by native/net/net.c (`brig-net`) in one process per change.
 *
 * Why not netavark for these too: a `run --rm` on the default bridge spent ~470 ms in
 * netavark here, almost all of it in 79 `iptables` processes (it checks and makes the
 * network's chains anew at each setup, and removes them at the teardown of the bridge's last
 * container). docker makes a network's rules once and a container's veth with netlink. This
 * driver does the same: the network's chains in one iptables-restore transaction when its
 * bridge is made, a container's port rules in one more (only with published ports), and
 * both removed when the bridge goes with its last container, as netavark removes its.
 * Networks with DNS stay with netavark, whose aardvark-dns answers their names
 * (split-backend.ts picks per network).
 *
 * The rules, in iptables' own tables (so docker's and netavark's see them, and a FORWARD
 * policy of DROP, which dockerd sets, does not cut brig's containers off), per network
 * (k: the first 12 digits of its id):
 *
 *   nat     PREROUTING, OUTPUT (to a local address) -> BRIG-DNAT-k: one DNAT per published port
 *           POSTROUTING -> BRIG-SNAT-k: masquerade what leaves the subnet (not --internal),
 *           what a host's loopback client sends to a published port, and hairpin traffic
 *           (a container reaching a published port of its own network)
 *   filter  FORWARD (first) -> BRIG-FWD-k: within the bridge accepted; to or from another
 *           brig bridge dropped (docker's isolation between networks); --internal: nothing
 *           else in or out; else replies, published ports and the subnet's own traffic accepted
 *
 * A marker file per bridge (/run/brig/bridge/NAME) holds the removal of the network's rules,
 * written before the bridge is made: what a killed brig left is removed by `idle`.
 */
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BrigError } from '../../errors/index.js';
import { runNativeTool, type Spawner } from '../../native/spawner.js';
import { readTextSync } from '../../util/read-text.js';
import type { AttachmentResult, BackendAttachment, BackendNetwork, NetworkBackend, PortMapping, SetupRequest, SetupResult } from './backend.js';
import { NETWORK_LOCK } from './host-lock.js';

/** Where brig-net's execlp finds iptables-restore (the monitor's PATH, and Debian's). */
const IPTABLES_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** Longer than any setup takes from its marker to its bridge (brig-net waits for the network lock meanwhile). */
const SETUP_GRACE_MS = 60_000;

/** Separates an op's fields (rule text holds spaces and newlines). */
const SEP = '\x1f';

export interface BridgeDriverOptions {
  /** native/build/brig-net */
  binary: string;
  /** brig's launcher's spawner (src/native/spawner.ts), where this process has one. */
  spawner?: Spawner;
  /** Where the per-bridge markers live (/run/brig/bridge). */
  markerDir: string;
  lockFile?: string;
}

const op = (key: string, ...fields: (string | number)[]) => `${key}=${fields.join(SEP)}`;

/** The network's chains' names (iptables allows 28 characters). */
export function chainNames(n: { id: string }): { dnat: string; snat: string; fwd: string } {
  const k = n.id.slice(0, 12);
  return { dnat: `BRIG-DNAT-${k}`, snat: `BRIG-SNAT-${k}`, fwd: `BRIG-FWD-${k}` };
}

/** The network's rules, as one iptables-restore transaction per table, and their removal. */
export function networkRules(n: BackendNetwork): { add: string; remove: string } {
  const { dnat, snat, fwd } = chainNames(n);
  const b = n.bridge;
  const nat = [
    `-A BRIG-SNAT -s 127.0.0.0/8 -o ${b} -j MASQUERADE`,
    `-A BRIG-SNAT -s ${n.subnet} -o ${b} -m conntrack --ctstate DNAT -j MASQUERADE`,
    ...(n.internal ? [] : [`-A BRIG-SNAT -s ${n.subnet} ! -o ${b} -j MASQUERADE`]),
  ].map((l) => l.replace('BRIG-SNAT', snat));
  const filter = [
    `-i ${b} -o ${b} -j ACCEPT`,
    `-i ${b} -o brig+ -j DROP`,
    `-i brig+ -o ${b} -j DROP`,
    ...(n.internal
      ? [`-i ${b} -j DROP`, `-o ${b} -j DROP`]
      : [`-o ${b} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`, `-o ${b} -m conntrack --ctstate DNAT -j ACCEPT`, `-i ${b} -j ACCEPT`]),
  ].map((l) => `-A ${fwd} ${l}`);
  const jumps = {
    nat: [`PREROUTING -m addrtype --dst-type LOCAL -j ${dnat}`, `OUTPUT -m addrtype --dst-type LOCAL -j ${dnat}`, `POSTROUTING -j ${snat}`],
    filter: [`FORWARD -j ${fwd}`],
  };
  const add = [
    '*nat',
    `:${dnat} - [0:0]`,
    `:${snat} - [0:0]`,
    ...jumps.nat.map((j) => `-A ${j}`),
    ...nat,
    'COMMIT',
    '*filter',
    `:${fwd} - [0:0]`,
    // First in FORWARD: before docker's chains and a policy of DROP.
    ...jumps.filter.map((j) => `-I ${j}`),
    ...filter,
    'COMMIT',
    '',
  ].join('\n');
  const remove = [
    '*nat',
    ...jumps.nat.map((j) => `-D ${j}`),
    `-F ${dnat}`,
    `-X ${dnat}`,
    `-F ${snat}`,
    `-X ${snat}`,
    'COMMIT',
    '*filter',
    ...jumps.filter.map((j) => `-D ${j}`),
    `-F ${fwd}`,
    `-X ${fwd}`,
    'COMMIT',
    '',
  ].join('\n');
  return { add, remove };
}

/** A container's published ports on its first network: one DNAT each (docker expands ranges too). */
export function portRules(n: BackendNetwork, containerIp: string, ports: PortMapping[]): string[] {
  const { dnat } = chainNames(n);
  const out: string[] = [];
  for (const p of ports) {
    if (p.hostIp.includes(':')) {
      throw new BrigError('INVALID_ARGUMENT', `cannot publish ${p.containerPort}/${p.protocol} on ${p.hostIp}: network ${n.name} has no IPv6`, { field: 'HostConfig.PortBindings' });
    }
    const on = p.hostIp && p.hostIp !== '0.0.0.0' ? `-d ${p.hostIp}/32 ` : '';
    for (let i = 0; i < p.range; i++) {
      out.push(`-A ${dnat} ${on}-p ${p.protocol} -m ${p.protocol} --dport ${p.hostPort + i} -j DNAT --to-destination ${containerIp}:${p.containerPort + i}`);
    }
  }
  return out;
}

const natTransaction = (lines: string[], verb: '-A' | '-D') => ['*nat', ...lines.map((l) => l.replace(/^-A /, `${verb} `)), 'COMMIT', ''].join('\n');

/** The host's end of a container's veth: docker's `veth` and 7 hex digits, from the container's id, and the interface's number. */
export function hostVeth(containerId: string, ifname: string): string {
  return `veth${containerId.slice(0, 7)}${ifname.replace(/^eth/, '')}`;
}

/** docker's MAC address for an IPv4 address: 02:42 and the address's four bytes. */
export function macFor(ip: string): string {
  return ['02', '42', ...ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0'))].join(':');
}

export class BridgeDriver implements NetworkBackend {
  readonly name = 'brig-bridge';
  private readonly lock: string;
  private checked = false;

  constructor(private readonly opts: BridgeDriverOptions) {
    this.lock = opts.lockFile ?? NETWORK_LOCK;
  }

  unavailable(): string | undefined {
    if (!existsSync(this.opts.binary)) return `${this.opts.binary} is not built (npm run build)`;
    if (!IPTABLES_DIRS.some((d) => existsSync(path.join(d, 'iptables-restore')))) return `iptables-restore is not installed (looked in ${IPTABLES_DIRS.join(', ')})`;
    return undefined;
  }

  /** Before a setup: what is missing, as the error the user sees (not brig-net's exit half-way). */
  private check(): void {
    if (this.checked) return;
    const why = this.unavailable();
    if (why) throw new BrigError('TOOL_MISSING', `cannot set up the bridge network: ${why}`, { hint: existsSync(this.opts.binary) ? 'apt-get install iptables' : 'run `npm run build`' });
    this.checked = true;
  }

  private marker(n: BackendNetwork): string {
    return path.join(this.opts.markerDir, n.bridge);
  }

  /** The ops of a setup: each network's bridge (and rules, when made), then each veth, then the ports. */
  setupOps(req: SetupRequest): string[] {
    const ops = [op('lock', this.lock)];
    for (const a of req.attachments) {
      const n = a.network;
      const prefix = n.subnet.split('/')[1]!;
      const mtu = Number(n.options.mtu ?? 0) || 0;
      const rules = networkRules(n);
      ops.push(op('bridge', n.bridge, `${n.gateway}/${prefix}`, mtu), op('new-rules', rules.add, rules.remove));
      // What a published port on the host's loopback needs to be routed out of the bridge.
      ops.push(op('sysctl', `net/ipv4/conf/${n.bridge}/route_localnet`, 1));
      if (!n.internal) ops.push(op('sysctl', 'net/ipv4/ip_forward', 1));
      // Only the container's first interface routes by default (as docker's), whichever backend
      // wires the others (split-backend.ts); an internal network has no default route.
      const gw = a.ifname === 'eth0' && !n.internal ? n.gateway : '-';
      ops.push(op('veth', hostVeth(req.containerId, a.ifname), a.ifname, req.netns, n.bridge, a.mac ?? macFor(a.ip), mtu, `${a.ip}/${prefix}`, gw));
    }
    const ports = this.ports(req);
    if (ports.length) ops.push(op('rules', natTransaction(ports, '-A')));
    return ops;
  }

  private ports(req: SetupRequest): string[] {
    const first = req.attachments[0];
    return first && req.ports.length ? portRules(first.network, first.ip, req.ports) : [];
  }

  /**
   * The ops of a teardown: the ports' rules, then per network the container's veth, and the
   * bridge with it (one deletion in the kernel) when it was the last, with the network's
   * rules and marker.
   */
  teardownOps(req: SetupRequest, opts: { releaseNetns?: boolean } = {}): string[] {
    const ops = [op('lock', this.lock)];
    const ports = this.ports(req);
    if (ports.length) ops.push(op('unrules', natTransaction(ports, '-D')));
    for (const a of req.attachments) ops.push(op('gc-bridge', a.network.bridge, networkRules(a.network).remove, this.marker(a.network), hostVeth(req.containerId, a.ifname)));
    if (opts.releaseNetns) ops.push(op('release', req.netns));
    return ops;
  }

  /** Runs brig-net with `ops` (src/native/spawner.ts: through the launcher's spawner where there is one). */
  private async exec(ops: string[], onStdout?: (chunk: string) => void, signal?: AbortSignal): Promise<{ status: number; stderr: string }> {
    const r = await runNativeTool([this.opts.binary, ...ops], { spawner: this.opts.spawner, ...(onStdout ? { onStdout: (c: Buffer) => onStdout(c.toString('utf8')) } : {}), ...(signal ? { signal } : {}) });
    if (r.status < 0) throw new BrigError('HELPER_MISSING', `cannot run ${this.opts.binary}`, { path: this.opts.binary, hint: 'run `npm run build`' });
    return r;
  }

  private async run(ops: string[], what: string, signal?: AbortSignal): Promise<void> {
    const r = await this.exec(ops, undefined, signal);
    if (r.status !== 0) throw new BrigError('SYSTEM', `bridge ${what}: ${r.stderr.trim() || `brig-net exited with ${r.status}`}`);
  }

  /** Before a bridge can be made: a brig killed after it leaves a marker for idle(). */
  private writeMarkers(req: SetupRequest): void {
    mkdirSync(this.opts.markerDir, { recursive: true, mode: 0o700 });
    for (const a of req.attachments) writeFileSync(this.marker(a.network), networkRules(a.network).remove, { mode: 0o600 });
  }

  async setup(req: SetupRequest, opts: { signal?: AbortSignal } = {}): Promise<SetupResult> {
    this.check();
    const ops = this.setupOps(req);
    this.writeMarkers(req);
    try {
      await this.run(ops, 'setup', opts.signal);
    } catch (e) {
      await this.teardown(req).catch(() => undefined);
      throw e;
    }
    return BridgeDriver.result(req);
  }

  /**
   * The namespace and the setup in one brig-net: it says "netns" on stdout once the file holds
   * the namespace, and goes on wiring it while the caller starts the container (one process
   * where two took ~14 ms of Node's main thread each here).
   */
  setupNewNetns(req: SetupRequest): { made: Promise<void>; done: Promise<SetupResult> } {
    this.check();
    this.writeMarkers(req);
    let said!: () => void;
    const netnsMade = new Promise<void>((resolve) => (said = resolve));
    let out = '';
    const run = this.exec([op('netns', req.netns), ...this.setupOps(req)], (chunk) => {
      out += chunk;
      if (out.includes('netns\n')) said();
    });
    // Made once brig-net says so; not made if it ends first.
    const made = Promise.race([
      netnsMade,
      run.then((r) => {
        if (out.includes('netns\n')) return;
        throw new BrigError('SYSTEM', `cannot make a network namespace at ${req.netns}: ${r.stderr.trim() || 'brig-net exited'}`, { path: req.netns });
      }),
    ]);
    const done = run
      .then((r) => {
        if (r.status !== 0) throw new BrigError('SYSTEM', `bridge setup: ${r.stderr.trim() || `brig-net exited with ${r.status}`}`);
        return BridgeDriver.result(req);
      })
      .catch(async (e: unknown) => {
        await this.teardown(req).catch(() => undefined);
        throw e;
      });
    // Either may go unawaited when the other failed first.
    made.catch(() => undefined);
    done.catch(() => undefined);
    return { made, done };
  }

  private static result(req: SetupRequest): SetupResult {
    const attachments: AttachmentResult[] = req.attachments.map((a: BackendAttachment) => ({
      network: a.network.name,
      ifname: a.ifname,
      mac: a.mac ?? macFor(a.ip),
      ip: a.ip,
      prefixLen: Number(a.network.subnet.split('/')[1]),
      gateway: a.network.gateway,
    }));
    return { attachments, dnsServers: [] };
  }

  async teardown(req: SetupRequest, opts: { signal?: AbortSignal; releaseNetns?: boolean } = {}): Promise<void> {
    if (req.attachments.length === 0) return;
    await this.run(this.teardownOps(req, opts), 'teardown', opts.signal);
  }

  async teardownCommand(req: SetupRequest, _file: string): Promise<{ argv: string[]; env: string[] }> {
    return { argv: [this.opts.binary, ...this.teardownOps(req)], env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] };
  }

  /**
   * Bridges (and their rules) that a killed brig left: each marker's bridge, if it has no
   * port. Markers are the host's, shared by every data root: a bridge another root's
   * containers are on is left alone without a process start, and so is a marker younger than
   * a setup takes whose bridge is not there yet (a setup under way writes it first).
   */
  async idle(): Promise<void> {
    const ops = [op('lock', this.lock)];
    for (const b of this.markers()) {
      const file = path.join(this.opts.markerDir, b);
      let remove: string;
      let age: number;
      try {
        remove = readTextSync(file);
        age = Date.now() - statSync(file).mtimeMs;
      } catch {
        continue;
      }
      let ports: string[] | undefined;
      try {
        ports = readdirSync(`/sys/class/net/${b}/brif`);
      } catch {}
      if (ports ? ports.length > 0 : age < SETUP_GRACE_MS) continue;
      ops.push(op('gc-bridge', b, remove, file, ''));
    }
    if (ops.length > 1) await this.run(ops, 'clean-up');
  }

  mayHaveChains(): boolean {
    return this.markers().length > 0;
  }

  private markers(): string[] {
    try {
      return readdirSync(this.opts.markerDir);
    } catch {
      return [];
    }
  }

  /** Nothing of its own: a request is never kept in a file, and the markers are idle()'s. */
  async sweep(): Promise<void> {}
}
