/**
 * The volume verbs as dockerd answers them (POST /volumes/create, GET /volumes, GET and DELETE
 * /volumes/{name}, POST /volumes/prune): the store, and which containers use each volume
 * (read from their records at the moment of asking, so removal can never race a stale count
 * the way a reference file could). A volume any container names, running or not, is in use.
 */
import * as fs from 'node:fs/promises';
import path from 'node:path';
import { BrigError } from '../../errors/index.js';
import { type FilterMap, Filters } from '../../util/docker-filters.js';
import { ANONYMOUS_LABEL, type Volume, type VolumeStore } from './store.js';

export interface VolumeCreateRequest {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string>;
  Labels?: Record<string, string>;
}

export interface VolumeListResponse {
  Volumes: Volume[];
  Warnings: string[];
}

export interface VolumePruneReport {
  VolumesDeleted: string[];
  SpaceReclaimed: number;
}

const LIST_FILTERS = ['dangling', 'driver', 'label', 'name'];
const PRUNE_FILTERS = ['label', 'label!', 'all'];

export class VolumeService {
  constructor(
    private readonly store: VolumeStore,
    /** Volume name -> ids of the containers whose records mount it. */
    private readonly users: () => Promise<Map<string, string[]>>,
  ) {}

  async create(req: VolumeCreateRequest): Promise<Volume> {
    if (req.Driver && req.Driver !== 'local') {
      throw new BrigError('INVALID_ARGUMENT', `error looking up volume plugin ${req.Driver}: plugin "${req.Driver}" not found`, { field: 'Driver', hint: 'brig has the local driver' });
    }
    return (await this.store.create({ ...(req.Name ? { name: req.Name } : {}), labels: req.Labels ?? {}, options: req.DriverOpts ?? {} })).volume;
  }

  inspect(name: string): Promise<Volume> {
    return this.store.get(name);
  }

  async list(opts: { filters?: FilterMap } = {}): Promise<VolumeListResponse> {
    const f = new Filters(opts.filters ?? {});
    f.validate(LIST_FILTERS);
    const dangling = f.contains('dangling') ? f.bool('dangling', false) : undefined;
    const users = await this.users();
    const out = (await this.store.list()).filter(
      (v) =>
        (dangling === undefined || dangling === !users.has(v.Name)) &&
        f.match('name', v.Name) &&
        f.exactMatch('driver', v.Driver) &&
        f.matchKVList('label', v.Labels ?? {}),
    );
    return { Volumes: out, Warnings: [] };
  }

  /** docker's rm: refused while a container uses it (force only forgives a missing one). */
  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    try {
      await this.store.get(name);
    } catch (e) {
      if (opts.force && (e as BrigError).code === 'VOLUME_NOT_FOUND') return;
      throw e;
    }
    const users = (await this.users()).get(name);
    if (users?.length) {
      throw new BrigError('VOLUME_IN_USE', `remove ${name}: volume is in use - [${users.join(', ')}]`, { field: 'name', hint: 'remove the containers that use it first' });
    }
    await this.store.remove(name);
  }

  /** The anonymous ones among these that no container uses any more (rm -v, --rm). */
  async releaseAnonymous(names: string[]): Promise<void> {
    const users = await this.users();
    for (const n of names) {
      if (users.has(n)) continue;
      const v = await this.store.get(n).catch(() => undefined);
      if (v && Object.hasOwn(v.Labels ?? {}, ANONYMOUS_LABEL)) await this.store.remove(n).catch(() => {});
    }
  }

  /** docker's prune (API 1.42+): unused anonymous volumes; with all=true, every unused one. */
  async prune(opts: { filters?: FilterMap } = {}): Promise<VolumePruneReport> {
    const f = new Filters(opts.filters ?? {});
    f.validate(PRUNE_FILTERS);
    const all = f.get('all').some((v) => v === 'true' || v === '1');
    const users = await this.users();
    const report: VolumePruneReport = { VolumesDeleted: [], SpaceReclaimed: 0 };
    for (const v of await this.store.list()) {
      if (users.has(v.Name)) continue;
      if (!all && !Object.hasOwn(v.Labels ?? {}, ANONYMOUS_LABEL)) continue;
      if (!f.matchKVList('label', v.Labels ?? {}) || (f.contains('label!') && f.matchKVList('label!', v.Labels ?? {}))) continue;
      const size = await du(v.Mountpoint);
      try {
        await this.store.remove(v.Name);
      } catch {
        continue; // taken by a container or removed meanwhile: not this prune's
      }
      report.VolumesDeleted.push(v.Name);
      report.SpaceReclaimed += size;
    }
    return report;
  }
}

/** Bytes of the files under a directory (each inode once), without following links. */
async function du(dir: string): Promise<number> {
  let total = 0;
  const seen = new Set<string>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await fs.readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(d, e.name);
      const st = await fs.lstat(p).catch(() => undefined);
      if (!st) continue;
      if (st.isDirectory()) await walk(p);
      else if (!seen.has(`${st.dev}:${st.ino}`)) {
        seen.add(`${st.dev}:${st.ino}`);
        total += st.size;
      }
    }
  };
  await walk(dir);
  return total;
}
