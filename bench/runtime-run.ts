/**
 * `brig-runtime run` against `runc run` (and crun when installed) on a busybox `true`
 * bundle: the same config.json for all, created with brig's default spec.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultSpec } from '../src/runtime/spec/default-spec.js';
import { type Contender, median, paired, report, timeCommand } from './util.js';

export function busyboxBundle(args: string[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'brig-bench-'));
  mkdirSync(path.join(dir, 'rootfs', 'bin'), { recursive: true });
  cpSync('/bin/busybox', path.join(dir, 'rootfs', 'bin', 'busybox'));
  for (const a of ['sh', 'true', 'sleep']) symlinkSync('busybox', path.join(dir, 'rootfs', 'bin', a));
  const spec = defaultSpec(args);
  // crun 1.8 refuses ociVersion 1.2.0; every contender accepts 1.0.2 and the same fields.
  spec.ociVersion = '1.0.2';
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
  return dir;
}

export function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

export function runtimeContenders(
  brigBin: string,
  bundle: string,
  stateDir: string,
  verb: (bin: string, root: string, id: string) => string[][],
  /** If given: each measured round's time per command, by contender. */
  steps?: Map<string, number[][]>,
): Contender[] {
  const list: [string, string][] = [
    ['runc', 'runc'],
    ['brig-runtime', brigBin],
  ];
  if (has('crun')) list.push(['crun', 'crun']);
  return list
    .filter(([name, bin]) => works(name, bin, bundle, stateDir))
    .map(([name, bin]) => {
      const root = path.join(stateDir, name);
      return {
        name,
        run: (i) => {
          const times = verb(bin, root, `${name}-${i + 10}`).map((args) => timeCommand(bin, args, bundle));
          if (steps && i >= 0) steps.set(name, [...(steps.get(name) ?? []), times]);
          return times.reduce((a, b) => a + b, 0);
        },
      };
    });
}

/** A peer that cannot run here is left out with the reason printed, not silently. */
export function works(name: string, bin: string, bundle: string, stateDir: string): boolean {
  const r = spawnSync(bin, ['--root', path.join(stateDir, `${name}-probe`), 'run', `${name}-probe`], {
    cwd: bundle,
    encoding: 'utf8',
  });
  if (r.status === 0) return true;
  console.log(`  (${name} left out: ${(r.stderr || `exit ${r.status}`).trim().split('\n').at(-1)})`);
  return false;
}

/** A busybox bundle running `args` and a state directory, both removed afterwards. */
function withBundle(args: string[], fn: (bundle: string, state: string) => string): string {
  const bundle = busyboxBundle(args);
  const state = mkdtempSync(path.join(tmpdir(), 'brig-bench-state-'));
  try {
    return fn(bundle, state);
  } finally {
    rmSync(bundle, { recursive: true, force: true });
    rmSync(state, { recursive: true, force: true });
  }
}

export function benchRuntimeRun(brigBin: string, rounds: number): string {
  return withBundle(['true'], (bundle, state) => {
    const contenders = runtimeContenders(brigBin, bundle, state, (_bin, root, id) => [['--root', root, 'run', id]]);
    return report(`OCI run of busybox true (${rounds} paired rounds, wall time per run)`, paired(contenders, rounds), 'runc');
  });
}

/**
 * create + start + delete (--force: `true` may not have exited yet) of busybox `true`, with
 * each verb's median. brig's start and delete run from the plans create leaves (the
 * launcher's fast path, src/runtime/fast-plan.ts); issue 10 asked for at most 2× runc here.
 */
export function benchLifecycle(brigBin: string, rounds: number): string {
  return withBundle(['true'], (bundle, state) => {
    const steps = new Map<string, number[][]>();
    const verbs = ['create', 'start', 'delete'];
    const contenders = runtimeContenders(
      brigBin,
      bundle,
      state,
      (_bin, root, id) => [
        ['--root', root, 'create', id],
        ['--root', root, 'start', id],
        ['--root', root, 'delete', '--force', id],
      ],
      steps,
    );
    const lines = [report(`create + start + delete of busybox true (${rounds} paired rounds; target ≤ 2× runc)`, paired(contenders, rounds), 'runc')];
    for (const [name, rows] of steps) {
      const each = verbs.map((v, k) => `${v} ${median(rows.map((r) => r[k]!)).toFixed(1)}`).join(' · ');
      lines.push(`    ${name.padEnd(26)} ${each} ms`);
    }
    return lines.join('\n');
  });
}

/** exec of `true` into a running container (one per runtime, started first). */
export function benchExec(brigBin: string, rounds: number): string {
  return withBundle(['sleep', '600'], (bundle, state) => {
    const started: [string, string, string][] = [];
    try {
      const contenders = (['runc', 'brig-runtime'] as const).map((name) => {
        const bin = name === 'runc' ? 'runc' : brigBin;
        const root = path.join(state, name);
        const id = `${name}-exec`;
        // Detached: stdio to /dev/null, so nothing waits on the container's pipes.
        const r = spawnSync(bin, ['--root', root, 'run', '-d', id], { cwd: bundle, stdio: 'ignore' });
        if (r.status !== 0) throw new Error(`${name}: run -d failed`);
        started.push([bin, root, id]);
        return { name, run: () => timeCommand(bin, ['--root', root, 'exec', id, 'true'], bundle) };
      });
      return report(`exec of true into a running container (${rounds} paired rounds)`, paired(contenders, rounds), 'runc');
    } finally {
      for (const [bin, root, id] of started) spawnSync(bin, ['--root', root, 'delete', '--force', id], { stdio: 'ignore' });
    }
  });
}
