/**
 * `compose up -d` and `down` of a 5-service project (issue 16's row): brig compose against
 * Debian's docker-compose 1.29.2 driving dockerd 20.10, the engines of bench/engines.ts on
 * their default bridge networks (network 'bridge': dockerd with iptables on, as installed;
 * brig with netavark), the same busybox image loaded into each.
 *
 * The project: five services of the busybox image, each a shell that exits on SIGTERM
 * (so `down` measures the engines, not a 10 s grace period), all on one user network
 * (`appnet`), the first with a named volume. Rounds are interleaved: in each, every engine
 * brings the project up (timed) then down (timed), the first engine changing every round;
 * one untimed round first. The named volume stays between rounds (down without -v) and goes
 * at the end.
 *
 * Environment: BENCH_COMPOSE=0 skips it (bench/run.ts), BENCH_COMPOSE_ROUNDS (10),
 * BENCH_ENGINE_SKIP=docker leaves docker out.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { compare, medians, turns } from './engine.js';
import { type EngineUnderTest, IMAGE, openEngines } from './engines.js';

const COMPOSE_V1 = '/usr/bin/docker-compose';
const PROJECT = 'brigbench';

function projectFile(dir: string): string {
  const service = (n: number) => `  s${n}:
    image: ${IMAGE}
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
    networks: [appnet]
${n === 1 ? '    volumes: ["data:/data"]\n' : ''}`;
  const file = path.join(dir, 'compose.yaml');
  writeFileSync(file, `services:\n${[1, 2, 3, 4, 5].map(service).join('')}networks:\n  appnet: {}\nvolumes:\n  data: {}\n`);
  return file;
}

export function benchCompose(print: (s: string) => void): void {
  const skip = (process.env.BENCH_ENGINE_SKIP ?? '').split(',').filter(Boolean);
  const rounds = Number(process.env.BENCH_COMPOSE_ROUNDS ?? 10);
  if (!existsSync(COMPOSE_V1)) skip.push('docker');
  const dir = mkdtempSync(path.join(tmpdir(), 'brig-bench-compose-'));
  const file = projectFile(dir);
  const set = openEngines({ skip, want: ['brig', 'docker'], network: 'bridge' });
  const cli = mkdtempSync(path.join(tmpdir(), 'brig-bench-compose-cli-'));
  // One compose command on one engine: brig compose in-process on its store, docker-compose over dockerd's socket.
  const compose = (e: EngineUnderTest, args: string[]): number => {
    if (e.name === 'brig') return e.exec(['compose', '-f', file, '-p', PROJECT, ...args]).ms;
    const t0 = process.hrtime.bigint();
    const r = spawnSync(COMPOSE_V1, ['-f', file, '-p', PROJECT, ...args], { cwd: dir, env: { ...process.env, DOCKER_HOST: e.apiHost(), DOCKER_CONFIG: cli }, encoding: 'utf8', timeout: 300_000 });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`docker-compose ${args.join(' ')}: exit ${r.status}: ${(r.stderr || r.error?.message || '').trim().slice(-1500)}`);
    return ms;
  };
  try {
    const v1 = existsSync(COMPOSE_V1) ? spawnSync(COMPOSE_V1, ['version', '--short'], { encoding: 'utf8' }).stdout.trim() : '';
    print(`compose: a 5-service project (busybox, one user network, a named volume), up -d then down, ${rounds} rounds taking turns; engines on their bridge networks:`);
    for (const e of set.engines) print(`  ${e.name.padEnd(8)} ${e.name === 'brig' ? 'brig compose, ' : `docker-compose ${v1}, `}${e.version}`);
    for (const [name, why] of set.skipped) print(`  ${name.padEnd(8)} left out: ${why}`);
    if (!existsSync(COMPOSE_V1)) print(`  docker   left out: ${COMPOSE_V1} not installed (apt-get install docker-compose)`);
    const up = new Map(set.engines.map((e) => [e.name, [] as number[]]));
    const down = new Map(set.engines.map((e) => [e.name, [] as number[]]));
    turns(set.engines, 1, (e) => {
      compose(e, ['up', '-d']);
      compose(e, ['down']);
    });
    turns(set.engines, rounds, (e) => {
      up.get(e.name)!.push(compose(e, ['up', '-d']));
      down.get(e.name)!.push(compose(e, ['down']));
    });
    for (const e of set.engines) compose(e, ['down', '-v']);
    for (const [what, values] of [['up -d', up], ['down', down]] as const) {
      print(compare(`compose ${what} (median wall time of ${rounds}; docker = docker-compose on dockerd)`, medians(values)).join('\n'));
    }
  } finally {
    for (const e of set.engines) {
      try {
        compose(e, ['down', '-v']);
      } catch {}
    }
    set.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(cli, { recursive: true, force: true });
  }
}

// `node dist/bench/compose.js`: this row alone.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) benchCompose((s) => console.log(s));
