/**
 * brig's network records and allocations, under <root>/networks: one JSON file per network
 * (docker's NetworkResource fields plus the bridge interface and whether it runs a resolver),
 * and allocations.json — which container holds which address and which host port. Every
 * change happens under one lock file, so CLIs and `brig serve` side by side never hand out
 * an address or port twice. An allocation whose container is no longer running is free
 * (docker frees both at stop); the next allocation or the start-up sweep drops it.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import path from 'node:path';
import { BrigError, hasErrno } from '../../errors/index.js';
import { withLock, writeFileAtomic } from '../../image/store/lock.js';

/** docker's NetworkResource, as inspect shows it (Containers filled in when read). */
export interface NetworkResource {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  /** bridge for brig's networks; host and null for the predefined host and none. */
  Driver: 'bridge' | 'host' | 'null';
  EnableIPv6: boolean;
  IPAM: { Driver: 'default'; Options: Record<string, string> | null; Config: { Subnet: string; Gateway: string; IPRange?: string }[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

export interface NetworkRecord extends NetworkResource {
  /** brig's own: the bridge interface and whether aardvark-dns answers names. */
  brig: { bridge: string; dns: boolean };
}

export interface Allocations {
  /** network id -> address -> container id */
  ips: Record<string, Record<string, string>>;
  /** "tcp/8080" -> container id */
  ports: Record<string, string>;
}

export class NetworkStore {
  constructor(readonly dir: string) {}

  private file(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  /** A network's record file (its host-wide claim names it). */
  recordFile(id: string): string {
    return this.file(id);
  }

  /** Everything that changes records or allocations runs in here. */
  async locked<T>(fn: () => Promise<T>): Promise<T> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    return withLock(path.join(this.dir, 'lock'), fn);
  }

  async list(): Promise<NetworkRecord[]> {
    const names = await fs.readdir(this.dir).catch((e: unknown) => {
      if (hasErrno(e, 'ENOENT')) return [] as string[];
      throw e;
    });
    const out: NetworkRecord[] = [];
    for (const n of names) {
      if (!/^[0-9a-f]{64}\.json$/.test(n)) continue;
      const text = await fs.readFile(path.join(this.dir, n), 'utf8').catch(() => undefined);
      if (text !== undefined) out.push(JSON.parse(text) as NetworkRecord);
    }
    return out.sort((a, b) => a.Created.localeCompare(b.Created));
  }

  /** By full name, full id or a unique id prefix (docker's order). */
  async find(ref: string): Promise<NetworkRecord> {
    const all = await this.list();
    const hit = all.find((n) => n.Name === ref) ?? all.find((n) => n.Id === ref);
    if (hit) return hit;
    const byPrefix = ref.length > 0 ? all.filter((n) => n.Id.startsWith(ref)) : [];
    if (byPrefix.length === 1) return byPrefix[0]!;
    if (byPrefix.length > 1) throw new BrigError('NETWORK_NOT_FOUND', `network ${ref} is ambiguous (${byPrefix.length} matches found based on ID prefix)`);
    throw new BrigError('NETWORK_NOT_FOUND', `network ${ref} not found`, { field: 'network' });
  }

  async save(n: NetworkRecord): Promise<void> {
    await writeFileAtomic(this.file(n.Id), JSON.stringify(n, null, 2));
  }

  async remove(id: string): Promise<void> {
    await fs.rm(this.file(id), { force: true });
  }

  static newId(): string {
    return randomBytes(32).toString('hex');
  }

  async allocations(): Promise<Allocations> {
    try {
      return JSON.parse(await fs.readFile(path.join(this.dir, 'allocations.json'), 'utf8')) as Allocations;
    } catch (e) {
      if (hasErrno(e, 'ENOENT')) return { ips: {}, ports: {} };
      throw e;
    }
  }

  async saveAllocations(a: Allocations): Promise<void> {
    await writeFileAtomic(path.join(this.dir, 'allocations.json'), JSON.stringify(a));
  }
}
