/**
 * Bridges and subnets are the host's: two data roots never pick the same ones, even while
 * neither has a bridge up (no containers), and a network that lost its claim (a reboot
 * empties /run) claims again unless another root took its bridge or subnet meanwhile.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { HostClaims } from '../../../src/engine/network/host-claims.js';
import type { NetworkBackend } from '../../../src/engine/network/backend.js';
import { NetworkService } from '../../../src/engine/network/service.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'brig-claims-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const ROUTES = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n';

function service(root: string, claims: HostClaims): NetworkService {
  return new NetworkService({
    dir: path.join(root, 'networks'),
    netnsDir: path.join(root, 'netns'),
    backend: {} as NetworkBackend, // creating and removing networks never calls it
    hostResolv: () => '',
    containerDir: (id) => path.join(root, 'containers', id),
    containerIds: () => Promise.resolve([]),
    isActive: () => Promise.resolve(false),
    lookupContainer: () => Promise.reject(new Error('none')),
    routes: () => Promise.resolve(ROUTES),
    claims,
  });
}

const subnetOf = async (s: NetworkService, name: string) => {
  const n = await s.store.find(name);
  return `${n.brig.bridge} ${n.IPAM.Config[0]!.Subnet}`;
};

test('two data roots: different bridges and subnets for networks made while neither bridge is up; rm frees them', async () => {
  const claims = new HostClaims(path.join(tmp, 'claims1'));
  const a = service(path.join(tmp, 'a'), claims);
  const b = service(path.join(tmp, 'b'), claims);
  await a.create({ Name: 'net' });
  await b.create({ Name: 'net' });
  const [na, nb] = [await subnetOf(a, 'net'), await subnetOf(b, 'net')];
  assert.notEqual(na.split(' ')[0], nb.split(' ')[0], `bridges: ${na} / ${nb}`);
  assert.notEqual(na.split(' ')[1], nb.split(' ')[1], `subnets: ${na} / ${nb}`);
  // An explicit subnet another root holds is refused as docker refuses an overlap.
  await assert.rejects(b.create({ Name: 'x', IPAM: { Config: [{ Subnet: na.split(' ')[1]! }] } }), (e: Error & { code?: string }) => e.code === 'SUBNET_OVERLAP');
  await assert.rejects(b.create({ Name: 'y', Options: { 'com.docker.network.bridge.name': na.split(' ')[0]! } }), /another brig data root/);
  // Removed: its subnet is free for the other root.
  await a.remove('net');
  await b.create({ Name: 'again', IPAM: { Config: [{ Subnet: na.split(' ')[1]! }] } });
});

test("a root removed from disk holds nothing: its claims are stale and others take its subnet", async () => {
  const claims = new HostClaims(path.join(tmp, 'claims2'));
  const gone = path.join(tmp, 'gone');
  const a = service(gone, claims);
  await a.create({ Name: 'n', IPAM: { Config: [{ Subnet: '10.200.0.0/24' }] } });
  rmSync(gone, { recursive: true, force: true });
  await service(path.join(tmp, 'c'), claims).create({ Name: 'n', IPAM: { Config: [{ Subnet: '10.200.0.0/24' }] } });
});
