/**
 * What a compose project can leave on the host, looked for from the host itself: its
 * containers, networks and volumes (by compose's names), mounts and cgroups of its
 * containers (by id), and links and firewall rules of its networks' bridges (by device and
 * subnet, from brig's network records).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { readTextSync } from '../../src/util/read-text.js';

export interface Bridge {
  bridge: string;
  subnet: string;
}

/** A network's bridge device and subnet, from its record in the data root. */
export function networkBridge(data: string, networkId: string): Bridge {
  const record = JSON.parse(readTextSync(path.join(data, 'networks', `${networkId}.json`))) as { brig: { bridge: string }; IPAM: { Config: { Subnet: string }[] } };
  return { bridge: record.brig.bridge, subnet: record.IPAM.Config[0]!.Subnet };
}

/** The host's firewall rules, one a line, as iptables-save prints them. */
export function firewallRules(): Set<string> {
  return new Set(spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout.split('\n'));
}

/**
 * Everything of project `name` still there; `ok` runs brig on the test's data root. Rules in
 * `before` (taken before the project was made) are not the project's: other data roots on
 * this machine may hold networks of the same subnet, and leave their rules.
 */
export function composeLeftovers(ok: (args: string[]) => string, name: string, ids: string[], bridges: Bridge[], before: Set<string> = new Set()): string[] {
  const found: string[] = [];
  for (const c of ok(['ps', '-a', '--format', '{{.Names}}']).split('\n').filter((n) => n.startsWith(`${name}-`))) found.push(`container ${c}`);
  for (const n of ok(['network', 'ls']).split('\n').slice(1).map((l) => l.split(/ +/)[1] ?? '').filter((n) => n.startsWith(`${name}_`))) found.push(`network ${n}`);
  for (const v of ok(['volume', 'ls', '--format', '{{.Name}}']).split('\n').filter((n) => n.startsWith(`${name}_`))) found.push(`volume ${v}`);
  for (const l of readTextSync('/proc/self/mountinfo').split('\n')) if (ids.some((id) => l.includes(id))) found.push(`mount ${l.split(' ')[4]}`);
  for (const id of ids) for (const h of readdirSync('/sys/fs/cgroup')) if (existsSync(`/sys/fs/cgroup/${h}/brig/${id}`)) found.push(`cgroup ${h}/${id}`);
  const links = spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout;
  const rules = [...firewallRules()].filter((l) => !before.has(l)).join('\n');
  for (const b of bridges) {
    if (new RegExp(`: ${b.bridge}[:@]|master ${b.bridge} `).test(links)) found.push(`link on ${b.bridge}`);
    if (rules.includes(b.subnet)) found.push(`rule for ${b.subnet}`);
  }
  return found;
}
