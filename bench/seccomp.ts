/**
 * Seccomp per-syscall cost: no filter, brig's default profile (loaded by the test probe the
 * way the native helper loads it) and runc with the same profile compiled by libseccomp.
 *
 *   node dist/bench/seccomp.js            (root for the runc column)
 *
 * Method: a static C program calls a syscall N times and prints ns per call; each variant
 * runs ROUNDS times, interleaved, and the median is reported. Two syscalls:
 *  - getppid: no argument rules in either profile. Since Linux 5.11 the kernel caches
 *    "always allowed" per syscall number and skips the filter, so this mostly shows that
 *    both filters keep getppid in that cache.
 *  - personality(0xffffffff): both profiles check its argument, so the filter runs on
 *    every call; this is where the program's shape shows.
 * Instruction counts are read back from the kernel (PTRACE_SECCOMP_GET_FILTER) for both
 * runtimes, and runc's program is run through brig's test interpreter to count the
 * instructions each of these syscalls executes.
 */
import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { syscallNumber } from '../src/runtime/seccomp/arch.js';
import { compileSeccomp } from '../src/runtime/seccomp/compile.js';
import { defaultSeccompProfile } from '../src/runtime/seccomp/default-profile.js';
import type { LinuxSeccomp, NativeArch } from '../src/runtime/seccomp/types.js';
import { run as interpret } from '../tests/support/bpf-interp.js';
import { DOCKER_DEFAULT_CAPS } from '../src/engine/spec/capabilities.js';

const exec = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

const CALLS = 1_000_000;
const ROUNDS = 7;

/** Docker's default capability set: the bench container gets these. */
const CAPS = DOCKER_DEFAULT_CAPS;

type Probe = 'getppid' | 'personality';
const PROBES: Probe[] = ['getppid', 'personality'];

interface Variant {
  name: string;
  /** Runs the bench binary (inside whatever the variant sets up) and returns its stdout. */
  run(probe: Probe): Promise<string>;
  /** The filter as the kernel holds it, when there is one. */
  program?: Uint8Array;
}

async function cc(dir: string, src: string, out: string, flags: string[] = []): Promise<string> {
  const path = join(dir, out);
  await exec('cc', ['-O2', ...flags, '-o', path, join(repoRoot, src)]);
  return path;
}

function nsPerCall(stdout: string): number {
  const m = /ns\/call ([\d.]+)/.exec(stdout);
  if (!m) throw new Error(`bench printed ${JSON.stringify(stdout)}`);
  return Number(m[1]);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Waits until `pid` has loaded its filter and exec'd busybox (runc returns before that). */
async function sleeping(pid: number): Promise<void> {
  for (let i = 0; i < 250; i++) {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    if (/^Seccomp:\s+2$/m.test(status) && /^Name:\s+busybox$/m.test(status)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`process ${pid} never reached busybox under a filter`);
}

/** Starts a process that sleeps under a filter, reads the filter back from the kernel, stops it. */
async function filterOf(filterLen: string, start: () => Promise<number>, stop: () => Promise<void>) {
  const pid = await start();
  try {
    await sleeping(pid);
    const out = join(tmpdir(), `brig-bench-filter-${process.pid}-${pid}.bpf`);
    await exec(filterLen, [String(pid), out]);
    const bytes = new Uint8Array(await readFile(out));
    await rm(out, { force: true });
    return bytes;
  } finally {
    await stop();
  }
}

async function runcVariant(
  dir: string,
  bench: string,
  filterLen: string,
  profile: LinuxSeccomp,
): Promise<Variant | string> {
  if (process.getuid?.() !== 0) return 'runc: skipped (needs root)';
  try {
    await exec('runc', ['--version']);
  } catch {
    return 'runc: skipped (not installed)';
  }
  const bundle = join(dir, 'bundle');
  const state = join(dir, 'runc-state');
  await mkdir(join(bundle, 'rootfs', 'bin'), { recursive: true });
  await copyFile('/bin/busybox', join(bundle, 'rootfs', 'bin', 'busybox'));
  await copyFile(bench, join(bundle, 'rootfs', 'bin', 'bench'));
  await exec('runc', ['spec'], { cwd: bundle });
  const config = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8'));
  config.process.terminal = false;
  const caps = config.process.capabilities;
  for (const set of ['bounding', 'effective', 'permitted']) caps[set] = CAPS;
  // config.json carries numbers only; the profile's bigint-free, so JSON is exact.
  config.linux.seccomp = profile;
  let containers = 0;
  const runc = (...args: string[]) => exec('runc', ['--root', state, ...args]);
  const withArgs = async (args: string[]) => {
    config.process.args = args;
    await writeFile(join(bundle, 'config.json'), JSON.stringify(config, null, 2));
    containers += 1;
    return `brig-bench-${process.pid}-${containers}`;
  };
  const version = (await exec('runc', ['--version'])).stdout.match(/libseccomp: (\S+)/)?.[1] ?? '?';
  const program = await filterOf(
    filterLen,
    async () => {
      const id = await withArgs(['/bin/busybox', 'sleep', '60']);
      const pidFile = join(dir, `${id}.pid`);
      // Detached, the container would hold on to pipes; give it no stdio at all.
      await new Promise<void>((resolve, reject) => {
        const child = spawn(
          'runc',
          ['--root', state, 'run', '-d', '--bundle', bundle, '--pid-file', pidFile, id],
          {
            stdio: 'ignore',
          },
        );
        child.on('error', reject);
        child.on('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`runc run -d exited ${code}`)),
        );
      });
      return Number((await readFile(pidFile, 'utf8')).trim());
    },
    async () => {
      const id = `brig-bench-${process.pid}-${containers}`;
      await runc('delete', '-f', id).catch(() => undefined);
    },
  );
  return {
    name: `runc (libseccomp ${version})`,
    program,
    async run(probe) {
      const id = await withArgs(['/bin/bench', String(CALLS), probe]);
      const { stdout } = await runc('run', '--bundle', bundle, id);
      await runc('delete', '-f', id).catch(() => undefined);
      return stdout;
    },
  };
}

export async function benchSeccomp(): Promise<string> {
  const arch: NativeArch | undefined =
    process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : undefined;
  if (!arch) return `seccomp: skipped (host architecture ${process.arch})`;
  const dir = await mkdtemp(join(tmpdir(), 'brig-bench-seccomp-'));
  try {
    const [bench, loader, filterLen] = await Promise.all([
      cc(dir, 'bench/seccomp/getppid.c', 'getppid', ['-static']),
      cc(dir, 'tests/support/seccomp-exec.c', 'seccomp-exec'),
      cc(dir, 'bench/seccomp/filter-len.c', 'filter-len'),
    ]);
    const profile = defaultSeccompProfile({ capabilities: CAPS, arch });
    const compiled = compileSeccomp(profile, { nativeArch: arch });
    const filterFile = join(dir, 'default.bpf');
    await writeFile(filterFile, compiled.bytes);
    const loaded = (argv: string[]) => [filterFile, String(compiled.flags), ...argv];

    let sleeper: ReturnType<typeof spawn> | undefined;
    const brigProgram = await filterOf(
      filterLen,
      async () => {
        const child = spawn(loader, loaded(['/bin/busybox', 'sleep', '60']), { stdio: 'ignore' });
        sleeper = child;
        return child.pid!;
      },
      async () => {
        sleeper?.kill('SIGKILL');
      },
    ).catch((e: unknown) => e as Error);

    const variants: Variant[] = [
      { name: 'no filter', run: async (p) => (await exec(bench, [String(CALLS), p])).stdout },
      {
        name: 'brig default profile',
        ...(brigProgram instanceof Error ? {} : { program: brigProgram }),
        run: async (p) => (await exec(loader, loaded([bench, String(CALLS), p]))).stdout,
      },
    ];
    const notes: string[] = [];
    const runc = await runcVariant(dir, bench, filterLen, profile).catch(
      (e: unknown) => `runc: failed (${String(e)})`,
    );
    if (typeof runc === 'string') notes.push(runc);
    else variants.push(runc);
    if (brigProgram instanceof Error) notes.push(`brig filter read-back failed: ${brigProgram.message}`);

    const samples = new Map<string, number[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const v of variants) {
        for (const p of PROBES) {
          const key = `${v.name}/${p}`;
          samples.set(key, [...(samples.get(key) ?? []), nsPerCall(await v.run(p))]);
        }
      }
    }

    const steps = (program: Uint8Array | undefined, p: Probe) => {
      if (!program) return '-';
      const nr = syscallNumber(arch, p)!;
      const args = p === 'personality' ? [0xffffffff] : [];
      return String(
        interpret(program, { nr, arch: arch === 'x86_64' ? 0xc000003e : 0xc00000b7, args }).steps,
      );
    };
    const rows = [
      ['', 'getppid ns', 'personality ns', 'filter insns', 'insns run: getppid', 'personality'],
      ...variants.map((v) => [
        v.name,
        ...PROBES.map((p) => median(samples.get(`${v.name}/${p}`)!).toFixed(1)),
        v.program ? String(v.program.length / 8) : '-',
        steps(v.program, 'getppid'),
        steps(v.program, 'personality'),
      ]),
    ];
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    const table = rows.map((r) =>
      r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '),
    );
    const kernel = (await exec('uname', ['-r'])).stdout.trim();
    return [
      `seccomp: median of ${ROUNDS} runs x ${CALLS} calls, ${arch}, Linux ${kernel}`,
      `brig compiled ${compiled.instructions} instructions (${profile.syscalls?.length} rules)`,
      ...table,
      ...notes,
    ].join('\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(await benchSeccomp());
}
