/**
 * brig: the docker-like command line. Thin: parse, call the Engine, print.
 */
import { existsSync } from 'node:fs';
import { homedir, release } from 'node:os';
import path from 'node:path';
import { LocalEngine } from '../../engine/local-engine.js';
import { BrigError, isBrigError } from '../../errors/index.js';
import { defaultSnapshotter, dockerConfigCredentials, ImageService, limitsFromEnv } from '../../image/index.js';
import { deviceAttacher } from '../../native/devload.js';
import { Helper } from '../../native/helper.js';
import { locateNative } from '../../native/locate.js';
import { Runtime } from '../../runtime/runtime.js';
import { IMAGE_ALIASES, image } from './commands/image.js';
import { info } from './commands/info.js';
import { CONTAINER_VERBS, container } from './commands/container.js';
import { CONTAINER_FILE_VERBS } from './commands/container-files.js';
import type { BrigCommand, BrigContext } from './context.js';

/** Engine data (BRIG_ROOT overrides it, like docker's --data-root) and runtime state. */
function roots(env: NodeJS.ProcessEnv): { data: string; state: string } {
  // Absolute: snapshot paths become mount options and fds, resolved from anywhere.
  const data = path.resolve(env.BRIG_ROOT ?? '/var/lib/brig');
  return { data, state: env.BRIG_ROOT ? path.join(data, 'run') : '/run/brig/runtime' };
}

const USAGE = `usage: brig COMMAND

commands:
  run [-d] [--rm] [-it] [--name NAME] [-e K=V] ... IMAGE [CMD...]   (brig run --help)
  create, start, attach, stop, restart, kill, pause, unpause, rm, wait, ps, logs, inspect, exec, rename,
  cp, diff, export, commit;
  container <verb>
  image pull|push|ls|rm|inspect|tag|save|load|import|prune|history ...
  info [--format json]   data root, snapshotter, image limits (BRIG_MAX_LAYER_SIZE, BRIG_MAX_BLOB_SIZE,
                         BRIG_MAX_LAYER_ENTRIES, BRIG_MAX_EXPANSION_RATIO, BRIG_MIN_FREE_DISK)
  pull, push, images, rmi, tag, save, load, import, history   (docker's aliases)

The built-in image "host" (read-only views of the host's /usr, /bin, /lib*) needs no pull.
Registries on 127.0.0.1 are reached over plain HTTP; others need BRIG_INSECURE_REGISTRIES=host:port,...
`;

function engine(env: NodeJS.ProcessEnv): LocalEngine {
  if (process.getuid?.() !== 0) {
    throw new BrigError('HOST_UNSUPPORTED', 'brig needs root for now (rootless mode is not supported yet)', { hint: 'run with sudo' });
  }
  const { data: ROOT, state } = roots(env);
  const runtime = new Runtime({
    root: state,
    helper: new Helper(locateNative('brig-helper', import.meta.url)),
    attachDevices: deviceAttacher(locateNative('brig-devload', import.meta.url)),
  });
  const dockerConfig = path.join(env.DOCKER_CONFIG ?? path.join(homedir(), '.docker'), 'config.json');
  const choice = defaultSnapshotter({ root: path.join(ROOT, 'snapshots') });
  const images = new ImageService({
    root: path.join(ROOT, 'images', 'store'),
    snapshotter: choice.snapshotter,
    limits: limitsFromEnv(env),
    registry: {
      credentials: dockerConfigCredentials(dockerConfig),
      insecureRegistries: (env.BRIG_INSECURE_REGISTRIES ?? '').split(',').filter(Boolean),
    },
  });
  const mounter = { tool: locateNative('brig-mount', import.meta.url), kernel: release() };
  const runtimeBin = locateNative('brig-runtime', import.meta.url);
  // The installation: native/build/brig-runtime's grandparent holds bin/brig.
  const brigBin = path.join(path.dirname(path.dirname(path.dirname(runtimeBin))), 'bin', 'brig');
  const keep = ['BRIG_ROOT', 'BRIG_HOME', 'PATH'].flatMap((k) => (env[k] !== undefined ? [`${k}=${env[k]}`] : []));
  return new LocalEngine({
    root: ROOT,
    runtime,
    images,
    mounter,
    ...(choice.reason === undefined ? {} : { snapshotterReason: choice.reason }),
    containers: {
      runtimeBin,
      runtimeRoot: state,
      cleanupCommand: (id) => ({ argv: [brigBin, 'container', 'cleanup', id], env: keep }),
      // The OOM killer's count for the container's memory cgroup (the runtime's default path).
      oomCounter: (id) =>
        existsSync('/sys/fs/cgroup/memory/tasks')
          ? { path: `/sys/fs/cgroup/memory/brig/${id}/memory.oom_control`, key: 'oom_kill' }
          : { path: `/sys/fs/cgroup/brig/${id}/memory.events`, key: 'oom_kill' },
    },
  });
}

const { run, create, start, attach, stop, kill, rm, wait, ps, logs, inspect, exec, pause, unpause, restart, rename } = CONTAINER_VERBS as Record<string, BrigCommand>;
const COMMANDS: Record<string, BrigCommand> = { attach: attach!, run: run!, create: create!, start: start!, stop: stop!, kill: kill!, rm: rm!, wait: wait!, ps: ps!, logs: logs!, inspect: inspect!, exec: exec!, pause: pause!, unpause: unpause!, restart: restart!, rename: rename!, container, image, info, ...IMAGE_ALIASES };
// cp, diff, export, commit: `brig VERB` and `brig container VERB`.
Object.assign(COMMANDS, CONTAINER_FILE_VERBS);
const containerVerb = COMMANDS.container!;
COMMANDS.container = (ctx, argv) => {
  const files = argv[0] !== undefined ? CONTAINER_FILE_VERBS[argv[0]] : undefined;
  return files ? files(ctx, argv.slice(1)) : containerVerb(ctx, argv);
};

async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  let cached: LocalEngine | undefined;
  const ctx: BrigContext = {
    engine: () => (cached ??= engine(process.env)),
    stdout: process.stdout,
    stderr: process.stderr,
    get stdin() {
      return process.stdin;
    },
    cwd: process.cwd(),
    env: process.env,
  };
  try {
    if (verb === undefined || verb === 'help' || verb === '--help') {
      process.stdout.write(USAGE);
      return verb ? 0 : 1;
    }
    const cmd = COMMANDS[verb];
    if (!cmd) throw new BrigError('INVALID_ARGUMENT', `unknown command "${verb}"`, { hint: 'see brig --help' });
    return await cmd(ctx, rest);
  } catch (e) {
    const err = isBrigError(e) ? e : new BrigError('INTERNAL', e instanceof Error ? e.message : String(e));
    process.stderr.write(`brig: ${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ''}`);
    return err.code === 'EXEC_NOT_FOUND' ? 127 : 125;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
