/**
 * brig: the docker-like command line. Thin: parse, call the Engine, print.
 */
import { BridgeDriver } from '../../engine/network/bridge-driver.js';
import { NetavarkBackend } from '../../engine/network/netavark.js';
import { SplitBackend } from '../../engine/network/split-backend.js';
import { existsSync } from 'node:fs';
import { homedir, release } from 'node:os';
import path from 'node:path';
import { DEFAULT_CONFIG_FILE, type EngineConfig, loadEngineConfig } from '../../engine/engine-config.js';
import { FileEventLog } from '../../engine/events/file-log.js';
import type { Engine } from '../../engine/engine.js';
import { LocalEngine } from '../../engine/local-engine.js';
import { remoteHostFrom } from '../../engine/remote/host.js';
import { RemoteEngine } from '../../engine/remote/remote-engine.js';
import { BrigError, isBrigError } from '../../errors/index.js';
import { defaultSnapshotter, dockerConfigCredentials, ImageService, limitsFromEnv } from '../../image/index.js';
import { CredentialStore } from '../../image/registry/credentials.js';
import { BRIG_VERSION } from '../../engine/version.js';
import { buildInfo } from '../../util/build-info.js';
import { deviceAttacher } from '../../native/devload.js';
import { Helper } from '../../native/helper.js';
import { takeInheritedStage0 } from '../../native/stage0-inherited.js';
import { takeInheritedSpawner } from '../../native/spawner.js';
import { locateNative } from '../../native/locate.js';
import { Runtime } from '../../runtime/runtime.js';
import { COMMANDS } from './commands/index.js';
import type { BrigContext } from './context.js';
import { groupHelp, mainHelp } from './help.js';
import { isGroup, runVerb } from './verb.js';
import { writeSync } from 'node:fs';
import { mark, setTimingSink } from '../../util/timing.js';
import type { Logger } from '../../util/log.js';


/** Engine data (BRIG_ROOT overrides it, like docker's --data-root) and runtime state. */
function roots(env: NodeJS.ProcessEnv): { data: string; state: string } {
  // Absolute: snapshot paths become mount options and fds, resolved from anywhere.
  const data = path.resolve(env.BRIG_ROOT ?? '/var/lib/brig');
  return { data, state: env.BRIG_ROOT ? path.join(data, 'run') : '/run/brig/runtime' };
}

/** docker's client config: $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
function dockerConfigPath(env: NodeJS.ProcessEnv): string {
  return path.join(env.DOCKER_CONFIG ?? path.join(homedir(), '.docker'), 'config.json');
}

function engine(env: NodeJS.ProcessEnv): LocalEngine {
  if (process.getuid?.() !== 0) {
    throw new BrigError('HOST_UNSUPPORTED', 'brig needs root for now (rootless mode is not supported yet)', { hint: 'run with sudo' });
  }
  const { data: ROOT, state } = roots(env);
  const netRun = env.BRIG_ROOT ? path.join(ROOT, 'run-net') : '/run/brig';
  const runtime = new Runtime({
    root: state,
    helper: new Helper(locateNative('brig-helper', import.meta.url), inheritedStage0),
    attachDevices: deviceAttacher(locateNative('brig-devload', import.meta.url)),
    ...(runtimeLog ? { log: runtimeLog } : {}),
  });
  const choice = defaultSnapshotter({ root: path.join(ROOT, 'snapshots') });
  const images = new ImageService({
    root: path.join(ROOT, 'images', 'store'),
    snapshotter: choice.snapshotter,
    limits: limitsFromEnv(env),
    registry: {
      credentials: dockerConfigCredentials(dockerConfigPath(env)),
      insecureRegistries: (env.BRIG_INSECURE_REGISTRIES ?? '').split(',').filter(Boolean),
    },
  });
  const mounter = { tool: locateNative('brig-mount', import.meta.url), kernel: release(), ...(inheritedSpawner ? { spawner: inheritedSpawner } : {}) };
  const runtimeBin = locateNative('brig-runtime', import.meta.url);
  // The installation: native/build/brig-runtime's grandparent holds bin/brig.
  const brigBin = path.join(path.dirname(path.dirname(path.dirname(runtimeBin))), 'bin', 'brig');
  const keep = ['BRIG_ROOT', 'BRIG_HOME', 'BRIG_CONFIG', 'PATH'].flatMap((k) => (env[k] !== undefined ? [`${k}=${env[k]}`] : []));
  // docker's daemon.json: read when a verb needs it; one named by BRIG_CONFIG must exist.
  let config: EngineConfig | undefined;
  const configFile = env.BRIG_CONFIG ?? DEFAULT_CONFIG_FILE;
  return new LocalEngine({
    root: ROOT,
    config: () => (config ??= loadEngineConfig(configFile, { required: env.BRIG_CONFIG !== undefined })),
    runtime,
    images,
    mounter,
    events: new FileEventLog({ dir: path.join(ROOT, 'events') }),
    ...(choice.reason === undefined ? {} : { snapshotterReason: choice.reason }),
    // Network namespaces and netavark's state (aardvark-dns' files) live with the runtime state.
    // Networks with DNS through netavark and aardvark-dns; the others (the default bridge)
    // through brig's own bridge driver (src/engine/network/bridge-driver.ts).
    network: {
      backend: new SplitBackend(
        new NetavarkBackend({ configDir: path.join(netRun, 'netavark') }),
        new BridgeDriver({ binary: locateNative('brig-net', import.meta.url), markerDir: '/run/brig/bridge', ...(inheritedSpawner ? { spawner: inheritedSpawner } : {}) }),
      ),
      netnsDir: path.join(netRun, 'netns'),
    },
    containers: {
      runtimeBin,
      helperBin: locateNative('brig-helper', import.meta.url),
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

/** docker's CLI on an unknown command: its words, exit 1 (a usage error of the CLI, not of a container). */
function unknownCommand(command: string, usage: string, help = 'brig'): number {
  process.stderr.write(`brig: unknown command: ${command}\n${usage}\nRun '${help} --help' for more information\n`);
  return 1;
}

/** docker's global options, before the command: -H/--host and the TLS ones. */
interface GlobalOptions {
  host?: string;
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
}

function globalOptions(argv: string[]): { opts: GlobalOptions; rest: string[] } {
  const opts: GlobalOptions = {};
  let i = 0;
  const valued = { '-H': 'host', '--host': 'host', '--tlscacert': 'tlscacert', '--tlscert': 'tlscert', '--tlskey': 'tlskey' } as const;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--tlsverify' || a === '--tls') {
      opts.tlsverify = true;
      continue;
    }
    const eq = a.indexOf('=');
    const name = (eq > 0 ? a.slice(0, eq) : a) as keyof typeof valued;
    if (!Object.hasOwn(valued, name)) break;
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new BrigError('INVALID_ARGUMENT', `flag needs an argument: ${name}`, { field: name });
    opts[valued[name]] = value;
  }
  return { opts, rest: argv.slice(i) };
}

function chooseEngine(g: GlobalOptions, env: NodeJS.ProcessEnv): Engine {
  const remote = remoteHostFrom(g, env, homedir());
  if (!remote) return engine(env);
  return new RemoteEngine(remote, dockerConfigCredentials(dockerConfigPath(env)));
}

/**
 * The stage 0 brig's launcher forked ahead for a foreground `run --rm` (native/launch/launch.c),
 * taken at once whatever the command: its descriptors are reopened close-on-exec and the
 * variable removed, so no child (a monitor, a hook) inherits them and keeps it waiting.
 */
const inheritedStage0 = takeInheritedStage0(process.env);
/** The launcher's spawner, taken the same way: brig's tools run through it (src/native/spawner.ts). */
const inheritedSpawner = takeInheritedSpawner(process.env);

// BRIG_TIMING=1: where the time goes, one line per phase on stderr (ms since the process started).
if (process.env.BRIG_TIMING) setTimingSink((name, ms) => writeSync(2, `brig timing ${ms.toFixed(1).padStart(7)} ms  ${name}\n`));
mark('main module loaded');
if (inheritedSpawner) mark('tools through the spawner forked by the launcher');

/** The runtime's --debug phases as timing marks (its other lines are not shown, as before). */
const runtimeLog: Logger | undefined = process.env.BRIG_TIMING ? { debug: (m) => mark(m), info() {}, warn() {}, error() {} } : undefined;

async function main(argvIn: string[]): Promise<number> {
  let argv = argvIn;
  let globals: GlobalOptions = {};
  try {
    ({ opts: globals, rest: argv } = globalOptions(argvIn));
  } catch (e) {
    process.stderr.write(`brig: ${(e as Error).message}\n`);
    return 125;
  }
  const [verb, ...rest] = argv;
  let cached: Engine | undefined;
  const ctx: BrigContext = {
    engine: () => (cached ??= chooseEngine(globals, process.env)),
    credentials: () => new CredentialStore(dockerConfigPath(process.env)),
    // Made on first use, as Node makes them: a stream costs ~4 ms of a start (node:stream and
    // its kin load with the first), and run --rm's container writes to fds 1 and 2 itself.
    get stdout() {
      return process.stdout;
    },
    get stderr() {
      return process.stderr;
    },
    get stdin() {
      return process.stdin;
    },
    cwd: process.cwd(),
    env: process.env,
  };
  try {
    if (verb === '--version' || verb === '-v') {
      // docker's "Docker version 28.2.2, build e6534b4".
      process.stdout.write(`brig version ${BRIG_VERSION}, build ${buildInfo().commit}\n`);
      return 0;
    }
    if (verb === undefined || verb === 'help' || verb === '--help' || verb === '-h') {
      process.stdout.write(mainHelp(COMMANDS));
      return 0;
    }
    const cmd = Object.hasOwn(COMMANDS, verb) ? COMMANDS[verb] : undefined;
    if (!cmd) return unknownCommand(`brig ${verb}`, '');
    if (!isGroup(cmd)) return await runVerb(cmd, ctx, rest);
    const [sub, ...subArgs] = rest;
    if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
      process.stdout.write(groupHelp(cmd));
      return 0;
    }
    const v = Object.hasOwn(cmd.verbs, sub) ? cmd.verbs[sub] : undefined;
    if (!v) return unknownCommand(`brig ${cmd.name} ${sub}`, `\nUsage:  brig ${cmd.name}\n`, `brig ${cmd.name}`);
    return await runVerb(v, ctx, subArgs);
  } catch (e) {
    const err = isBrigError(e) ? e : new BrigError('INTERNAL', e instanceof Error ? e.message : String(e));
    process.stderr.write(`brig: ${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ''}`);
    // docker's CLI: 127 when the program is not found, 126 when it cannot be run, else 125.
    return err.code === 'EXEC_NOT_FOUND' ? 127 : err.code === 'EXEC_DENIED' ? 126 : 125;
  } finally {
    // A remote engine's kept-alive connections would hold the process open.
    if (cached instanceof RemoteEngine) cached.client.close();
  }
}

main(process.argv.slice(2)).then((code) => {
  mark('main returned');
  process.exitCode = code;
  // Once nothing is left to do, exit without tearing the V8 heap and its threads down
  // piece by piece (~10-20 ms of a run --rm here); the kernel frees it all at once.
  process.once('beforeExit', () => (mark('before exit'), process.exit()));
});
