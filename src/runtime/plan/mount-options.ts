/**
 * Turns OCI mount `options` into what the helper applies: mount attributes (for the top
 * mount and recursively), propagation, bind/rbind, and filesystem parameters for fsconfig.
 * Options brig does not know are passed to the filesystem as parameters, as runc passes
 * them in mount(2)'s data; for bind mounts, which take no parameters, they are an error.
 */

import { MOUNT_ATTR, MS } from '../linux/constants.js';
import { invalid, unsupported } from '../spec/check.js';

export interface ParsedMountOptions {
  bind: boolean;
  recursive: boolean;
  /** Attributes to set / clear on the top mount. */
  attrs: number;
  attrsClr: number;
  /** Attributes to set / clear on the whole tree (rro, rnosuid, ...). */
  recAttrs: number;
  recAttrsClr: number;
  /** MS_PRIVATE etc., possibly | MS_REC; 0 for none. */
  propagation: number;
  /** fsconfig key/value pairs; value '' means a flag parameter. */
  fsParams: [string, string][];
  /** "idmap" maps the top mount, "ridmap" the whole tree (bind mounts only). */
  idmap?: 'idmap' | 'ridmap';
  /**
   * Filesystem parameters on a bind mount ("mode=755", "size=1k"): a bind makes no new
   * filesystem, so they have no effect; runc passes them as mount data, which the kernel
   * ignores for a bind. Named here (field, option) for a warning instead of refused.
   */
  ignored: [string, string][];
}

/** Boolean attributes; `true` sets the bit, `false` clears it. */
const BOOL_ATTRS: Record<string, [number, boolean]> = {
  ro: [MOUNT_ATTR.RDONLY, true],
  rw: [MOUNT_ATTR.RDONLY, false],
  nosuid: [MOUNT_ATTR.NOSUID, true],
  suid: [MOUNT_ATTR.NOSUID, false],
  nodev: [MOUNT_ATTR.NODEV, true],
  dev: [MOUNT_ATTR.NODEV, false],
  noexec: [MOUNT_ATTR.NOEXEC, true],
  exec: [MOUNT_ATTR.NOEXEC, false],
  nodiratime: [MOUNT_ATTR.NODIRATIME, true],
  diratime: [MOUNT_ATTR.NODIRATIME, false],
  nosymfollow: [MOUNT_ATTR.NOSYMFOLLOW, true],
  symfollow: [MOUNT_ATTR.NOSYMFOLLOW, false],
};

/**
 * The atime options are one field (MOUNT_ATTR__ATIME): choosing one replaces the others.
 * "atime", "norelatime" and "nostrictatime" undo their option, back to the default relatime.
 */
const ATIME_ATTRS: Record<string, number> = {
  noatime: MOUNT_ATTR.NOATIME,
  relatime: MOUNT_ATTR.RELATIME,
  strictatime: MOUNT_ATTR.STRICTATIME,
  atime: MOUNT_ATTR.RELATIME,
  norelatime: MOUNT_ATTR.STRICTATIME,
  nostrictatime: MOUNT_ATTR.RELATIME,
};

/** Collects attribute options in order (the last one wins) into mount_setattr's set/clear masks. */
class AttrAccumulator {
  private bits = new Map<number, boolean>();
  private atime: number | undefined;

  /** Returns false when `name` is not an attribute option. */
  add(name: string): boolean {
    const b = BOOL_ATTRS[name];
    if (b) {
      this.bits.set(b[0], b[1]);
      return true;
    }
    const a = ATIME_ATTRS[name];
    if (a !== undefined) {
      this.atime = a;
      return true;
    }
    return false;
  }

  get set(): number {
    let v = this.atime ?? 0;
    for (const [bit, on] of this.bits) if (on) v |= bit;
    return v;
  }

  get clr(): number {
    let v = this.atime === undefined ? 0 : MOUNT_ATTR._ATIME;
    for (const [bit, on] of this.bits) if (!on) v |= bit;
    return v;
  }
}

const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/** Options that only restate a default; accepted and dropped. */
const NOOPS = new Set(['defaults', 'async', 'nolazytime', 'nomand', 'noiversion', 'loud']);

export function parseMountOptions(options: string[], isBindType: boolean, field: string): ParsedMountOptions {
  const r: ParsedMountOptions = {
    bind: isBindType,
    recursive: false,
    attrs: 0,
    attrsClr: 0,
    recAttrs: 0,
    recAttrsClr: 0,
    propagation: 0,
    fsParams: [],
    ignored: [],
  };
  const params: [string, string, number][] = [];
  const top = new AttrAccumulator();
  const rec = new AttrAccumulator();
  options.forEach((opt, i) => {
    const f = `${field}[${i}]`;
    if (opt === 'bind' || opt === 'rbind') {
      r.bind = true;
      r.recursive ||= opt === 'rbind';
      return;
    }
    if (NOOPS.has(opt)) return;
    if (top.add(opt)) return;
    // Recursive attribute options (runc 1.1+): "rro", "rnosuid", "ratime", ... ("relatime" is not "r"+"elatime").
    if (opt.startsWith('r') && opt !== 'relatime' && rec.add(opt.slice(1))) return;
    const prop = PROPAGATION[opt];
    if (prop !== undefined) {
      r.propagation = prop;
      return;
    }
    if (opt === 'idmap' || opt === 'ridmap') {
      r.idmap = opt;
      return;
    }
    if (opt.startsWith('idmap=') || opt.startsWith('ridmap=')) {
      throw unsupported(f, 'mapping in the option is a crun extension: give mounts[].uidMappings/gidMappings instead');
    }
    if (opt === 'remount') throw unsupported(f, '"remount" has no meaning when creating a container');
    if (opt === 'tmpcopyup') throw unsupported(f, '"tmpcopyup" is not supported by this build');
    if (opt === '') throw invalid(f, 'empty option');
    const eq = opt.indexOf('=');
    const key = eq < 0 ? opt : opt.slice(0, eq);
    const value = eq < 0 ? '' : opt.slice(eq + 1);
    if (key === '' || /[,\s]/.test(key)) throw invalid(f, `"${opt}" is not a valid mount option`);
    params.push([key, value, i]);
  });
  if (r.idmap && !r.bind) throw invalid(field, `"${r.idmap}" applies to bind mounts only`);
  for (const [key, value, i] of params) {
    if (r.bind) r.ignored.push([`${field}[${i}]`, value === '' ? key : `${key}=${value}`]);
    else r.fsParams.push([key, value]);
  }
  r.attrs = top.set;
  r.attrsClr = top.clr;
  r.recAttrs = rec.set;
  r.recAttrsClr = rec.clr;
  return r;
}

/** Every option name this parser understands (for `features`): the rest are filesystem parameters. */
export function knownMountOptions(): string[] {
  const attrs = [...Object.keys(BOOL_ATTRS), ...Object.keys(ATIME_ATTRS)];
  return [
    ...new Set([
      'bind',
      'rbind',
      ...attrs,
      ...attrs.map((a) => `r${a}`),
      ...Object.keys(PROPAGATION),
      ...NOOPS,
    ]),
  ].sort();
}
