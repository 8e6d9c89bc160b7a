/**
 * Compiled seccomp programs kept on disk between runtime processes. brig-runtime and `brig
 * run` are one-shot processes, so the in-memory cache of compile.ts never hits across
 * containers; compiling docker's default profile costs ~10 ms a start here, reading it back
 * ~0.1 ms. Entries live in /run/brig/seccomp-cache (root-only, a tmpfs on most hosts: gone at
 * reboot). The key is the whole input compile.ts compiles from (this build's identity, the
 * architecture, the profile as canonical JSON) and each entry holds it: a read compares it
 * byte for byte, so no collision of the short hash that names the file can hand one profile
 * another's program (a hash chosen by whoever writes config.json could otherwise point the
 * default profile at a program they made weak). The header also carries the program's
 * length and checksum, checked on every read: a truncated or damaged file is a miss, never a
 * wrong filter. Written to a temporary name and renamed.
 *
 * No node:crypto: loading it costs ~14 ms of every brig-runtime start, and nothing here
 * needs a cryptographic hash once the key itself is compared.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CompiledSeccomp } from './types.js';

export interface SeccompCache {
  get(key: string): CompiledSeccomp | undefined;
  set(key: string, value: CompiledSeccomp): void;
}

export const DEFAULT_SECCOMP_CACHE = '/run/brig/seccomp-cache';

/** Entries kept: the oldest go when a write passes this. */
const MAX_ENTRIES = 128;

interface Header {
  instructions: number;
  flags: number;
  notify: boolean;
  /** The key's length in bytes: the key follows the header line, then the program. */
  keyBytes: number;
  /** fnv64 of the program: a torn or damaged file is told from a whole one. */
  check: string;
}

/**
 * FNV-1a over two 32-bit lanes (different offset bases), as 16 hex digits: names a file and
 * checks a program for damage. Not a defence against anyone: the key is compared whole.
 */
export function fnv64(b: Uint8Array): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x050c5d1f;
  for (let i = 0; i < b.length; i++) {
    h1 = Math.imul(h1 ^ b[i]!, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ b[i]!, 0x01000193) >>> 0;
  }
  return h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0');
}

/**
 * mkdir -p, one level at a time: Node 24's recursive mkdirSync never returns for a path it
 * cannot make under some filesystems (/proc), and a cache must never hang a start.
 */
function makeDirs(dir: string): void {
  const parent = path.dirname(dir);
  if (parent !== dir) {
    try {
      statSync(parent);
    } catch {
      makeDirs(parent);
    }
  }
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

export class DiskSeccompCache implements SeccompCache {
  constructor(private readonly dir: string) {}

  get(key: string): CompiledSeccomp | undefined {
    const k = Buffer.from(key);
    let data: Buffer;
    try {
      data = readFileSync(path.join(this.dir, fnv64(k)));
    } catch {
      return undefined;
    }
    const nl = data.indexOf(10);
    if (nl < 0) return undefined;
    try {
      const h = JSON.parse(data.subarray(0, nl).toString('utf8')) as Header;
      const at = nl + 1 + h.keyBytes;
      if (h.keyBytes !== k.length || !data.subarray(nl + 1, at).equals(k)) return undefined; // another key's entry
      const bytes = new Uint8Array(data.subarray(at));
      if (bytes.length !== h.instructions * 8 || fnv64(bytes) !== h.check) return undefined;
      return { bytes, instructions: h.instructions, flags: h.flags, notify: h.notify };
    } catch {
      return undefined;
    }
  }

  /** Best effort: a cache that cannot be written is only slower. */
  set(key: string, value: CompiledSeccomp): void {
    try {
      makeDirs(this.dir);
      const k = Buffer.from(key);
      const name = fnv64(k);
      const header: Header = { instructions: value.instructions, flags: value.flags, notify: value.notify, keyBytes: k.length, check: fnv64(value.bytes) };
      const tmp = path.join(this.dir, `.${name}.${process.pid}`);
      writeFileSync(tmp, Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), k, value.bytes]), { mode: 0o600 });
      renameSync(tmp, path.join(this.dir, name));
      this.prune();
    } catch {
      // read-only or full state root: compile every time, as before
    }
  }

  private prune(): void {
    const names = readdirSync(this.dir).filter((n) => !n.startsWith('.'));
    if (names.length <= MAX_ENTRIES) return;
    const byAge = names.map((n) => ({ n, t: statSync(path.join(this.dir, n)).mtimeMs })).sort((a, b) => a.t - b.t);
    for (const { n } of byAge.slice(0, names.length - MAX_ENTRIES)) rmSync(path.join(this.dir, n), { force: true });
  }
}
