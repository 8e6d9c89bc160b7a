/**
 * Volumes of docker's `local` driver, in docker's layout: <data root>/volumes/<name>/_data
 * holds the data, volume.json beside it the name, labels, options and creation time. A volume
 * with options (`-o type=tmpfs|nfs|none... device=... o=...`, as docker's local driver takes
 * them) is mounted on its _data when a container first needs it and stays mounted until the
 * volume is removed (docker unmounts when its last user stops; brig keeps it, so a tmpfs
 * volume's data lasts until `volume rm` or a reboot). Changes hold the volume's lock.
 *
 * Which containers use a volume is not kept here: the engine reads it from the containers'
 * records (VolumeService.usedBy), so a crash can never leave a wrong count behind.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import path from 'node:path';
import { BrigError, hasErrno } from '../../errors/index.js';
import { pidExists } from '../../util/owner.js';
import { withLock, writeFileAtomic } from '../../image/store/lock.js';
import { execFileAsync } from '../../util/builtins.js';
import { parseMountPoints } from '../../runtime/host-facts.js';
import { readTextSync } from '../../util/read-text.js';
import { validVolumeName } from './mount-spec.js';

/** GET /volumes/{name}'s shape. */
export interface Volume {
  Name: string;
  Driver: 'local';
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Options: Record<string, string> | null;
  Scope: 'local';
}

/** docker's label on volumes made for a container (`-v /path`, an image VOLUME): `prune` takes these. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';
/** The local driver's options (docker's volume/local: type, device, o), and `size` for tmpfs. */
const LOCAL_OPTS = ['type', 'device', 'o', 'size'];

export class VolumeStore {
  constructor(private readonly root: string) {}

  private dir(name: string): string {
    return path.join(this.root, name);
  }

  private dataDir(name: string): string {
    return path.join(this.dir(name), '_data');
  }

  /**
   * Creates the volume, or returns the one of that name (docker's create is idempotent for the
   * same driver). No name: an anonymous volume with a random 64-hex name.
   */
  async create(opts: { name?: string; labels?: Record<string, string>; options?: Record<string, string>; anonymous?: boolean; field?: string } = {}): Promise<{ volume: Volume; created: boolean }> {
    const name = opts.name ?? randomBytes(32).toString('hex');
    validVolumeName(name, opts.field ?? 'Name');
    const options = opts.options ?? {};
    for (const k of Object.keys(options)) {
      if (!LOCAL_OPTS.includes(k)) throw new BrigError('INVALID_ARGUMENT', `invalid option key: "${k}"`, { field: `DriverOpts.${k}`, hint: `the local driver takes ${LOCAL_OPTS.join(', ')}` });
    }
    if (options.type === undefined && (options.device !== undefined || options.o !== undefined)) {
      throw new BrigError('INVALID_ARGUMENT', 'missing required option: "type"', { field: 'DriverOpts.type' });
    }
    await fs.mkdir(this.root, { recursive: true, mode: 0o701 });
    return withLock(path.join(this.root, `.${name}.lock`), async () => {
      const existing = await this.get(name).catch((e: BrigError) => {
        if (e.code !== 'VOLUME_NOT_FOUND') throw e;
        return undefined;
      });
      if (existing) return { volume: existing, created: false };
      const labels = { ...(opts.labels ?? {}), ...(opts.anonymous ? { [ANONYMOUS_LABEL]: '' } : {}) };
      const tmp = `${this.dir(name)}.new.${process.pid}`;
      await fs.rm(tmp, { recursive: true, force: true });
      await fs.mkdir(path.join(tmp, '_data'), { recursive: true, mode: 0o755 });
      const v: Volume = {
        Name: name,
        Driver: 'local',
        Mountpoint: this.dataDir(name),
        CreatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        Labels: labels,
        Options: Object.keys(options).length ? options : null,
        Scope: 'local',
      };
      await writeFileAtomic(path.join(tmp, 'volume.json'), JSON.stringify(v));
      // Whole or not at all: a crash leaves a *.new.<pid> directory, never half a volume.
      await fs.rename(tmp, this.dir(name));
      return { volume: v, created: true };
    });
  }

  async get(name: string): Promise<Volume> {
    try {
      return JSON.parse(await fs.readFile(path.join(this.dir(name), 'volume.json'), 'utf8')) as Volume;
    } catch (e) {
      if (hasErrno(e, 'ENOENT') || hasErrno(e, 'ENOTDIR')) throw new BrigError('VOLUME_NOT_FOUND', `get ${name}: no such volume`, { field: 'name' });
      throw e;
    }
  }

  async list(): Promise<Volume[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.root);
    } catch (e) {
      if (hasErrno(e, 'ENOENT')) return [];
      throw e;
    }
    const out: Volume[] = [];
    for (const n of names.filter((x) => !x.startsWith('.') && !x.includes('.new.'))) {
      const v = await this.get(n).catch(() => undefined);
      if (v) out.push(v);
    }
    return out.sort((a, b) => a.Name.localeCompare(b.Name));
  }

  /** The directory a container mounts: _data, mounted first when the volume has options. */
  async mountpoint(name: string): Promise<string> {
    const v = await this.get(name);
    const data = this.dataDir(name);
    if (!v.Options?.type) return data;
    return withLock(path.join(this.root, `.${name}.lock`), async () => {
      if (await isMountPoint(data)) return data;
      const o = v.Options!;
      const opts = [o.o, o.size ? `size=${o.size}` : undefined].filter(Boolean).join(',');
      try {
        await execFileAsync('mount', ['-t', o.type!, ...(opts ? ['-o', opts] : []), o.device ?? o.type!, data]);
      } catch (e) {
        const why = (e as { stderr?: string }).stderr?.trim() || (e as Error).message;
        throw new BrigError('SYSTEM', `error while mounting volume '${data}': ${why}`, { path: data, cause: e });
      }
      return data;
    });
  }

  /** Removes the volume and its data (the caller checked no container uses it). */
  async remove(name: string): Promise<void> {
    await this.get(name);
    await withLock(path.join(this.root, `.${name}.lock`), async () => {
      const data = this.dataDir(name);
      if (await isMountPoint(data)) await execFileAsync('umount', [data]);
      // Renamed away first: a crash mid-removal leaves no half volume under its name.
      const gone = path.join(this.root, `.${name}.removing.${process.pid}`);
      await fs.rename(this.dir(name), gone);
      await fs.rm(gone, { recursive: true, force: true });
    });
  }

  /** Leftovers of interrupted creates and removals (the engine's start-up sweep). */
  async sweep(): Promise<void> {
    let names: string[];
    try {
      names = await fs.readdir(this.root);
    } catch {
      return;
    }
    for (const n of names.filter((x) => /\.(new|removing)\.\d+$/.test(x))) {
      const pid = Number(n.split('.').at(-1));
      if (pidExists(pid)) continue;
      const p = path.join(this.root, n);
      if (await isMountPoint(path.join(p, '_data'))) await execFileAsync('umount', [path.join(p, '_data')]).catch(() => {});
      await fs.rm(p, { recursive: true, force: true });
    }
  }
}

/** By the mount table, not by device numbers: a bind mount from the same filesystem has the parent's. */
async function isMountPoint(p: string): Promise<boolean> {
  return parseMountPoints(readTextSync('/proc/self/mountinfo')).some((m) => m.point === p);
}
