/**
 * --tmpfs and HostConfig.Tmpfs as docker mounts them: docker's defaults noexec, nosuid,
 * nodev, then the user's options, later ones winning within a family (exec beats noexec;
 * one propagation mode; one size=), as moby's MergeTmpfsOptions does.
 */
import path from 'node:path';
import { BrigError } from '../../errors/index.js';
import type { Mount } from '../../runtime/spec/types.js';

/** Mount flags by family: an option replaces any earlier one of its family. */
const FAMILIES: Record<string, string> = {
  ro: 'rdonly', rw: 'rdonly',
  suid: 'suid', nosuid: 'suid',
  dev: 'dev', nodev: 'dev',
  exec: 'exec', noexec: 'exec',
  sync: 'sync', async: 'sync',
  dirsync: 'dirsync',
  atime: 'atime', noatime: 'atime',
  diratime: 'diratime', nodiratime: 'diratime',
  relatime: 'relatime', norelatime: 'relatime',
  strictatime: 'strictatime', nostrictatime: 'strictatime',
  mand: 'mand', nomand: 'mand',
  private: 'propagation', rprivate: 'propagation', shared: 'propagation', rshared: 'propagation',
  slave: 'propagation', rslave: 'propagation', unbindable: 'propagation', runbindable: 'propagation',
};

const DATA = ['size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'mpol'];

export function mergeTmpfsOptions(options: string[], field: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (let i = options.length - 1; i >= 0; i--) {
    const o = options[i]!;
    if (o === 'defaults' || o === '') continue;
    const family = FAMILIES[o];
    const key = family ?? o.split('=', 1)[0]!;
    if (family === undefined && (!o.includes('=') || !DATA.includes(key))) {
      throw new BrigError('INVALID_ARGUMENT', `Invalid tmpfs option ["${o}"]`, { field, hint: `mount flags, or ${DATA.join('=, ')}=` });
    }
    if (seen.has(key)) continue;
    seen.add(key);
    out.unshift(o);
  }
  return out;
}

export function tmpfsMounts(tmpfs: Record<string, string>): Mount[] {
  return Object.entries(tmpfs).map(([dest, opts]) => {
    const field = `HostConfig.Tmpfs[${dest}]`;
    if (!path.isAbsolute(dest)) throw new BrigError('INVALID_ARGUMENT', `invalid mount path: '${dest}' mount path must be absolute`, { field });
    if (path.posix.normalize(dest) === '/') throw new BrigError('INVALID_ARGUMENT', `invalid specification: destination can't be '/'`, { field });
    return { destination: path.posix.normalize(dest), type: 'tmpfs', source: 'tmpfs', options: mergeTmpfsOptions(['noexec', 'nosuid', 'nodev', ...opts.split(',')], field) };
  });
}
