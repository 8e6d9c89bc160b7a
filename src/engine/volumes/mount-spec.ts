/**
 * What a container mounts besides its rootfs, as dockerd reads it (moby volume/mounts/
 * linux_parser.go): HostConfig.Binds (`-v` strings), HostConfig.Mounts (`--mount`, docker's
 * mount.Mount objects), Config.Volumes (the image's VOLUME entries and `-v /path`: anonymous
 * volumes) and HostConfig.Tmpfs, into one list of resolved mount requests. Pure: it names
 * volumes and paths, and the engine makes them (volumes/service.ts).
 */
import path from 'node:path';
import { BrigError } from '../../errors/index.js';

/** docker's mount.Mount (HostConfig.Mounts[]), the fields brig carries out. */
export interface MountRequest {
  Type: 'bind' | 'volume' | 'tmpfs';
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; DriverConfig?: { Name?: string; Options?: Record<string, string> }; Subpath?: string };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number; Options?: string[][] };
}

/** One mount a container gets, resolved from whichever field asked for it. */
export type MountPlan =
  | { kind: 'bind'; source: string; destination: string; rw: boolean; propagation: string; mode: string; recursive: boolean; createSource: boolean }
  | { kind: 'volume'; name: string | undefined; destination: string; rw: boolean; mode: string; copy: boolean; driverOpts: Record<string, string>; labels: Record<string, string>; subpath?: string }
  | { kind: 'tmpfs'; destination: string; rw: boolean; options: string[] };

const PROPAGATIONS = ['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate'];
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function validVolumeName(name: string, field: string): void {
  if (!NAME_RE.test(name)) {
    throw new BrigError(
      'INVALID_ARGUMENT',
      `"${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
      { field },
    );
  }
}

function destination(p: string, type: string, field: string): string {
  if (!path.posix.isAbsolute(p)) throw new BrigError('INVALID_ARGUMENT', `invalid mount config for type "${type}": invalid mount path: '${p}' mount path must be absolute`, { field });
  const d = path.posix.normalize(p);
  if (d === '/') throw new BrigError('INVALID_ARGUMENT', `invalid specification: destination can't be '/'`, { field });
  return d.length > 1 && d.endsWith('/') ? d.slice(0, -1) : d;
}

/** A -v mode: rw|ro, z|Z (SELinux relabel: nothing to do on a host without SELinux), a propagation, nocopy. */
function parseMode(mode: string, spec: string, field: string): { rw: boolean; propagation?: string; copy: boolean } {
  let rw = true;
  let propagation: string | undefined;
  let copy = true;
  const seen = new Set<string>();
  for (const m of mode.split(',')) {
    const family = m === 'ro' || m === 'rw' ? 'rw' : m === 'z' || m === 'Z' ? 'label' : PROPAGATIONS.includes(m) ? 'propagation' : m === 'nocopy' ? 'copy' : undefined;
    if (family === undefined || seen.has(family)) throw new BrigError('INVALID_ARGUMENT', `invalid mode: ${mode}`, { field, hint: `in "${spec}"` });
    seen.add(family);
    if (m === 'ro') rw = false;
    if (family === 'propagation') propagation = m;
    if (m === 'nocopy') copy = false;
  }
  return { rw, copy, ...(propagation ? { propagation } : {}) };
}

/** One HostConfig.Binds entry: `name:/dst[:mode]` or `/src:/dst[:mode]` (or `/dst:mode`, anonymous). */
export function parseBind(spec: string, index: number): MountPlan {
  const field = `HostConfig.Binds[${index}]`;
  const parts = spec.split(':');
  if (parts.length < 1 || parts.length > 3 || parts.some((p) => p === '')) throw new BrigError('INVALID_ARGUMENT', `invalid volume specification: '${spec}'`, { field });
  let src: string | undefined;
  let dst: string;
  let mode = '';
  if (parts.length === 1) dst = parts[0]!;
  else if (parts.length === 2 && path.posix.isAbsolute(parts[0]!) && !path.posix.isAbsolute(parts[1]!) && isMode(parts[1]!)) [dst, mode] = [parts[0]!, parts[1]!];
  else [src, dst, mode = ''] = parts as [string, string, string?];
  const m = mode ? parseMode(mode, spec, field) : { rw: true, copy: true };
  if (src !== undefined && path.posix.isAbsolute(src)) {
    if (!m.copy) throw new BrigError('INVALID_ARGUMENT', `invalid mode: ${mode}`, { field, hint: 'nocopy is for volumes, not bind mounts' });
    return { kind: 'bind', source: path.posix.normalize(src), destination: destination(dst, 'bind', field), rw: m.rw, propagation: m.propagation ?? 'rprivate', mode, recursive: true, createSource: true };
  }
  if (src !== undefined) validVolumeName(src, field);
  if (m.propagation) throw new BrigError('INVALID_ARGUMENT', `invalid mode: ${mode}`, { field, hint: 'propagation is for bind mounts' });
  return { kind: 'volume', name: src, destination: destination(dst, 'volume', field), rw: m.rw, mode, copy: m.copy, driverOpts: {}, labels: {} };
}

function isMode(s: string): boolean {
  return s.split(',').every((m) => ['ro', 'rw', 'z', 'Z', 'nocopy', ...PROPAGATIONS].includes(m));
}

/** One HostConfig.Mounts entry, checked as dockerd checks it (daemon/volumes.go, mounts/validate.go). */
export function parseMount(m: MountRequest, index: number): MountPlan {
  const field = `HostConfig.Mounts[${index}]`;
  const type = m.Type;
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') {
    throw new BrigError('INVALID_ARGUMENT', `mount type unknown: "${String(type)}"`, { field: `${field}.Type`, hint: 'bind, volume or tmpfs' });
  }
  if (typeof m.Target !== 'string' || m.Target === '') throw new BrigError('INVALID_ARGUMENT', `invalid mount config for type "${type}": field Target must not be empty`, { field: `${field}.Target` });
  const dst = destination(m.Target, type, `${field}.Target`);
  const rw = m.ReadOnly !== true;
  const only = (what: string, given: unknown) => {
    if (given !== undefined) throw new BrigError('INVALID_ARGUMENT', `invalid mount config for type "${type}": field ${what} must not be specified`, { field: `${field}.${what}` });
  };
  if (type === 'bind') {
    only('VolumeOptions', m.VolumeOptions);
    only('TmpfsOptions', m.TmpfsOptions);
    if (!m.Source) throw new BrigError('INVALID_ARGUMENT', `invalid mount config for type "bind": field Source must not be empty`, { field: `${field}.Source` });
    if (!path.posix.isAbsolute(m.Source)) throw new BrigError('INVALID_ARGUMENT', `invalid mount config for type "bind": invalid mount path: '${m.Source}' mount path must be absolute`, { field: `${field}.Source` });
    const propagation = m.BindOptions?.Propagation || 'rprivate';
    if (!PROPAGATIONS.includes(propagation)) throw new BrigError('INVALID_ARGUMENT', `invalid propagation mode: ${propagation}`, { field: `${field}.BindOptions.Propagation` });
    return { kind: 'bind', source: path.posix.normalize(m.Source), destination: dst, rw, propagation, mode: '', recursive: m.BindOptions?.NonRecursive !== true, createSource: m.BindOptions?.CreateMountpoint === true };
  }
  if (type === 'volume') {
    only('BindOptions', m.BindOptions);
    only('TmpfsOptions', m.TmpfsOptions);
    if (m.Source) validVolumeName(m.Source, `${field}.Source`);
    const driver = m.VolumeOptions?.DriverConfig?.Name;
    if (driver && driver !== 'local') throw new BrigError('INVALID_ARGUMENT', `volume driver "${driver}" is not supported`, { field: `${field}.VolumeOptions.DriverConfig.Name`, hint: 'brig has the local driver' });
    const subpath = m.VolumeOptions?.Subpath;
    if (subpath !== undefined && (path.posix.isAbsolute(subpath) || path.posix.normalize(subpath).startsWith('..'))) {
      throw new BrigError('INVALID_ARGUMENT', `invalid mount config for type "volume": subpath must be a relative path within the volume`, { field: `${field}.VolumeOptions.Subpath` });
    }
    return {
      kind: 'volume',
      name: m.Source || undefined,
      destination: dst,
      rw,
      mode: '',
      copy: m.VolumeOptions?.NoCopy !== true,
      driverOpts: m.VolumeOptions?.DriverConfig?.Options ?? {},
      labels: m.VolumeOptions?.Labels ?? {},
      ...(subpath ? { subpath: path.posix.normalize(subpath) } : {}),
    };
  }
  only('BindOptions', m.BindOptions);
  only('VolumeOptions', m.VolumeOptions);
  if (m.Source) throw new BrigError('INVALID_ARGUMENT', `invalid mount config for type "tmpfs": field Source must not be specified`, { field: `${field}.Source` });
  const t = m.TmpfsOptions ?? {};
  if (t.SizeBytes !== undefined && (!Number.isInteger(t.SizeBytes) || t.SizeBytes < 0)) throw new BrigError('INVALID_ARGUMENT', `invalid tmpfs size ${t.SizeBytes}`, { field: `${field}.TmpfsOptions.SizeBytes` });
  const options = ['nosuid', 'nodev', 'noexec', ...(rw ? [] : ['ro'])];
  if (t.SizeBytes) options.push(`size=${t.SizeBytes}`);
  options.push(`mode=${(t.Mode ?? 0o1777).toString(8)}`);
  for (const o of t.Options ?? []) options.push(o.length === 2 ? `${o[0]}=${o[1]}` : o[0]!);
  return { kind: 'tmpfs', destination: dst, rw, options };
}

/**
 * Every mount of a container, docker's precedence applied: Binds and Mounts must not name the
 * same destination twice ("Duplicate mount point"); an image VOLUME or `-v /path` (Config.
 * Volumes) that one of them covers is theirs; HostConfig.Tmpfs destinations too.
 */
export function planMounts(
  req: { Binds?: string[] | null; Mounts?: MountRequest[] | null; Volumes?: Record<string, unknown>; Tmpfs?: Record<string, string> },
  inherited: MountPlan[] = [],
): MountPlan[] {
  const out: MountPlan[] = [];
  const taken = new Map<string, string>();
  const claim = (p: MountPlan, field: string) => {
    if (taken.has(p.destination)) throw new BrigError('INVALID_ARGUMENT', `Duplicate mount point: ${p.destination}`, { field, hint: `also in ${taken.get(p.destination)}` });
    taken.set(p.destination, field);
    out.push(p);
  };
  (req.Binds ?? []).forEach((b, i) => claim(parseBind(b, i), `HostConfig.Binds[${i}]`));
  (req.Mounts ?? []).forEach((m, i) => claim(parseMount(m, i), `HostConfig.Mounts[${i}]`));
  // --volumes-from: another container's mounts, under what this one mounts itself (docker's order).
  for (const p of inherited) {
    if (taken.has(p.destination)) continue;
    taken.set(p.destination, 'HostConfig.VolumesFrom');
    out.unshift(p);
  }
  for (const dest of Object.keys(req.Tmpfs ?? {})) taken.set(path.posix.normalize(dest), `HostConfig.Tmpfs[${dest}]`);
  for (const v of Object.keys(req.Volumes ?? {})) {
    const d = destination(v, 'volume', `Config.Volumes[${v}]`);
    if (taken.has(d)) continue;
    taken.set(d, `Config.Volumes[${v}]`);
    out.push({ kind: 'volume', name: undefined, destination: d, rw: true, mode: '', copy: true, driverOpts: {}, labels: {} });
  }
  return out;
}

/** `container[:ro|rw]` of --volumes-from: the container, and the mode that overrides its mounts' (if any). */
export function parseVolumesFrom(spec: string, index: number): { container: string; rw?: boolean } {
  const [container = '', mode, ...rest] = spec.split(':');
  if (container === '' || rest.length || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) {
    throw new BrigError('INVALID_ARGUMENT', `invalid volumes-from specification: '${spec}'`, { field: `HostConfig.VolumesFrom[${index}]`, hint: 'container[:ro|rw]' });
  }
  return { container, ...(mode ? { rw: mode === 'rw' } : {}) };
}

/** Another container's mount points as plans for this one (volumes-from): same sources, no copying. */
export function inheritMounts(points: readonly { Type: string; Name?: string; Source: string; Destination: string; RW: boolean; Propagation: string; Mode: string }[], rw?: boolean): MountPlan[] {
  return points.flatMap((m): MountPlan[] => {
    const w = rw ?? m.RW;
    if (m.Type === 'volume' && m.Name) return [{ kind: 'volume', name: m.Name, destination: m.Destination, rw: w, mode: m.Mode, copy: false, driverOpts: {}, labels: {} }];
    if (m.Type === 'bind') return [{ kind: 'bind', source: m.Source, destination: m.Destination, rw: w, propagation: m.Propagation || 'rprivate', mode: m.Mode, recursive: true, createSource: false }];
    return []; // docker does not pass tmpfs mounts on
  });
}
