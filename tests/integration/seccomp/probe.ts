/**
 * Builds the seccomp test probes (tests/support/seccomp-*.c) into a temp dir and runs
 * programs under a compiled filter, loaded the way the native helper will load it.
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CompiledSeccomp } from '../../../src/runtime/seccomp/types.js';
import { repoRoot } from '../../support/requires.js';

export function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Skip reason for node:test, or false. */
export function needsCc(): false | string {
  if (process.platform !== 'linux') return 'seccomp is Linux-only';
  return which('cc') ? false : 'cc not installed (apt-get install gcc)';
}

export interface Probes {
  dir: string;
  exec: string;
  call: string;
  /** Compiles a C file from tests/support (or an absolute path) with extra cc flags. */
  build(source: string, name: string, flags?: string[]): string;
  /** Runs argv under the filter. */
  run(filter: CompiledSeccomp, argv: string[], opts?: { timeout?: number }): SpawnSyncReturns<string>;
  cleanup(): void;
}

export function buildProbes(): Probes {
  const dir = mkdtempSync(join(tmpdir(), 'brig-seccomp-'));
  let filters = 0;
  const build = (source: string, name: string, flags: string[] = []) => {
    const src = source.startsWith('/') ? source : `${repoRoot}tests/support/${source}`;
    const out = join(dir, name);
    const r = spawnSync('cc', ['-O2', '-Wall', ...flags, '-o', out, src], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`cc ${src} failed:\n${r.stderr}`);
    return out;
  };
  const exec = build('seccomp-exec.c', 'seccomp-exec');
  const call = build('seccomp-call.c', 'seccomp-call');
  return {
    dir,
    exec,
    call,
    build,
    run(filter, argv, opts = {}) {
      filters += 1;
      const file = join(dir, `filter-${filters}.bpf`);
      writeFileSync(file, filter.bytes);
      return spawnSync(exec, [file, String(filter.flags), ...argv], {
        encoding: 'utf8',
        timeout: opts.timeout ?? 30_000,
      });
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Parses seccomp-call's "ret=R errno=E". */
export function callResult(r: SpawnSyncReturns<string>): { ret: number; errno: number } {
  const m = /ret=(-?\d+) errno=(\d+)/.exec(r.stdout);
  if (!m)
    throw new Error(
      `seccomp-call printed ${JSON.stringify(r.stdout)}, stderr ${JSON.stringify(r.stderr)}, signal ${r.signal}`,
    );
  return { ret: Number(m[1]), errno: Number(m[2]) };
}
