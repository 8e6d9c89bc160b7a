/**
 * The host's network state around the bridge bench (bench/engines.ts, network 'bridge'):
 * what the engines under test leave that their own stop does not remove, taken away by
 * name, and a check that the host is as it was.
 *
 *  - dockerd makes DOCKER, DOCKER-USER and DOCKER-ISOLATION-STAGE-1/2 and the jumps to them,
 *    plus rules for its bridge, and removes none of them when it stops.
 *  - netavark (podman's, and brig's between its clean-ups) leaves its shared NETAVARK_FORWARD
 *    and NETAVARK-HOSTPORT-* chains after the last container.
 *
 * Other work on this machine uses the same tables at the same time (other brig data roots,
 * a reference dockerd), so nothing is removed by pattern alone: a rule goes when it names one
 * of the bench's own bridges or subnets, a chain only when it was not there before the bench
 * and holds nothing but the engine's fixed rules, each chain in a transaction of its own that
 * the kernel refuses (and undoes whole) while anything else still uses the chain.
 */
import { spawnSync } from 'node:child_process';
import { lockedArgv } from '../src/engine/network/host-lock.js';
import { SHARED_CHAIN_REMOVAL } from '../src/engine/network/netavark.js';

export interface HostNet {
  links: Set<string>;
  /** table -> chain -> its rules, as iptables-save prints them (`-A CHAIN ...`). */
  tables: Map<string, Map<string, string[]>>;
  nft: string;
}

const DOCKER_CHAINS: [table: string, chain: string][] = [
  ['filter', 'DOCKER-ISOLATION-STAGE-1'],
  ['filter', 'DOCKER-ISOLATION-STAGE-2'],
  ['filter', 'DOCKER-USER'],
  ['filter', 'DOCKER'],
  ['nat', 'DOCKER'],
];

function run(cmd: string, args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...(input !== undefined ? { input } : {}) });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export function snapshotHostNet(): HostNet {
  const links = new Set(
    run('ip', ['-o', 'link'])
      .stdout.split('\n')
      .map((l) => l.split(': ')[1]?.split('@')[0])
      .filter((x): x is string => !!x),
  );
  const tables = new Map<string, Map<string, string[]>>();
  let table: Map<string, string[]> | undefined;
  for (const line of run('iptables-save', []).stdout.split('\n')) {
    if (line.startsWith('*')) tables.set(line.slice(1), (table = new Map()));
    else if (line.startsWith(':')) table?.set(line.slice(1).split(' ')[0]!, []);
    else if (line.startsWith('-A ')) table?.get(line.split(' ')[1]!)?.push(line);
  }
  return { links, tables, nft: run('nft', ['list', 'ruleset']).stdout };
}

/** Rules (and nft lines) naming one of `tokens`. */
function mentions(line: string, tokens: string[]): boolean {
  return tokens.some((t) => line.includes(t));
}

function restore(table: string, lines: string[]): boolean {
  if (!lines.length) return true;
  return run('iptables-restore', ['-w', '-n'], `*${table}\n${lines.join('\n')}\nCOMMIT\n`).status === 0;
}

/**
 * Removes what the engines left: rules naming `tokens` (their bridges and subnets), the
 * chains docker and netavark made during the bench where nothing else uses them, and the
 * bridges among `bridges` that were not there before. Returns the removals of netavark's
 * shared chains that iptables refused, with its reason.
 */
export function cleanHostNet(before: HostNet, tokens: string[], bridges: string[]): string[] {
  const refused: string[] = [];
  const now = snapshotHostNet();
  for (const [table, chains] of now.tables) {
    const rules = [...chains.values()].flat().filter((r) => mentions(r, tokens));
    restore(table, rules.map((r) => `-D${r.slice(2)}`));
  }
  const after = snapshotHostNet();
  for (const [table, chain] of DOCKER_CHAINS) {
    if (before.tables.get(table)?.has(chain) || !after.tables.get(table)?.has(chain)) continue;
    const chains = after.tables.get(table)!;
    // The jumps to it, then its own fixed rules (RETURN), then the chain itself.
    const jumps = [...chains.values()].flat().filter((r) => new RegExp(` -j ${chain}( |$)`).test(r));
    const own = chains.get(chain)!.filter((r) => r === `-A ${chain} -j RETURN`);
    restore(table, [...jumps, ...own].map((r) => `-D${r.slice(2)}`).concat(`-X ${chain}`));
  }
  const netavarkBefore = before.tables.get('filter')?.has('NETAVARK_FORWARD') || before.tables.get('nat')?.has('NETAVARK-HOSTPORT-DNAT');
  if (!netavarkBefore) {
    // As brig's own clean-up does it, under brig's network lock.
    const [flock, ...args] = lockedArgv(['iptables-restore', '-w', '-n']);
    for (const rules of SHARED_CHAIN_REMOVAL) {
      const r = run(flock!, args, rules);
      // Refused: still in use (another netavark user's rules), or gone; hostNetDiff shows which.
      if (r.status !== 0) refused.push(`${rules.split('\n')[0]}: ${r.stderr.trim().split('\n').slice(-1)[0]}`);
    }
  }
  for (const b of bridges) if (!before.links.has(b) && snapshotHostNet().links.has(b)) run('ip', ['link', 'del', b]);
  return refused;
}

/**
 * What differs from `before`, among what the bench could have made: links named in
 * `bridges` (and veths on them), chains docker and netavark make, rules and nft lines naming
 * `tokens`. Empty when the host is as it was.
 */
export function hostNetDiff(before: HostNet, tokens: string[], bridges: string[]): string[] {
  const now = snapshotHostNet();
  const out: string[] = [];
  for (const l of now.links) if (!before.links.has(l) && (bridges.includes(l) || mentions(run('ip', ['-o', 'link', 'show', l]).stdout, bridges.map((b) => `master ${b} `)))) out.push(`link ${l}`);
  for (const l of before.links) if (bridges.includes(l) && !now.links.has(l)) out.push(`link ${l} gone`);
  const ours = (c: string) => /^(DOCKER|NETAVARK)/.test(c);
  for (const [table, chains] of now.tables) {
    const was = before.tables.get(table) ?? new Map<string, string[]>();
    for (const [chain, rules] of chains) {
      if (ours(chain) && !was.has(chain)) out.push(`${table}: chain ${chain}`);
      const old = new Set(was.get(chain) ?? []);
      for (const r of rules) if (!old.has(r) && (mentions(r, tokens) || [...chains.keys()].some((c) => ours(c) && !was.has(c) && r.includes(` -j ${c}`)))) out.push(`${table}: ${r}`);
    }
  }
  const oldNft = new Set(before.nft.split('\n').map((l) => l.trim()));
  for (const l of now.nft.split('\n')) if (mentions(l, tokens) && !oldNft.has(l.trim())) out.push(`nft: ${l.trim()}`);
  return out;
}
