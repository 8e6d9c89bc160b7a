/**
 * What the network e2e files share: a busybox image with the network tools, this root's
 * bridges and subnets, what brig's networking left on the host, and a retry for what
 * settles asynchronously (a resolver, a monitor's teardown).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { brigCli } from './brig-cli.js';
import { makeBusyboxRootfs } from './image-busybox.js';
import { requires } from './requires.js';
import { readTextSync } from '../../src/util/read-text.js';

export const HTTPD = ['httpd', '-f', '-p', '80', '-h', '/www'];

/**
 * A test file's data root with the network image in it (imported before the tests), emptied
 * of containers and networks and removed after them; `skip` says why not, where it cannot run.
 */
export function netSuite(name: string) {
  const netavark = ['/usr/lib/podman/netavark', '/usr/libexec/podman/netavark'].some((p) => existsSync(p));
  const skip = requires('root', 'helper', 'busybox') || (netavark ? false : 'netavark and aardvark-dns are not installed');
  const root = mkdtempSync(path.join(tmpdir(), `brig-${name}-`));
  const data = path.join(root, 'data');
  const cli = brigCli(data);
  const image = `localhost/${name}:1`;
  before(async () => {
    if (!skip) await importNetImage(root, cli.ok, image);
  });
  after(() => {
    if (!skip) {
      for (const id of cli.brig(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean)) cli.brig(['rm', '-f', id]);
      for (const n of cli.brig(['network', 'ls', '-q']).stdout.split('\n').filter(Boolean)) cli.brig(['network', 'rm', n]);
      for (const v of cli.brig(['volume', 'ls', '-q']).stdout.split('\n').filter(Boolean)) cli.brig(['volume', 'rm', '-f', v]);
    }
    rmSync(root, { recursive: true, force: true });
  });
  return { ...cli, skip, root, data, image, netnsDir: path.join(data, 'run-net', 'netns') };
}

/** Imports IMAGE into the root `ok` works on: busybox with sleep, nslookup, ping, wget, httpd, ip and a page to serve. */
export async function importNetImage(dir: string, ok: (args: string[]) => string, image: string): Promise<void> {
  const rootfs = await makeBusyboxRootfs(dir);
  for (const a of ['sleep', 'true', 'nslookup', 'ping', 'wget', 'httpd', 'ip', 'cat', 'grep', 'timeout']) spawnSync('ln', ['-sf', 'busybox', path.join(rootfs, 'bin', a)]);
  spawnSync('mkdir', ['-p', path.join(rootfs, 'www')]);
  writeFileSync(path.join(rootfs, 'www', 'index.html'), 'hello from brig\n');
  spawnSync('tar', ['-C', rootfs, '-cf', path.join(dir, 'net.tar'), '.']);
  ok(['import', '--change', 'ENV PATH=/bin', path.join(dir, 'net.tar'), image]);
}

/** A data root's bridges and subnets, from its network records. */
export function ours(data: string): { bridges: string[]; subnets: string[] } {
  const dir = path.join(data, 'networks');
  const recs = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json') && f.length === 69).map((f) => JSON.parse(readTextSync(path.join(dir, f))) as { brig: { bridge: string }; IPAM: { Config: { Subnet: string }[] } }) : [];
  return { bridges: recs.map((r) => r.brig.bridge), subnets: recs.map((r) => r.IPAM.Config[0]!.Subnet) };
}

/** What brig's networking left on the host: namespace files and mounts, bridges and veths on them, rules naming our subnets, bridges or ports. */
export function netLeftovers(data: string, ports: number[] = []): string[] {
  const netnsDir = path.join(data, 'run-net', 'netns');
  const found: string[] = [];
  if (existsSync(netnsDir)) for (const f of readdirSync(netnsDir)) found.push(`netns file ${f}`);
  for (const l of readTextSync('/proc/self/mountinfo').split('\n')) if (l.includes(netnsDir)) found.push(`mount ${l.split(' ')[4]}`);
  const { bridges, subnets } = ours(data);
  const links = spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout;
  for (const b of bridges) if (new RegExp(`: ${b}[:@]|master ${b} `).test(links)) found.push(`link on ${b}`);
  const rules = spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout;
  for (const s of subnets) if (rules.includes(s)) found.push(`rule for ${s}`);
  for (const b of bridges) if (new RegExp(`[io] ${b}\\b`).test(rules)) found.push(`rule for ${b}`);
  for (const p of ports) if (new RegExp(`dport ${p}\\b`).test(rules)) found.push(`rule for port ${p}`);
  // The same tables as nftables lists them (iptables-nft writes there), and anything else there naming our bridges.
  const nft = spawnSync('nft', ['list', 'ruleset'], { encoding: 'utf8' }).stdout ?? '';
  for (const b of bridges) if (new RegExp(`"${b}"`).test(nft)) found.push(`nft rule for ${b}`);
  // DNS: aardvark-dns's per-network entry files and the resolver itself go with the last container.
  const dns = path.join(data, 'run-net', 'netavark', 'aardvark-dns');
  if (existsSync(dns)) for (const f of readdirSync(dns)) found.push(f === 'aardvark.pid' ? `aardvark-dns pid file (${readTextSync(path.join(dns, f)).trim()})` : `dns entries for ${f}`);
  return found;
}

export async function retry<T>(what: string, fn: () => T | Promise<T>, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > end) throw new Error(`${what}: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
