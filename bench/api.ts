/**
 * The Engine API against dockerd's and podman's, in one run, through the same unmodified
 * docker CLI (issue: `brig serve`): each engine's API service on its own socket (bench/
 * engines.ts apiHost: `brig serve`, `podman system service`, dockerd), the same busybox image,
 * `--network none`:
 *
 *  1. `docker run --rm IMAGE true` through each API: paired rounds, engines taking turns.
 *  2. `GET /containers/json` with 100 running containers each (made with each engine's own
 *     CLI, untimed), timed as one HTTP request by curl on the socket; taking turns.
 *
 * Target: half of dockerd's time or less, in both. Environment: BENCH_API=0 skips this part;
 * BENCH_API_ROUNDS (20), BENCH_API_CONTAINERS (100), BENCH_ENGINE_SKIP as the engine bench.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { compare, medians, turns } from './engine.js';
import { openEngines } from './engines.js';
import { median } from './util.js';

const num = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const DOCKER = ['/usr/local/bin/docker', '/usr/bin/docker'].find((p) => existsSync(p));

function target(lines: string[], values: Map<string, number[]>): void {
  const b = values.get('brig');
  const d = values.get('docker');
  if (!b || !d) return;
  const r = median(b) / median(d);
  lines.push(`  target brig ≤ 0.50× docker: ${r.toFixed(2)}× — ${r <= 0.5 ? 'met' : 'not met'}`);
}

export function benchApi(print: (s: string) => void): void {
  if (!DOCKER) {
    print('Engine API: left out, no docker CLI (apt-get install docker.io)');
    return;
  }
  const skip = (process.env.BENCH_ENGINE_SKIP ?? '').split(',').filter(Boolean);
  const rounds = num('BENCH_API_ROUNDS', 20);
  const total = num('BENCH_API_CONTAINERS', 100);
  const config = mkdtempSync(path.join(tmpdir(), 'brig-bench-api-cli-'));
  const set = openEngines({ skip });
  try {
    const { engines } = set;
    const cliVersion = spawnSync(DOCKER, ['--version'], { encoding: 'utf8' }).stdout.trim();
    print(`Engine API, driven by ${cliVersion} (${DOCKER}), same busybox image, --network none:`);
    for (const [name, why] of set.skipped) print(`  ${name.padEnd(8)} left out: ${why}`);
    const docker = (host: string, args: string[]) => {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(DOCKER, args, { env: { ...process.env, DOCKER_HOST: host, DOCKER_CONFIG: config }, encoding: 'utf8', timeout: 120_000 });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.status !== 0) throw new Error(`docker ${args.join(' ')} on ${host}: exit ${r.status}: ${r.stderr.trim().slice(-1000)}`);
      return ms;
    };
    // 1. docker run --rm through each API.
    turns(engines, 3, (e) => docker(e.apiHost(), e.apiRunRm));
    const rm = turns(engines, rounds, (e) => docker(e.apiHost(), e.apiRunRm));
    const lines = compare(`docker run --rm IMAGE true through each engine's API (${rounds} rounds, taking turns; median wall time)`, medians(rm));
    target(lines, rm);
    print(lines.join('\n'));
    print('');
    // 2. GET /containers/json with `total` running containers each.
    const ids = new Map(engines.map((e) => [e.name, [] as string[]]));
    turns(engines, total, (e) => ids.get(e.name)!.push(e.exec(e.runDetached).stdout.trim().split('\n').at(-1)!));
    // The request's time as curl measures it (connect to the last byte): curl's own start,
    // ~15 ms here, is no engine's time, and would be most of the answer's.
    const list = turns(engines, rounds, (e) => {
      const sock = e.apiHost().replace(/^unix:\/\//, '');
      const r = spawnSync('curl', ['-sf', '--unix-socket', sock, '-w', '\n%{time_total}', 'http://localhost/v1.41/containers/json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
      if (r.status !== 0) throw new Error(`GET /containers/json on ${e.name}: curl exit ${r.status}`);
      const cut = r.stdout.lastIndexOf('\n');
      const n = (JSON.parse(r.stdout.slice(0, cut)) as unknown[]).length;
      if (n !== total) throw new Error(`${e.name} listed ${n} containers, expected ${total}`);
      return Number(r.stdout.slice(cut + 1)) * 1000;
    });
    const listLines = compare(`GET /containers/json with ${total} running containers (curl on the socket, its time_total: connect to last byte; ${rounds} rounds, taking turns; median)`, medians(list));
    target(listLines, list);
    print(listLines.join('\n'));
    for (const e of engines) e.exec(e.rmForce(ids.get(e.name)!));
  } finally {
    set.close();
    rmSync(config, { recursive: true, force: true });
  }
}

// `node dist/bench/api.js`: this part alone.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) benchApi((s) => console.log(s));
