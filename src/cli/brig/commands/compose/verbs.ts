/**
 * compose's container verbs over the project model: each parses its flags, calls
 * src/compose (orchestrate.ts, container-config.ts) or the Engine, and prints what docker
 * compose prints. Containers are found by compose's labels, so a project brought up by
 * docker compose is seen the same way.
 */
import { familiarReference, parseReference } from '../../../../engine/engine.js';
import type { ContainerSummary, Engine } from '../../../../engine/engine.js';
import { containerRequest, LABEL, serviceImage } from '../../../../compose/container-config.js';
import type { BuildFlags } from '../../../../compose/build.js';
import { buildImages, dependencyOrder, displayName, down, ensureImage, ensureNetworks, ensureVolumes, preflight, projectContainers, pushImages, type Reporter, servicesToBuild, up } from '../../../../compose/orchestrate.js';
import type { Project } from '../../../../compose/project.js';
import { BrigError } from '../../../../errors/index.js';
import { humanDuration } from '../../../../util/human-duration.js';
import { type CommandSpec, type ParsedCommand } from '../../../flags.js';
import { forwardSignalsUntil } from '../../../forward-signals.js';
import type { BrigContext } from '../../context.js';
import { buildRenderer } from '../../build-progress.js';
import { logName, printLogs } from './log-printer.js';

export interface Sub {
  spec: CommandSpec;
  run(ctx: BrigContext, project: () => Project, p: ParsedCommand): Promise<number>;
}

/** compose's progress lines; a build's steps through brig build's renderer (`progress`: its --progress). */
function reporter(ctx: BrigContext, quiet = false, progress = 'auto'): Reporter {
  return {
    progress: (kind, name, status) => {
      if (!quiet) ctx.stderr.write(` ${kind} ${name}  ${status}\n`);
    },
    warn: (m) => void ctx.stderr.write(`WARN[0000] ${m}\n`),
    build: () => buildRenderer(ctx, quiet ? 'quiet' : progress),
  };
}

/** --build-arg KEY=VALUE (or KEY: from the environment, as compose resolves it). */
function buildArgs(list: unknown): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const a of (list as string[] | undefined) ?? []) {
    const i = a.indexOf('=');
    if (i === 0) throw new BrigError('INVALID_ARGUMENT', `invalid --build-arg "${a}": KEY=VALUE`, { field: '--build-arg' });
    if (i < 0) out[a] = null;
    else out[a.slice(0, i)] = a.slice(i + 1);
  }
  return out;
}

/** An AbortSignal that Ctrl-C (and SIGTERM) fires while `work` runs. */
async function interruptible<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const onInt = () => ac.abort();
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onInt);
  try {
    return await work(ac.signal);
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onInt);
  }
}

function checkServices(p: Project, names: string[]): string[] {
  for (const s of names) if (!p.services[s]) throw new BrigError('INVALID_ARGUMENT', `no such service: ${s}`, { field: 'SERVICE' });
  return names;
}

function int(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new BrigError('INVALID_ARGUMENT', `invalid argument "${String(v)}" for "${flag}" flag`, { field: flag });
  return n;
}

/** The running (or any) container of a service, replica `index` (compose's --index, default 1). */
async function serviceContainer(engine: Engine, p: Project, service: string, index: number): Promise<ContainerSummary> {
  checkServices(p, [service]);
  const c = (await projectContainers(engine, p.name, { services: [service] })).find((x) => Number(x.Labels[LABEL.number]) === index);
  if (!c) throw new BrigError('CONTAINER_NOT_FOUND', `service "${service}" is not running`, { field: 'SERVICE' });
  return c;
}

const up_: Sub = {
  spec: {
    name: 'compose up',
    usage: 'compose up [OPTIONS] [SERVICE...]',
    summary: 'Create and start containers',
    flags: [
      { name: 'detach', short: 'd', type: 'bool', help: 'Detached mode: Run containers in the background' },
      { name: 'wait', type: 'bool', help: 'Wait for services to be running|healthy. Implies detached mode.' },
      { name: 'scale', type: 'list', help: 'Scale SERVICE to NUM instances. Overrides the `scale` setting in the Compose file if present.' },
      { name: 'remove-orphans', type: 'bool', help: 'Remove containers for services not defined in the Compose file' },
      { name: 'force-recreate', type: 'bool', help: "Recreate containers even if their configuration and image haven't changed" },
      { name: 'no-start', type: 'bool', help: "Don't start the services after creating them" },
      { name: 'build', type: 'bool', help: 'Build images before starting containers' },
      { name: 'no-build', type: 'bool', help: "Don't build an image, even if it's policy" },
      { name: 'quiet-pull', type: 'bool', help: 'Pull without printing progress information' },
      { name: 'timestamps', type: 'bool', help: 'Show timestamps' },
    ],
  },
  async run(ctx, project, a) {
    const v = a.values;
    const scale: Record<string, number> = {};
    for (const s of (v.scale as string[] | undefined) ?? []) {
      const m = /^([^=]+)=(\d+)$/.exec(s);
      if (!m) throw new BrigError('INVALID_ARGUMENT', `--scale: invalid value "${s}" (SERVICE=NUM)`, { field: '--scale' });
      scale[m[1]!] = Number(m[2]);
    }
    const p = project();
    checkServices(p, a.args);
    const engine = ctx.engine();
    const detach = v.detach === true || v.wait === true;
    return interruptible(async (signal) => {
      await up(
        engine,
        p,
        {
          services: a.args,
          scale,
          forceRecreate: v['force-recreate'] === true,
          noStart: v['no-start'] === true,
          removeOrphans: v['remove-orphans'] === true,
          wait: v.wait === true,
          build: v.build === true,
          noBuild: v['no-build'] === true,
          signal,
        },
        reporter(ctx),
      );
      if (detach || v['no-start'] === true) return 0;
      // Attached: every service's log until they all exit, or Ctrl-C stops them.
      const services = a.args.length ? dependencyOrder(p, a.args) : Object.keys(p.services);
      const containers = await projectContainers(engine, p.name, { services });
      ctx.stderr.write(`Attaching to ${containers.map(logName).join(', ')}\n`);
      await printLogs(ctx, engine, containers, { follow: true, signal, timestamps: v.timestamps === true });
      if (signal.aborted) {
        ctx.stderr.write('Gracefully stopping... (press Ctrl+C again to force)\n');
        await Promise.all(containers.map((c) => engine.stopContainer(c.Id).catch(() => undefined)));
      }
      return 0;
    });
  },
};

const down_: Sub = {
  spec: {
    name: 'compose down',
    usage: 'compose down [OPTIONS]',
    summary: 'Stop and remove containers, networks',
    flags: [
      { name: 'volumes', short: 'v', type: 'bool', help: 'Remove named volumes declared in the "volumes" section of the Compose file and anonymous volumes attached to containers' },
      { name: 'remove-orphans', type: 'bool', help: 'Remove containers for services not defined in the Compose file' },
      { name: 'timeout', short: 't', type: 'string', help: 'Specify a shutdown timeout in seconds' },
      { name: 'rmi', type: 'string', help: 'Remove images used by services. "local" remove only images that don\'t have a custom tag ("local"|"all")' },
    ],
  },
  async run(ctx, project, a) {
    const v = a.values;
    const p = project();
    const timeout = int(v.timeout, '--timeout');
    const engine = ctx.engine();
    await down(engine, p, { volumes: v.volumes === true, removeOrphans: v['remove-orphans'] === true, ...(timeout !== undefined ? { timeout } : {}) }, reporter(ctx));
    if (v.rmi !== undefined) {
      if (v.rmi !== 'local' && v.rmi !== 'all') throw new BrigError('INVALID_ARGUMENT', `invalid --rmi option "${String(v.rmi)}" (local or all)`, { field: '--rmi' });
      for (const s of Object.keys(p.services)) {
        const custom = typeof p.services[s]!.image === 'string';
        if (v.rmi === 'local' && custom) continue;
        await engine.removeImage(serviceImage(p, s)).catch((e: BrigError) => {
          if (e.code !== 'IMAGE_NOT_FOUND') throw e;
        });
      }
    }
    return 0;
  },
};

function ports(c: ContainerSummary): string {
  return (c.Ports as { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[])
    .map((x) => (x.PublicPort ? `${x.IP ?? ''}:${x.PublicPort}->${x.PrivatePort}/${x.Type}` : `${x.PrivatePort}/${x.Type}`))
    .join(', ');
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((x, i) => (i === r.length - 1 ? x : x.padEnd(widths[i]! + 3))).join('').trimEnd() + '\n').join('');
}

const ps: Sub = {
  spec: {
    name: 'compose ps',
    usage: 'compose ps [OPTIONS] [SERVICE...]',
    summary: 'List containers',
    flags: [
      { name: 'all', short: 'a', type: 'bool', help: 'Show all stopped containers (including those created by the run command)' },
      { name: 'quiet', short: 'q', type: 'bool', help: 'Only display IDs' },
      { name: 'services', type: 'bool', help: 'Display services' },
      { name: 'format', type: 'string', help: 'Format the output: table (default) or json' },
    ],
  },
  async run(ctx, project, a) {
    const v = a.values;
    const p = project();
    checkServices(p, a.args);
    let list = await projectContainers(ctx.engine(), p.name, { oneoff: v.all === true, services: a.args });
    if (v.all !== true) list = list.filter((c) => c.State === 'running' || c.State === 'restarting' || c.State === 'paused');
    if (v.quiet === true) ctx.stdout.write(list.map((c) => `${c.Id}\n`).join(''));
    else if (v.services === true) ctx.stdout.write([...new Set(list.map((c) => c.Labels[LABEL.service]!))].map((s) => `${s}\n`).join(''));
    else if (v.format === 'json') ctx.stdout.write(`${JSON.stringify(list.map((c) => ({ ID: c.Id, Name: displayName(c), Image: c.Image, Command: c.Command, Project: p.name, Service: c.Labels[LABEL.service], State: c.State, Status: c.Status, Publishers: c.Ports })))}\n`);
    else {
      const now = Date.now() / 1000;
      ctx.stdout.write(table([['NAME', 'IMAGE', 'COMMAND', 'SERVICE', 'CREATED', 'STATUS', 'PORTS'], ...list.map((c) => [displayName(c), c.Image, JSON.stringify(c.Command.length > 20 ? `${c.Command.slice(0, 19)}…` : c.Command), c.Labels[LABEL.service] ?? '', `${humanDuration((now - c.Created) * 1000)} ago`, c.Status, ports(c)])]));
    }
    return 0;
  },
};

const logs: Sub = {
  spec: {
    name: 'compose logs',
    usage: 'compose logs [OPTIONS] [SERVICE...]',
    summary: 'View output from containers',
    flags: [
      { name: 'follow', short: 'f', type: 'bool', help: 'Follow log output' },
      { name: 'tail', short: 'n', type: 'string', help: 'Number of lines to show from the end of the logs for each container', default: 'all' },
      { name: 'timestamps', short: 't', type: 'bool', help: 'Show timestamps' },
      { name: 'no-log-prefix', type: 'bool', help: "Don't print prefix in logs" },
      { name: 'no-color', type: 'bool', help: 'Produce monochrome output' },
    ],
  },
  async run(ctx, project, a) {
    const v = a.values;
    const p = project();
    checkServices(p, a.args);
    const tail = v.tail as string;
    if (tail !== 'all' && !/^-?\d+$/.test(tail)) throw new BrigError('INVALID_ARGUMENT', `--tail: invalid value "${tail}"`, { field: '--tail' });
    const engine = ctx.engine();
    const containers = await projectContainers(engine, p.name, { services: a.args, oneoff: true });
    await interruptible((signal) =>
      printLogs(v['no-color'] === true ? { ...ctx, stdout: Object.assign(ctx.stdout, { isTTY: false }) } : ctx, engine, containers, {
        follow: v.follow === true,
        ...(tail !== 'all' && Number(tail) >= 0 ? { tail: Number(tail) } : {}),
        timestamps: v.timestamps === true,
        prefix: v['no-log-prefix'] !== true,
        signal,
      }),
    );
    return 0;
  },
};

const exec: Sub = {
  spec: {
    name: 'compose exec',
    usage: 'compose exec [OPTIONS] SERVICE COMMAND [ARGS...]',
    summary: 'Execute a command in a running container',
    interspersed: false,
    flags: [
      { name: 'detach', short: 'd', type: 'bool', help: 'Detached mode: Run command in the background' },
      { name: 'no-TTY', short: 'T', type: 'bool', help: 'Disable pseudo-TTY allocation. By default `docker compose exec` allocates a TTY.' },
      { name: 'env', short: 'e', type: 'list', help: 'Set environment variables' },
      { name: 'index', type: 'string', help: 'index of the container if service has multiple replicas' },
      { name: 'privileged', type: 'bool', help: 'Give extended privileges to the process' },
      { name: 'user', short: 'u', type: 'string', help: 'Run the command as this user' },
      { name: 'workdir', short: 'w', type: 'string', help: 'Path to workdir directory for this command' },
    ],
  },
  async run(ctx, project, a) {
    const v = a.values;
    const [service, ...cmd] = a.args;
    if (service === undefined || cmd.length === 0) throw new BrigError('INVALID_ARGUMENT', '"compose exec" requires at least 2 arguments: SERVICE COMMAND', { field: 'SERVICE' });
    const p = project();
    const c = await serviceContainer(ctx.engine(), p, service, int(v.index, '--index') ?? 1);
    const tty = v['no-TTY'] !== true && ctx.stdin.isTTY === true && ctx.stdout.isTTY === true;
    const started = await ctx.engine().execContainer(c.Id, {
      cmd,
      tty,
      interactive: v.detach !== true,
      detach: v.detach === true,
      privileged: v.privileged === true,
      stdio: [v.detach === true ? 'ignore' : 0, 1, 2],
      ...(v.env ? { env: v.env as string[] } : {}),
      ...(v.workdir !== undefined ? { workdir: v.workdir as string } : {}),
      ...(v.user !== undefined ? { user: v.user as string } : {}),
    });
    if (v.detach === true) return 0;
    return forwardSignalsUntil(started.exit, (sig) => process.kill(started.pid, sig));
  },
};

const run_: Sub = {
  spec: {
    name: 'compose run',
    usage: 'compose run [OPTIONS] SERVICE [COMMAND] [ARGS...]',
    summary: 'Run a one-off command on a service',
    interspersed: false,
    flags: [
      { name: 'rm', type: 'bool', help: 'Automatically remove the container when it exits' },
      { name: 'detach', short: 'd', type: 'bool', help: 'Run container in background and print container ID' },
      { name: 'env', short: 'e', type: 'list', help: 'Set environment variables' },
      { name: 'entrypoint', type: 'string', help: 'Override the entrypoint of the image' },
      { name: 'name', type: 'string', help: 'Assign a name to the container' },
      { name: 'no-deps', type: 'bool', help: "Don't start linked services" },
      { name: 'user', short: 'u', type: 'string', help: 'Run as specified username or uid' },
      { name: 'workdir', short: 'w', type: 'string', help: 'Working directory inside the container' },
      { name: 'publish', short: 'p', type: 'list', help: "Publish a container's port(s) to the host" },
      { name: 'service-ports', type: 'bool', help: "Run command with all service's ports enabled and mapped to the host" },
    ],
  },
  async run(ctx, project, a) {
    const v = a.values;
    const [service, ...cmd] = a.args;
    if (service === undefined) throw new BrigError('INVALID_ARGUMENT', '"compose run" requires at least 1 argument: SERVICE', { field: 'SERVICE' });
    if (v.publish !== undefined) throw new BrigError('UNSUPPORTED_FIELD', 'compose run --publish: not supported by brig compose', { field: '--publish' });
    const p = project();
    checkServices(p, [service]);
    const engine = ctx.engine();
    const r = reporter(ctx);
    // Its dependencies come up first, as compose's run does (unless --no-deps).
    const deps = dependencyOrder(p, [service]).filter((s) => s !== service);
    if (deps.length && v['no-deps'] !== true) await up(engine, p, { services: deps }, r);
    preflight(p, [service], r.warn);
    await ensureNetworks(engine, p, [service], r);
    await ensureVolumes(engine, p, [service], r);
    await buildImages(engine, p, await servicesToBuild(engine, p, [service], {}), {}, r);
    const image = await ensureImage(engine, p, service, r);
    const { name, request } = containerRequest(p, service, 1, { oneoff: true, warn: r.warn, imageId: image });
    if (cmd.length) request.Cmd = cmd;
    if (typeof v.entrypoint === 'string') request.Entrypoint = [v.entrypoint];
    if (v.env) request.Env = [...(request.Env ?? []), ...(v.env as string[])];
    if (v.user !== undefined) request.User = v.user as string;
    if (v.workdir !== undefined) request.WorkingDir = v.workdir as string;
    // A one-off does not publish the service's ports unless asked (compose's rule).
    if (v['service-ports'] !== true) delete request.HostConfig!.PortBindings;
    delete request.HostConfig!.RestartPolicy;
    const cname = typeof v.name === 'string' ? v.name : name;
    // A one-off's alias on its networks is its own name (compose's getAliases).
    for (const ep of Object.values(request.NetworkingConfig?.EndpointsConfig ?? {})) ep.Aliases = [cname];
    if (v.rm === true && v.detach !== true) {
      const running = await engine.runContainer(request, { name: cname, stdio: [ctx.stdin.isTTY ? 0 : 'ignore', 1, 2] });
      return forwardSignalsUntil(running.exit, (sig) => running.kill(sig));
    }
    if (v.rm === true) request.HostConfig!.AutoRemove = true;
    const { Id } = await engine.createContainer(request, { name: cname });
    await engine.startContainer(Id);
    if (v.detach === true) {
      ctx.stdout.write(`${cname}\n`);
      return 0;
    }
    const [list] = [await projectContainers(engine, p.name, { oneoff: true })];
    const c = list.find((x) => x.Id === Id)!;
    await printLogs(ctx, engine, [c], { follow: true, prefix: false });
    return (await engine.waitContainer(Id)).StatusCode;
  },
};

/** start, stop, restart: the same verb on each container of the services, in dependency order. */
function lifecycle(verb: 'start' | 'stop' | 'restart', summary: string): Sub {
  return {
    spec: {
      name: `compose ${verb}`,
      usage: `compose ${verb} [OPTIONS] [SERVICE...]`,
      summary,
      flags: verb === 'start' ? [] : [{ name: 'timeout', short: 't', type: 'string', help: 'Specify a shutdown timeout in seconds' }],
    },
    async run(ctx, project, a) {
      const p = project();
      checkServices(p, a.args);
      const engine = ctx.engine();
      const timeout = int(a.values.timeout, '--timeout');
      const order = dependencyOrder(p, a.args.length ? a.args : Object.keys(p.services));
      const byService = await projectContainers(engine, p.name, { services: a.args });
      const sorted = byService.sort((x, y) => order.indexOf(x.Labels[LABEL.service]!) - order.indexOf(y.Labels[LABEL.service]!));
      if (verb === 'stop') sorted.reverse();
      const r = reporter(ctx);
      for (const c of sorted) {
        const t = timeout !== undefined ? { timeout } : {};
        if (verb === 'start') await engine.startContainer(c.Id);
        else if (verb === 'stop') await engine.stopContainer(c.Id, t);
        else await engine.restartContainer(c.Id, t);
        r.progress('Container', displayName(c), verb === 'start' ? 'Started' : verb === 'stop' ? 'Stopped' : 'Restarted');
      }
      return 0;
    },
  };
}

const rm: Sub = {
  spec: {
    name: 'compose rm',
    usage: 'compose rm [OPTIONS] [SERVICE...]',
    summary: 'Removes stopped service containers',
    flags: [
      { name: 'force', short: 'f', type: 'bool', help: "Don't ask to confirm removal" },
      { name: 'stop', short: 's', type: 'bool', help: 'Stop the containers, if required, before removing' },
      { name: 'volumes', short: 'v', type: 'bool', help: 'Remove any anonymous volumes attached to containers' },
    ],
  },
  async run(ctx, project, a) {
    const v = a.values;
    const p = project();
    checkServices(p, a.args);
    const engine = ctx.engine();
    const list = await projectContainers(engine, p.name, { services: a.args });
    const r = reporter(ctx);
    if (v.stop === true) for (const c of list.filter((x) => x.State === 'running')) await engine.stopContainer(c.Id);
    const stopped = v.stop === true ? list : list.filter((c) => c.State !== 'running' && c.State !== 'restarting' && c.State !== 'paused');
    if (stopped.length === 0) {
      ctx.stderr.write('No stopped containers\n');
      return 0;
    }
    if (v.force !== true) {
      // compose asks; without a terminal to ask on, it is -f or nothing.
      throw new BrigError('INVALID_ARGUMENT', `compose rm: would remove ${stopped.map(displayName).join(', ')}; confirm with -f`, { field: '--force' });
    }
    for (const c of stopped) {
      await engine.removeContainer(c.Id, { volumes: v.volumes === true });
      r.progress('Container', displayName(c), 'Removed');
    }
    return 0;
  },
};

const top: Sub = {
  spec: { name: 'compose top', usage: 'compose top [SERVICES...]', summary: 'Display the running processes', flags: [] },
  async run(ctx, project, a) {
    const p = project();
    checkServices(p, a.args);
    const engine = ctx.engine();
    for (const c of (await projectContainers(engine, p.name, { services: a.args })).filter((x) => x.State === 'running')) {
      const t = await engine.topContainer(c.Id);
      ctx.stdout.write(`${displayName(c)}\n${table([t.Titles, ...t.Processes])}\n`);
    }
    return 0;
  },
};

const port: Sub = {
  spec: {
    name: 'compose port',
    usage: 'compose port [OPTIONS] SERVICE PRIVATE_PORT',
    summary: 'Print the public port for a port binding',
    flags: [
      { name: 'protocol', type: 'string', help: 'tcp or udp', default: 'tcp' },
      { name: 'index', type: 'string', help: 'Index of the container if service has multiple replicas' },
    ],
  },
  async run(ctx, project, a) {
    const [service, priv] = a.args;
    if (service === undefined || priv === undefined) throw new BrigError('INVALID_ARGUMENT', '"compose port" requires 2 arguments: SERVICE PRIVATE_PORT', { field: 'SERVICE' });
    const c = await serviceContainer(ctx.engine(), project(), service, int(a.values.index, '--index') ?? 1);
    const found = (c.Ports as { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[]).find((x) => String(x.PrivatePort) === priv && x.Type === a.values.protocol && x.PublicPort);
    if (!found) throw new BrigError('INVALID_ARGUMENT', `no port ${priv}/${String(a.values.protocol)} for container ${displayName(c)}`, { field: 'PRIVATE_PORT' });
    ctx.stdout.write(`${found.IP ?? '0.0.0.0'}:${found.PublicPort}\n`);
    return 0;
  },
};

const images: Sub = {
  spec: { name: 'compose images', usage: 'compose images [OPTIONS] [SERVICE...]', summary: 'List images used by the created containers', flags: [{ name: 'quiet', short: 'q', type: 'bool', help: 'Only display IDs' }] },
  async run(ctx, project, a) {
    const p = project();
    checkServices(p, a.args);
    const engine = ctx.engine();
    const rows: string[][] = [];
    const ids: string[] = [];
    for (const c of await projectContainers(engine, p.name, { services: a.args })) {
      const img = await engine.inspectImage(c.ImageID);
      const ref = familiarReference(parseReference(c.Image));
      const at = ref.lastIndexOf(':');
      const [repo, tag] = at > ref.lastIndexOf('/') ? [ref.slice(0, at), ref.slice(at + 1)] : [ref, 'latest'];
      ids.push(img.Id);
      rows.push([displayName(c), repo, tag, img.Id.replace(/^sha256:/, '').slice(0, 12), `${(img.Size / 1e6).toFixed(3).replace(/\.?0+$/, '')}MB`]);
    }
    if (a.values.quiet === true) ctx.stdout.write([...new Set(ids)].map((i) => `${i}\n`).join(''));
    else ctx.stdout.write(table([['CONTAINER', 'REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE'], ...rows]));
    return 0;
  },
};

const pull: Sub = {
  spec: {
    name: 'compose pull',
    usage: 'compose pull [OPTIONS] [SERVICE...]',
    summary: 'Pull service images',
    flags: [
      { name: 'quiet', short: 'q', type: 'bool', help: 'Pull without printing progress information' },
      { name: 'ignore-buildable', type: 'bool', help: 'Ignore images that can be built' },
    ],
  },
  async run(ctx, project, a) {
    const p = project();
    const engine = ctx.engine();
    const r = reporter(ctx, a.values.quiet === true);
    for (const s of checkServices(p, a.args.length ? a.args : Object.keys(p.services))) {
      const svc = p.services[s]!;
      if (typeof svc.image !== 'string') {
        r.progress('Service', s, 'Skipped - No image to be pulled');
        continue;
      }
      r.progress('Service', s, 'Pulling');
      try {
        await engine.pullImage(svc.image);
      } catch (e) {
        if (svc.build !== undefined && a.values['ignore-buildable'] === true) continue;
        throw e;
      }
      r.progress('Service', s, 'Pulled');
    }
    return 0;
  },
};

const push: Sub = {
  spec: {
    name: 'compose push',
    usage: 'compose push [OPTIONS] [SERVICE...]',
    summary: 'Push service images',
    flags: [
      { name: 'quiet', short: 'q', type: 'bool', help: 'Push without printing progress information' },
      { name: 'ignore-push-failures', type: 'bool', help: 'Push what images can be pushed' },
    ],
  },
  async run(ctx, project, a) {
    const p = project();
    const services = checkServices(p, a.args.length ? a.args : Object.keys(p.services));
    await interruptible((signal) => pushImages(ctx.engine(), p, services, { ignoreFailures: a.values['ignore-push-failures'] === true, signal }, reporter(ctx, a.values.quiet === true)));
    return 0;
  },
};

const build: Sub = {
  spec: {
    name: 'compose build',
    usage: 'compose build [OPTIONS] [SERVICE...]',
    summary: 'Build or rebuild services',
    flags: [
      { name: 'no-cache', type: 'bool', help: 'Do not use cache when building the image' },
      { name: 'pull', type: 'bool', help: 'Always attempt to pull a newer version of the image' },
      { name: 'build-arg', type: 'list', help: 'Set build-time variables for services' },
      { name: 'progress', type: 'string', help: 'Set type of progress output (auto, tty, plain, quiet)', default: 'auto' },
      { name: 'quiet', short: 'q', type: 'bool', help: "Don't print anything to STDOUT" },
    ],
  },
  async run(ctx, project, a) {
    const v = a.values;
    const p = project();
    const services = checkServices(p, a.args.length ? a.args : Object.keys(p.services));
    const flags: BuildFlags = { noCache: v['no-cache'] === true, pull: v.pull === true, args: buildArgs(v['build-arg']) };
    const r = reporter(ctx, v.quiet === true, v.progress as string);
    await interruptible((signal) => buildImages(ctx.engine(), p, services, { flags, signal }, r));
    return 0;
  },
};

const ls: Sub = {
  spec: {
    name: 'compose ls',
    usage: 'compose ls [OPTIONS]',
    summary: 'List running compose projects',
    flags: [
      { name: 'all', short: 'a', type: 'bool', help: 'Show all stopped Compose projects' },
      { name: 'quiet', short: 'q', type: 'bool', help: 'Only display IDs' },
      { name: 'format', type: 'string', help: 'Format the output. Values: [table | json]', default: 'table' },
    ],
  },
  async run(ctx, _project, a) {
    const list = await ctx.engine().listContainers({ all: true, filters: { label: [LABEL.project] } });
    const projects = new Map<string, { states: Map<string, number>; files: string }>();
    for (const c of list) {
      const name = c.Labels[LABEL.project]!;
      const e = projects.get(name) ?? { states: new Map(), files: c.Labels[LABEL.configFiles] ?? '' };
      e.states.set(c.State, (e.states.get(c.State) ?? 0) + 1);
      projects.set(name, e);
    }
    const rows = [...projects]
      .filter(([, e]) => a.values.all === true || e.states.has('running'))
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([name, e]) => ({ Name: name, Status: [...e.states].map(([s, n]) => `${s}(${n})`).join(', '), ConfigFiles: e.files }));
    if (a.values.quiet === true) ctx.stdout.write(rows.map((r) => `${r.Name}\n`).join(''));
    else if (a.values.format === 'json') ctx.stdout.write(`${JSON.stringify(rows)}\n`);
    else ctx.stdout.write(table([['NAME', 'STATUS', 'CONFIG FILES'], ...rows.map((r) => [r.Name, r.Status, r.ConfigFiles])]));
    return 0;
  },
};

const events: Sub = {
  spec: {
    name: 'compose events',
    usage: 'compose events [OPTIONS] [SERVICE...]',
    summary: 'Receive real time events from containers',
    flags: [
      { name: 'json', type: 'bool', help: 'Output events as a stream of json objects' },
      { name: 'since', type: 'string', help: 'Show all events created since timestamp' },
      { name: 'until', type: 'string', help: 'Stream events until this timestamp' },
    ],
  },
  async run(ctx, project, a) {
    const p = project();
    checkServices(p, a.args);
    await interruptible(async (signal) => {
      const stream = ctx.engine().events({
        filters: { type: ['container'], label: [`${LABEL.project}=${p.name}`] },
        signal,
        ...(typeof a.values.since === 'string' ? { since: a.values.since } : {}),
        ...(typeof a.values.until === 'string' ? { until: a.values.until } : {}),
      });
      for await (const e of stream) {
        const attrs = e.Actor.Attributes ?? {};
        const service = attrs[LABEL.service] ?? '';
        if (a.args.length && !a.args.includes(service)) continue;
        const time = new Date(Number(e.timeNano / 1_000_000n)).toISOString();
        const shown = Object.fromEntries(Object.entries(attrs).filter(([k]) => !k.startsWith('com.docker.compose.')));
        if (a.values.json === true) ctx.stdout.write(`${JSON.stringify({ time, type: 'container', action: e.Action, id: e.Actor.ID, service, attributes: shown })}\n`);
        else ctx.stdout.write(`${time} container ${e.Action} ${e.Actor.ID} (${Object.entries(shown).map(([k, x]) => `${k}=${x}`).join(', ')})\n`);
      }
    }).catch((e: unknown) => {
      if (!(e instanceof Error && e.name === 'AbortError')) throw e;
    });
    return 0;
  },
};

export const VERBS: Record<string, Sub> = {
  up: up_,
  down: down_,
  ps,
  logs,
  exec,
  run: run_,
  start: lifecycle('start', 'Start services'),
  stop: lifecycle('stop', 'Stop services'),
  restart: lifecycle('restart', 'Restart service containers'),
  rm,
  top,
  port,
  images,
  pull,
  push,
  build,
  ls,
  events,
};
