/**
 * Image builds against podman's and docker's classic builder (issue 15), in one run: the same
 * multi-stage Dockerfile and context, built by `brig build`, `podman build` and
 * `DOCKER_BUILDKIT=0 docker build` (bench/engines.ts: each engine on a root of its own, the
 * dockerd started here). The base image is made here from the host's busybox-static (every
 * applet linked) and loaded by each engine: no registry, no network. Every RUN step runs with
 * `--network none` on all three.
 *
 *  1. cold: `build --no-cache` (the base image present, nothing else reused);
 *  2. warm: the unchanged rebuild (every step a cache hit), after one untimed build each.
 *
 * Rounds are interleaved (each engine once per round, the first changing every round); the
 * medians and brig's ratio to each peer are printed, then the target: faster than both, cold
 * and warm. Afterwards each engine's image is run, and the warm builds' image IDs compared
 * (an all-hits rebuild gives the same image).
 *
 * Environment: BENCH_BUILD=0 skips this part (bench/run.ts); BENCH_BUILD_ROUNDS (5);
 * BENCH_BUILD_FILES (300) files in the context; BENCH_ENGINE_SKIP as the engine bench.
 * Alone: `node_modules/.bin/node dist/bench/build.js` after `npm run build`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { dockerArchive } from '../tests/support/image-archive.js';
import { BUSYBOX } from '../tests/support/image-busybox.js';
import { makeTar, type TestEntry } from '../tests/support/image-tar.js';
import { compare, medians, turns } from './engine.js';
import { openEngines } from './engines.js';
import { median } from './util.js';

const num = (name: string, dflt: number) => Number(process.env[name] ?? dflt);

export const BASE = 'localhost/brig-bench-build-base:1';

/** The base: busybox with every applet linked in /bin, a passwd and group, /tmp. */
export function baseArchive(): Buffer {
  const applets = spawnSync(BUSYBOX, ['--list'], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((a) => a !== '' && a !== 'busybox' && !a.includes('/'));
  const entries: TestEntry[] = [
    { name: 'bin/', type: 'dir', mode: 0o755 },
    { name: 'bin/busybox', data: readFileSync(BUSYBOX), mode: 0o755 },
    ...applets.map((a): TestEntry => ({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox' })),
    { name: 'etc/', type: 'dir', mode: 0o755 },
    { name: 'etc/passwd', data: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n', mode: 0o644 },
    { name: 'etc/group', data: 'root:x:0:\nnogroup:x:65534:\n', mode: 0o644 },
    { name: 'root/', type: 'dir', mode: 0o700 },
    { name: 'tmp/', type: 'dir', mode: 0o1777 },
  ];
  return dockerArchive([{ layers: [makeTar(entries)], tags: [BASE], config: {
    config: { Cmd: ['/bin/sh'], Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'] },
    // podman's builder counts history entries against layers: one for the one layer.
    history: [{ created: '2024-01-01T00:00:00Z', created_by: 'busybox-static, every applet linked' }],
  } }]);
}

/**
 * Two stages: the builder copies the context and runs four steps over it (a checksum, one
 * tar per directory, generated files, a rewrite); the final stage runs a step of its own,
 * takes the builder's output with COPY --from and lists it.
 */
const DOCKERFILE = `FROM ${BASE} AS builder
WORKDIR /src
COPY . .
RUN find . -type f -name '*.txt' | sort | xargs cat | sha256sum > /checksum
RUN mkdir -p /out/pkg && for d in lib/*; do tar -cf /out/pkg/$(basename $d).tar -C $d .; done
RUN for i in $(seq 1 100); do echo "generated $i" > /out/gen-$i.txt; done
RUN cat lib/dir0/*.txt | sed -e 's/line/LINE/g' > /out/rewritten.txt

FROM ${BASE}
RUN mkdir -p /app && echo bench > /app/name
COPY --from=builder /out /app/
COPY --from=builder /checksum /app/checksum
RUN find /app | wc -l > /count
CMD ["cat", "/count"]
`;

/** The context: `files` small text files in ten directories, a .dockerignore and files it leaves out. */
export function makeContext(dir: string, files: number): void {
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'Dockerfile'), DOCKERFILE);
  writeFileSync(path.join(dir, '.dockerignore'), '**/*.tmp\nscratch/\n');
  for (let i = 0; i < files; i++) {
    const d = path.join(dir, 'lib', `dir${i % 10}`);
    mkdirSync(d, { recursive: true });
    const lines = Array.from({ length: 8 + (i % 24) }, (_, k) => `line ${k} of file ${i}: ${'x'.repeat((i * 7 + k) % 60)}`);
    writeFileSync(path.join(d, `file${i}.txt`), `${lines.join('\n')}\n`);
    if (i % 50 === 0) writeFileSync(path.join(d, `file${i}.tmp`), 'ignored\n');
  }
  mkdirSync(path.join(dir, 'scratch'));
  writeFileSync(path.join(dir, 'scratch', 'big.bin'), Buffer.alloc(1 << 20));
}

/** The build command of each engine, quiet (prints the image ID), RUN steps without a network. */
function buildArgs(ctx: string, tag: string, noCache: boolean): string[] {
  return ['build', '-q', '--network', 'none', '-t', tag, ...(noCache ? ['--no-cache'] : []), ctx];
}

export function benchBuild(print: (s: string) => void): void {
  const skip = (process.env.BENCH_ENGINE_SKIP ?? '').split(',').filter(Boolean);
  const rounds = num('BENCH_BUILD_ROUNDS', 5);
  const files = num('BENCH_BUILD_FILES', 300);
  const work = mkdtempSync(path.join(tmpdir(), 'brig-bench-build-'));
  // docker's CLI picks its builder from the environment: the classic one (what brig serve's
  // POST /build speaks too). engines.ts copies the environment when it sets an engine up.
  const hadBuildkit = process.env.DOCKER_BUILDKIT;
  process.env.DOCKER_BUILDKIT = '0';
  let set;
  try {
    set = openEngines({ skip });
  } finally {
    if (hadBuildkit === undefined) delete process.env.DOCKER_BUILDKIT;
    else process.env.DOCKER_BUILDKIT = hadBuildkit;
  }
  try {
    const { engines } = set;
    const ctx = path.join(work, 'context');
    makeContext(ctx, files);
    const archive = path.join(work, 'base.tar');
    writeFileSync(archive, baseArchive());
    for (const e of engines) e.exec(['load', '-q', '-i', archive]);
    print(`build: a two-stage Dockerfile (6 RUN, 3 COPY of which 2 --from), ${files} files in the context, base image loaded by each (busybox-static), RUN steps --network none:`);
    for (const e of engines) print(`  ${e.name.padEnd(8)} ${e.version}${e.name === 'docker' ? ', classic builder (DOCKER_BUILDKIT=0)' : ''}`);
    for (const [name, why] of set.skipped) print(`  ${name.padEnd(8)} left out: ${why}`);
    print('');
    const id = (out: string) => out.trim().split('\n').at(-1)!.replace(/^sha256:/, '');

    // 1. cold: nothing reused but the base image.
    const cold = turns(engines, rounds, (e) => e.exec(buildArgs(ctx, 'localhost/bench-build:cold', true)).ms);
    const coldLines = compare(`build, cold (--no-cache; ${rounds} rounds, engines taking turns; median wall time)`, medians(cold));
    print(coldLines.join('\n'));
    print('');

    // 2. warm: the unchanged rebuild, after one untimed build that fills each cache.
    for (const e of engines) e.exec(buildArgs(ctx, 'localhost/bench-build:warm', false));
    const ids = new Map<string, Set<string>>(engines.map((e) => [e.name, new Set<string>()]));
    const warm = turns(engines, rounds, (e) => {
      const r = e.exec(buildArgs(ctx, 'localhost/bench-build:warm', false));
      ids.get(e.name)!.add(id(r.stdout));
      return r.ms;
    });
    print(compare(`build, warm (unchanged rebuild, all cache hits; ${rounds} rounds, taking turns; median wall time)`, medians(warm)).join('\n'));
    print('');

    // The target, and what each engine built.
    const b = { cold: median(cold.get('brig')!), warm: median(warm.get('brig')!) };
    const verdict: string[] = [];
    for (const e of engines.filter((x) => x.name !== 'brig')) {
      const c = b.cold / median(cold.get(e.name)!);
      const w = b.warm / median(warm.get(e.name)!);
      verdict.push(`${e.name} cold ${c.toFixed(2)}× warm ${w.toFixed(2)}×`);
    }
    const met = engines.filter((x) => x.name !== 'brig').every((e) => b.cold < median(cold.get(e.name)!) && b.warm < median(warm.get(e.name)!));
    const peers = engines.length - 1;
    print(`  target: brig faster than both, cold and warm: ${verdict.join(' · ') || 'no peer ran'} — ${peers < 2 ? `${peers} of 2 peers measured; ` : ''}${met && peers > 0 ? 'met' : 'not met'}`);
    const runs = engines.map((e) => `${e.name} ${e.exec(['run', '--rm', '--network', 'none', 'localhost/bench-build:warm']).stdout.trim()}`);
    print(`  the built images run (paths under /app): ${runs.join(' · ')}`);
    print(`  warm rebuilds gave one image ID each: ${[...ids].map(([k, s]) => `${k} ${s.size === 1 ? 'yes' : `no (${s.size})`}`).join(' · ')}`);
  } finally {
    set.close();
    rmSync(work, { recursive: true, force: true });
  }
}

// `node dist/bench/build.js`: this part alone.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) benchBuild((s) => console.log(s));
