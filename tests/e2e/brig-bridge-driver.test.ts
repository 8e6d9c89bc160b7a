/**
 * brig's own bridge driver (src/engine/network/bridge-driver.ts, native/net/net.c), beyond
 * what the network e2e files check through the default bridge: what a setup cut short leaves
 * is removed by the next command, containers keep working when the host's FORWARD policy is
 * DROP (as dockerd sets it), and a container on the default bridge and a user network at once
 * (brig-net and netavark) gets both interfaces and leaves nothing of either. Traffic only
 * between containers and the host's side of the bridge.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { networkRules } from '../../src/engine/network/bridge-driver.js';
import { locateNative } from '../../src/native/locate.js';
import { HTTPD, netLeftovers, netSuite, retry } from '../support/net-e2e.js';

const { ok, skip, data, image: IMAGE } = netSuite('bdrv');
const SEP = '\x1f';
const leftovers = (ports: number[] = []) => netLeftovers(data, ports);
const iptablesSave = () => spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout;

test('a bridge setup cut short (bridge, rules and marker made, no container) is removed by the next brig command', { skip }, () => {
  // What a brig killed right after brig-net made the network leaves: the bridge, the network's chains, the marker.
  const network = { name: 'cut', id: 'c0ffee'.padEnd(64, '7'), bridge: 'brigcut7', subnet: '10.197.7.0/24', gateway: '10.197.7.1', internal: false, dns: false, options: {} };
  const rules = networkRules(network);
  mkdirSync('/run/brig/bridge', { recursive: true });
  const marker = path.join('/run/brig/bridge', network.bridge);
  writeFileSync(marker, rules.remove);
  const made = spawnSync(locateNative('brig-net', import.meta.url), ['lock=/run/brig/network.lock', `bridge=${network.bridge}${SEP}10.197.7.1/24${SEP}0`, `new-rules=${rules.add}${SEP}${rules.remove}`], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  assert.equal(spawnSync('ip', ['link', 'show', network.bridge]).status, 0);
  assert.match(iptablesSave(), /BRIG-FWD-c0ffee777777/);
  // Any command sweeps: no namespace is left in this root, so the marked bridge goes with its rules.
  ok(['ps']);
  assert.notEqual(spawnSync('ip', ['link', 'show', network.bridge]).status, 0, 'the bridge is gone');
  assert.doesNotMatch(iptablesSave(), /c0ffee777777|brigcut7|10\.197\.7\./);
  assert.equal(existsSync(marker), false, 'the marker is gone');
});

test("with the host's FORWARD policy DROP (as dockerd sets it), default-bridge containers reach each other and a published port; nothing is left", { skip }, async () => {
  const before = spawnSync('iptables', ['-S', 'FORWARD'], { encoding: 'utf8' }).stdout.split('\n')[0]!;
  assert.match(before, /^-P FORWARD (ACCEPT|DROP)$/);
  spawnSync('iptables', ['-P', 'FORWARD', 'DROP']);
  try {
    ok(['run', '-d', '--name', 'web', '-p', '18097:80', IMAGE, ...HTTPD]);
    const [ip, gw] = ok(['inspect', '-f', '{{.NetworkSettings.IPAddress}} {{.NetworkSettings.Gateway}}', 'web']).trim().split(' ') as [string, string];
    // The bridge's own traffic (br_netfilter sends it through FORWARD), and the published port through the host (DNAT, hairpin).
    const out = await retry('wget through the bridge', () => ok(['run', '--rm', IMAGE, 'sh', '-c', `wget -qO- http://${ip}/ && wget -qO- http://${gw}:18097/`]));
    assert.equal(out, 'hello from brig\nhello from brig\n');
    ok(['rm', '-f', 'web']);
    assert.deepEqual(leftovers([18097]), []);
  } finally {
    spawnSync('iptables', ['-P', 'FORWARD', before.split(' ')[2]!]);
  }
});

test('a container on the default bridge and a user network: eth0 from brig-net, eth1 from netavark with its names; rm -f leaves nothing of either', { skip }, async () => {
  ok(['network', 'create', 'bdnet']);
  ok(['run', '-d', '--name', 'peer', '--network', 'bdnet', IMAGE, ...HTTPD]);
  ok(['run', '-d', '--name', 'mixed', IMAGE, 'sleep', '300']);
  ok(['network', 'connect', 'bdnet', 'mixed']);
  const addrs = ok(['exec', 'mixed', 'ip', '-4', '-o', 'addr']);
  assert.match(addrs, /eth0\s+inet \d+\.\d+\.\d+\.\d+/);
  assert.match(addrs, /eth1\s+inet \d+\.\d+\.\d+\.\d+/);
  // The user network's names resolve from the container that joined it second.
  assert.equal(await retry('mixed -> peer by name', () => ok(['exec', 'mixed', 'wget', '-qO-', 'http://peer/'])), 'hello from brig\n');
  ok(['rm', '-f', 'mixed', 'peer']);
  assert.deepEqual(leftovers(), []);
});
