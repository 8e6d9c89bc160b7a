/**
 * `run --rm` on a bridge network, whose network setup runs while the runtime sets the
 * container up (src/engine/local-engine.ts, runContainer): the program must still start with
 * its network in place, a setup that fails meanwhile must fail the run and leave nothing, and
 * the teardown that runs beside the rootfs clean-up must leave nothing either. Checked from
 * inside the container and from the host (namespace files, mounts, bridges, firewall rules,
 * container directories, runtime state, cgroups).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { brigCli } from '../support/brig-cli.js';
import { busyboxTar } from '../support/image-busybox.js';
import { requires } from '../support/requires.js';
import { readTextSync } from '../../src/util/read-text.js';

const netavark = ['/usr/lib/podman/netavark', '/usr/libexec/podman/netavark'].some((p) => existsSync(p));
const skip = requires('root', 'helper', 'busybox') || (netavark ? false : 'netavark and aardvark-dns are not installed');
const root = mkdtempSync(path.join(tmpdir(), 'brig-runnet-'));
const data = path.join(root, 'data');
const { brig, ok } = brigCli(data);
const IMAGE = 'localhost/runnet:1';
const netnsDir = path.join(data, 'run-net', 'netns');

before(async () => {
  if (skip) return;
  ok(['import', '--change', 'ENV PATH=/bin', await busyboxTar(root, ['true', 'ip', 'cat', 'grep']), IMAGE]);
});

after(() => {
  if (!skip) for (const n of brig(['network', 'ls', '-q']).stdout.split('\n').filter(Boolean)) brig(['network', 'rm', n]);
  rmSync(root, { recursive: true, force: true });
});

/**
 * This root's user networks: bridge device and subnet of each record. Not the default
 * bridge: another brig data root on this machine (other tests) makes its own default network
 * with the same first free device name and subnet when they are free at that moment, so its
 * device and rules cannot be told from ours; user networks here get names and subnets of
 * their own.
 */
function networks(): { bridge: string; subnet: string }[] {
  const dir = path.join(data, 'networks');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^[0-9a-f]{64}\.json$/.test(f))
    .map((f) => JSON.parse(readTextSync(path.join(dir, f))) as { Name: string; brig: { bridge: string }; IPAM: { Config: { Subnet: string }[] } })
    .filter((r) => r.Name !== 'bridge')
    .map((r) => ({ bridge: r.brig.bridge, subnet: r.IPAM.Config[0]!.Subnet }));
}

/** Every trace a finished `run --rm` could leave on the host. */
function leftovers(): string[] {
  const found: string[] = [];
  if (existsSync(netnsDir)) for (const f of readdirSync(netnsDir)) found.push(`netns file ${f}`);
  for (const l of readTextSync('/proc/self/mountinfo').split('\n')) if (l.includes(data)) found.push(`mount ${l.split(' ')[4]}`);
  for (const d of ['containers', 'run']) {
    const dir = path.join(data, d);
    if (existsSync(dir)) for (const f of readdirSync(dir).filter((x) => /^[0-9a-f]{64}$/.test(x))) found.push(`${d}/${f}`);
  }
  // Every container this root ever made, from its event log (a --rm container keeps no record).
  const ids = ok(['events', '--since', '0', '--until', String(Math.ceil(Date.now() / 1000)), '--filter', 'type=container', '--format', '{{.ID}}']).split('\n').filter(Boolean);
  for (const id of new Set(ids)) for (const h of readdirSync('/sys/fs/cgroup')) if (existsSync(`/sys/fs/cgroup/${h}/brig/${id}`)) found.push(`cgroup ${h}/${id}`);
  const links = spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout;
  const rules = spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout;
  for (const n of networks()) {
    if (new RegExp(`: ${n.bridge}[:@]|master ${n.bridge} `).test(links)) found.push(`link on ${n.bridge}`);
    if (rules.includes(n.subnet)) found.push(`rule for ${n.subnet}`);
  }
  return found;
}

test('run --rm on the default bridge: the program starts with its address, route and hosts entry in place; nothing is left', { skip }, () => {
  for (let i = 0; i < 3; i++) {
    // The first thing the program does: nothing may still be in the making.
    const out = ok(['run', '--rm', '--hostname', 'early', IMAGE, 'sh', '-c', 'ip -4 -o addr show eth0; ip route; grep early /etc/hosts']).trim();
    const addr = /inet (\d+\.\d+\.\d+\.\d+)\/(\d+)/.exec(out);
    assert.ok(addr, `eth0 has an address at once: ${out}`);
    assert.match(out, /^default via \d+\.\d+\.\d+\.\d+ dev eth0/m);
    assert.match(out, new RegExp(`^${addr[1]!.replaceAll('.', '\\.')}\\s+early$`, 'm'), 'the hosts file names the address');
    assert.deepEqual(leftovers(), []);
  }
  // The exit code comes through the parallel clean-up.
  assert.equal(brig(['run', '--rm', IMAGE, 'sh', '-c', 'exit 7']).code, 7);
  assert.deepEqual(leftovers(), []);
});

test('a network setup that fails while the runtime sets the container up fails the run with 125 and leaves nothing', { skip }, () => {
  // The kernel refuses a bridge with this MTU: netavark fails when it makes the bridge,
  // after brig has made the namespace and while the runtime is at work in it.
  ok(['network', 'create', '--subnet', '10.231.91.0/24', '-o', 'com.docker.network.bridge.name=brrunnet1', '-o', 'com.docker.network.driver.mtu=99999', 'badmtu']);
  const r = brig(['run', '--rm', '--network', 'badmtu', IMAGE, 'true']);
  assert.equal(r.code, 125, r.stderr);
  assert.match(r.stderr, /netavark setup: .*bridge/);
  assert.deepEqual(leftovers(), []);
  // The same container starts once the network is one the kernel takes.
  assert.equal(spawnSync('ip', ['link', 'show', 'brrunnet1']).status, 1, 'no bridge is left');
  ok(['network', 'rm', 'badmtu']);
  ok(['network', 'create', '--subnet', '10.231.92.0/24', '-o', 'com.docker.network.bridge.name=brrunnet2', 'goodnet']);
  assert.match(ok(['run', '--rm', '--network', 'goodnet', IMAGE, 'ip', '-4', '-o', 'addr', 'show', 'eth0']), /inet 10\.231\.92\.\d+\/24/);
  assert.deepEqual(leftovers(), []);
  ok(['network', 'rm', 'goodnet']);
});
