/**
 * The volume and network endpoints of `brig serve`, driven by the unmodified docker CLI
 * (28.x), raw HTTP and dockerode, on the store the brig CLI uses: create, ls with filters,
 * inspect, rm (in use refused), prune (as each API version says), and network connect and
 * disconnect on a running container the brig CLI made, checked inside its network namespace.
 * Networks use their own subnets (10.231.x) and bridge names (brapi2*), so nothing here
 * meets another test's.
 *
 * Where brig and dockerd (20.10, Debian's docker.io) answer differently:
 *   - DELETE /networks/{id} of a network in use: both 403 (libnetwork's ActiveEndpointsError
 *     is errdefs.Forbidden); the API docs list 403 for the removal of a network docker refuses.
 *   - POST /networks/{id}/connect of a container in `--network none`: both refuse, dockerd as
 *     "container cannot be connected to multiple networks with one of the networks in private
 *     (none) mode", brig naming the mode.
 *   - GET /networks: dockerd lists its bridge, host and none networks always; brig has the
 *     default bridge once a container used it and no host/none records (they are modes).
 *   - POST /networks/create of a name that exists, from a client below 1.44 with
 *     CheckDuplicate false: dockerd 20.10 makes a second network of that name (201 with a
 *     Warning) and then answers "network X is ambiguous" for the name; brig refuses it 409 as
 *     docker does for every client since 1.44 (the docs: CheckDuplicate deprecated, always
 *     checked), since its containers' records name their networks.
 *   - GET /networks?filters={"type":["odd"]}: both say "invalid filter: 'type'='odd'",
 *     dockerd with 500, brig 400 (the docs: 400 for a bad parameter).
 *   - POST /networks/create with EnableIPv6: dockerd makes an IPv6 network; brig's bridge
 *     networks are IPv4 only and refuse it with a 400 naming the field, not ignoring it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import Docker from 'dockerode';
import { brigCli } from '../support/brig-cli.js';
import { dockerMissing, type Served, startServe } from '../support/brig-serve.js';
import { busyboxTar } from '../support/image-busybox.js';
import { requires } from '../support/requires.js';

const netavark = ['/usr/lib/podman/netavark', '/usr/libexec/podman/netavark'].some((p) => existsSync(p));
const skip = requires('root', 'helper', 'busybox') || dockerMissing();
const netSkip = skip || (netavark ? false : 'netavark is not installed');
const root = mkdtempSync(path.join(tmpdir(), 'brig-api-volnet-'));
const data = path.join(root, 'data');
const { brig, ok, traces } = brigCli(data);
const IMAGE = 'localhost/vn:1';
const BRIDGES = ['brapi2a', 'brapi2b', 'brapi2c', 'brapi2d'];
let api: Served;

before(async () => {
  if (skip) return;
  ok(['import', '--change', 'ENV PATH=/bin', await busyboxTar(root, ['sleep', 'true', 'touch']), IMAGE]);
  api = await startServe(data, root);
});

after(async () => {
  if (!skip) {
    await api?.stop();
    for (const id of brig(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean)) brig(['rm', '-f', id]);
    for (const v of brig(['volume', 'ls', '-q']).stdout.split('\n').filter(Boolean)) brig(['volume', 'rm', '-f', v]);
    for (const n of brig(['network', 'ls', '-q']).stdout.split('\n').filter(Boolean)) brig(['network', 'rm', n]);
  }
  rmSync(root, { recursive: true, force: true });
});

const lines = (text: string) => text.split('\n').filter(Boolean);
const message = (r: { json: () => unknown }) => (r.json() as { message: string }).message;

test('volumes: create, ls with filters, inspect, rm refused while in use, docker\'s errors', { skip }, async () => {
  assert.equal(api.dockerOk(['volume', 'create', '--label', 'team=db', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', 'keep']), 'keep\n');
  const viaApi = JSON.parse(api.dockerOk(['volume', 'inspect', 'keep'])) as [Record<string, unknown>];
  const viaCli = JSON.parse(ok(['volume', 'inspect', 'keep'])) as [Record<string, unknown>];
  assert.deepEqual(viaApi, viaCli);
  assert.deepEqual(viaApi[0].Labels, { team: 'db' });
  assert.deepEqual(viaApi[0].Options, { type: 'tmpfs', device: 'tmpfs' });
  assert.equal(viaApi[0].Mountpoint, path.join(data, 'volumes', 'keep', '_data'));
  const generated = api.dockerOk(['volume', 'create']).trim();
  assert.match(generated, /^[0-9a-f]{64}$/);
  assert.equal(api.dockerOk(['volume', 'ls', '--filter', 'label=team=db', '--format', '{{.Name}} {{.Driver}}']), 'keep local\n');
  assert.deepEqual(lines(api.dockerOk(['volume', 'ls', '-q', '--filter', 'dangling=true'])).sort(), [generated, 'keep'].sort());
  const badFilter = api.docker(['volume', 'ls', '--filter', 'colour=red']);
  assert.equal(badFilter.code, 1);
  assert.match(badFilter.stderr, /invalid filter 'colour'/);

  // In use by a container the brig CLI made: 409 with docker's words; the brig CLI's rm -f frees it.
  ok(['run', '-d', '--name', 'vuser', '--network', 'none', '-v', 'keep:/data', IMAGE, 'sleep', '300']);
  const cid = ok(['inspect', '-f', '{{.Id}}', 'vuser']).trim();
  const inUse = await api.http('DELETE', '/volumes/keep');
  assert.equal(inUse.status, 409);
  assert.equal(message(inUse), `remove keep: volume is in use - [${cid}]`);
  assert.equal(api.dockerOk(['volume', 'ls', '-q', '--filter', 'dangling=false']), 'keep\n');
  const cliInUse = api.docker(['volume', 'rm', 'keep']);
  assert.equal(cliInUse.code, 1);
  assert.match(cliInUse.stderr, /volume is in use/);
  ok(['rm', '-f', 'vuser']);
  assert.deepEqual(traces(cid), []);
  assert.equal(api.dockerOk(['volume', 'rm', 'keep', generated]), `keep\n${generated}\n`);
  assert.equal(existsSync(path.join(data, 'volumes', 'keep')), false);

  const missing = await api.http('GET', '/volumes/keep');
  assert.deepEqual([missing.status, missing.json()], [404, { message: 'get keep: no such volume' }]);
  assert.equal((await api.http('DELETE', '/volumes/keep')).status, 404);
  assert.equal((await api.http('DELETE', '/volumes/keep?force=1')).status, 204);
  // Bodies checked field by field.
  const badName = await api.http('POST', '/volumes/create', { body: { Name: 5 } });
  assert.deepEqual([badName.status, badName.json()], [400, { message: 'Name: expected a string, got a number' }]);
  const badLabel = await api.http('POST', '/volumes/create', { body: { Name: 'x', Labels: { a: 1 } } });
  assert.deepEqual([badLabel.status, message(badLabel)], [400, 'Labels["a"]: expected a string, got a number']);
  const cluster = await api.http('POST', '/volumes/create', { body: { Name: 'x', ClusterVolumeSpec: { Group: 'g' } } });
  assert.deepEqual([cluster.status, message(cluster)], [400, 'ClusterVolumeSpec: not supported by brig (only its zero value is accepted)']);
  const notJson = await api.http('POST', '/volumes/create', { body: '{"Name":', headers: { 'Content-Type': 'application/json' } });
  assert.equal(notJson.status, 400);
  const badName2 = await api.http('POST', '/volumes/create', { body: { Name: '../escape' } });
  assert.equal(badName2.status, 400);
  assert.equal(brig(['volume', 'ls', '-q']).stdout, '', 'nothing made by refused requests');
});

test('volume prune: anonymous only since 1.42, every unused one for older clients and with all=true', { skip }, async () => {
  // An anonymous volume left by a container removed without -v, and named ones.
  ok(['run', '--name', 'anon', '--network', 'none', '-v', '/scratch', IMAGE, 'true']);
  const anon = JSON.parse(ok(['inspect', '-f', '{{json .Mounts}}', 'anon']))[0].Name as string;
  ok(['rm', 'anon']);
  api.dockerOk(['volume', 'create', 'named1']);
  api.dockerOk(['volume', 'create', '--label', 'keep=yes', 'named2']);
  const pruned = api.dockerOk(['volume', 'prune', '-f']);
  assert.match(pruned, new RegExp(`^Deleted Volumes:\n${anon}\n`));
  assert.deepEqual(lines(api.dockerOk(['volume', 'ls', '-q'])).sort(), ['named1', 'named2']);
  // all=true with a label filter: named ones too, those the filter allows.
  assert.match(api.dockerOk(['volume', 'prune', '-af', '--filter', 'label!=keep']), /^Deleted Volumes:\nnamed1\n/);
  // A 1.41 client: every unused volume, named ones included, as docker keeps it for them.
  const v141 = await api.http('POST', '/v1.41/volumes/prune');
  assert.equal(v141.status, 200);
  assert.deepEqual((v141.json() as { VolumesDeleted: string[] }).VolumesDeleted, ['named2']);
  const bad = await api.http('POST', `/volumes/prune?filters=${encodeURIComponent('{"until":["1h"]}')}`);
  assert.deepEqual([bad.status, message(bad)], [400, "invalid filter 'until'"]);
});

test('dockerode: volume create, list, inspect, remove', { skip }, async () => {
  const docker = new Docker({ socketPath: api.sock });
  const made = await docker.createVolume({ Name: 'dv', Labels: { from: 'dockerode' } });
  assert.equal(made.name, 'dv');
  const listed = await docker.listVolumes({ filters: JSON.stringify({ label: ['from=dockerode'] }) });
  assert.deepEqual(listed.Volumes.map((v) => v.Name), ['dv']);
  const info = await docker.getVolume('dv').inspect();
  assert.deepEqual(info.Labels, { from: 'dockerode' });
  await docker.getVolume('dv').remove();
  await assert.rejects(docker.getVolume('dv').inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
});

/** The container's addresses, from inside its network namespace. */
function addressesIn(name: string): string {
  const pid = ok(['inspect', '-f', '{{.State.Pid}}', name]).trim();
  return spawnSync('nsenter', ['-t', pid, '-n', 'ip', '-4', '-o', 'addr'], { encoding: 'utf8' }).stdout;
}

function linksLeft(): string[] {
  const links = spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout;
  return BRIDGES.filter((b) => new RegExp(`: ${b}[:@]|master ${b} `).test(links));
}

test('networks: create with IPAM, labels and options, ls filters, inspect, docker\'s refusals', { skip: netSkip }, async () => {
  const id = api
    .dockerOk(['network', 'create', '--subnet', '10.231.5.0/24', '--gateway', '10.231.5.1', '--ip-range', '10.231.5.128/25', '--label', 'team=net', '--internal', '--attachable', '-o', 'com.docker.network.bridge.name=brapi2a', 'apinet'])
    .trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const [n] = JSON.parse(api.dockerOk(['network', 'inspect', 'apinet'])) as [Record<string, unknown>];
  assert.equal(n!.Id, id);
  assert.deepEqual(n!.IPAM, { Driver: 'default', Options: null, Config: [{ Subnet: '10.231.5.0/24', Gateway: '10.231.5.1', IPRange: '10.231.5.128/25' }] });
  assert.deepEqual([n!.Internal, n!.Attachable, n!.Driver, n!.Scope, n!.Labels], [true, true, 'bridge', 'local', { team: 'net' }]);
  assert.equal((n!.Options as Record<string, string>)['com.docker.network.bridge.name'], 'brapi2a');
  assert.equal(ok(['network', 'inspect', '-f', '{{.Id}}', 'apinet']).trim(), id, 'the brig CLI sees it');

  // docker's filters, and its words for bad ones.
  const ls = (...f: string[]) => lines(api.dockerOk(['network', 'ls', '--format', '{{.Name}}', ...f.flatMap((x) => ['--filter', x])]));
  assert.deepEqual(ls('name=apinet'), ['apinet']);
  assert.deepEqual(ls('name=^api'), ['apinet']);
  assert.deepEqual(ls('label=team=net', 'driver=bridge', 'type=custom', 'dangling=true', 'scope=local'), ['apinet']);
  assert.deepEqual(ls(`id=${id.slice(0, 12)}`), ['apinet']);
  assert.deepEqual(ls('type=builtin'), ['bridge', 'host', 'none'], "docker's predefined networks");
  assert.deepEqual(ls('label=team=other'), []);
  assert.match(api.docker(['network', 'ls', '--filter', 'colour=red']).stderr, /invalid filter 'colour'/);
  const badType = await api.http('GET', `/networks?filters=${encodeURIComponent('{"type":["odd"]}')}`);
  assert.deepEqual([badType.status, message(badType)], [400, "invalid filter: 'type'='odd'"]);
  const badDangling = await api.http('GET', `/networks?filters=${encodeURIComponent('{"dangling":["maybe"]}')}`);
  assert.equal(badDangling.status, 400);

  // Refusals: a duplicate 409, what brig's bridge networks do not have 400 naming the field.
  const dup = api.docker(['network', 'create', 'apinet']);
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /network with name apinet already exists/);
  assert.equal((await api.http('POST', '/networks/create', { body: { Name: 'apinet' } })).status, 409);
  assert.match(api.docker(['network', 'create', '--ipv6', 'v6net']).stderr, /EnableIPv6: not supported by brig/);
  assert.equal(api.docker(['network', 'create', '--driver', 'overlay', 'ov']).code, 1);
  const noBody = await api.http('POST', '/networks/create');
  assert.deepEqual([noBody.status, message(noBody)], [400, 'network create request cannot be empty']);
  const noName = await api.http('POST', '/networks/create', { body: { Driver: 'bridge' } });
  assert.deepEqual([noName.status, message(noName)], [400, 'Name: a network needs a name']);
  const badSubnet = await api.http('POST', '/networks/create', { body: { Name: 'bad', IPAM: { Config: [{ Subnet: 7 }] } } });
  assert.deepEqual([badSubnet.status, message(badSubnet)], [400, 'IPAM.Config[0].Subnet: expected a string, got a number']);
  const aux = await api.http('POST', '/networks/create', { body: { Name: 'bad', IPAM: { Config: [{ Subnet: '10.231.9.0/24', AuxiliaryAddresses: { r: '10.231.9.5' } }] } } });
  assert.deepEqual([aux.status, message(aux)], [400, 'IPAM.Config[0].AuxiliaryAddresses: not supported by brig (only its zero value is accepted)']);
  const overlap = api.docker(['network', 'create', '--subnet', '10.231.5.0/25', 'overlap']);
  assert.match(overlap.stderr, /Pool overlaps with other one on this address space/);
  assert.deepEqual(ls(), ['apinet', 'bridge', 'host', 'none'], 'refused requests made nothing');

  const scoped = await api.http('GET', '/networks/apinet?scope=swarm');
  assert.deepEqual([scoped.status, message(scoped)], [404, 'network apinet not found']);
  assert.equal((await api.http('GET', '/networks/apinet?scope=local&verbose=1')).status, 200);
  assert.equal((await api.http('GET', '/networks/apinet?scope=planet')).status, 400);
  const missing = await api.http('GET', '/networks/nope');
  assert.deepEqual([missing.status, missing.json()], [404, { message: 'network nope not found' }]);
  api.dockerOk(['network', 'rm', 'apinet']);
  assert.deepEqual(linksLeft(), []);
});

test('network connect and disconnect on a running container the brig CLI made; rm in use; prune', { skip: netSkip }, async () => {
  api.dockerOk(['network', 'create', '--subnet', '10.231.6.0/24', '-o', 'com.docker.network.bridge.name=brapi2b', 'base']);
  api.dockerOk(['network', 'create', '--subnet', '10.231.7.0/24', '--label', 'side=1', '-o', 'com.docker.network.bridge.name=brapi2c', 'side']);
  ok(['run', '-d', '--name', 'box', '--network', 'base', IMAGE, 'sleep', '300']);
  const cid = ok(['inspect', '-f', '{{.Id}}', 'box']).trim();
  assert.match(addressesIn('box'), /eth0\s+inet 10\.231\.6\.\d+\/24/);

  api.dockerOk(['network', 'connect', '--alias', 'web', '--ip', '10.231.7.77', 'side', 'box']);
  assert.match(addressesIn('box'), /eth1\s+inet 10\.231\.7\.77\/24/);
  const [side] = JSON.parse(api.dockerOk(['network', 'inspect', 'side'])) as [{ Containers: Record<string, { Name: string; IPv4Address: string }> }];
  assert.deepEqual(Object.entries(side!.Containers).map(([k, c]) => [k, c.Name, c.IPv4Address]), [[cid, 'box', '10.231.7.77/24']]);
  const ep = JSON.parse(ok(['inspect', '-f', '{{json .NetworkSettings.Networks.side}}', 'box'])) as { Aliases: string[]; IPAddress: string };
  assert.ok(ep.Aliases.includes('web'), JSON.stringify(ep));
  assert.equal(ep.IPAddress, '10.231.7.77');
  // Lists leave the containers out since 1.28; inspect and older clients have them.
  const v145 = (await api.http('GET', '/v1.45/networks')).json() as { Name: string; Containers: object }[];
  const v127 = (await api.http('GET', '/v1.27/networks')).json() as { Name: string; Containers: object }[];
  assert.deepEqual(v145.find((x) => x.Name === 'side')!.Containers, {});
  assert.deepEqual(Object.keys(v127.find((x) => x.Name === 'side')!.Containers), [cid]);
  assert.deepEqual(lines(api.dockerOk(['network', 'ls', '--format', '{{.Name}}', '--filter', 'dangling=false'])).sort(), ['base', 'bridge', 'host', 'none', 'side']);

  // In use: docker's 403 and words.
  const inUse = await api.http('DELETE', '/networks/side');
  assert.equal(inUse.status, 403);
  assert.match(message(inUse), /^error while removing network: network side id [0-9a-f]{64} has active endpoints/);
  assert.equal(api.docker(['network', 'rm', 'side']).code, 1);
  // Refusals for connect: a second time, a missing container or network, what brig does not do.
  assert.equal(api.docker(['network', 'connect', 'side', 'box']).code, 1);
  const noBox = await api.http('POST', '/networks/side/connect', { body: { Container: 'nope' } });
  assert.deepEqual([noBox.status, message(noBox)], [404, 'No such container: nope']);
  const noNet = await api.http('POST', '/networks/nope/connect', { body: { Container: 'box' } });
  assert.deepEqual([noNet.status, message(noNet)], [404, 'network nope not found']);
  const v6 = await api.http('POST', '/networks/side/connect', { body: { Container: 'box', EndpointConfig: { IPAMConfig: { IPv6Address: 'fd00::7' } } } });
  assert.deepEqual([v6.status, message(v6)], [400, 'EndpointConfig.IPAMConfig.IPv6Address: not supported by brig (only its zero value is accepted)']);
  const noContainer = await api.http('POST', '/networks/side/connect', { body: {} });
  assert.deepEqual([noContainer.status, message(noContainer)], [400, 'Container: the container to connect is required']);

  api.dockerOk(['network', 'disconnect', 'side', 'box']);
  assert.doesNotMatch(addressesIn('box'), /10\.231\.7\./);
  assert.match(addressesIn('box'), /eth0\s+inet 10\.231\.6\./);
  assert.deepEqual(JSON.parse(api.dockerOk(['network', 'inspect', '-f', '{{json .Containers}}', 'side'])), {});
  const again = await api.http('POST', '/networks/side/disconnect', { body: { Container: 'box' } });
  assert.equal(again.status, 400);

  // A container in --network none: refused, as dockerd refuses it.
  ok(['run', '-d', '--name', 'lonely', '--network', 'none', IMAGE, 'sleep', '300']);
  const none = api.docker(['network', 'connect', 'side', 'lonely']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /network mode "none"/);

  // prune: only unused networks, the label filter obeyed, until checked.
  api.dockerOk(['network', 'create', '--subnet', '10.231.8.0/24', '-o', 'com.docker.network.bridge.name=brapi2d', 'spare']);
  assert.equal(api.dockerOk(['network', 'prune', '-f', '--filter', 'label=side=1']), 'Deleted Networks:\nside\n\n');
  const badUntil = await api.http('POST', `/networks/prune?filters=${encodeURIComponent('{"until":["soon"]}')}`);
  assert.equal(badUntil.status, 400);
  const badKey = await api.http('POST', `/networks/prune?filters=${encodeURIComponent('{"dangling":["true"]}')}`);
  assert.deepEqual([badKey.status, message(badKey)], [400, "invalid filter 'dangling'"]);
  assert.equal(api.dockerOk(['network', 'prune', '-f']), 'Deleted Networks:\nspare\n\n');
  assert.deepEqual(lines(api.dockerOk(['network', 'ls', '--format', '{{.Name}}'])), ['base', 'bridge', 'host', 'none']);

  const lonely = ok(['inspect', '-f', '{{.Id}}', 'lonely']).trim();
  ok(['rm', '-f', 'box', 'lonely']);
  assert.deepEqual(traces(cid), []);
  assert.deepEqual(traces(lonely), []);
  api.dockerOk(['network', 'rm', 'base']);
  assert.deepEqual(linksLeft(), []);
  const netns = path.join(data, 'run-net', 'netns');
  assert.deepEqual(existsSync(netns) ? readdirSync(netns) : [], []);
});
