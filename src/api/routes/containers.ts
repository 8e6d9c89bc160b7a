/** /containers/...: docker's container endpoints over the Engine's ContainerOps. */
import type { ContainerJSON, ResourceUpdate } from '../../engine/engine.js';
import { resizeMessage, connectInput } from '../../engine/attach/client.js';
import { attachContainer } from '../attach.js';
import { readJson, readObject, type Schema } from '../body.js';
import { badRequest } from '../errors.js';
import { createExec } from '../exec.js';
import type { RequestContext, RouteModule } from '../router.js';
import { frame, streamRecords, streamType, writeAll } from '../streams.js';
import { waitContainer } from '../wait.js';
import { checkCreate, ZERO_RESOURCES } from '../wire/container-create.js';
import { renderLogLine } from '../../engine/engine.js';

const UPDATE_BODY: { object: Record<string, Schema> } = {
  object: {
    BlkioWeight: 'integer',
    CpuPeriod: 'integer',
    CpuQuota: 'integer',
    CpuShares: 'integer',
    NanoCpus: 'integer',
    CpusetCpus: 'string',
    CpusetMems: 'string',
    Memory: 'integer',
    MemoryReservation: 'integer',
    MemorySwap: 'integer',
    PidsLimit: { nullable: 'integer' },
    // docker's update sends its whole Resources struct: what brig cannot change, zero only.
    ...ZERO_RESOURCES,
    RestartPolicy: 'zero',
    Devices: 'zero',
    DeviceCgroupRules: 'zero',
    DeviceRequests: 'zero',
    MemorySwappiness: 'zero',
    OomKillDisable: 'zero',
    Ulimits: 'zero',
  },
};

const ref = (c: RequestContext) => c.params.id!;

/** docker's `t` (seconds before SIGKILL; -1 waits for ever) and `signal`. */
function stopOptions(c: RequestContext): { timeout?: number; signal?: string } {
  const t = c.query.int('t');
  const signal = c.query.string('signal');
  return { ...(t !== undefined ? { timeout: t } : {}), ...(signal ? { signal } : {}) };
}

function isRunning(c: ContainerJSON): boolean {
  return c.State.Running || c.State.Paused || c.State.Restarting;
}

/** A unix time as docker's logs and events take it: seconds, maybe with a fraction. */
function unixSeconds(c: RequestContext, name: string): number | undefined {
  const v = c.query.string(name);
  if (v === undefined || v === '' || v === '0') return undefined;
  if (!/^\d+(\.\d+)?$/.test(v)) throw badRequest(`${name}: invalid unix time ${JSON.stringify(v)}`);
  return Number(v);
}

async function logs(c: RequestContext): Promise<void> {
  const { query, x } = c;
  const stdout = query.bool('stdout');
  const stderr = query.bool('stderr');
  if (!stdout && !stderr) throw badRequest('Bad parameters: you must choose at least one stream');
  const tailRaw = query.string('tail') ?? 'all';
  if (tailRaw !== 'all' && tailRaw !== '' && !/^-?\d+$/.test(tailRaw)) throw badRequest(`tail: invalid value ${JSON.stringify(tailRaw)}`);
  const tail = tailRaw === 'all' || tailRaw === '' || Number(tailRaw) < 0 ? undefined : Number(tailRaw);
  const since = unixSeconds(c, 'since');
  const until = unixSeconds(c, 'until');
  const info = await c.engine.inspectContainer(ref(c));
  const tty = info.Config.Tty === true;
  const lines = c.engine.containerLogs(info.Id, {
    follow: query.bool('follow'),
    ...(tail !== undefined ? { tail } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
    signal: x.signal,
  });
  const opts = { timestamps: query.bool('timestamps'), details: query.bool('details') };
  await streamRecords(x, lines, { 'Content-Type': streamType(tty, c.version) }, (l) => {
    if (l.stream === 'stdout' ? !stdout : !stderr) return undefined;
    const data = Buffer.from(renderLogLine(l, opts));
    return tty ? data : frame(l.stream === 'stdout' ? 1 : 2, data);
  });
}

async function stats(c: RequestContext): Promise<void> {
  const samples = c.engine.containerStats(ref(c), { stream: c.query.bool('stream', true), oneShot: c.query.bool('one-shot'), signal: c.x.signal });
  await streamRecords(c.x, samples, { 'Content-Type': 'application/json' }, (sample) => `${JSON.stringify(sample)}\n`);
}

function archivePath(c: RequestContext): string {
  const p = c.query.string('path');
  if (!p) throw badRequest('path: a path in the container is required');
  return p;
}

const statHeader = (stat: unknown) => Buffer.from(JSON.stringify(stat)).toString('base64');

export const containerRoutes: RouteModule = (r) => {
  r.add('GET', '/containers/json', async (c) => {
    const limit = c.query.int('limit');
    const filters = c.query.filters();
    const list = await c.engine.listContainers({ all: c.query.bool('all'), size: c.query.bool('size'), ...(limit !== undefined ? { limit } : {}), ...(filters ? { filters } : {}) });
    c.x.send(200, list);
  });

  r.add('POST', '/containers/create', async (c) => {
    const platform = c.query.string('platform');
    if (platform && !/^linux(\/|$)/.test(platform)) throw badRequest(`platform: brig runs linux containers only, not ${JSON.stringify(platform)}`);
    const body = await readJson(c.x);
    if (body === undefined) throw badRequest('config cannot be empty in order to create a container');
    const req = checkCreate(body);
    const name = c.query.string('name');
    c.x.send(201, await c.engine.createContainer(req, name ? { name } : {}));
  });

  r.add('POST', '/containers/prune', async (c) => {
    const filters = c.query.filters();
    c.x.send(200, await c.engine.pruneContainers(filters ? { filters } : {}));
  });

  r.add('GET', '/containers/{id}/json', async (c) => c.x.send(200, await c.engine.inspectContainer(ref(c), { size: c.query.bool('size') })));
  r.add('GET', '/containers/{id}/top', async (c) => c.x.send(200, await c.engine.topContainer(ref(c), c.query.string('ps_args') || undefined)));
  r.add('GET', '/containers/{id}/logs', logs);
  r.add('GET', '/containers/{id}/changes', async (c) => c.x.send(200, await c.engine.containerChanges(ref(c))));
  r.add('GET', '/containers/{id}/stats', stats);

  r.add('GET', '/containers/{id}/export', async (c) => {
    await c.engine.exportContainer(ref(c), async (tar) => {
      await writeAll(c.x.stream(200, { 'Content-Type': 'application/x-tar' }), tar, c.x.signal);
    });
  });

  r.add('POST', '/containers/{id}/start', async (c) => {
    if (await readJson(c.x)) throw badRequest('starting container with non-empty request body was deprecated since API v1.22 and removed in v1.24');
    const info = await c.engine.inspectContainer(ref(c));
    if (info.State.Running) return c.x.send(304);
    const waiting = c.state.takeWaiting(info.Id);
    await c.engine.startContainer(info.Id, waiting.length ? { attach: async (socket) => void (await Promise.all(waiting.map((w) => w(socket)))) } : {});
    c.x.send(204);
  });

  r.add('POST', '/containers/{id}/stop', async (c) => {
    const opts = stopOptions(c);
    const info = await c.engine.inspectContainer(ref(c));
    if (!isRunning(info)) return c.x.send(304);
    await c.engine.stopContainer(info.Id, opts);
    c.x.send(204);
  });

  r.add('POST', '/containers/{id}/restart', async (c) => {
    await c.engine.restartContainer(ref(c), stopOptions(c));
    c.x.send(204);
  });

  r.add('POST', '/containers/{id}/kill', async (c) => {
    await c.engine.killContainer(ref(c), c.query.string('signal') || undefined);
    c.x.send(204);
  });

  r.add('POST', '/containers/{id}/pause', async (c) => {
    await c.engine.pauseContainer(ref(c));
    c.x.send(204);
  });

  r.add('POST', '/containers/{id}/unpause', async (c) => {
    await c.engine.unpauseContainer(ref(c));
    c.x.send(204);
  });

  r.add('POST', '/containers/{id}/rename', async (c) => {
    const name = c.query.string('name');
    if (!name) throw badRequest('name: a new name is required');
    await c.engine.renameContainer(ref(c), name);
    c.x.send(204);
  });

  r.add('POST', '/containers/{id}/update', async (c) => {
    const body = await readObject(c.x, UPDATE_BODY, 'update config');
    const update = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null)) as ResourceUpdate;
    c.x.send(200, await c.engine.updateContainer(ref(c), update));
  });

  r.add('POST', '/containers/{id}/resize', async (c) => {
    const h = c.query.int('h') ?? 0;
    const w = c.query.int('w') ?? 0;
    if (h < 0 || w < 0 || h > 0xffff || w > 0xffff) throw badRequest('h, w: a terminal size is 0 to 65535');
    const info = await c.engine.inspectContainer(ref(c));
    if (!info.State.Running) throw badRequest(`Container ${info.Id} is not running`);
    const input = await connectInput(await c.engine.attachSocket(info.Id));
    input.end(resizeMessage(h, w));
    c.x.send(200);
  });

  r.add('POST', '/containers/{id}/wait', waitContainer);
  r.add('POST', '/containers/{id}/attach', attachContainer);
  r.add('POST', '/containers/{id}/exec', createExec);

  r.add('DELETE', '/containers/{id}', async (c) => {
    if (c.query.bool('link')) throw badRequest('link: container links are not supported by brig');
    await c.engine.removeContainer(ref(c), { force: c.query.bool('force'), volumes: c.query.bool('v') });
    c.x.send(204);
  });

  r.add('HEAD', '/containers/{id}/archive', async (c) => {
    const stat = await c.engine.statContainerPath(ref(c), archivePath(c));
    c.x.send(200, undefined, { 'X-Docker-Container-Path-Stat': statHeader(stat) });
  });

  r.add('GET', '/containers/{id}/archive', async (c) => {
    await c.engine.getContainerArchive(ref(c), archivePath(c), async (stat, tar) => {
      await writeAll(c.x.stream(200, { 'Content-Type': 'application/x-tar', 'X-Docker-Container-Path-Stat': statHeader(stat) }), tar, c.x.signal);
    });
  });

  r.add('PUT', '/containers/{id}/archive', async (c) => {
    const path = archivePath(c);
    await c.engine.putContainerArchive(ref(c), path, c.x.req, { copyUIDGID: c.query.bool('copyUIDGID') });
    c.x.send(200);
  });
};

