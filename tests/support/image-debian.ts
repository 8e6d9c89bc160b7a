/**
 * A small real Debian userland image, built in the test from the host's own installed
 * packages (no download): every file `dpkg -L` lists for DEBIAN_PACKAGES (less docs, man
 * pages, locales, as debian:*-slim leaves them out), every shared library their ELF files
 * need (read from the ELF files as the loader reads them: DT_NEEDED through ld.so.cache,
 * PT_INTERP for the loader itself; every symlink on the way included), with
 * modes, owners and setuid bits as installed; Debian's /etc/passwd, /etc/group (from
 * base-passwd's masters), /etc/shadow and /etc/gshadow (0640 root:shadow), what base-files'
 * postinst makes (/etc/profile, root's dot files) and the usual empty dirs. The host's
 * merged /usr (/bin -> usr/bin...) is kept as it is: an entry never lies below a symlink.
 *
 * More packages can be asked for (`packages`: python3-flask, postgresql, ...): each with the
 * installed packages it depends on (Pre-Depends and Depends, the first installed
 * alternative, virtual names through what provides them), less those `omit` names (and what
 * only they would bring) and the paths `exclude` matches (postgres's JIT, for one, whose
 * libLLVM is most of its size). They must be installed on the host (debianSkip says which
 * are not: `apt-get install -y ...`); nothing is downloaded here.
 *
 * The layer goes into a docker-archive (`brig load -i`, `docker load -i`) whose config has
 * docker's debian image's Cmd ["bash"] and PATH. Built once (a second or two) and cached in
 * the temp dir under a key of the installed packages' versions and this file, so every test
 * file of a run, and later runs, load the same archive.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dockerArchive } from './image-archive.js';
import { readTextSync } from '../../src/util/read-text.js';

export const DEBIAN_PACKAGES = [
  'base-files', 'base-passwd', 'bash', 'dash', 'coreutils', 'grep', 'sed', 'findutils', 'procps',
  'passwd', 'login', 'tar', 'gzip', 'libc-bin', 'ncurses-base',
];
export const DEBIAN_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** What debian:*-slim's dpkg excludes; left out here too. */
const SLIM = /^\/usr\/share\/(doc|man|locale|info|lintian|linda|groff)(\/|$)/;
/** Made fresh with these modes (root-owned), whatever the host has there now. */
const EMPTY_DIRS: [string, number][] = [
  ['/tmp', 0o1777], ['/var/tmp', 0o1777], ['/root', 0o700], ['/home', 0o755],
  ['/proc', 0o555], ['/sys', 0o555], ['/dev', 0o755], ['/run', 0o755],
  ['/srv', 0o755], ['/opt', 0o755], ['/mnt', 0o755], ['/media', 0o755],
  ...['', '/bin', '/sbin', '/lib', '/include', '/share', '/src', '/etc', '/games'].map((d): [string, number] => [`/usr/local${d}`, 0o755]),
];
/** Debian's fixed ids (base-passwd). */
const SHADOW_GID = 42;
/** Every password's last change in /etc/shadow: a fixed day (days since 1970), so the image is the same from run to run. */
export const SHADOW_LASTCHG = 19723; // 2024-01-01

const run = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.error) throw r.error;
  return r;
};

/** An image of the base packages, or of more. */
export interface DebianImageOptions {
  /** More packages, with what they depend on. */
  packages?: string[];
  /** Packages never taken into the closure (nor followed). */
  omit?: string[];
  /** Installed paths left out (and the libraries only they would need). */
  exclude?: RegExp;
}

/** Why the image cannot be built here, or false. */
export function debianSkip(packages: string[] = []): false | string {
  const wanted = [...DEBIAN_PACKAGES, ...packages];
  const r = spawnSync('dpkg-query', ['-W', '-f', '${Package} ${db:Status-Abbrev}\n', ...wanted], { encoding: 'utf8' });
  if (r.error) return 'dpkg-query not found: the Debian image is built from the host\'s dpkg packages';
  const missing = wanted.filter((p) => !new RegExp(`^${p} ii `, 'm').test(r.stdout));
  if (missing.length) return `host packages not installed: ${missing.join(' ')} (apt-get install -y ${missing.join(' ')})`;
  if (spawnSync('ldconfig', ['-p']).error) return 'ldconfig not found (libc-bin)';
  return false;
}

/**
 * Records `p` and every directory and symlink on the way to it in `into`, following the
 * symlinks met before the last component (and the last one too with `follow`); returns
 * the real path, or undefined when something on the way does not exist.
 */
function walk(p: string, into: Set<string>, follow: boolean): string | undefined {
  let todo = p.split('/').filter(Boolean);
  let cur = '';
  for (let hops = 0; todo.length > 0; ) {
    const part = todo.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      cur = cur.slice(0, cur.lastIndexOf('/'));
      continue;
    }
    const next = `${cur}/${part}`;
    let link = false;
    try {
      link = lstatSync(next).isSymbolicLink();
    } catch {
      return undefined;
    }
    into.add(next);
    if (link && (todo.length > 0 || follow)) {
      if (++hops > 40) throw new Error(`too many symlinks resolving ${p}`);
      const target = readlinkSync(next);
      todo = [...target.split('/').filter(Boolean), ...todo];
      if (target.startsWith('/')) cur = '';
      continue;
    }
    cur = next;
  }
  return cur;
}

interface Elf {
  machine: number;
  interp?: string;
  needed: string[];
}

/** An ELF file's machine, program interpreter (PT_INTERP) and DT_NEEDED names; undefined when it is not a 64-bit little-endian ELF. */
function readElf(file: string): Elf | undefined {
  const fd = openSync(file, 'r');
  const at = (offset: number | bigint, size: number | bigint) => {
    const b = Buffer.alloc(Number(size));
    readSync(fd, b, 0, b.length, Number(offset));
    return b;
  };
  try {
    const h = at(0, 64);
    if (h.toString('latin1', 0, 4) !== '\x7fELF' || h[4] !== 2 || h[5] !== 1) return undefined;
    const elf: Elf = { machine: h.readUInt16LE(18), needed: [] };
    const [phoff, phentsize, phnum] = [h.readBigUInt64LE(32), h.readUInt16LE(54), h.readUInt16LE(56)];
    const ph = at(phoff, phentsize * phnum);
    for (let i = 0; i < phnum; i++) {
      const e = ph.subarray(i * phentsize);
      if (e.readUInt32LE(0) === 3 /* PT_INTERP */) elf.interp = at(e.readBigUInt64LE(8), e.readBigUInt64LE(32)).toString('latin1').replace(/\0.*$/s, '');
    }
    const [shoff, shentsize, shnum] = [h.readBigUInt64LE(40), h.readUInt16LE(58), h.readUInt16LE(60)];
    const sh = at(shoff, shentsize * shnum);
    const section = (i: number) => {
      const e = sh.subarray(i * shentsize);
      return { type: e.readUInt32LE(4), data: () => at(e.readBigUInt64LE(24), e.readBigUInt64LE(32)), link: e.readUInt32LE(40) };
    };
    for (let i = 0; i < shnum; i++) {
      const s = section(i);
      if (s.type !== 6 /* SHT_DYNAMIC */) continue;
      const dyn = s.data();
      const strtab = section(s.link).data();
      for (let o = 0; o + 16 <= dyn.length; o += 16) {
        const tag = dyn.readBigInt64LE(o);
        if (tag === 0n) break;
        if (tag === 1n /* DT_NEEDED */) {
          const off = Number(dyn.readBigUInt64LE(o + 8));
          elf.needed.push(strtab.toString('latin1', off, strtab.indexOf(0, off)));
        }
      }
    }
    return elf;
  } finally {
    closeSync(fd);
  }
}

/** The loader's cache (`ldconfig -p`): a library name to its paths, in the order the loader tries them. */
function loaderCache(): Map<string, string[]> {
  const cache = new Map<string, string[]>();
  for (const m of run('ldconfig', ['-p']).stdout.matchAll(/^\s+(\S+) \(.*\) => (\/\S+)$/gm)) {
    cache.set(m[1]!, [...(cache.get(m[1]!) ?? []), m[2]!]);
  }
  return cache;
}

/**
 * The installed packages `roots` need: Pre-Depends and Depends followed through the first
 * installed alternative (a virtual name through an installed package that provides it),
 * never into `omit`.
 */
export function dependencyClosure(roots: string[], omit: string[] = []): string[] {
  const installed = new Map<string, string>();
  const provides = new Map<string, string>();
  for (const line of run('dpkg-query', ['-W', '-f', '${Package}\t${db:Status-Abbrev}\t${Pre-Depends}, ${Depends}\t${Provides}\n']).stdout.split('\n')) {
    const [name, status, deps, prov] = line.split('\t');
    if (!name || !status?.startsWith('ii')) continue;
    installed.set(name, deps ?? '');
    for (const p of (prov ?? '').split(',').map((x) => x.trim().split(/[ (]/)[0]!).filter(Boolean)) if (!provides.has(p)) provides.set(p, name);
  }
  const real = (n: string) => (installed.has(n) ? n : provides.get(n));
  const out = new Set<string>();
  const todo = [...roots];
  for (let p = todo.pop(); p !== undefined; p = todo.pop()) {
    if (out.has(p) || omit.includes(p)) continue;
    const deps = installed.get(p);
    if (deps === undefined) throw new Error(`package ${p} is not installed (apt-get install -y ${p})`);
    out.add(p);
    for (const group of deps.split(',').map((x) => x.trim()).filter(Boolean)) {
      // `a (>= 1) | b:any`: the first alternative that is installed.
      const pick = group.split('|').map((alt) => real(alt.trim().split(/[ (]/)[0]!.replace(/:any$/, ''))).find((x) => x !== undefined);
      if (pick !== undefined) todo.push(pick);
    }
  }
  return [...out].sort();
}

/** The host paths of the image, sorted (parents first): the packages' files, the libraries they need and the dirs and links on the way. */
export function debianFileList(opts: DebianImageOptions = {}): string[] {
  const packages = opts.packages?.length ? dependencyClosure([...DEBIAN_PACKAGES, ...opts.packages], opts.omit) : DEBIAN_PACKAGES;
  const listed = run('dpkg', ['-L', ...packages]).stdout.split('\n').filter((l) => l.startsWith('/') && l !== '/.' && !SLIM.test(l) && !opts.exclude?.test(l));
  const entries = new Set<string>();
  const cache = loaderCache();
  const seen = new Set<string>();
  const todo: string[] = [];
  for (const p of listed) {
    const real = walk(p, entries, false);
    if (real !== undefined && lstatSync(real).isFile()) todo.push(real);
  }
  // The closure of DT_NEEDED, resolved as the loader does through its cache, for the
  // machine of the file that needs it; each program's interpreter (the dynamic loader).
  for (let file = todo.pop(); file !== undefined; file = todo.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    const elf = readElf(file);
    if (!elf) continue;
    const deps = elf.needed.map((name) => {
      // Else beside the file (a RUNPATH of $ORIGIN: glibc's gconv modules, for one).
      const found = (cache.get(name) ?? []).find((c) => readElf(c)?.machine === elf.machine) ?? [path.join(path.dirname(file), name)].find((c) => existsSync(c));
      if (!found) throw new Error(`${file} needs ${name}, which is not in the loader's cache`);
      return found;
    });
    for (const d of elf.interp ? [elf.interp, ...deps] : deps) {
      const real = walk(d, entries, true);
      if (real === undefined) throw new Error(`${file} needs ${d}, which does not exist`);
      todo.push(real);
    }
  }
  for (const [d] of EMPTY_DIRS) entries.delete(d);
  return [...entries].sort();
}

function accounts(): { passwd: string; shadow: string; group: string; gshadow: string } {
  const master = (f: string) => readTextSync(`/usr/share/base-passwd/${f}.master`).trim().split('\n').map((l) => l.split(':'));
  const users = master('passwd');
  const groups = master('group');
  // base-passwd's masters carry '*' where an installed system has 'x' and the shadow files hold '*'.
  return {
    passwd: users.map(([n, , ...rest]) => [n, 'x', ...rest].join(':')).join('\n') + '\n',
    shadow: users.map(([n]) => `${n}:*:${SHADOW_LASTCHG}:0:99999:7:::`).join('\n') + '\n',
    group: groups.map(([n, , ...rest]) => [n, 'x', ...rest].join(':')).join('\n') + '\n',
    gshadow: groups.map(([n, , , members]) => `${n}:*::${members ?? ''}`).join('\n') + '\n',
  };
}

/** The staged files that are not the host's: accounts, base-files' postinst copies, the empty dirs. Returns their paths, relative. */
function stage(dir: string): string[] {
  const names: string[] = [];
  const file = (rel: string, data: string | Buffer, mode: number, gid = 0) => {
    writeFileSync(path.join(dir, rel), data);
    chownSync(path.join(dir, rel), 0, gid);
    chmodSync(path.join(dir, rel), mode);
    names.push(rel);
  };
  for (const [d, mode] of EMPTY_DIRS) {
    mkdirSync(path.join(dir, d), { recursive: true });
    chmodSync(path.join(dir, d), mode);
    names.push(d.slice(1));
  }
  mkdirSync(path.join(dir, 'etc'));
  const acc = accounts();
  file('etc/passwd', acc.passwd, 0o644);
  file('etc/group', acc.group, 0o644);
  file('etc/shadow', acc.shadow, 0o640, SHADOW_GID);
  file('etc/gshadow', acc.gshadow, 0o640, SHADOW_GID);
  file('etc/profile', readFileSync('/usr/share/base-files/profile'), 0o644);
  file('root/.bashrc', readFileSync('/usr/share/base-files/dot.bashrc'), 0o644);
  file('root/.profile', readFileSync('/usr/share/base-files/dot.profile'), 0o644);
  return names;
}

/** The layer tar: the host's files in place (mode, owner, setuid kept), then the staged ones. */
function buildLayer(work: string, out: string, opts: DebianImageOptions): void {
  const list = path.join(work, 'host.list');
  writeFileSync(list, debianFileList(opts).map((p) => p.slice(1)).join('\n') + '\n');
  const staged = path.join(work, 'staged');
  mkdirSync(staged);
  const stagedList = path.join(work, 'staged.list');
  writeFileSync(stagedList, stage(staged).sort().join('\n') + '\n');
  const r = run('tar', ['-cf', out, '--numeric-owner', '--no-recursion', '-C', '/', '-T', list, '-C', staged, '-T', stagedList]);
  if (r.status !== 0) throw new Error(`tar: ${r.stderr}`);
}

const built = new Map<string, string>();

/**
 * The path of a docker-archive holding the Debian image tagged `tag` (built or reused; the
 * key covers the tag and the options). Throws when it cannot be built (call debianSkip() first).
 */
export function debianArchive(tag = 'localhost/debian:host', opts: DebianImageOptions = {}): string {
  const id = JSON.stringify([tag, opts.packages ?? [], opts.omit ?? [], opts.exclude?.source ?? '']);
  const done = built.get(id);
  if (done) return done;
  const self = readFileSync(fileURLToPath(import.meta.url));
  const versions = run('dpkg-query', ['-W', '-f', '${Package}:${Architecture} ${Version}\n']).stdout;
  const key = createHash('sha256').update(self).update(versions).update(id).digest('hex').slice(0, 16);
  const file = path.join(tmpdir(), `brig-debian-image-${key}.tar`);
  if (!existsSync(file)) {
    const work = mkdtempSync(path.join(tmpdir(), 'brig-debian-build-'));
    try {
      const layerFile = path.join(work, 'layer.tar');
      buildLayer(work, layerFile, opts);
      const archive = dockerArchive([{ layers: [readFileSync(layerFile)], tags: [tag], config: { config: { Cmd: ['bash'], Env: [DEBIAN_PATH] } } }]);
      writeFileSync(path.join(work, 'archive.tar'), archive);
      renameSync(path.join(work, 'archive.tar'), file);
      // Archives of other keys (other package versions, an older builder) a day old are stale.
      for (const f of readdirSync(tmpdir())) {
        const old = path.join(tmpdir(), f);
        if (/^brig-debian-image-[0-9a-f]{16}\.tar$/.test(f) && old !== file && Date.now() - statSync(old).mtimeMs > 86_400_000) rmSync(old, { force: true });
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  built.set(id, file);
  return file;
}
