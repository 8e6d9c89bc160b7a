/**
 * Compiled seccomp programs kept on disk between runtime processes. brig-runtime and `brig
 * run` are one-shot processes, so the in-memory cache of compile.ts never hits across
 * containers; compiling docker's default profile costs ~10 ms a start here, reading it back
 * ~0.1 ms. Entries live in /run/brig/seccomp-cache (root-only, a tmpfs on most hosts: gone at
 * reboot), named by the content key compile.ts computes, which includes this build's identity
 * (a new brig never reads an old brig's program). Each file holds a JSON header line, then
 * the program; the header carries the program's sha256, checked on every read: a truncated
 * or altered file is a miss, never a wrong filter. Written to a temporary name and renamed.
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
  sha256: string;
}

function sha256(b: Uint8Array): string {
  const { createHash } = process.getBuiltinModule('node:crypto') as typeof import('node:crypto');
  return createHash('sha256').update(b).digest('hex');
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
    let data: Buffer;
    try {
      data = readFileSync(path.join(this.dir, key));
    } catch {
      return undefined;
    }
    const nl = data.indexOf(10);
    if (nl < 0) return undefined;
    try {
      const h = JSON.parse(data.subarray(0, nl).toString('utf8')) as Header;
      const bytes = new Uint8Array(data.subarray(nl + 1));
      if (bytes.length !== h.instructions * 8 || sha256(bytes) !== h.sha256) return undefined;
      return { bytes, instructions: h.instructions, flags: h.flags, notify: h.notify };
    } catch {
      return undefined;
    }
  }

  /** Best effort: a cache that cannot be written is only slower. */
  set(key: string, value: CompiledSeccomp): void {
    try {
      makeDirs(this.dir);
      const header: Header = { instructions: value.instructions, flags: value.flags, notify: value.notify, sha256: sha256(value.bytes) };
      const tmp = path.join(this.dir, `.${key}.${process.pid}`);
      writeFileSync(tmp, Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), value.bytes]), { mode: 0o600 });
      renameSync(tmp, path.join(this.dir, key));
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
