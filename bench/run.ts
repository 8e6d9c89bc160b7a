/**
 * npm run bench: comparisons with peers measured in the same run. Medians of paired,
 * interleaved rounds; the machines are noisy, so read the ratios.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchApi } from './api.js';
import { benchBuild } from './build.js';
import { benchCompose } from './compose.js';
import { benchEngine } from './engine.js';
import { benchHealth } from './health.js';
import { benchExec, benchLifecycle, benchRuntimeRun } from './runtime-run.js';
import { benchSeccomp } from './seccomp.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const brig = path.join(repo, 'bin', 'brig-runtime');
const rounds = Number(process.env.BENCH_ROUNDS ?? 30);

if (process.getuid?.() !== 0) {
  console.error('bench: needs root (containers are real)');
  process.exit(1);
}
console.log(`brig bench — node ${process.version}, ${new Date().toISOString()}\n`);
console.log(benchRuntimeRun(brig, rounds));
console.log();
console.log(benchLifecycle(brig, rounds));
console.log();
console.log(benchExec(brig, rounds));
console.log();
console.log(await benchSeccomp());
// The engine against podman and docker, with the monitors' memory (bench/README.md).
if (process.env.BENCH_ENGINE !== '0') {
  console.log();
  benchEngine((s) => console.log(s));
}
// The Engine API (brig serve) against dockerd's and podman's, through the docker CLI (bench/api.ts).
if (process.env.BENCH_API !== '0') {
  console.log();
  benchApi((s) => console.log(s));
}
// Image builds against podman build and docker's classic builder (bench/build.ts).
if (process.env.BENCH_BUILD !== '0') {
  console.log();
  benchBuild((s) => console.log(s));
}
// The cost of one health probe against docker's, and of a monitor that runs probes (bench/README.md).
if (process.env.BENCH_HEALTH !== '0') {
  console.log();
  benchHealth((s) => console.log(s));
}
// compose up -d and down of a 5-service project against docker-compose 1.29 on dockerd (bench/compose.ts).
if (process.env.BENCH_COMPOSE !== '0') {
  console.log();
  benchCompose((s) => console.log(s));
}
// Image pull + unpack against skopeo+umoci and podman, unpack against tar (bench/image/README.md).
if (process.env.BENCH_IMAGES !== '0') {
  console.log();
  spawnSync(process.execPath, [path.join(repo, 'dist/bench/image/run.js'), '--mb', process.env.BENCH_IMAGE_MB ?? '250', '--runs', process.env.BENCH_IMAGE_RUNS ?? '3'], {
    stdio: 'inherit',
  });
}
