/** The pure parts of networking: -p parsing, /etc/hosts and resolv.conf, subnets and host routes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerHosts, parseExtraHost } from '../../../src/engine/network/hosts.js';
import { NetavarkBackend } from '../../../src/engine/network/netavark.js';
import { hostRoutes, overlaps, parseCidr } from '../../../src/engine/network/ipv4.js';
import { parsePortSpec, parsePortSpecs, portsView, publishAll } from '../../../src/engine/network/ports.js';
import { containerResolvConf } from '../../../src/engine/network/resolv.js';

test('-p as docker parses it: ip, host port, ranges, protocol; bad specs name the flag', () => {
  assert.deepEqual(parsePortSpec('127.0.0.1:18080:80'), [{ port: '80/tcp', binding: { HostIp: '127.0.0.1', HostPort: '18080' } }]);
  assert.deepEqual(parsePortSpec('80'), [{ port: '80/tcp', binding: { HostIp: '', HostPort: '' } }]);
  assert.deepEqual(parsePortSpec('53:53/udp'), [{ port: '53/udp', binding: { HostIp: '', HostPort: '53' } }]);
  assert.deepEqual(parsePortSpec('[::1]:8080:80'), [{ port: '80/tcp', binding: { HostIp: '::1', HostPort: '8080' } }]);
  assert.deepEqual(parsePortSpec('8000-8001:80-81').map((x) => `${x.binding.HostPort}->${x.port}`), ['8000->80/tcp', '8001->81/tcp']);
  assert.deepEqual(parsePortSpec('8000-8010:80'), [{ port: '80/tcp', binding: { HostIp: '', HostPort: '8000-8010' } }]);
  assert.deepEqual(parsePortSpec('127.0.0.1::80'), [{ port: '80/tcp', binding: { HostIp: '127.0.0.1', HostPort: '' } }]);
  for (const bad of ['80/sctp', '70000:80', '1:2:3:4', 'x:80', '8000-8002:80-81', '300.1.1.1:80:80', '', '80-70']) {
    assert.throws(() => parsePortSpec(bad), (e: Error & { field?: string }) => /invalid port specification/.test(e.message) && e.field === '--publish', bad);
  }
  const { exposed, bindings } = parsePortSpecs(['80', '127.0.0.1:81:80']);
  assert.deepEqual(Object.keys(exposed), ['80/tcp']);
  assert.equal(bindings['80/tcp']!.length, 2);
  assert.deepEqual(publishAll({ '80/tcp': {}, '443/tcp': {} }, { '80/tcp': [{ HostIp: '', HostPort: '8080' }] })['443/tcp'], [{ HostIp: '', HostPort: '' }]);
  assert.deepEqual(portsView({ '443/tcp': {} }, [{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp', range: 1 }]), { '443/tcp': null, '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] });
});

test('/etc/hosts: docker defaults, --add-host (host-gateway), then the container', () => {
  const text = containerHosts({ hostname: 'web', ip: '10.89.0.2', gateway: '10.89.0.1', extra: ['db:10.0.0.9', 'host.docker.internal:host-gateway'] });
  assert.match(text, /^127\.0\.0\.1\tlocalhost\n/);
  assert.ok(text.endsWith('10.0.0.9\tdb\n10.89.0.1\thost.docker.internal\n10.89.0.2\tweb\n'), text);
  // Legacy links between the --add-host lines and the container's own.
  const linked = containerHosts({ hostname: 'web', ip: '10.88.0.3', extra: ['db:10.0.0.9'], links: [['10.88.0.2', 'w 0123456789ab lweb']] });
  assert.ok(linked.endsWith('10.0.0.9\tdb\n10.88.0.2\tw 0123456789ab lweb\n10.88.0.3\tweb\n'), linked);
  assert.throws(() => parseExtraHost('nohost'), /bad format for add-host/);
  assert.throws(() => parseExtraHost('a:300.0.0.1'), /invalid IP address/);
});

test("netavark's request: networks by their ids (names are per data root), options (isolate) as given, a MAC address asked for as static_mac and none otherwise", () => {
  const network = { name: 'bridge', id: 'a'.repeat(64), bridge: 'brig7', subnet: '10.89.7.0/24', gateway: '10.89.7.1', internal: false, dns: true, options: { isolate: 'true' } };
  const other = { ...network, name: 'm', id: 'b'.repeat(64) };
  const req = { containerId: 'c'.repeat(64), containerName: 'web', netns: '/run/brig/netns/x', ports: [], attachments: [{ network, ip: '10.89.7.2', ifname: 'eth0', aliases: ['web'], mac: '02:42:ac:11:00:99' }, { network: other, ip: '10.89.7.3', ifname: 'eth1', aliases: [] }] };
  const o = NetavarkBackend.options(req);
  const [n, m] = ['brig-aaaaaaaaaaaaaaaa', 'brig-bbbbbbbbbbbbbbbb'];
  assert.deepEqual(Object.keys(o.networks), [n, m]);
  assert.equal(o.networks[n]!.static_mac, '02:42:ac:11:00:99');
  assert.equal('static_mac' in o.networks[m]!, false);
  assert.deepEqual((o.network_info[n] as { name: string; options: Record<string, string> }).options, { isolate: 'true' });
  assert.equal((o.network_info[n] as { name: string }).name, n);
});

test('resolv.conf: the network resolver first; --dns, --dns-search, --dns-option replace the host lines', () => {
  const host = 'search example.org\nnameserver 127.0.0.53\nnameserver 10.0.0.2\noptions edns0\n';
  assert.equal(containerResolvConf(host, {}, ['10.89.0.1']), 'search example.org\nnameserver 10.89.0.1\noptions edns0\n');
  assert.equal(containerResolvConf(host, {}, []), 'search example.org\nnameserver 10.0.0.2\noptions edns0\n');
  assert.equal(containerResolvConf(host, { servers: ['1.1.1.1'], search: ['a.b'], options: ['ndots:2'] }, []), 'search a.b\nnameserver 1.1.1.1\noptions ndots:2\n');
});

test('subnets: parsing, overlap, and the host routes from /proc/net/route', () => {
  assert.throws(() => parseCidr('10.0.0.1/24', '--subnet'), /host bits set/);
  assert.throws(() => parseCidr('10.0.0.0/33', '--subnet'), /invalid CIDR/);
  assert.ok(overlaps(parseCidr('10.1.0.0/16', 's'), parseCidr('10.1.200.0/24', 's')));
  assert.ok(!overlaps(parseCidr('10.1.0.0/24', 's'), parseCidr('10.1.1.0/24', 's')));
  const table = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\neth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\neth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n';
  assert.deepEqual(hostRoutes(table), [parseCidr('192.0.2.0/24', 's')]);
});
