/**
 * `-v`/`--volume` and `--mount` as docker's CLI reads them (cli/command/container/opts.go,
 * opts/mount.go): `-v /path` asks for an anonymous volume (Config.Volumes), any other `-v`
 * goes to HostConfig.Binds with a relative host path made absolute from the current
 * directory; `--mount` is a CSV of key=value fields into a mount.Mount. The engine checks
 * what they mean (src/engine/volumes/mount-spec.ts).
 */
import path from 'node:path';
import type { MountRequest } from '../../../../engine/volumes/mount-spec.js';
import { BrigError } from '../../../../errors/index.js';
import { ramInBytes } from '../../../../util/units.js';

export function volumeFlags(values: string[], cwd: string): { binds: string[]; volumes: Record<string, Record<string, never>> } {
  const binds: string[] = [];
  const volumes: Record<string, Record<string, never>> = {};
  for (const v of values) {
    if (v === '') throw new BrigError('INVALID_ARGUMENT', 'invalid empty volume spec', { field: '--volume' });
    const colon = v.indexOf(':');
    if (colon < 0) {
      volumes[v] = {};
      continue;
    }
    const src = v.slice(0, colon);
    // docker's CLI (23+): "./data:/data" means the directory here.
    binds.push(src === '.' || src.startsWith('./') || src.startsWith('../') || src === '..' ? `${path.resolve(cwd, src)}${v.slice(colon)}` : v);
  }
  return { binds, volumes };
}

function bool(key: string, v: string | undefined): boolean {
  if (v === undefined || v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new BrigError('INVALID_ARGUMENT', `invalid value for ${key}: ${v}`, { field: '--mount' });
}

/** One --mount value: `type=volume,source=data,target=/data,readonly,volume-opt=k=v,...`. */
export function parseMountFlag(spec: string): MountRequest {
  const m: MountRequest = { Type: 'volume', Target: '' };
  const volume = (): NonNullable<MountRequest['VolumeOptions']> => (m.VolumeOptions ??= {});
  const bind = (): NonNullable<MountRequest['BindOptions']> => (m.BindOptions ??= {});
  const tmpfs = (): NonNullable<MountRequest['TmpfsOptions']> => (m.TmpfsOptions ??= {});
  for (const field of csvFields(spec)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? undefined : field.slice(eq + 1);
    const need = () => {
      if (value === undefined) throw new BrigError('INVALID_ARGUMENT', `invalid field '${field}' must be a key=value pair`, { field: '--mount' });
      return value;
    };
    switch (key) {
      case 'type':
        m.Type = need() as MountRequest['Type'];
        break;
      case 'source':
      case 'src':
        m.Source = need();
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.Target = need();
        break;
      case 'readonly':
      case 'ro':
        m.ReadOnly = bool(key, value);
        break;
      case 'consistency':
        need(); // macOS file sharing's option: nothing to do on Linux, as docker on Linux
        break;
      case 'bind-propagation':
        bind().Propagation = need();
        break;
      case 'bind-nonrecursive':
        bind().NonRecursive = bool(key, value);
        break;
      case 'bind-create-src':
        bind().CreateMountpoint = bool(key, value);
        break;
      case 'volume-driver':
        volume().DriverConfig = { ...volume().DriverConfig, Name: need() };
        break;
      case 'volume-nocopy':
        volume().NoCopy = bool(key, value);
        break;
      case 'volume-subpath':
        volume().Subpath = need();
        break;
      case 'volume-label':
      case 'volume-opt': {
        const kv = need();
        const i = kv.indexOf('=');
        const [k, v] = i < 0 ? [kv, ''] : [kv.slice(0, i), kv.slice(i + 1)];
        if (key === 'volume-label') volume().Labels = { ...volume().Labels, [k]: v };
        else volume().DriverConfig = { ...volume().DriverConfig, Options: { ...volume().DriverConfig?.Options, [k]: v } };
        break;
      }
      case 'tmpfs-size': {
        tmpfs().SizeBytes = ramInBytes(need(), '--mount tmpfs-size');
        break;
      }
      case 'tmpfs-mode': {
        const mode = Number.parseInt(need(), 8);
        if (!/^[0-7]+$/.test(value!)) throw new BrigError('INVALID_ARGUMENT', `invalid value for ${key}: ${value}`, { field: '--mount' });
        tmpfs().Mode = mode;
        break;
      }
      default:
        throw new BrigError('INVALID_ARGUMENT', `unexpected key '${key}' in '${field}'`, { field: '--mount' });
    }
  }
  if (m.Type !== 'volume' && m.VolumeOptions) throw new BrigError('INVALID_ARGUMENT', `cannot mix 'volume-*' options with mount type '${m.Type}'`, { field: '--mount' });
  if (m.Type !== 'bind' && m.BindOptions) throw new BrigError('INVALID_ARGUMENT', `cannot mix 'bind-*' options with mount type '${m.Type}'`, { field: '--mount' });
  if (m.Type !== 'tmpfs' && m.TmpfsOptions) throw new BrigError('INVALID_ARGUMENT', `cannot mix 'tmpfs-*' options with mount type '${m.Type}'`, { field: '--mount' });
  return m;
}

/** encoding/csv's fields: commas separate, a field may be quoted ("a,b" and "" for a quote). */
function csvFields(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && cur === '') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.filter((f) => f !== '');
}
