/** brig's bridge driver, compiled: its ops and iptables rules, and the split between it and netavark. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BackendNetwork, NetworkBackend, SetupRequest, SetupResult } from '../../../src/engine/network/backend.js';
import { BridgeDriver, hostVeth, macFor, networkRules, portRules } from '../../../src/engine/network/bridge-driver.js';
import { SplitBackend } from '../../../src/engine/network/split-backend.js';

const SEP = '\x1f';
const net = (over: Partial<BackendNetwork> = {}): BackendNetwork => ({
  name: 'bridge',
  id: '969aeeadb14aeaac4d91459d9e511b090ca9467915624b13167b623d8ed4a1a0',
  bridge: 'brig0',
  subnet: '10.88.0.0/16',
  gateway: '10.88.0.1',
  internal: false,
  dns: false,
  options: { isolate: 'true' },
  ...over,
});
const ID = '2f279920'.padEnd(64, 'c');
const req = (over: Partial<SetupRequest> = {}): SetupRequest => ({
  containerId: ID,
  containerName: 'web',
  netns: `/run/brig/netns/${ID}`,
  attachments: [{ network: net(), ip: '10.88.0.5', ifname: 'eth0', aliases: [] }],
  ports: [],
  ...over,
});

test("a network's rules: docker's masquerade, isolation and forwarding, in chains named by its id, and their exact removal", () => {
  const { add, remove } = networkRules(net());
  assert.equal(
    add,
    [
      '*nat',
      ':BRIG-DNAT-969aeeadb14a - [0:0]',
      ':BRIG-SNAT-969aeeadb14a - [0:0]',
      '-A PREROUTING -m addrtype --dst-type LOCAL -j BRIG-DNAT-969aeeadb14a',
      '-A OUTPUT -m addrtype --dst-type LOCAL -j BRIG-DNAT-969aeeadb14a',
      '-A POSTROUTING -j BRIG-SNAT-969aeeadb14a',
      '-A BRIG-SNAT-969aeeadb14a -s 127.0.0.0/8 -o brig0 -j MASQUERADE',
      '-A BRIG-SNAT-969aeeadb14a -s 10.88.0.0/16 -o brig0 -m conntrack --ctstate DNAT -j MASQUERADE',
      '-A BRIG-SNAT-969aeeadb14a -s 10.88.0.0/16 ! -o brig0 -j MASQUERADE',
      'COMMIT',
      '*filter',
      ':BRIG-FWD-969aeeadb14a - [0:0]',
      '-I FORWARD -j BRIG-FWD-969aeeadb14a',
      '-A BRIG-FWD-969aeeadb14a -i brig0 -o brig0 -j ACCEPT',
      '-A BRIG-FWD-969aeeadb14a -i brig0 -o brig+ -j DROP',
      '-A BRIG-FWD-969aeeadb14a -i brig+ -o brig0 -j DROP',
      '-A BRIG-FWD-969aeeadb14a -o brig0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-A BRIG-FWD-969aeeadb14a -o brig0 -m conntrack --ctstate DNAT -j ACCEPT',
      '-A BRIG-FWD-969aeeadb14a -i brig0 -j ACCEPT',
      'COMMIT',
      '',
    ].join('\n'),
  );
  // Every jump the addition made is deleted, every chain flushed and removed.
  for (const line of add.split('\n').filter((l) => /^-[AI] (PREROUTING|OUTPUT|POSTROUTING|FORWARD) /.test(l))) assert.ok(remove.includes(line.replace(/^-[AI]/, '-D')), line);
  for (const chain of ['BRIG-DNAT-969aeeadb14a', 'BRIG-SNAT-969aeeadb14a', 'BRIG-FWD-969aeeadb14a']) assert.ok(remove.includes(`-F ${chain}\n-X ${chain}`), chain);
  // --internal: nothing in or out but within the bridge, no masquerade out of the subnet.
  const internal = networkRules(net({ internal: true })).add;
  assert.match(internal, /-A BRIG-FWD-969aeeadb14a -i brig0 -j DROP\n-A BRIG-FWD-969aeeadb14a -o brig0 -j DROP\nCOMMIT/);
  assert.doesNotMatch(internal, /! -o brig0 -j MASQUERADE|-i brig0 -j ACCEPT/);
});

test('published ports: one DNAT per port (ranges expanded), on the host address asked for; IPv6 refused', () => {
  const rules = portRules(net(), '10.88.0.5', [
    { hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp', range: 1 },
    { hostIp: '127.0.0.1', hostPort: 5353, containerPort: 53, protocol: 'udp', range: 2 },
  ]);
  assert.deepEqual(rules, [
    '-A BRIG-DNAT-969aeeadb14a -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.88.0.5:80',
    '-A BRIG-DNAT-969aeeadb14a -d 127.0.0.1/32 -p udp -m udp --dport 5353 -j DNAT --to-destination 10.88.0.5:53',
    '-A BRIG-DNAT-969aeeadb14a -d 127.0.0.1/32 -p udp -m udp --dport 5354 -j DNAT --to-destination 10.88.0.5:54',
  ]);
  assert.throws(() => portRules(net(), '10.88.0.5', [{ hostIp: '::1', hostPort: 80, containerPort: 80, protocol: 'tcp', range: 1 }]), (e: Error & { field?: string }) => /no IPv6/.test(e.message) && e.field === 'HostConfig.PortBindings');
});

test("the driver's ops: lock, bridge and its rules, sysctls, the veth with docker's MAC and the default route, ports; the teardown undoes them", () => {
  const d = new BridgeDriver({ binary: '/x/brig-net', markerDir: '/run/brig/bridge', lockFile: '/run/brig/network.lock' });
  const ports = [{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' as const, range: 1 }];
  const ops = d.setupOps(req({ ports }));
  const keys = ops.map((o) => o.slice(0, o.indexOf('=')));
  assert.deepEqual(keys, ['lock', 'bridge', 'new-rules', 'sysctl', 'sysctl', 'veth', 'rules']);
  assert.equal(ops[1], `bridge=brig0${SEP}10.88.0.1/16${SEP}0`);
  assert.equal(ops[3], `sysctl=net/ipv4/conf/brig0/route_localnet${SEP}1`);
  assert.equal(ops[5], `veth=veth2f279920${SEP}eth0${SEP}/run/brig/netns/${ID}${SEP}brig0${SEP}02:42:0a:58:00:05${SEP}0${SEP}10.88.0.5/16${SEP}10.88.0.1`);
  assert.match(ops[6]!, /^rules=\*nat\n-A BRIG-DNAT-969aeeadb14a -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.88.0.5:80\nCOMMIT\n$/);
  const down = d.teardownOps(req({ ports }));
  assert.deepEqual(
    down.map((o) => o.slice(0, o.indexOf('='))),
    ['lock', 'unrules', 'gc-bridge'],
  );
  assert.match(down[1]!, /^unrules=\*nat\n-D BRIG-DNAT-969aeeadb14a -p tcp/);
  assert.equal(down[2], `gc-bridge=brig0${SEP}${networkRules(net()).remove}${SEP}/run/brig/bridge/brig0${SEP}veth2f279920`);
  // The namespace file goes last, when asked for (the container ended for good).
  assert.equal(d.teardownOps(req(), { releaseNetns: true }).at(-1), `release=/run/brig/netns/${ID}`);
  // A second network: its own bridge, no default route; an internal one: no forwarding sysctl either.
  const two = d.setupOps(req({ attachments: [req().attachments[0]!, { network: net({ id: 'b'.repeat(64), bridge: 'brig3', subnet: '10.89.3.0/24', gateway: '10.89.3.1', internal: true }), ip: '10.89.3.2', ifname: 'eth1', aliases: [], mac: '02:00:00:00:00:01' }] }));
  assert.equal(two.at(-1), `veth=veth2f279921${SEP}eth1${SEP}/run/brig/netns/${ID}${SEP}brig3${SEP}02:00:00:00:00:01${SEP}0${SEP}10.89.3.2/24${SEP}-`);
  assert.equal(two.filter((o) => o === `sysctl=net/ipv4/ip_forward${SEP}1`).length, 1);
  assert.equal(hostVeth(ID, 'eth12'), 'veth2f2799212');
  assert.equal(macFor('172.17.0.2'), '02:42:ac:11:00:02');
});

/** Every fake's calls in the order made. */
const log: string[] = [];

class Fake implements NetworkBackend {
  calls: string[] = [];
  constructor(
    readonly name: string,
    private readonly fail = false,
  ) {}
  unavailable() {
    return undefined;
  }
  async setup(r: SetupRequest): Promise<SetupResult> {
    this.calls.push(`setup ${r.attachments.map((a) => a.ifname).join(',')} ports=${r.ports.length}`);
    if (this.fail) throw new Error(`${this.name} failed`);
    return { attachments: r.attachments.map((a) => ({ network: a.network.name, ifname: a.ifname, mac: this.name, ip: a.ip, prefixLen: 24, gateway: a.network.gateway })), dnsServers: this.name === 'dns' ? [r.attachments[0]!.network.gateway] : [] };
  }
  async teardown(r: SetupRequest, opts: { releaseNetns?: boolean } = {}) {
    this.calls.push(`teardown ${r.attachments.map((a) => a.ifname).join(',')}${opts.releaseNetns ? ' release' : ''}`);
    log.push(`${this.name}: ${this.calls.at(-1)}`);
  }
  async teardownCommand(r: SetupRequest, file: string) {
    return { argv: [this.name, file, ...r.attachments.map((a) => a.ifname)], env: ['PATH=/bin'] };
  }
  async idle() {}
  mayHaveChains() {
    return false;
  }
  async sweep() {}
}

test('split backend: networks with DNS to one, the rest to the other; ports with the first network; results in interface order; a failure undoes the half made', async () => {
  const dnsNet = net({ name: 'app', id: 'c'.repeat(64), bridge: 'brig1', dns: true, gateway: '10.89.1.1' });
  const r = req({
    attachments: [
      { network: dnsNet, ip: '10.89.1.2', ifname: 'eth0', aliases: ['web'] },
      { network: net(), ip: '10.88.0.5', ifname: 'eth1', aliases: [] },
    ],
    ports: [{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp', range: 1 }],
  });
  const dns = new Fake('dns');
  const plain = new Fake('plain');
  const s = new SplitBackend(dns, plain);
  const out = await s.setup(r);
  assert.deepEqual(plain.calls, ['setup eth1 ports=0']);
  assert.deepEqual(dns.calls, ['setup eth0 ports=1']);
  assert.deepEqual(out.attachments.map((a) => `${a.ifname}:${a.mac}`), ['eth0:dns', 'eth1:plain']);
  assert.deepEqual(out.dnsServers, ['10.89.1.1']);
  const cmd = await s.teardownCommand(r, '/c/network-teardown.json');
  assert.deepEqual(cmd.argv, ['/bin/sh', '-c', "'plain' '/c/network-teardown.json' 'eth1'; 'dns' '/c/network-teardown.json.1' 'eth0'"]);
  assert.deepEqual((await s.teardownCommand(req(), '/f')).argv, ['plain', '/f', 'eth0']);
  // netavark's half first (it needs the namespace); the plain half may release it after.
  log.length = 0;
  await s.teardown(r, { releaseNetns: true });
  assert.deepEqual(log, ['dns: teardown eth0', 'plain: teardown eth1 release']);
  // The DNS half fails: the plain half is torn down again.
  const failing = new Fake('dns', true);
  const plain2 = new Fake('plain');
  await assert.rejects(new SplitBackend(failing, plain2).setup(r), /dns failed/);
  assert.deepEqual(plain2.calls, ['setup eth1 ports=0', 'teardown eth1']);
});
